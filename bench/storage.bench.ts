/**
 * Storage: bytes per sample on disk for the 1,000-GPU reference fleet (../shared/bench/fleet.mjs)
 * in steady state, ArcWatch beside VictoriaMetrics and Prometheus holding the same samples, in
 * one run.
 *
 *   npm run bench:storage -- [--hours 6] [--step 15] [--nodes 125] [--compact-every 40]
 *                            [--systems arcwatch,vm,prometheus] [--no-docs]
 *
 * `--hours` of history at one scrape every `--step` seconds, ending an hour ago, generated with
 * timestamps (a backfill: the data is what a live fleet would have written, not the time it took):
 * - ArcWatch: the sample store on plain PostgreSQL (the default store) in a fresh database, fed
 *   as the writer feeds it (one packed batch per node and scrape, one append per scrape), the head
 *   compacted into chunks every `--compact-every` scrapes with a VACUUM after each (what autovacuum
 *   does when it keeps up; the shared server runs without it), then compacted and vacuumed once
 *   more. Measured per table with its indexes and TOAST: chunks (every partition), catalog
 *   (series), head, batch log (batch ids kept a day for idempotency), hourly rollups, metadata,
 *   exemplars;
 * - VictoriaMetrics 1.79: the same per-node texts with timestamps through
 *   /api/v1/import/prometheus (job and instance as extra labels, as ArcWatch gets them), then
 *   /internal/force_flush and /internal/force_merge, every sample counted through its query API,
 *   stopped, `du` of its data directory;
 * - Prometheus 2.42: fleet.mjs `om` (same seed, step and end: the same values; no job label) →
 *   `promtool tsdb create-blocks-from openmetrics` (2 h blocks, as the head would cut them) →
 *   `du` of the blocks; samples counted by `promtool tsdb list`.
 * Rewrites the block of the `## Storage` section of docs/benchmarks.md.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { toMetricsBatchV2 } from '@arcwatch/contracts';
import { SampleStore, createPool, migrate, sampleStoreMigrations } from '@arcwatch/storage';
import { REPO_ROOT, createTestDatabase } from '@arcwatch/testing';
import type { Pool } from 'pg';
import { fleetScrapeBatches, type FleetLike } from '../libs/storage/src/testing/exposition-batches';
import { runCommand } from './competitors';
import { FLEET_SCRIPT, loadFleet } from './support/fleet-pushes';
import { describeMachine, fmt, machineInfo, writeGeneratedBlock } from './support/ingest-report';
import { instantValue, pushAll, startVictoriaMetrics } from './support/ingest-systems';
import { benchArgs } from './support/args';

const args = benchArgs();
const HOURS = Number(args.get('hours') ?? 6);
const STEP_S = Number(args.get('step') ?? 15);
const NODES = Number(args.get('nodes') ?? 125);
const COMPACT_EVERY = Number(args.get('compact-every') ?? 40);
const SYSTEMS = (args.get('systems') ?? 'arcwatch,vm,prometheus').split(',');
const WRITE_DOCS = !args.has('no-docs');
const SCHEMA = 'collector';
const VM_PUSH_CONCURRENCY = 8;

const log = (msg: string): void => void process.stdout.write(`${msg}\n`);
const loadavg = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');
const MiB = (b: number) => `${fmt(b / 2 ** 20, 1)} MiB`;

interface FleetSeries {
  name: string;
  fullLabelStr: string;
  fullLabels: Record<string, string>;
}
type StorageFleet = FleetLike & { series: FleetSeries[]; nodeInfo: Array<{ host: string }> };

function duBytes(dir: string): number {
  return Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0]);
}

interface Result {
  name: string;
  samples: number;
  bytes: number;
  parts: string;
  seconds: number;
}

async function one<T>(pool: Pool, sql: string): Promise<T> {
  return (await pool.query(sql)).rows[0] as T;
}

/** ArcWatch's tables on disk, each with its indexes and TOAST. */
async function arcwatchBytes(pool: Pool): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  out.chunks = Number(
    (
      await one<{ b: string }>(
        pool,
        `SELECT sum(pg_total_relation_size(relid)) AS b FROM pg_partition_tree('${SCHEMA}.chunks')`,
      )
    ).b,
  );
  for (const t of ['series', 'series_ranges', 'head', 'batch_log', 'rollups', 'metadata', 'exemplars'])
    out[t] = Number((await one<{ b: string }>(pool, `SELECT pg_total_relation_size('${SCHEMA}.${t}') AS b`)).b);
  return out;
}

