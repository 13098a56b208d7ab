import type { MetricsBatchV1, Queryable } from '@arcwatch/contracts';
import { PromqlEngine, type RawQueryResult } from '@arcwatch/promql';
import { SampleStore, createPool, migrate, sampleStoreMigrations } from '@arcwatch/storage';
import { createTestDatabase, type TestDatabase } from '@arcwatch/testing';
import fc from 'fast-check';
import type { Pool } from 'pg';

/**
 * Range queries answered from rollups against the same queries answered from raw samples, on
 * one PostgreSQL store: generated series (gaps, counter resets, NaN, ±Inf, stale markers,
 * samples exactly on bucket and chunk boundaries) written partly as bulk history, partly through
 * the head and compaction (late samples merged into stored chunks), partly left in the head.
 */
const SCHEMA = 'rollups';
const HOUR = 3_600_000;
const T0 = Date.UTC(2025, 5, 2, 0, 0, 0);
const NOW = T0 + 40 * HOUR;

let db: TestDatabase;
let pool: Pool;
let store: SampleStore;

/** The store as a Queryable without rollups: every query reads raw samples. */
function rawOnly(s: SampleStore): Queryable {
  return {
    select: (m, a, b) => s.select(m, a, b),
    labelNames: (m, a, b) => s.labelNames(m, a, b),
    labelValues: (n, m, a, b) => s.labelValues(n, m, a, b),
    series: (m, a, b) => s.series(m, a, b),
  };
}

/** The store, counting the rollup reads the engine makes. */
function counting(s: SampleStore): { q: Queryable; reads: () => number } {
  let reads = 0;
  return {
    q: {
      ...rawOnly(s),
      rollupResolutionsMs: () => s.rollupResolutionsMs(),
      selectRollups: (m, a, b, r) => {
        reads++;
        return s.selectRollups(m, a, b, r);
      },
    },
    reads: () => reads,
  };
}

type Wire = number | 'NaN' | '+Inf' | '-Inf' | 'stale';

function batch(id: string, labels: Record<string, string>, samples: [number, Wire][]): MetricsBatchV1 {
  return {
    batchId: id,
    source: 'scrape',
    cluster: 'c1',
    node: 'n1',
    target: { job: 'j', instance: 'i' },
    scrapedAtMs: samples[0]![0],
    series: [{ labels, samples }],
  };
}

function toNumber(v: Wire): number {
  if (v === 'NaN') return NaN;
  if (v === '+Inf') return Infinity;
  if (v === '-Inf') return -Infinity;
  if (v === 'stale') throw new Error('stale markers go through the head');
  return v;
}

/** Values equal to float rounding: same NaN-ness, same infinities, relative error ≤ 1e-9. */
function close(a: number, b: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (!Number.isFinite(a) || !Number.isFinite(b)) return a === b;
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

function expectSameMatrix(fromRollups: RawQueryResult, fromRaw: RawQueryResult): void {
  expect(fromRollups.result.type).toBe('matrix');
  expect(fromRaw.result.type).toBe('matrix');
  if (fromRollups.result.type !== 'matrix' || fromRaw.result.type !== 'matrix') return;
  const a = fromRollups.result.series;
  const b = fromRaw.result.series;
  expect(a.map((s) => s.labels)).toEqual(b.map((s) => s.labels));
  a.forEach((s, i) => {
    expect(s.timestamps).toEqual(b[i]!.timestamps);
    const bad = s.values.findIndex((v, k) => !close(v, b[i]!.values[k]!));
    if (bad >= 0)
      expect({ at: s.timestamps[bad], value: s.values[bad] }).toEqual({
        at: s.timestamps[bad],
        value: b[i]!.values[bad],
      });
  });
  expect(fromRollups.infos).toEqual(fromRaw.infos);
}

beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPool(db.url, { max: 4 });
  await migrate(pool, { schema: SCHEMA, migrations: sampleStoreMigrations(SCHEMA) });
  store = new SampleStore(pool, { schema: SCHEMA, clock: () => NOW });
  // an empty store: the 1 h resolution is complete from the start
  expect(await store.buildRollups()).toBe(0);
  expect(await store.rollupResolutionsMs()).toEqual([HOUR]);
});

afterAll(async () => {
  await pool.end();
  await db.drop();
});

const value: fc.Arbitrary<Wire> = fc.oneof(
  { weight: 12, arbitrary: fc.integer({ min: -50, max: 1000 }) },
  { weight: 3, arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom<Wire>('NaN', '+Inf', '-Inf') },
  { weight: 2, arbitrary: fc.constant<Wire>('stale') },
);

