import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { authFetch, createTestDatabase, eventually, testNamespace, type TestDatabase } from '@arcwatch/testing';
import pino from 'pino';
import { createCollectorApp } from '../app';
import { loadCollectorConfig } from '../config';
import { ConfigFileError } from '../config/scrape-config.loader';
import { FIXTURE_FILES, fixtureText, INSTANCES, L4_FILL, storeFleet, T1_MS } from '../query/llm-fleet.fixture';
import { testEnv } from '../testing/harness';
import { RecordingService } from './recording.service';

/**
 * Recording rules end to end: a rule file given in COLLECTOR_RULES, evaluated over the stored
 * fixture scrapes, published on JetStream, stored by the writer and read back through
 * /api/v1/query. The group's interval is an hour so that the test alone decides when it runs.
 */
const RULES = `
groups:
  - name: llm-serving
    interval: 1h
    rules:
      - record: instance:vllm_ttft_seconds:p99_5m
        expr: histogram_quantile(0.99, sum by (instance, le) (rate(vllm:time_to_first_token_seconds_bucket[5m])))
      - record: gpu:fb_used:ratio
        expr: DCGM_FI_DEV_FB_USED / (DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE)
        labels:
          team: infra
      # Reads the rule above in the same evaluation, before the writer has stored it.
      - record: cluster:gpu_fb_used:max_ratio
        expr: max(gpu:fb_used:ratio)
      - alert: GpuMemoryFull
        expr: gpu:fb_used:ratio > 0.95
        for: 5m
`;

type Sample = { metric: Record<string, string>; value: [number, string] };

describe('recording rules over stored fixture scrapes', () => {
  let dir: string;
  let db: TestDatabase;
  let app: NestFastifyApplication;
  let url: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'aw-rules-'));
    const file = path.join(dir, 'llm-serving.rules.yml');
    writeFileSync(file, RULES);
    db = await createTestDatabase();
    const config = loadCollectorConfig(testEnv(db, testNamespace(), { COLLECTOR_RULES: file }));
    app = await createCollectorApp(config, {
      settings: { cluster: 'test', jobs: [], warnings: [] },
      logger: pino({ level: 'warn' }),
    });
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    await storeFleet(app);
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const query = async (expr: string): Promise<Sample[]> => {
    const res = await authFetch(
      `${url}/api/v1/query?${new URLSearchParams({ query: expr, time: String(T1_MS / 1000) })}`,
    );
    const body = (await res.json()) as { status: string; data: { result: Sample[] } };
    if (body.status !== 'success') throw new Error(JSON.stringify(body));
    return body.data.result;
  };

  it('records the rules of the group, readable through /api/v1/query', async () => {
    const recording = app.get(RecordingService);
    expect(recording.groups.map((g) => [g.name, g.intervalMs, g.recording.length, g.alerting.length])).toEqual([
      ['llm-serving', 3_600_000, 3, 1],
    ]);

    const evaluation = await recording.evaluate(recording.groups[0], T1_MS);
    expect(evaluation.errors).toEqual([]);
    expect(evaluation.batch).toMatchObject({ source: 'recording_rule', scrapedAtMs: T1_MS });

    const free = Number(/^DCGM_FI_DEV_FB_FREE\{[^}]*\} (\S+)$/m.exec(fixtureText(FIXTURE_FILES.l4))?.[1]);
    const l4Ratio = Math.round(free * L4_FILL) / free;

    const ratios = await eventually(
      async () => {
        const r = await query('gpu:fb_used:ratio');
        return r.length === 2 ? r : undefined;
      },
      15_000,
      'the recorded series to be stored',
    );
    expect(
      Object.fromEntries(
        ratios.map((s) => [s.metric.instance, [s.metric.team, s.metric.__name__, Number(s.value[1])]]),
      ),
    ).toEqual({
      [INSTANCES.a100]: ['infra', 'gpu:fb_used:ratio', 0],
      [INSTANCES.l4]: ['infra', 'gpu:fb_used:ratio', expect.closeTo(l4Ratio, 12)],
    });

    const max = await query('cluster:gpu_fb_used:max_ratio');
    expect(max).toEqual([
      { metric: { __name__: 'cluster:gpu_fb_used:max_ratio' }, value: [T1_MS / 1000, expect.any(String)] },
    ]);
    expect(Number(max[0].value[1])).toBeCloseTo(l4Ratio, 12);

    // 1000 requests, 980 within 7.5 s and 995 within 10 s: rank 990 lies 10/15 into that bucket.
    const p99 = await query('instance:vllm_ttft_seconds:p99_5m');
    expect(p99.map((s) => [s.metric, Number(s.value[1])])).toEqual([
      [
        { __name__: 'instance:vllm_ttft_seconds:p99_5m', instance: INSTANCES.vllm },
        expect.closeTo(7.5 + (2.5 * 10) / 15, 9),
      ],
    ]);
  });

  it('evaluating the same time again publishes the same batch, stored once', async () => {
    const recording = app.get(RecordingService);
    const again = await recording.evaluate(recording.groups[0], T1_MS);
    expect(again.batch.batchId).toBe((await recording.evaluate(recording.groups[0], T1_MS)).batch.batchId);
    const counts = await query('count_over_time(gpu:fb_used:ratio[1h])');
    expect(counts.map((s) => s.value[1])).toEqual(['1', '1']);
  });

  it('refuses to start on a bad rule file, naming file, line and field', async () => {
    const bad = path.join(dir, 'bad.rules.yml');
    writeFileSync(bad, 'groups:\n  - name: g\n    rules:\n      - record: "a{b}"\n        expr: up\n');
    const config = loadCollectorConfig(testEnv(db, testNamespace(), { COLLECTOR_RULES: bad }));
    const failure = createCollectorApp(config, { logger: pino({ level: 'silent' }) });
    await expect(failure).rejects.toBeInstanceOf(ConfigFileError);
    await expect(failure).rejects.toMatchObject({
      issues: [
        { file: bad, line: 4, field: 'groups[0].rules[0].record', message: 'invalid recording rule name: a{b}' },
      ],
    });
  });
});
