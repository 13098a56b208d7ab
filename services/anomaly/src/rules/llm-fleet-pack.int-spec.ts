/**
 * The three classic rules of the LLM-fleet pack, loaded from infra/rules unchanged, on live data
 * arriving through the metrics stream: inference service down (`up{job="vllm"} == 0` for 1m, P0),
 * TTFT p99 over 5 s for 5m (P1) and GPU memory over 95 % for 10m (P2). Simulated time (TestClock)
 * walks 15-second scrapes over 14 minutes; each rule goes pending, fires once its `for` has
 * passed, and resolves, and the alert stream holds exactly those events. Real NATS and PostgreSQL.
 */
import path from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  alertFingerprint,
  cloudEvent,
  EVENT_TYPES,
  SUBJECTS,
  type AlertV1,
  type CloudEvent,
  type MetricsBatchV1,
} from '@arcwatch/contracts';
import { EventBus } from '@arcwatch/messaging';
import { CLOCK, type ManualClock } from '@arcwatch/runtime';
import {
  createTestDatabase,
  eventually,
  REPO_ROOT,
  testNamespace,
  TestClock,
  type TestDatabase,
} from '@arcwatch/testing';
import { createAnomalyApp } from '../app';
import { readSubjects, testConfig, tearDown } from '../testing/anomaly-test-kit';
import { RulesService } from './rules.service';

const RULE_FILE = path.join(REPO_ROOT, 'infra/rules/llm-fleet.rules.yml');
const T0 = Date.parse('2026-06-03T10:00:00.000Z');
const STEP = 15_000;
const MIN = 60_000;
const at = (minutes: number) => T0 + minutes * MIN;
const iso = (minutes: number) => new Date(at(minutes)).toISOString();

// The scenario, in minutes from T0 (a sample at the start of a span already has the new value).
const DOWN = { from: 1, to: 3 }; // node-1's vLLM scrape fails
const SLOW = { from: 1, to: 8 }; // node-2's requests take 5–10 s to the first token
const MEMORY = { from: 1, to: 12 }; // GPU 3 of gpu-node-007 at 96.9 % framebuffer
const END = 14;

const TTFT_BUCKETS = ['0.5', '1', '2.5', '5', '10', '+Inf'];
const GPU = { gpu: '3', UUID: 'GPU-5f1c2a9e-0b7d-4c11-9a3e-61d2f0c4b7a8', Hostname: 'gpu-node-007' };

