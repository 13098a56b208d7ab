/** The ingest benchmark's results as a markdown table, and its block in docs/benchmarks.md. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';

export const fmt = (n: number, d = 0): string =>
  n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export interface MachineInfo {
  cores: number;
  cpu: string;
  memoryGiB: number;
  node: string;
  loadBefore: [number, number, number];
}

export function machineInfo(): MachineInfo {
  const [a, b, c] = os.loadavg();
  return {
    cores: os.availableParallelism(),
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown CPU',
    memoryGiB: os.totalmem() / 2 ** 30,
    node: process.version,
    loadBefore: [a!, b!, c!],
  };
}

export function describeMachine(m: MachineInfo): string {
  return `${m.cores} cores (nproc), ${m.cpu}, ${m.memoryGiB.toFixed(1)} GiB memory, Node ${m.node}; load average (1/5/15 min) before the run ${m.loadBefore.map((l) => l.toFixed(2)).join(' / ')}`;
}

export interface ParseResultRow {
  what: string;
  samples: number;
  bytes: number;
  medianMs: number;
}

export interface SystemResult {
  name: string;
  samples: number;
  pushSeconds: number;
  queryableSeconds: number;
  /** CPU-seconds of the system's own process (collector / victoria-metrics). */
  processCpu: number;
  /** CPU-seconds of PostgreSQL backends on the benchmark's database (ArcWatch only). */
  postgresCpu?: number;
  /** CPU-seconds of nats-server during the run (a shared server: others' traffic included). */
  natsCpu?: number;
  /** CPU-seconds of the benchmark process pushing the data. */
  driverCpu: number;
  checks: string;
}

const us = (cpu: number, samples: number): string => fmt((cpu / samples) * 1e6, 2);

export function parseTable(rows: readonly ParseResultRow[]): string {
  const lines = [
    '| exposition parse (`@arcwatch/exposition`, one thread, label caches kept across parses as the collector keeps them) | samples | MB | median ms | samples/s | MB/s |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.what} | ${fmt(r.samples)} | ${fmt(r.bytes / 1e6, 2)} | ${fmt(r.medianMs, 1)} | ${fmt(r.samples / (r.medianMs / 1000))} | ${fmt(r.bytes / 1e6 / (r.medianMs / 1000), 1)} |`,
    );
  }
  return lines.join('\n');
}

export function systemsTable(results: readonly SystemResult[]): string {
  const cell = (f: (r: SystemResult) => string) => results.map(f).join(' | ');
  const total = (r: SystemResult) => r.processCpu + (r.postgresCpu ?? 0) + (r.natsCpu ?? 0);
  return [
    `| end to end, push → queryable | ${results.map((r) => r.name).join(' | ')} |`,
    `| --- | ${results.map(() => '---').join(' | ')} |`,
    `| samples | ${cell((r) => fmt(r.samples))} |`,
    `| pushes acknowledged after (s) | ${cell((r) => fmt(r.pushSeconds, 2))} |`,
    `| every sample queryable after (s) | ${cell((r) => fmt(r.queryableSeconds, 2))} |`,
    `| **samples/s, first push → queryable** | ${cell((r) => `**${fmt(r.samples / r.queryableSeconds)}**`)} |`,
    `| CPU µs/sample, server process(es) | ${cell((r) => us(r.processCpu, r.samples))} |`,
    `| CPU µs/sample, PostgreSQL backends | ${cell((r) => (r.postgresCpu === undefined ? '—' : us(r.postgresCpu, r.samples)))} |`,
    `| CPU µs/sample, nats-server (shared) | ${cell((r) => (r.natsCpu === undefined ? '—' : us(r.natsCpu, r.samples)))} |`,
    `| **CPU µs/sample, all server-side** | ${cell((r) => `**${us(total(r), r.samples)}**`)} |`,
    `| server-side CPU-s / wall s (of ${os.availableParallelism()} cores) | ${cell((r) => fmt(total(r) / r.queryableSeconds, 2))} |`,
    `| CPU µs/sample, benchmark client pushing | ${cell((r) => us(r.driverCpu, r.samples))} |`,
    `| checks | ${cell((r) => r.checks)} |`,
  ].join('\n');
}

/**
 * Replaces the generated block of a section of docs/benchmarks.md (between its
 * `<!-- <key>:start -->` / `<!-- <key>:end -->` markers), leaving the prose around it and every
 * other section as they are; creates the section, after the others, when it is missing.
 */
export function writeGeneratedBlock(file: string, heading: string, key: string, generated: string): void {
  const start = `<!-- ${key}:start -->`;
  const end = `<!-- ${key}:end -->`;
  const block = `${start}\n${generated.trimEnd()}\n${end}`;
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const headingLine = new RegExp(`^## ${heading.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`, 'm');
  let out: string;
  if (text.includes(start) && text.includes(end)) {
    out = text.slice(0, text.indexOf(start)) + block + text.slice(text.indexOf(end) + end.length);
  } else if (headingLine.test(text)) {
    out = text.replace(headingLine, `## ${heading}\n\n${block}\n`);
  } else {
    out = `${text.trimEnd()}\n\n## ${heading}\n\n${block}\n`;
  }
  writeFileSync(file, out);
}

/** The generated block of the `## Ingest` section. */
export function writeIngestSection(file: string, generated: string): void {
  writeGeneratedBlock(file, 'Ingest', 'ingest-bench', generated);
}
