/**
 * The anomaly service against the real NATS (JetStream) and PostgreSQL: samples on the live
 * metrics stream drive an alerting rule through pending → firing → resolved; the service is
 * stopped and started again mid-pending and mid-firing, and the alert stream holds each
 * transition exactly once. A burst of garbage on the stream is dead-lettered while the rest is
 * evaluated.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  ALERT_V1,
  cloudEvent,
  EVENT_TYPES,
  SUBJECTS,
  type AlertV1,
  type CloudEvent,
  type DeadLetterV1,
  type MetricsBatchV1,
} from '@arcwatch/contracts';
import { EventBus } from '@arcwatch/messaging';
import { CLOCK, type ManualClock } from '@arcwatch/runtime';
import {
  authHeaders,
  createTestDatabase,
  eventually,
  testNamespace,
  TestClock,
  type TestDatabase,
} from '@arcwatch/testing';
import { createAnomalyApp } from '../app';
import { readSubjects, testConfig, tearDown } from '../testing/anomaly-test-kit';
import { RULES_DURABLE } from './metrics-stream.consumer';
import { RulesService } from './rules.service';

const T0 = Date.parse('2026-06-01T12:00:00.000Z');
const RULES = `
groups:
  - name: gpu
    interval: 10s
    rules:
      - alert: GpuHot
        expr: gpu_temp > 90
        for: 1m
        labels: { severity: P2, team: platform }
        annotations:
          summary: "GPU {{ $labels.gpu }} on {{ $labels.node }} at {{ $value }} C"
`;

describe('anomaly service: alert state across restarts (NATS + Postgres)', () => {
  let db: TestDatabase;
  let bus: EventBus;
  let app: NestFastifyApplication | undefined;
  const ns = testNamespace();
  const dir = mkdtempSync(path.join(tmpdir(), 'anomaly-rules-'));
  const ruleFile = path.join(dir, 'gpu.rules.yml');
  writeFileSync(ruleFile, RULES);
  let seq = 0;

  const start = async (nowMs: number): Promise<NestFastifyApplication> => {
    const a = await createAnomalyApp({
      config: testConfig(db.url, ns, { ANOMALY_RULE_FILES: ruleFile }),
      clock: new TestClock(nowMs),
    });
    await a.init();
    return a;
  };
  const http = async (url: string) =>
    (await app!.getHttpAdapter().getInstance().inject({ method: 'GET', url, headers: authHeaders() })).json();
  const batch = (atMs: number, series: Array<[Record<string, string>, number | 'NaN']>): CloudEvent<MetricsBatchV1> => {
    const batchId = `b-${++seq}`;
    const data: MetricsBatchV1 = {
      batchId,
      source: 'scrape',
      cluster: 'c1',
      node: 'node-1',
      target: { job: 'dcgm-exporter', instance: 'node-1:9400' },
      scrapedAtMs: atMs,
      series: series.map(([labels, v]) => ({
        labels: { __name__: 'gpu_temp', node: 'node-1', ...labels },
        samples: [[atMs, v]],
      })),
    };
    return cloudEvent({ id: batchId, source: 'test', type: EVENT_TYPES.metricsBatch, time: new Date(atMs), data });
  };
  const push = (e: CloudEvent<MetricsBatchV1>) => bus.publish(SUBJECTS.metricsSamples('c1', 'node-1'), e);
  const alertEvents = async () =>
    (await readSubjects<CloudEvent<AlertV1>>(bus, 'alerts', 'aw.alerts.v1.')).map((m) => ({
      ...m.body,
      natsSubject: m.subject,
    }));
  const stateOf = async (gpu: string): Promise<string | undefined> => {
    const body = (await http('/api/v1/alerts')) as {
      data: { alerts: Array<{ labels: Record<string, string>; state: string }> };
    };
    return body.data.alerts.find((a) => a.labels.gpu === gpu)?.state;
  };
  const clock = () => app!.get<ManualClock>(CLOCK);

  beforeAll(async () => {
    db = await createTestDatabase();
    bus = await EventBus.connect({ name: 'anomaly-test', namespace: ns });
    app = await start(T0);
  });

  afterAll(async () => {
    await tearDown({ app, bus, db });
  });

  it('pending → restart → firing once → restart → still one firing → resolved once', async () => {
    await push(batch(T0, [[{ gpu: '5' }, 95]]));
    await eventually(async () => ((await stateOf('5')) === 'pending' ? true : undefined), 10_000, 'pending');

    // Stopped while pending: the state is in Postgres; nothing was published.
    await app!.close();
    expect(await alertEvents()).toEqual([]);
    app = await start(T0 + 70_000);
    expect(await stateOf('5')).toBe('pending');
    await push(batch(T0 + 70_000, [[{ gpu: '5' }, 96]]));
    await eventually(
      async () => ((await stateOf('5')) === 'firing' ? true : undefined),
      10_000,
      'firing after the restart',
    );
    await eventually(async () => ((await alertEvents()).length === 1 ? true : undefined), 10_000, 'one firing event');

    // Stopped while firing, started again: still firing, no second firing event.
    await app!.close();
    app = await start(T0 + 100_000);
    expect(await stateOf('5')).toBe('firing');
    await push(batch(T0 + 100_000, [[{ gpu: '5' }, 97]]));
    await eventually(
      async () => {
        const body = (await http('/api/v1/rules')) as {
          data: { groups: Array<{ rules: Array<{ lastEvaluation: string }> }> };
        };
        return body.data.groups[0].rules[0].lastEvaluation === new Date(T0 + 100_000).toISOString() ? true : undefined;
      },
      10_000,
      'evaluated after the second restart',
    );

    await clock().advanceTo(T0 + 130_000);
    await push(batch(T0 + 130_000, [[{ gpu: '5' }, 70]]));
    await eventually(async () => ((await alertEvents()).length === 2 ? true : undefined), 10_000, 'resolved event');

    const events = await alertEvents();
    expect(events.map((e) => [e.natsSubject, e.type, e.data.status, e.data.startsAt, e.data.endsAt])).toEqual([
      ['aw.alerts.v1.firing.P2.platform', ALERT_V1, 'firing', new Date(T0 + 70_000).toISOString(), null],
      [
        'aw.alerts.v1.resolved.P2.platform',
        ALERT_V1,
        'resolved',
        new Date(T0 + 70_000).toISOString(),
        new Date(T0 + 130_000).toISOString(),
      ],
    ]);
    expect(events[0].data).toMatchObject({
      labels: { alertname: 'GpuHot', gpu: '5', node: 'node-1', severity: 'P2', team: 'platform' },
      annotations: { summary: 'GPU 5 on node-1 at 96 C' },
      origin: { kind: 'rule', group: 'gpu', name: 'GpuHot' },
      value: 96,
    });
    expect(events[0].data.fingerprint).toBe(events[1].data.fingerprint);
  });

  it('reloads a changed rule file without losing alert state; a broken file keeps the running rules', async () => {
    const t = T0 + 150_000;
    await clock().advanceTo(t);
    await push(batch(t, [[{ gpu: '6' }, 99]]));
    await eventually(async () => ((await stateOf('6')) === 'pending' ? true : undefined), 10_000, 'gpu 6 pending');
    const service = app!.get(RulesService);
    writeFileSync(ruleFile, RULES.replace('at {{ $value }} C', 'is hot ({{ $value }} C)'));
    expect(await service.reload()).toBe(true);
    const after = (await http('/api/v1/alerts')) as {
      data: { alerts: Array<{ labels: Record<string, string>; state: string; activeAt: string }> };
    };
    expect(after.data.alerts.find((a) => a.labels.gpu === '6')).toMatchObject({
      state: 'pending',
      activeAt: new Date(t).toISOString(),
    });
    const rules = (await http('/api/v1/rules')) as {
      data: { groups: Array<{ rules: Array<{ annotations: Record<string, string> }> }> };
    };
    expect(rules.data.groups[0].rules[0].annotations.summary).toBe(
      'GPU {{ $labels.gpu }} on {{ $labels.node }} is hot ({{ $value }} C)',
    );
    writeFileSync(ruleFile, 'groups:\n  - name: gpu\n    rules:\n      - alert: Broken\n        expr: gpu_temp >\n');
    expect(await service.reload()).toBe(false);
    expect(await stateOf('6')).toBe('pending');
    writeFileSync(ruleFile, RULES);
    expect(await service.reload()).toBe(true);
  });

  it('writes ALERTS and ALERTS_FOR_STATE back to the metrics stream', async () => {
    const batches = (
      await readSubjects<CloudEvent<MetricsBatchV1>>(bus, 'metrics', SUBJECTS.metricsSamples('arcwatch', 'anomaly'))
    ).map((m) => m.body.data);
    const names = new Set(
      batches.flatMap((b) => b.series.map((s) => `${s.labels.__name__}/${s.labels.alertstate ?? ''}`)),
    );
    expect([...names].sort()).toEqual(expect.arrayContaining(['ALERTS/firing', 'ALERTS/pending', 'ALERTS_FOR_STATE/']));
    expect(batches.every((b) => b.source === 'recording_rule')).toBe(true);
  });

  it('dead-letters malformed batches and keeps evaluating the rest (NaN, series churn)', async () => {
    const t = T0 + 200_000;
    await clock().advanceTo(t);
    const wire = bus.naming.toWire(SUBJECTS.metricsSamples('c1', 'node-1'));
    const enc = new TextEncoder();
    await bus.js.publish(wire, enc.encode('{"not json'), { msgID: 'garbage-1' });
    await bus.js.publish(
      wire,
      enc.encode(
        JSON.stringify(
          cloudEvent({ id: 'garbage-2', source: 'test', type: EVENT_TYPES.metricsBatch, data: { series: 'nope' } }),
        ),
      ),
      { msgID: 'garbage-2' },
    );
    await bus.js.publish(
      wire,
      enc.encode(JSON.stringify(cloudEvent({ id: 'garbage-3', source: 'test', type: 'io.example.other', data: {} }))),
      { msgID: 'garbage-3' },
    );
    // A NaN sample and a burst of new series around a real crossing.
    await push(
      batch(t, [
        [{ gpu: '1' }, 'NaN'],
        ...Array.from({ length: 50 }, (_, i): [Record<string, string>, number] => [{ gpu: `churn-${i}` }, 40]),
        [{ gpu: '7' }, 99],
      ]),
    );
    await eventually(
      async () => ((await stateOf('7')) === 'pending' ? true : undefined),
      10_000,
      'gpu 7 pending despite the garbage',
    );
    expect(await stateOf('1')).toBeUndefined();
    const dead = await eventually(
      async () => {
        const d = (await readSubjects<CloudEvent<DeadLetterV1>>(bus, 'deadLetter', ''))
          .map((m) => m.body.data)
          .filter((x) => x.durable === RULES_DURABLE);
        return d.length >= 3 ? d : undefined;
      },
      10_000,
      'three dead letters',
    );
    expect(dead.map((d) => d.reason).join('\n')).toMatch(/body is not JSON/);
    expect(dead.map((d) => d.reason).join('\n')).toMatch(/unexpected event type io\.example\.other/);
    expect(app!.get(RulesService).window.size).toBeGreaterThanOrEqual(52);
  });
});
