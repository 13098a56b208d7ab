import { Writable } from 'node:stream';
import { z } from 'zod';
import { ManualClock } from './clock';
import { commonEnv, env, httpEnv, parseEnv } from './config';
import { defineErrorCodes, dispositionOf, ServiceError } from './errors';
import { createLogger, redactUrl } from './logger';
import { PeriodicTask } from './periodic-task';

describe('env spec', () => {
  const spec = {
    ...commonEnv,
    ...httpEnv('DEMO', 8080),
    files: ['DEMO_FILES', env.list],
    limit: ['DEMO_LIMIT', z.coerce.number().int().min(1).default(5)],
  } as const;

  it('reads each variable once into a typed config with defaults', () => {
    const c = parseEnv(spec, { DEMO_PORT: '9000', DEMO_FILES: 'a.yml, b.yml,', NATS_NAMESPACE: '' });
    expect(c).toEqual({
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/postgres',
      natsUrl: 'nats://127.0.0.1:4222',
      natsNamespace: undefined,
      logLevel: 'info',
      natsStreamReplicas: 1,
      port: 9000,
      host: '0.0.0.0',
      files: ['a.yml', 'b.yml'],
      limit: 5,
    });
  });

  it('reports every bad variable by name at once', () => {
    expect(() => parseEnv(spec, { DEMO_PORT: 'x', DEMO_LIMIT: '0', LOG_LEVEL: 'loud' })).toThrow(
      /LOG_LEVEL: .*; DEMO_PORT: .*; DEMO_LIMIT: /,
    );
  });
});

describe('coded errors', () => {
  const BillingError = defineErrorCodes('BillingError', {
    INVOICE_PERIOD_OVERLAP: { status: 409, disposition: 'ack' },
  });

  it('carry status and disposition from their code; internal messages are not exposed', () => {
    const e = new BillingError('INVOICE_PERIOD_OVERLAP', 'period 2026-11 already imported');
    expect([e.name, e.status, e.disposition, e.publicMessage]).toEqual([
      'BillingError',
      409,
      'ack',
      'period 2026-11 already imported',
    ]);
    const internal = new BillingError('INTERNAL', 'pool exhausted at db-3');
    expect([internal.status, internal.publicMessage]).toEqual([500, 'internal error']);
    expect(new ServiceError('VALIDATION_FAILED', 'x').disposition).toBe('dead-letter');
    expect(dispositionOf(new Error('boom'))).toBe('nak');
  });
});

describe('ManualClock', () => {
  it('runs timers in due order as time advances, intervals repeatedly', async () => {
    const clock = new ManualClock(1_000);
    const seen: string[] = [];
    clock.setTimeout(() => seen.push(`b@${clock.now()}`), 200);
    clock.setTimeout(() => seen.push(`a@${clock.now()}`), 100);
    const cancelled = clock.setTimeout(() => seen.push('never'), 150);
    clock.clearTimeout(cancelled);
    const every = clock.setInterval(() => seen.push(`i@${clock.now()}`), 120);
    await clock.advance(250);
    clock.clearInterval(every);
    await clock.advance(1_000);
    expect(seen).toEqual(['a@1100', 'i@1120', 'b@1200', 'i@1240']);
    expect(clock.now()).toBe(2_250);
  });
});

describe('logger', () => {
  it('writes JSON and never a secret', () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _e, cb) => (lines.push(chunk.toString()), cb()) });
    const log = createLogger('demo', 'info', sink);
    log.info(
      {
        token: 'tok-123',
        headers: { authorization: 'Bearer abc' },
        user: { password: 'p' },
        databaseUrl: 'postgres://u:pw@h/db',
      },
      'hello',
    );
    log.debug('hidden at info');
    expect(lines).toHaveLength(1);
    const rec = JSON.parse(lines[0]) as Record<string, unknown>;
    expect(rec).toMatchObject({
      service: 'demo',
      msg: 'hello',
      token: '[redacted]',
      user: { password: '[redacted]' },
      databaseUrl: '[redacted]',
    });
    expect(lines[0]).not.toMatch(/tok-123|Bearer abc|pw@/);
    expect(redactUrl('postgres://u:secret@h:5432/db')).toBe('postgres://u:redacted@h:5432/db');
  });
});

describe('PeriodicTask', () => {
  it('runs one pass at a time on the clock, survives a failed pass, and stops', async () => {
    const clock = new ManualClock(0);
    const lines: string[] = [];
    const logger = createLogger(
      't',
      'error',
      new Writable({ write: (c: Buffer, _e, cb) => (lines.push(c.toString()), cb()) }),
    );
    const passes: number[] = [];
    const task = new PeriodicTask({
      name: 'demo',
      intervalMs: 100,
      clock,
      logger,
      run: async () => {
        passes.push(clock.now());
        if (passes.length === 2) throw new Error('transient');
      },
    });
    task.start();
    await clock.advance(350);
    expect(passes).toEqual([100, 200, 300]);
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(['demo pass failed']);
    await task.stop();
    await clock.advance(1_000);
    expect(passes).toHaveLength(3);
  });
});
