import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isStaleNaN, toMetricsBatchV2, type MetricsBatchV1, type MetricsBatchV2 } from '@arcwatch/contracts';
import { FIXTURES_DIR, createTestDatabase, type TestDatabase } from '@arcwatch/testing';
import type { Pool } from 'pg';
import { StorageError } from '../errors';
import { migrate } from '../migrations/migrate';
import { createPool } from '../pool';
import { batchFromExposition } from '../testing/exposition-batches';
import { SampleStore } from './sample-store';
import { sampleStoreMigrations } from './sample-store.migrations';

const T0 = Date.UTC(2025, 2, 10, 12, 0, 0);
const clock = () => T0 + 3_600_000;
let db: TestDatabase;
let pool: Pool;

const DCGM = readFileSync(
  path.join(FIXTURES_DIR, 'dcgm-exporter', 'dcgm-exporter-L4-driver580.k8s-ai-conformance-kops.metrics.txt'),
  'utf8',
);

function scrape(k: number): MetricsBatchV1 {
  const b = batchFromExposition(DCGM, {
    batchId: `scrape-${k}`,
    timestampMs: T0 + k * 15_000,
    job: 'dcgm',
    instance: 'node-1:9400',
  });
  // the special values, the staleness marker among them, ride along in every scrape
  b.series.push(
    { labels: { __name__: 'special', kind: 'nan', job: 'dcgm' }, samples: [[T0 + k * 15_000, 'NaN']] },
    { labels: { __name__: 'special', kind: 'stale', job: 'dcgm' }, samples: [[T0 + k * 15_000, 'stale']] },
    { labels: { __name__: 'special', kind: 'inf', job: 'dcgm' }, samples: [[T0 + k * 15_000, '-Inf']] },
  );
  return b;
}

/** A push: several samples per series at their own times, and a series written twice. */
const push: MetricsBatchV1 = {
  batchId: 'push-1',
  source: 'import',
  cluster: 'c1',
  node: 'n1',
  target: { job: 'push', instance: 'n1' },
  scrapedAtMs: T0,
  series: [
    {
      labels: { __name__: 'pushed', job: 'push', instance: 'n1', empty: '' },
      samples: [
        [T0 - 30_000, 1],
        [T0 - 15_000, -0],
        [T0, 'stale'],
      ],
    },
    { labels: { __name__: 'pushed_other', job: 'push', instance: 'n1' }, samples: [[T0 + 1, 2.5]] },
  ],
};

async function store(schema: string): Promise<SampleStore> {
  await migrate(pool, { schema, migrations: sampleStoreMigrations(schema) });
  return new SampleStore(pool, { schema, clock });
}

/** Everything the store answers, with value bits, so that NaN payloads count. */
async function snapshot(s: SampleStore): Promise<string> {
  const data = await s.select([{ name: '__name__', type: '=~', value: '.+' }], 0, 4e12);
  const sorted = (l: Record<string, string>) =>
    Object.fromEntries(Object.entries(l).sort(([a], [b]) => (a < b ? -1 : 1)));
  return JSON.stringify(
    data.map((d) => [
      sorted(d.labels),
      Array.from(d.timestamps),
      Array.from(new Uint32Array(Float64Array.from(d.values).buffer)),
    ]),
  );
}

async function headPayloads(schema: string): Promise<string[]> {
  const { rows } = await pool.query<{ batch_id: string; payload: Buffer }>(
    `SELECT batch_id, payload FROM ${schema}.head ORDER BY batch_id`,
  );
  return rows.map((r) => `${r.batch_id}:${r.payload.toString('hex')}`);
}

beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPool(db.url, { max: 4 });
});

afterAll(async () => {
  await pool.end();
  await db.drop();
});