/** The chunk partitions' heap, TOAST and index bytes. */
async function chunkTableSplit(pool: Pool): Promise<{ heap: number; toast: number; index: number }> {
  const r = await one<{ heap: string; toast: string; index: string }>(
    pool,
    `SELECT sum(pg_relation_size(relid)) AS heap,
            sum(pg_total_relation_size(relid) - pg_relation_size(relid) - pg_indexes_size(relid)) AS toast,
            sum(pg_indexes_size(relid)) AS index
       FROM pg_partition_tree('${SCHEMA}.chunks')`,
  );
  return { heap: Number(r.heap), toast: Number(r.toast), index: Number(r.index) };
}

async function main(): Promise<void> {
  const machine = machineInfo();
  log(`machine: ${describeMachine(machine)}`);
  const { Fleet } = await loadFleet();
  const scrapes = Math.floor((HOURS * 3600) / STEP_S);
  const endMs = Math.floor(Date.now() / 60_000) * 60_000 - 3_600_000;
  const firstMs = endMs - (scrapes - 1) * STEP_S * 1000;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'arcwatch-storage-'));
  const results: Result[] = [];
  const notes: string[] = [];
  let expected = 0;
  try {
    // Prometheus: its own generator process from the start (same seed, step and end time).
    const prometheus = SYSTEMS.includes('prometheus')
      ? (async (): Promise<Result> => {
          const om = path.join(dir, 'fleet.om');
          const tsdb = path.join(dir, 'prom-data');
          const t0 = performance.now();
          await runCommand(path.join(REPO_ROOT, 'node_modules/.bin/node'), [
            FLEET_SCRIPT,
            'om',
            '--nodes',
            String(NODES),
            '--hours',
            String(HOURS),
            '--step',
            String(STEP_S),
            '--end-ms',
            String(endMs),
            '--out',
            om,
          ]);
          await runCommand('/usr/bin/promtool', ['tsdb', 'create-blocks-from', 'openmetrics', '-q', om, tsdb]);
          rmSync(om, { force: true });
          const listFile = path.join(dir, 'prom-list.txt');
          await runCommand('/usr/bin/promtool', ['tsdb', 'list', tsdb], { stdoutFile: listFile });
          const list = execFileSync('cat', [listFile], { encoding: 'utf8' }).trim().split('\n');
          // BLOCK ULID, MIN TIME, MAX TIME, DURATION, NUM SAMPLES, NUM CHUNKS, NUM SERIES, SIZE
          const header = list[0]!.split(/\s{2,}|\t/);
          const col = header.findIndex((h) => /NUM SAMPLES/i.test(h));
          let samples = 0;
          for (const line of list.slice(1)) samples += Number(line.trim().split(/\s{2,}|\t/)[col]);
          const bytes = duBytes(tsdb);
          return {
            name: 'Prometheus 2.42',
            samples,
            bytes,
            parts: `${list.length - 1} blocks (promtool, 2 h each), \`du -sb\` of the TSDB directory`,
            seconds: (performance.now() - t0) / 1000,
          };
        })()
      : undefined;
    prometheus?.catch(() => undefined); // awaited below; keeps an early failure from going unhandled

    const db = SYSTEMS.includes('arcwatch') ? await createTestDatabase() : undefined;
    const pool = db ? createPool(db.url, { max: 4 }) : undefined;
    if (pool) await migrate(pool, { schema: SCHEMA, migrations: sampleStoreMigrations(SCHEMA) });
    const store = pool ? new SampleStore(pool, { schema: SCHEMA }) : undefined;
    const vm = SYSTEMS.includes('vm') ? await startVictoriaMetrics(path.join(dir, 'vm-data'), dir) : undefined;
    try {
      const fleet = new Fleet({ nodes: NODES, seed: 1 }) as unknown as StorageFleet;
      const prefixes = fleet.nodeSeries.map((ids) =>
        ids.map((id) => `${fleet.series[id]!.name}${fleet.series[id]!.fullLabelStr} `),
      );
      let arcwatchMs = 0;
      let vmMs = 0;
      const t0 = performance.now();
      log(`${scrapes} scrapes of ${fleet.series.length} series (${NODES} nodes), ${STEP_S} s apart …`);
      for (let k = 0; k < scrapes; k++) {
        fleet.step(STEP_S);
        const ts = firstMs + k * STEP_S * 1000;
        expected += fleet.series.length;
        if (store) {
          const t = performance.now();
          await store.appendPacked(fleetScrapeBatches(fleet, ts).map(toMetricsBatchV2));
          if ((k + 1) % COMPACT_EVERY === 0 || k === scrapes - 1) {
            await store.compact(0);
            await pool!.query(
              `VACUUM ${SCHEMA}.chunks, ${SCHEMA}.head, ${SCHEMA}.batch_log, ${SCHEMA}.series, ${SCHEMA}.series_ranges, ${SCHEMA}.rollups`,
            );
          }
          arcwatchMs += performance.now() - t;
        }
        if (vm) {
          const t = performance.now();
          const bodies = fleet.nodeSeries.map((ids, n) => ({
            host: fleet.nodeInfo[n]!.host,
            body: ids.map((id, j) => `${prefixes[n]![j]}${fleet.values[id]} ${ts}\n`).join(''),
          }));
          await pushAll(vm.baseUrl, bodies, VM_PUSH_CONCURRENCY);
          vmMs += performance.now() - t;
        }
        if ((k + 1) % 240 === 0)
          log(`  ${k + 1} scrapes (${fmt((performance.now() - t0) / 1000, 0)} s, load ${loadavg()})`);
      }

      if (store && pool) {
        const t = performance.now();
        await store.compact(0);
        await pool.query(
          `VACUUM ANALYZE ${SCHEMA}.chunks, ${SCHEMA}.head, ${SCHEMA}.batch_log, ${SCHEMA}.series, ${SCHEMA}.series_ranges, ${SCHEMA}.rollups`,
        );
        arcwatchMs += performance.now() - t;
        const stats = await store.stats();
        const b = await arcwatchBytes(pool);
        const encoded = Number(
          (await one<{ b: string }>(pool, `SELECT sum(octet_length(data)) AS b FROM ${SCHEMA}.chunks`)).b,
        );
        const chunkRows = Number((await one<{ n: string }>(pool, `SELECT count(*) AS n FROM ${SCHEMA}.chunks`)).n);
        const total = Object.values(b).reduce((x, y) => x + y, 0);
        const split = await chunkTableSplit(pool);
        results.push({
          name: 'ArcWatch (PostgreSQL 15, native partitions)',
          samples: stats.samples,
          bytes: total,
          parts: `chunks ${MiB(b.chunks!)} (${fmt(chunkRows)} rows; heap ${MiB(split.heap)}, TOAST ${MiB(split.toast)}, primary key ${MiB(split.index)}; encoded payload ${fmt(encoded / stats.samples, 2)} B/sample), catalog ${MiB(b.series! + b.series_ranges!)} (${fmt(stats.series)} series; ranges ${MiB(b.series_ranges!)}), batch log ${MiB(b.batch_log!)}, hourly rollups ${MiB(b.rollups!)}, head ${MiB(b.head!)}, metadata ${MiB(b.metadata!)}, exemplars ${MiB(b.exemplars!)}`,
          seconds: arcwatchMs / 1000,
        });
        results.push({
          name: 'ArcWatch without the batch log',
          samples: stats.samples,
          bytes: total - b.batch_log!,
          parts: 'the batch ids are kept a day (idempotency), so over a longer retention their share shrinks',
          seconds: NaN,
        });
        // What the chunk table holds beyond its rows: space left by the versions compaction
        // rewrote, which VACUUM frees for reuse but does not give back. Rewritten (VACUUM FULL,
        // an exclusive lock per partition), the table holds only live rows.
        const tFull = performance.now();
        await pool.query(`VACUUM FULL ${SCHEMA}.chunks, ${SCHEMA}.series, ${SCHEMA}.series_ranges, ${SCHEMA}.rollups`);
        const full = await arcwatchBytes(pool);
        const fullTotal = Object.values(full).reduce((x, y) => x + y, 0) - full.batch_log!;
        results.push({
          name: 'ArcWatch without the batch log, chunks, rollups and catalog rewritten (VACUUM FULL)',
          samples: stats.samples,
          bytes: fullTotal,
          parts: `chunks ${MiB(full.chunks!)}, rollups ${MiB(full.rollups!)}, catalog ${MiB(full.series! + full.series_ranges!)}: not what the service does today`,
          seconds: (performance.now() - tFull) / 1000,
        });
      }

      if (vm) {
        const t = performance.now();
        await fetch(`${vm.baseUrl}/internal/force_flush`);
        const counted = await instantValue(
          vm.baseUrl,
          `sum(count_over_time({__name__=~".+"}[${HOURS * 3600 + STEP_S}s]))`,
          endMs / 1000,
        );
        await fetch(`${vm.baseUrl}/internal/force_merge`);
        // force_merge answers when the merge is scheduled: wait for the data directory to settle
        let last = -1;
        for (let i = 0; i < 120; i++) {
          await new Promise((r) => setTimeout(r, 2000));
          const now = duBytes(path.join(dir, 'vm-data'));
          if (now === last) break;
          last = now;
        }
        await vm.stop();
        vmMs += performance.now() - t;
        const bytes = duBytes(path.join(dir, 'vm-data'));
        results.push({
          name: 'VictoriaMetrics 1.79',
          samples: counted,
          bytes,
          parts: '`du -sb` of the data directory after force_flush, force_merge and a clean stop',
          seconds: vmMs / 1000,
        });
      }
    } finally {
      await pool?.end();
      await db?.drop();
      await vm?.stop();
    }
    if (prometheus) {
      log('waiting for promtool …');
      results.push(await prometheus);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  for (const r of results)
    if (r.samples !== expected && !Number.isNaN(r.samples))
      notes.push(`${r.name} holds ${fmt(r.samples)} samples of the ${fmt(expected)} sent.`);
  const table = [
    '| system | samples | on disk | **bytes per sample** | what | load time |',
    '| --- | ---: | ---: | ---: | --- | ---: |',
    ...results.map(
      (r) =>
        `| ${r.name} | ${fmt(r.samples)} | ${MiB(r.bytes)} | **${fmt(r.bytes / r.samples, 2)}** | ${r.parts} | ${Number.isNaN(r.seconds) ? '—' : `${fmt(r.seconds, 0)} s`} |`,
    ),
  ].join('\n');
  const lines = [
    `Run ${new Date().toISOString().slice(0, 16)}Z, \`npm run bench:storage${HOURS !== 6 ? ` -- --hours ${HOURS}` : ''}${STEP_S !== 15 ? ` --step ${STEP_S}` : ''}${NODES !== 125 ? ` --nodes ${NODES}` : ''}${COMPACT_EVERY !== 40 ? ` --compact-every ${COMPACT_EVERY}` : ''}\`.`,
    '',
    `Machine: ${describeMachine(machine)}; at the end ${loadavg()}.`,
    '',
    `Data: ${NODES} nodes × 8 GPUs (${fmt(expected / scrapes)} series), ${HOURS} h at one scrape every ${STEP_S} s (${fmt(scrapes)} scrapes, ${fmt(expected)} samples), timestamps from ${new Date(firstMs).toISOString().slice(0, 16)}Z, loaded as a backfill; ArcWatch compacted and vacuumed every ${COMPACT_EVERY} scrapes.`,
    '',
    table,
    ...(notes.length ? ['', ...notes] : []),
  ];
  log(`\n${lines.join('\n')}\n`);
  if (WRITE_DOCS) {
    writeGeneratedBlock(path.join(REPO_ROOT, 'docs/benchmarks.md'), 'Storage', 'storage-bench', lines.join('\n'));
    log('docs/benchmarks.md: ## Storage updated');
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
