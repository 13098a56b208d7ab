/**
 * The ingest workload from the reference fleet (../shared/bench/fleet.mjs): K consecutive scrapes
 * of every node, each as the text the node's exporters expose, stamped with that scrape's time,
 * ready to be pushed as one request per node and scrape.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { BENCH_DIR } from '@arcwatch/testing';

export interface FleetInstance {
  nodes: number;
  series: Array<{ node: number }>;
  nodeInfo: Array<{ host: string }>;
  step(dtSec?: number): void;
  exposition(o?: { timestampMs?: number }): string;
  nodeExposition(n: number, o?: { timestampMs?: number }): string;
}

export interface FleetModule {
  Fleet: new (o: { nodes: number; gpusPerNode?: number; seed?: number }) => FleetInstance;
}

export const FLEET_SCRIPT = path.join(BENCH_DIR, 'fleet.mjs');
export const STEP_MS = 15_000;

export async function loadFleet(): Promise<FleetModule> {
  // fleet.mjs is ESM and swc compiles import() to require(): keep the import out of its sight.
  const dynamicImport = new Function('u', 'return import(u)') as (u: string) => Promise<FleetModule>;
  return dynamicImport(pathToFileURL(FLEET_SCRIPT).href);
}

export interface NodePush {
  scrape: number;
  host: string;
  timestampMs: number;
  body: string;
  samples: number;
}

export interface IngestWorkload {
  nodes: number;
  scrapes: number;
  /** Samples in one scrape of the whole fleet (27,500 at 125 nodes). */
  samplesPerScrape: number;
  /** Scrape k is stamped firstTimestampMs + k × 15 s. */
  firstTimestampMs: number;
  lastTimestampMs: number;
  /** In push order: scrape by scrape, node by node. */
  pushes: NodePush[];
  bytes: number;
  /** One scrape of the whole fleet with the instance label, as an ingester holds it after scraping. */
  fleetText: string;
}

export async function buildWorkload(opts: {
  nodes: number;
  scrapes: number;
  lastTimestampMs: number;
}): Promise<IngestWorkload> {
  const { Fleet } = await loadFleet();
  const fleet = new Fleet({ nodes: opts.nodes, seed: 1 });
  const perNode = new Array<number>(opts.nodes).fill(0);
  for (const s of fleet.series) perNode[s.node]!++;
  const firstTimestampMs = opts.lastTimestampMs - (opts.scrapes - 1) * STEP_MS;
  const pushes: NodePush[] = [];
  let bytes = 0;
  for (let k = 0; k < opts.scrapes; k++) {
    fleet.step(STEP_MS / 1000);
    const timestampMs = firstTimestampMs + k * STEP_MS;
    for (let n = 0; n < opts.nodes; n++) {
      const body = fleet.nodeExposition(n, { timestampMs });
      bytes += Buffer.byteLength(body);
      pushes.push({ scrape: k, host: fleet.nodeInfo[n]!.host, timestampMs, body, samples: perNode[n]! });
    }
  }
  return {
    nodes: opts.nodes,
    scrapes: opts.scrapes,
    samplesPerScrape: fleet.series.length,
    firstTimestampMs,
    lastTimestampMs: opts.lastTimestampMs,
    pushes,
    bytes,
    fleetText: fleet.exposition(),
  };
}

/** The import URL for one node's push: job and instance as a scrape of that node would set them. */
export function importPath(host: string): string {
  return `/api/v1/import/prometheus?extra_label=job=fleet&extra_label=instance=${encodeURIComponent(host)}`;
}