describe('SampleStore.appendPacked', () => {
  it('stores what appendBatches stores for the same batches, byte for byte', async () => {
    const v1 = await store('unpacked');
    const v2 = await store('packed');
    const batches = [scrape(0), scrape(1), push];
    expect(await v1.appendBatches(batches)).toEqual({
      inserted: 3,
      duplicates: 0,
      samples: expect.any(Number),
      newSeries: expect.any(Number),
    });
    const r = await v2.appendPacked(batches.map(toMetricsBatchV2));
    expect(r).toMatchObject({ inserted: 3, duplicates: 0 });
    expect(r.samples).toBe(batches.reduce((n, b) => n + b.series.reduce((m, s) => m + s.samples.length, 0), 0));
    expect(r.newSeries).toBe(scrape(0).series.length + 2);
    expect(await headPayloads('packed')).toEqual(await headPayloads('unpacked'));
    expect(await snapshot(v2)).toBe(await snapshot(v1));

    const [stale] = await v2.select([{ name: 'kind', type: '=', value: 'stale' }], T0, T0 + 15_000);
    // read element by element: a plain array of doubles may canonicalise the NaN
    expect(Array.from({ length: stale!.values.length }, (_, i) => isStaleNaN(stale!.values[i]!))).toEqual([true, true]);
    const [pushed] = await v2.select([{ name: '__name__', type: '=', value: 'pushed' }], T0 - 60_000, T0);
    expect(pushed!.labels).toEqual({ __name__: 'pushed', job: 'push', instance: 'n1' });
    expect(Object.is(pushed!.values[1], -0)).toBe(true);
    expect(isStaleNaN(pushed!.values[2]!)).toBe(true);
  });

  it('maps each series right when a target reorders, drops or adds series between batches', async () => {
    const v1 = await store('reorder_unpacked');
    const v2 = await store('reorder_packed');
    const reordered = scrape(2);
    reordered.series.reverse();
    const shrunk = scrape(3);
    shrunk.series = shrunk.series.slice(3);
    shrunk.series.push({ labels: { __name__: 'late_arrival', job: 'dcgm' }, samples: [[T0 + 45_000, 4]] });
    for (const b of [scrape(1), reordered, shrunk]) {
      await v1.appendBatches([b]);
      await v2.appendPacked([toMetricsBatchV2(b)]);
    }
    expect(await snapshot(v2)).toBe(await snapshot(v1));
  });

  it('replaying changes nothing, before and after compaction, in either format', async () => {
    const s = await store('replay');
    const b = toMetricsBatchV2(scrape(0));
    expect(await s.appendPacked([b, b])).toMatchObject({ inserted: 1, duplicates: 1 });
    const before = await snapshot(s);
    const stats = await s.stats();
    expect(await s.appendPacked([b])).toEqual({ inserted: 0, duplicates: 1, samples: 0, newSeries: 0 });
    // the v1 form of the same batch is the same fact: same id, nothing stored twice
    expect(await s.appendBatches([scrape(0)])).toMatchObject({ inserted: 0, duplicates: 1 });
    expect(await snapshot(s)).toBe(before);
    await s.compact(0);
    expect(await snapshot(s)).toBe(before);
    expect(await s.appendPacked([b])).toEqual({ inserted: 0, duplicates: 1, samples: 0, newSeries: 0 });
    await s.compact(0);
    expect(await snapshot(s)).toBe(before);
    expect((await s.stats()).samples).toBe(stats.samples);
    // a fresh process (empty caches) finds the same series and still skips the batch
    const fresh = new SampleStore(pool, { schema: 'replay', clock });
    expect(await fresh.appendPacked([b])).toEqual({ inserted: 0, duplicates: 1, samples: 0, newSeries: 0 });
    expect(await snapshot(fresh)).toBe(before);
  });

  it('refuses a batch it cannot read before writing anything', async () => {
    const s = await store('refusals');
    const good = toMetricsBatchV2(scrape(0));
    const bad: Array<[Partial<MetricsBatchV2>, RegExp]> = [
      [{ series: [...good.series.slice(1), 'up{a="x"'] }, /series text .* expected/],
      [{ series: [...good.series.slice(1), '{gpu="9"}'] }, /has no __name__/],
      [{ series: [...good.series.slice(1), 'up{job="x"}'] }, /repeats shared label job/],
      [{ labels: 'up{job="x"}' }, /name a metric/],
      [{ values: good.values.slice(4) }, /values are not \d+ float64 values/],
      [{ timestampMs: 1.5 }, /timestamp 1.5 is not an integer/],
    ];
    for (const [patch, reason] of bad) {
      const err = await s.appendPacked([good, { ...good, batchId: 'bad', ...patch }]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StorageError);
      expect((err as StorageError).code).toBe('INVALID_BATCH');
      expect((err as StorageError).message).toMatch(reason);
    }
    expect(await s.stats()).toMatchObject({ series: 0, samples: 0 });
    expect(await s.appendPacked([good])).toMatchObject({ inserted: 1 });
  });
});
