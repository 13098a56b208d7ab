/**
 * Parser throughput: samples/s and MB/s on the reference fleet scrape (1,000 GPUs: 27,500
 * samples, 4.7 MB, from shared/bench/fleet.mjs) and on the real fixtures. Prints a markdown
 * table. Run: node_modules/.bin/node tools/register.js libs/exposition/bench/parse.bench.ts
 * [--nodes 125] [--runs 30]
 *
 * "fresh" parses with an empty label cache (the first scrape of a target); "steady" shares one
 * LabelCache across runs, as a collector does for the scrapes of one target. Times are the
 * median of the runs; a plain character-scan speed of the same machine is printed beside them
 * because these machines are shared and their speed varies with load.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BENCH_DIR, FIXTURES_DIR } from '@arcwatch/testing';
import { LabelCache, parseExposition, writeExposition, type ExpositionFormat } from '@arcwatch/exposition';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}

const nodes = arg('--nodes', 125);
const runs = arg('--runs', 30);

function fleetScrape(): string {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'aw-fleet-'));
  try {
    execFileSync(process.execPath, [path.join(BENCH_DIR, 'fleet.mjs'), 'prom', '--nodes', String(nodes), '--out', out]);
    return fs.readFileSync(path.join(out, 'fleet-0000.prom'), 'utf8');
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

interface Row {
  input: string;
  format: ExpositionFormat;
  mode: 'fresh' | 'steady';
  samples: number;
  bytes: number;
  ms: number;
}

function measure(input: string, text: string, format: ExpositionFormat, mode: Row['mode']): Row {
  const cache = new LabelCache();
  const parse = () => parseExposition(text, { format, labelCache: mode === 'steady' ? cache : new LabelCache() });
  const first = parse();
  if (first.errors.length > 0 && format === 'prometheus') throw new Error(`${input}: ${first.errors[0].message}`);
  for (let i = 0; i < 5; i++) parse(); // warm-up: let the JIT settle
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    parse();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return { input, format, mode, samples: first.samples.length, bytes: Buffer.byteLength(text), ms: median(times) };
}

/** MB/s of a loop that only reads every character: the machine's speed right now. */
function charScanMBps(text: string): number {
  let n = 0;
  const times: number[] = [];
  for (let r = 0; r < 10; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) n++;
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return n >= 0 ? text.length / 1e6 / (median(times) / 1000) : 0;
}

const fleet = fleetScrape();
const fleetParsed = parseExposition(fleet);
const fleetOm = writeExposition(fleetParsed.families, fleetParsed.samples, 'openmetrics');

const rows: Row[] = [
  measure(`fleet ${nodes} nodes`, fleet, 'prometheus', 'fresh'),
  measure(`fleet ${nodes} nodes`, fleet, 'prometheus', 'steady'),
  measure(`fleet ${nodes} nodes (as OpenMetrics)`, fleetOm, 'openmetrics', 'fresh'),
  // the collector's scrapes ask for OpenMetrics first, as Prometheus does
  measure(`fleet ${nodes} nodes (as OpenMetrics)`, fleetOm, 'openmetrics', 'steady'),
];
const fixtures: [string, ExpositionFormat][] = [
  ['prometheus-exposition/prometheus-alltypes.237mfs.prom.txt', 'prometheus'],
  ['node-exporter/node-exporter-1.5.0-debian12.metrics.txt', 'prometheus'],
  ['vllm/vllm-v1-qwen2.5-0.5b.k8s-ai-conformance-kops.metrics.txt', 'prometheus'],
  ['dcgm-exporter/dcgm-exporter-L4-driver580.k8s-ai-conformance-kops.metrics.txt', 'prometheus'],
  ['prometheus-exposition/prometheus-1histogram.om.txt', 'openmetrics'],
];
for (const [file, format] of fixtures) {
  rows.push(measure(path.basename(file), fs.readFileSync(path.join(FIXTURES_DIR, file), 'utf8'), format, 'fresh'));
}

const fmt = (n: number, d = 2) => n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
console.log(
  `Node ${process.version}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), load ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}; median of ${runs} runs; plain char scan ${fmt(charScanMBps(fleet), 0)} MB/s\n`,
);
console.log('| input | format | label cache | samples | size | ms / parse | M samples/s | MB/s |');
console.log('| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) {
  console.log(
    `| ${r.input} | ${r.format} | ${r.mode} | ${r.samples.toLocaleString('en-US')} | ${fmt(r.bytes / 1e6)} MB | ${fmt(r.ms)} | ${fmt(r.samples / r.ms / 1e3)} | ${fmt(r.bytes / 1e6 / (r.ms / 1000), 0)} |`,
  );
}
