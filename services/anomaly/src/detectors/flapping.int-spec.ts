/**
 * Flap detection in the service: a detector finding that comes and goes every scrape is folded,
 * once the fourth change falls within the flap window, into one alert that stays firing and is
 * marked flapping — the firing alert is sent again with `flapping: true`, no resolved event per
 * bounce, and one resolved event (also marked) when the window has calmed down. The same
 * bouncing without a `flap:` section gives a firing and a resolved event per bounce. Real NATS
 * and PostgreSQL; time is a TestClock.
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

const T0 = Date.parse('2026-06-04T09:00:00.000Z');
const STEP = 15_000;
const detectorFile = (name: string, gpu: string, flap: string) => `
detectors:
  - name: ${name}
    selector: gpu_temp{gpu="${gpu}"}
    detector: { kind: robust, params: { window: 20, warmup: 5, calibration: false } }
    sensitivity: 0.7
    severity: P3
    labels: { team: platform }
${flap}`;

// 8 normal scrapes (warm-up), four spike / normal bounces, then calm. The detector scores raw
// deviations (calibration off: a calibrated score would learn the bounces as normal). Normal
// values vary: no value fills half the window, which would switch it to the mean absolute deviation.
const NORMAL = [60, 61, 60, 62, 61, 60, 61, 62];
const normal = (i: number) => NORMAL[i % NORMAL.length];
const BOUNCES = 4;
const CALM = 10;
const values = [
  ...NORMAL,
  ...Array.from({ length: BOUNCES }, (_, b) => [95, normal(2 * b + 1)]).flat(),
  ...Array.from({ length: CALM }, (_, i) => normal(i)),
];
const iso = (i: number) => new Date(T0 + i * STEP).toISOString();

describe('anomaly service: flapping detector findings fold into one alert (NATS + Postgres)', () => {
  let db: TestDatabase;
  let bus: EventBus;
  let app: NestFastifyApplication | undefined;
  const ns = testNamespace();
  const dir = mkdtempSync(path.join(tmpdir(), 'anomaly-flap-'));
  const file = path.join(dir, 'detectors.yml');
  writeFileSync(
    file,
    detectorFile('GpuTempFlapping', '1', '    flap: { window: 2m, enter: 4, exit: 1 }\n') +
      detectorFile('GpuTempBouncing', '2', '').replace(/^\ndetectors:\n/, ''),
  );
  let n = 0;

  /** One scrape of both GPUs at step i, into the window, then one detector tick at its time. */
  const step = async (i: number) => {
    const t = T0 + i * STEP;
    app!.get<ManualClock>(CLOCK).set(t);
    const id = `f-${++n}`;
    const data: MetricsBatchV1 = {
      batchId: id,
      source: 'scrape',
      cluster: 'c1',
      node: 'node-1',
      target: { job: 'dcgm-exporter', instance: 'node-1:9400' },
      scrapedAtMs: t,
      series: ['1', '2'].map((gpu) => ({ labels: { __name__: 'gpu_temp', gpu }, samples: [[t, values[i]]] })),
    };
    await bus.publish(
      SUBJECTS.metricsSamples('c1', 'node-1'),
      cloudEvent({ id, source: 'test', type: EVENT_TYPES.metricsBatch, data }),
    );
    const window = app!.get(RulesService).window;
    await eventually(
      async () =>
        (await window.select([{ name: '__name__', type: '=', value: 'gpu_temp' }], t, t)).length === 2
          ? true
          : undefined,
      10_000,
      `samples at ${iso(i)}`,
    );
    await app!.get(DetectorsService).tick();
  };
  const events = async (alertname: string) =>
    (await readSubjects<CloudEvent<AlertV1>>(bus, 'alerts', 'aw.alerts.v1.'))
      .map((m) => ({ id: m.body.id, subject: m.subject, ...m.body.data }))
      .filter((e) => e.labels.alertname === alertname);

  beforeAll(async () => {
    db = await createTestDatabase();
    bus = await EventBus.connect({ name: 'anomaly-flap-test', namespace: ns });
    app = await createAnomalyApp({
      config: testConfig(db.url, ns, { ANOMALY_DETECTOR_FILES: file, ANOMALY_DETECTOR_INTERVAL_MS: '3600000' }),
      clock: new TestClock(T0),
    });
    await app.init();
  });

  afterAll(async () => {
    await tearDown({ app, bus, db });
  });

  it('bounces fold into one firing alert marked flapping, resolved once when calm', async () => {
    const spikes = NORMAL.length; // the first spike's step
    // Stopped halfway through the bounces and started again: the flap state is persisted with the alert.
    for (let i = 0; i < spikes + 5; i++) await step(i);
    await app!.close();
    app = await createAnomalyApp({
      config: testConfig(db.url, ns, { ANOMALY_DETECTOR_FILES: file, ANOMALY_DETECTOR_INTERVAL_MS: '3600000' }),
      clock: new TestClock(T0 + (spikes + 5) * STEP),
    });
    await app.init();
    for (let i = spikes + 5; i < values.length; i++) await step(i);

    // Without flap detection: one page per bounce.
    const bouncing = await eventually(
      async () => {
        const e = await events('GpuTempBouncing');
        return e.length === 2 * BOUNCES ? e : undefined;
      },
      10_000,
      'eight events of the bouncing detector',
    );
    expect(bouncing.map((e) => [e.status, e.startsAt, e.endsAt, e.flapping])).toEqual(
      Array.from({ length: BOUNCES }, (_, b) => [
        ['firing', iso(spikes + 2 * b), null, false],
        ['resolved', iso(spikes + 2 * b), iso(spikes + 2 * b + 1), false],
      ]).flat(),
    );

    // With it: the first bounce pages and resolves as usual (not flapping yet); the second one's
    // resolution is the fourth change within 2 m, so it is held firing and sent again marked
    // flapping; later bounces send nothing; once at most one change is left in the window
    // (7 steps after the last one) it resolves, marked.
    const flapping = await eventually(
      async () => {
        const e = await events('GpuTempFlapping');
        return e.length === 5 ? e : undefined;
      },
      10_000,
      'five events of the flapping detector',
    );
    const lastChange = spikes + 2 * BOUNCES - 1;
    expect(flapping.map((e) => [e.subject, e.status, e.startsAt, e.endsAt, e.flapping])).toEqual([
      ['aw.alerts.v1.firing.P3.platform', 'firing', iso(spikes), null, false],
      ['aw.alerts.v1.resolved.P3.platform', 'resolved', iso(spikes), iso(spikes + 1), false],
      ['aw.alerts.v1.firing.P3.platform', 'firing', iso(spikes + 2), null, false],
      ['aw.alerts.v1.firing.P3.platform', 'firing', iso(spikes + 2), null, true],
      ['aw.alerts.v1.resolved.P3.platform', 'resolved', iso(spikes + 2), iso(lastChange + 7), true],
    ]);
    expect(new Set(flapping.map((e) => e.id)).size).toBe(5);
    expect(new Set(flapping.map((e) => e.fingerprint)).size).toBe(1);
    expect(flapping[3].labels).toEqual({ alertname: 'GpuTempFlapping', gpu: '1', severity: 'P3', team: 'platform' });
    // Nothing more after the calm: ticks with normal values publish nothing.
    const after = values.length;
    for (let i = after; i < after + 3; i++) {
      app!.get<ManualClock>(CLOCK).set(T0 + i * STEP);
      values.push(normal(i));
      await step(i);
    }
    expect(await events('GpuTempFlapping')).toHaveLength(5);
  });
});