/** One series: sorted, distinct times in [T0, T0 + 30 h), often on hour and 2 h boundaries. */
const samples = fc
  .array(
    fc.tuple(
      fc.oneof(
        fc.integer({ min: 0, max: 30 * 3600 - 1 }).map((s) => T0 + s * 1000),
        fc.integer({ min: 0, max: 29 }).map((h) => T0 + h * HOUR),
      ),
      value,
    ),
    { minLength: 1, maxLength: 120 },
  )
  .map((list) => {
    const byTime = new Map<number, Wire>();
    for (const [t, v] of list) if (!byTime.has(t)) byTime.set(t, v);
    return [...byTime.entries()].sort((x, y) => x[0] - y[0]);
  });

const FUNCTIONS = [
  'avg_over_time',
  'sum_over_time',
  'min_over_time',
  'max_over_time',
  'count_over_time',
  'present_over_time',
  'rate',
  'increase',
  'delta',
];

let run = 0;

describe('range queries from rollups', () => {
  it('give the raw samples’ answer for every function, instant selectors, windows and write paths', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(samples, { minLength: 1, maxLength: 3 }),
        fc.constantFrom(...FUNCTIONS, 'selector', 'timestamp'),
        fc.constantFrom('', 'sum by (g)', 'avg', 'max by (g)'),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 2 }),
        fc.integer({ min: 0, max: 20 }),
        fc.integer({ min: 0, max: 2 }),
        async (seriesList, fn, agg, rangeH, stepH, startH, offsetH) => {
          const name = `gen_${run++}`;
          for (const [k, list] of seriesList.entries()) {
            const labels = { __name__: name, s: String(k), g: String(k % 2) };
            // first half as bulk history (stale markers go through the head), the rest through the head
            const half = Math.floor(list.length / 2);
            const bulk = list.slice(0, half).filter(([, v]) => v !== 'stale');
            if (bulk.length > 0)
              await store.importHistory([
                {
                  labels,
                  timestamps: Float64Array.from(bulk.map(([t]) => t)),
                  values: Float64Array.from(bulk.map(([, v]) => toNumber(v))),
                },
              ]);
            const headPart = [...list.slice(half), ...list.slice(0, half).filter(([, v]) => v === 'stale')];
            const late = headPart.filter((_, i) => i % 2 === 0);
            const recent = headPart.filter((_, i) => i % 2 === 1);
            if (late.length > 0) await store.appendBatch(batch(`${name}-${k}-late`, labels, late));
            await store.compact(0);
            if (recent.length > 0) await store.appendBatch(batch(`${name}-${k}-recent`, labels, recent));
          }
          const offset = offsetH ? ` offset ${offsetH}h` : '';
          const expr =
            fn === 'selector'
              ? `${agg}(${name}${offset})`
              : fn === 'timestamp'
                ? `${agg}(timestamp(${name}${offset}))`
                : `${agg}(${fn}(${name}[${rangeH}h]${offset}))`;
          const start = T0 + startH * HOUR;
          const end = start + 10 * stepH * HOUR;
          const { q, reads } = counting(store);
          const fromRollups = await new PromqlEngine(q).evaluateRange(expr, start, end, stepH * HOUR);
          expect(reads()).toBe(1);
          const fromRaw = await new PromqlEngine(rawOnly(store)).evaluateRange(expr, start, end, stepH * HOUR);
          expectSameMatrix(fromRollups, fromRaw);
          await pool.query(`TRUNCATE ${SCHEMA}.head`);
        },
      ),
      { numRuns: 80 },
    );
  }, 240_000);

  it('are not used where a window is not whole buckets: off-hour steps, starts or ranges, subqueries', async () => {
    const labels = { __name__: 'shapes', s: '0' };
    const ts = Float64Array.from({ length: 400 }, (_, i) => T0 + i * 240_000);
    await store.importHistory([{ labels, timestamps: ts, values: Float64Array.from(ts, (_, i) => i % 37) }]);
    const cases: Array<[string, number, number, number]> = [
      ['avg_over_time(shapes[1h])', T0 + 2 * HOUR, T0 + 20 * HOUR, 1800_000],
      ['avg_over_time(shapes[1h])', T0 + 2 * HOUR + 60_000, T0 + 20 * HOUR, HOUR],
      ['avg_over_time(shapes[90m])', T0 + 2 * HOUR, T0 + 20 * HOUR, HOUR],
      ['max_over_time(avg_over_time(shapes[1h])[3h:1h])', T0 + 4 * HOUR, T0 + 20 * HOUR, HOUR],
      ['avg_over_time(shapes[1h] @ 7200)', T0 + 4 * HOUR, T0 + 20 * HOUR, HOUR],
      ['max(shapes)', T0 + 2 * HOUR, T0 + 20 * HOUR, 1800_000],
      ['max(shapes offset 30m)', T0 + 2 * HOUR, T0 + 20 * HOUR, HOUR],
    ];
    for (const [expr, start, end, step] of cases) {
      const { q, reads } = counting(store);
      const a = await new PromqlEngine(q).evaluateRange(expr, start, end, step);
      expect({ expr, reads: reads() }).toEqual({ expr, reads: 0 });
      expectSameMatrix(a, await new PromqlEngine(rawOnly(store)).evaluateRange(expr, start, end, step));
    }
    // and the hour-aligned one is, with values worked out here: 15 samples an hour, i % 37
    const { q, reads } = counting(store);
    const r = await new PromqlEngine(q).evaluateRange('count_over_time(shapes[1h])', T0 + HOUR, T0 + 3 * HOUR, HOUR);
    expect(reads()).toBe(1);
    expect(r.result).toEqual({
      type: 'matrix',
      series: [{ labels: { s: '0' }, timestamps: [T0 + HOUR, T0 + 2 * HOUR, T0 + 3 * HOUR], values: [15, 15, 15] }],
    });
  });

  it('leave a series out of an instant selector where a stale marker ends the bucket, also at a chunk start', async () => {
    const labels = { __name__: 'ended', s: '0' };
    const at = (h: number, m = 0): number => T0 + h * HOUR + m * 60_000;
    // 03:58 a sample, 04:00 (a chunk start) a marker; 05:57 a sample, 05:58 a marker; 06:30 a sample
    const samples: [number, Wire][] = [
      [at(3, 58), 7],
      [at(4), 'stale'],
      [at(5, 57), 8],
      [at(5, 58), 'stale'],
      [at(6, 30), 9],
    ];
    await store.appendBatch(batch('ended-1', labels, samples));
    await store.compact(0);
    const { q, reads } = counting(store);
    const r = await new PromqlEngine(q).evaluateRange('max(ended)', at(3), at(7), HOUR);
    expect(reads()).toBe(1);
    // 04:00 and 06:00 end with a marker; 07:00's last sample (06:30) is older than the lookback
    expect(r.result).toEqual({ type: 'matrix', series: [] });
    // (without the markers, 04:00 would pick 03:58 and 06:00 would pick 05:57)
    const plain = await new PromqlEngine(rawOnly(store)).evaluateRange('max(ended)', at(3), at(7), HOUR);
    expectSameMatrix(r, plain);
  });

  it('are built for chunks stored without them before the resolution is offered again', async () => {
    const labels = { __name__: 'backfilled', s: '0' };
    const ts = Float64Array.from({ length: 300 }, (_, i) => T0 + i * 300_000);
    await store.importHistory([{ labels, timestamps: ts, values: Float64Array.from(ts, (_, i) => (i * 7) % 50) }]);
    const expr = 'sum_over_time(backfilled[2h])';
    const expected = await new PromqlEngine(rawOnly(store)).evaluateRange(expr, T0 + 2 * HOUR, T0 + 24 * HOUR, HOUR);
    // as a store from before rollups: the rows gone, the level not complete
    await pool.query(`DELETE FROM ${SCHEMA}.rollups`);
    await pool.query(`DELETE FROM ${SCHEMA}.rollup_levels`);
    const fresh = new SampleStore(pool, { schema: SCHEMA, clock: () => NOW });
    expect(await fresh.rollupResolutionsMs()).toEqual([]);
    const before = counting(fresh);
    expectSameMatrix(
      await new PromqlEngine(before.q).evaluateRange(expr, T0 + 2 * HOUR, T0 + 24 * HOUR, HOUR),
      expected,
    );
    expect(before.reads()).toBe(0);
    const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${SCHEMA}.chunks`);
    expect(await fresh.buildRollups()).toBe(Number(rows[0]!.n));
    expect(await fresh.rollupResolutionsMs()).toEqual([HOUR]);
    const after = counting(fresh);
    expectSameMatrix(
      await new PromqlEngine(after.q).evaluateRange(expr, T0 + 2 * HOUR, T0 + 24 * HOUR, HOUR),
      expected,
    );
    expect(after.reads()).toBe(1);
  });

  it('go with retention, day by day as the chunks do', async () => {
    const labels = { __name__: 'retained', s: '0' };
    const ts = Float64Array.from({ length: 96 }, (_, i) => T0 + i * HOUR); // four days
    await store.importHistory([{ labels, timestamps: ts, values: Float64Array.from(ts, () => 1) }]);
    const later = new SampleStore(pool, { schema: SCHEMA, clock: () => T0 + 5 * 24 * HOUR + HOUR });
    await later.applyRetention({ retentionDays: 3 });
    const { rows } = await pool.query<{ first: Date }>(`SELECT min(start_time) AS first FROM ${SCHEMA}.rollups`);
    expect(rows[0]!.first.getTime()).toBe(T0 + 2 * 24 * HOUR);
  });
});
