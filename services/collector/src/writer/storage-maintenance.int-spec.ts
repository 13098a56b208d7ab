import type { MetricsBatchV1 } from '@arcwatch/contracts';
import { SampleStore, createPool, migrate, sampleStoreMigrations } from '@arcwatch/storage';
import {
  createTestDatabase,
  createTimescaleTestDatabase,
  describeTimescale,
  type TestDatabase,
} from '@arcwatch/testing';
import pino from 'pino';
import type { Pool } from 'pg';
import { systemClock } from '@arcwatch/runtime';
import { loadCollectorConfig } from '../config';
import { StorageMaintenanceService } from './storage-maintenance.service';

const SCHEMA = 'collector';
const T0 = Date.UTC(2026, 10, 20, 10, 0, 0);
let db: TestDatabase;
let pool: Pool;

beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPool(db.url, { max: 2 });
  await migrate(pool, { schema: SCHEMA, migrations: sampleStoreMigrations(SCHEMA) });
});

afterAll(async () => {
  await pool.end();
  await db.drop();
});

function scrape(i: number): MetricsBatchV1 {
  const t = T0 + i * 15_000;
  return {
    batchId: `maint-${i}`,
    source: 'scrape',
    cluster: 'c',
    node: 'n',
    target: { job: 'dcgm', instance: 'n:9400' },
    scrapedAtMs: t,
    series: [0, 1].map((gpu) => ({
      labels: { __name__: 'DCGM_FI_DEV_GPU_UTIL', gpu: String(gpu), job: 'dcgm', instance: 'n:9400' },
      samples: [[t, 10 * gpu + i]],
    })),
  };
}

describe('storage maintenance in the writer', () => {
  it('compacts head rows older than the configured age and keeps every sample readable', async () => {
    let now = T0 + 20 * 60_000;
    const store = new SampleStore(pool, { schema: SCHEMA, clock: () => now });
    await store.appendBatches(Array.from({ length: 40 }, (_, i) => scrape(i)));
    const config = loadCollectorConfig({
      COLLECTOR_COMPACT_AFTER_MS: String(5 * 60_000),
      COLLECTOR_RETENTION_DAYS: '7',
    });
    const maintenance = new StorageMaintenanceService(store, config, pino({ level: 'silent' }), systemClock);

    const headRows = async () => Number((await pool.query(`SELECT count(*) AS n FROM ${SCHEMA}.head`)).rows[0].n);
    expect(await headRows()).toBe(40);
    await maintenance.runOnce(now);
    // 40 scrapes 15 s apart end at T0 + 9m45s; the cutoff is now − 5 min = T0 + 15 min, so all fold.
    expect(await headRows()).toBe(0);

    const [gpu1] = await store.select([{ name: 'gpu', type: '=', value: '1' }], T0, T0 + 40 * 15_000);
    expect(Array.from(gpu1!.values)).toEqual(Array.from({ length: 40 }, (_, i) => 10 + i));

    // A later scrape stays in the head until it is old enough.
    now = T0 + 30 * 60_000;
    await store.appendBatch(scrape(100)); // at T0 + 25 min, younger than now − 5 min
    await maintenance.runOnce(now);
    expect(await headRows()).toBe(1);
  });

  it('leaves samples older than retention out of compaction: no partitions for their days, the rest kept', async () => {
    const now = T0 + 2 * 3_600_000;
    const store = new SampleStore(pool, { schema: SCHEMA, clock: () => now });
    const DAY = 86_400_000;
    // Days of the chunk partitions (chunks_pYYYYMMDD) more than a week before now.
    const oldPartitions = async () =>
      (
        await pool.query<{ name: string }>(
          `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = '${SCHEMA}.chunks'::regclass`,
        )
      ).rows
        .map((r) => r.name.slice(-8))
        .filter((ymd) => Date.UTC(+ymd.slice(0, 4), +ymd.slice(4, 6) - 1, +ymd.slice(6)) < now - 8 * DAY);
    // One pushed batch: a sample 400 days old, one 30 days old (retention is 7), one fresh.
    await store.appendBatch({
      ...scrape(0),
      batchId: 'maint-old',
      target: { job: 'pushed', instance: 'p:1' },
      scrapedAtMs: now - 10 * 60_000,
      series: [400, 30, 0].map((age) => ({
        labels: { __name__: 'pushed_value', age: String(age), job: 'pushed', instance: 'p:1' },
        samples: [[now - 10 * 60_000 - age * DAY, age]] as Array<[number, number]>,
      })),
    });
    // The store's compaction, with retention's bound: what is wholly older is left out.
    expect(await store.compact(5 * 60_000, { dropBeforeMs: now - 7 * DAY })).toMatchObject({ dropped: 2 });
    expect(await oldPartitions()).toEqual([]);

    // The writer's maintenance passes COLLECTOR_RETENTION_DAYS as that bound, and says what it left out.
    await store.appendBatch({
      ...scrape(0),
      batchId: 'maint-old-2',
      target: { job: 'pushed', instance: 'p:1' },
      scrapedAtMs: now - 10 * 60_000,
      series: [
        {
          labels: { __name__: 'pushed_value', age: '20', job: 'pushed', instance: 'p:1' },
          samples: [[now - 20 * DAY, 20]],
        },
      ],
    });
    const logs: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
    const config = loadCollectorConfig({
      COLLECTOR_COMPACT_AFTER_MS: String(5 * 60_000),
      COLLECTOR_RETENTION_DAYS: '7',
    });
    await new StorageMaintenanceService(store, config, logger, systemClock).runOnce(now);
    expect(logs.find((l) => l.msg === 'samples older than retention left out of compaction')).toMatchObject({
      dropped: 1,
    });
    const kept = await store.select([{ name: '__name__', type: '=', value: 'pushed_value' }], 0, now);
    expect(kept.map((x) => [x.labels.age, Array.from(x.values)])).toEqual([['0', [0]]]);
  });
});

