/**
 * A statistical detector from @arcwatch/detectors on the live metrics stream: its findings go
 * through the alert state machine and out as alert events (origin `detector`); its memory survives
 * a restart — after one, a spike alerts at once, with no second warm-up. Real NATS and PostgreSQL.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  cloudEvent,
  EVENT_TYPES,
  SUBJECTS,
  type AlertV1,
  type CloudEvent,
  type MetricsBatchV1,
} from '@arcwatch/contracts';
import { EventBus } from '@arcwatch/messaging';
import { CLOCK, type ManualClock } from '@arcwatch/runtime';
import { createTestDatabase, eventually, testNamespace, TestClock, type TestDatabase } from '@arcwatch/testing';
import { createAnomalyApp } from '../app';
import { RulesService } from '../rules/rules.service';
import { readSubjects, testConfig, tearDown } from '../testing/anomaly-test-kit';
import { DetectorsService } from './detectors.service';

const T0 = Date.parse('2026-06-02T08:00:00.000Z');
const STEP = 15_000;
const DETECTORS = `
detectors:
  - name: GpuTempOutlier
    selector: gpu_temp
    detector: { kind: robust, params: { window: 20, warmup: 5 } }
    sensitivity: 0.7
    severity: P3
    labels: { team: platform }
    annotations: { summary: "GPU {{ $labels.gpu }} unusual at {{ $value }}" }
`;

describe('anomaly service: detectors through the alert state machine (NATS + Postgres)', () => {
  let db: TestDatabase;
  let bus: EventBus;
  let app: NestFastifyApplication | undefined;
  const ns = testNamespace();
  const dir = mkdtempSync(path.join(tmpdir(), 'anomaly-det-'));
  const file = path.join(dir, 'detectors.yml');
  writeFileSync(file, DETECTORS);
  let n = 0;

  const start = async (nowMs: number) => {
    const a = await createAnomalyApp({
      config: testConfig(db.url, ns, { ANOMALY_DETECTOR_FILES: file, ANOMALY_DETECTOR_INTERVAL_MS: '3600000' }),
      clock: new TestClock(nowMs),
    });
    await a.init();
    return a;
  };
  /** One step: the sample at time t on the stream, into the window, then one detector tick at t. */
  const step = async (t: number, value: number) => {
    app!.get<ManualClock>(CLOCK).set(t);
    const id = `d-${++n}`;
    const data: MetricsBatchV1 = {
      batchId: id,
      source: 'scrape',
      cluster: 'c1',
      node: 'node-1',
      target: { job: 'dcgm-exporter', instance: 'node-1:9400' },
      scrapedAtMs: t,
      series: [{ labels: { __name__: 'gpu_temp', gpu: '2' }, samples: [[t, value]] }],
    };
    await bus.publish(
      SUBJECTS.metricsSamples('c1', 'node-1'),
      cloudEvent({ id, source: 'test', type: EVENT_TYPES.metricsBatch, data }),
    );
    const window = app!.get(RulesService).window;
    await eventually(
      async () =>
        (await window.select([{ name: '__name__', type: '=', value: 'gpu_temp' }], t, t)).length === 1
          ? true
          : undefined,
      10_000,
      `sample at ${t}`,
    );
    await app!.get(DetectorsService).tick();
  };
  const events = async () =>
    (await readSubjects<CloudEvent<AlertV1>>(bus, 'alerts', 'aw.alerts.v1.')).map((m) => m.body.data);

  beforeAll(async () => {
    db = await createTestDatabase();
    bus = await EventBus.connect({ name: 'anomaly-det-test', namespace: ns });
    app = await start(T0);
  });

  afterAll(async () => {
    await tearDown({ app, bus, db });
  });

  it('a spike fires, the return resolves, and the baseline survives a restart', async () => {
    const normal = [60, 61, 60, 62, 61, 60, 61, 62];
    for (let i = 0; i < normal.length; i++) await step(T0 + i * STEP, normal[i]);
    expect(await events()).toEqual([]);

    const spikeAt = T0 + normal.length * STEP;
    await step(spikeAt, 95);
    const fired = await eventually(
      async () => {
        const e = await events();
        return e.length === 1 ? e : undefined;
      },
      10_000,
      'firing event',
    );
    expect(fired[0]).toMatchObject({
      status: 'firing',
      labels: { alertname: 'GpuTempOutlier', gpu: '2', severity: 'P3', team: 'platform' },
      annotations: { summary: 'GPU 2 unusual at 95', direction: 'up' },
      origin: { kind: 'detector', name: 'GpuTempOutlier' },
      startsAt: new Date(spikeAt).toISOString(),
    });

    // Restart: no warm-up again. A normal value resolves; the next spike fires at once.
    await app!.close();
    app = await start(spikeAt + STEP);
    await step(spikeAt + STEP, 61);
    await eventually(async () => ((await events()).length === 2 ? true : undefined), 10_000, 'resolved event');
    await step(spikeAt + 2 * STEP, 150);
    const all = await eventually(
      async () => {
        const e = await events();
        return e.length === 3 ? e : undefined;
      },
      10_000,
      'second firing right after the restart',
    );
    expect(all.map((e) => [e.status, e.startsAt])).toEqual([
      ['firing', new Date(spikeAt).toISOString()],
      ['resolved', new Date(spikeAt).toISOString()],
      ['firing', new Date(spikeAt + 2 * STEP).toISOString()],
    ]);
  });
});