describe('LLM-fleet rule pack: the three classic rules on the live stream (NATS + Postgres)', () => {
  let db: TestDatabase;
  let bus: EventBus;
  let app: NestFastifyApplication;
  const ns = testNamespace();
  let n = 0;
  // Cumulative TTFT buckets of node-2: 100 requests a scrape, fast (≤ 0.5 s) or slow (5–10 s).
  const ttft = new Map(TTFT_BUCKETS.map((le) => [le, 0]));

  const scrape = (t: number): MetricsBatchV1['series'] => {
    const minutes = (t - T0) / MIN;
    const within = (s: { from: number; to: number }) => minutes >= s.from && minutes < s.to;
    if (t > T0)
      for (const le of TTFT_BUCKETS)
        if (!within(SLOW) || ['10', '+Inf'].includes(le)) ttft.set(le, ttft.get(le)! + 100);
    const used = within(MEMORY) ? 79_000 : 52_000;
    return [
      { labels: { __name__: 'up', job: 'vllm', instance: 'node-1:8000' }, samples: [[t, within(DOWN) ? 0 : 1]] },
      { labels: { __name__: 'up', job: 'vllm', instance: 'node-2:8000' }, samples: [[t, 1]] },
      ...TTFT_BUCKETS.map((le) => ({
        labels: {
          __name__: 'vllm:time_to_first_token_seconds_bucket',
          job: 'vllm',
          instance: 'node-2:8000',
          model_name: 'llama-3-70b',
          le,
        },
        samples: [[t, ttft.get(le)!]] as Array<[number, number]>,
      })),
      { labels: { __name__: 'DCGM_FI_DEV_FB_USED', ...GPU }, samples: [[t, used]] },
      { labels: { __name__: 'DCGM_FI_DEV_FB_FREE', ...GPU }, samples: [[t, 81_559 - used]] },
    ];
  };

  /** One scrape at t: the clock moves to t (group intervals run), the batch arrives, every group is evaluated at t. */
  const step = async (t: number) => {
    await app.get<ManualClock>(CLOCK).advanceTo(t);
    const id = `pack-${++n}`;
    const data: MetricsBatchV1 = {
      batchId: id,
      source: 'scrape',
      cluster: 'c1',
      node: 'node-1',
      target: { job: 'vllm', instance: 'node-1:8000' },
      scrapedAtMs: t,
      series: scrape(t),
    };
    await bus.publish(
      SUBJECTS.metricsSamples('c1', 'node-1'),
      cloudEvent({ id, source: 'test', type: EVENT_TYPES.metricsBatch, time: new Date(t), data }),
    );
    const rules = app.get(RulesService);
    await eventually(
      async () =>
        (await rules.window.select([{ name: '__name__', type: '=', value: 'up' }], t, t)).some(
          (s) => s.timestamps.length > 0,
        )
          ? true
          : undefined,
      10_000,
      `the scrape at ${new Date(t).toISOString()} in the window`,
    );
    await rules.evaluateAll();
  };
  const alertEvents = async () =>
    (await readSubjects<CloudEvent<AlertV1>>(bus, 'alerts', 'aw.alerts.v1.')).map((m) => ({
      subject: m.subject,
      ...m.body.data,
    }));

  beforeAll(async () => {
    db = await createTestDatabase();
    bus = await EventBus.connect({ name: 'anomaly-pack-test', namespace: ns });
    app = await createAnomalyApp({
      config: testConfig(db.url, ns, { ANOMALY_RULE_FILES: RULE_FILE }),
      clock: new TestClock(T0 - STEP),
    });
    await app.init();
  });

  afterAll(async () => {
    await tearDown({ app, bus, db });
  });

  it('each rule fires after its `for` and resolves; the alert stream holds exactly those events', async () => {
    const pendingSeen = new Map<string, number>();
    for (let t = T0; t <= at(END); t += STEP) {
      await step(t);
      for (const a of app.get(RulesService).activeAlerts())
        if (a.state === 'pending' && !pendingSeen.has(a.rule)) pendingSeen.set(a.rule, a.activeAtMs);
    }
    // Each went pending on the first scrape that met its condition.
    expect(Object.fromEntries(pendingSeen)).toEqual({
      InferenceServiceDown: at(DOWN.from),
      TtftP99High: at(SLOW.from),
      GpuMemoryNearlyFull: at(MEMORY.from),
    });

    const events = await eventually(
      async () => {
        const e = await alertEvents();
        return e.length >= 6 ? e : undefined;
      },
      10_000,
      'six alert events',
    );
    const byName = (name: string) => events.filter((e) => e.labels.alertname === name);
    expect(events).toHaveLength(6);

    const down = {
      alertname: 'InferenceServiceDown',
      instance: 'node-1:8000',
      job: 'vllm',
      severity: 'P0',
      team: 'inference',
    };
    // for: 1m → fires one minute after the first failed scrape; resolves on the first good one.
    expect(byName('InferenceServiceDown').map((e) => [e.subject, e.status, e.startsAt, e.endsAt])).toEqual([
      ['aw.alerts.v1.firing.P0.inference', 'firing', iso(DOWN.from + 1), null],
      ['aw.alerts.v1.resolved.P0.inference', 'resolved', iso(DOWN.from + 1), iso(DOWN.to)],
    ]);
    for (const e of byName('InferenceServiceDown'))
      expect(e).toMatchObject({ labels: down, fingerprint: alertFingerprint(down), value: 0, flapping: false });
    expect(byName('InferenceServiceDown')[0].annotations.summary).toBe('vLLM engine node-1:8000 is down');

    const ttftLabels = {
      alertname: 'TtftP99High',
      instance: 'node-2:8000',
      model_name: 'llama-3-70b',
      severity: 'P1',
      team: 'inference',
    };
    // for: 5m. rate(…[5m]) still sees the last slow scrape interval (7:45 → 8:00 holds none, 7:30 → 7:45
    // the last one) until the window (t − 5m, t] starts after 7:45, i.e. at 12:30.
    expect(byName('TtftP99High').map((e) => [e.subject, e.status, e.startsAt, e.endsAt])).toEqual([
      ['aw.alerts.v1.firing.P1.inference', 'firing', iso(SLOW.from + 5), null],
      ['aw.alerts.v1.resolved.P1.inference', 'resolved', iso(SLOW.from + 5), iso(12.5)],
    ]);
    for (const e of byName('TtftP99High')) expect(e.labels).toEqual(ttftLabels);
    // All requests in the window slow: p99 interpolates inside the 5–10 s bucket, 5 + 5 × 0.99.
    expect(byName('TtftP99High')[0].value).toBeCloseTo(9.95, 6);
    expect(byName('TtftP99High')[0].annotations.summary).toBe('TTFT p99 of llama-3-70b on node-2:8000 is 9.95s');

    const memLabels = { alertname: 'GpuMemoryNearlyFull', ...GPU, severity: 'P2', team: 'inference' };
    // for: 10m → fires ten minutes after the first full scrape; resolves on the first scrape below 95 %.
    expect(byName('GpuMemoryNearlyFull').map((e) => [e.subject, e.status, e.startsAt, e.endsAt])).toEqual([
      ['aw.alerts.v1.firing.P2.inference', 'firing', iso(MEMORY.from + 10), null],
      ['aw.alerts.v1.resolved.P2.inference', 'resolved', iso(MEMORY.from + 10), iso(MEMORY.to)],
    ]);
    for (const e of byName('GpuMemoryNearlyFull')) expect(e.labels).toEqual(memLabels);
    expect(byName('GpuMemoryNearlyFull')[0].value).toBeCloseTo(79_000 / 81_559, 12);
    expect(byName('GpuMemoryNearlyFull')[0].annotations.summary).toBe('GPU 3 on gpu-node-007 memory 96.86% used');

    // Nothing is left pending or firing at the end.
    expect(app.get(RulesService).activeAlerts()).toEqual([]);
  });
});