describeTimescale('storage maintenance on TimescaleDB', () => {
  it('keeps what COLLECTOR_RETENTION_DAYS keeps, drops the rest and logs the chunks it dropped', async () => {
    const tsdb = await createTimescaleTestDatabase();
    const tsPool = createPool(tsdb.url, { max: 2 });
    try {
      await migrate(tsPool, { schema: SCHEMA, migrations: sampleStoreMigrations(SCHEMA) });
      const now = Date.UTC(2026, 10, 20, 12, 0);
      const store = new SampleStore(tsPool, { schema: SCHEMA, clock: () => now });
      // 45 days old (a fixed 30-day policy job would delete it) and 100 days old
      await store.importHistory(
        [45, 100].map((age) => ({
          labels: { __name__: 'DCGM_FI_DEV_GPU_UTIL', age: String(age) },
          timestamps: Float64Array.of(now - age * 86_400_000),
          values: Float64Array.of(age),
        })),
      );
      const { rows } = await tsPool.query<{ name: string }>(
        `SELECT chunk_schema || '.' || chunk_name AS name FROM timescaledb_information.chunks
          WHERE hypertable_schema = $1 ORDER BY range_start`,
        [SCHEMA],
      );
      expect(rows).toHaveLength(2);
      const logs: Array<Record<string, unknown>> = [];
      const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
      const config = loadCollectorConfig({ COLLECTOR_RETENTION_DAYS: '90' });
      await new StorageMaintenanceService(store, config, logger, systemClock).runOnce(now);

      const left = await store.select([{ name: '__name__', type: '=', value: 'DCGM_FI_DEV_GPU_UTIL' }], 0, now);
      expect(left.map((s) => Array.from(s.values))).toEqual([[45]]);
      const retention = logs.find((l) => l.msg === 'retention applied');
      expect(retention).toMatchObject({ droppedPartitions: [rows[0]!.name], prunedSeries: 1 });
    } finally {
      await tsPool.end();
      await tsdb.drop();
    }
  });
});
