/** Machine description, result comparison and the markdown section of the query benchmark. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export const fmt = (n: number, d = 0): string =>
  n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

export function machine(): string {
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  const mem = (os.totalmem() / 2 ** 30).toFixed(1);
  const load = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');
  return `${os.availableParallelism()} cores (nproc), ${cpu}, ${mem} GiB memory, Node ${process.version}, load average (1/5/15 min) at the start of the timed queries: ${load}`;
}

interface PromMatrix {
  data: { result: { metric: Record<string, string>; values: [number, string][] }[] };
}

function keyOf(metric: Record<string, string>): string {
  return Object.keys(metric)
    .sort()
    .map((k) => `${k}=${metric[k]}`)
    .join(',');
}

/**
 * Largest relative difference between two matrix responses at the points both have, and the
 * series/point counts of each: a check that the systems computed the same thing.
 */
export function compareMatrices(
  ours: string,
  theirs: string,
): { series: [number, number]; points: [number, number]; maxRelDiff: number } {
  const a = JSON.parse(ours) as PromMatrix;
  const b = JSON.parse(theirs) as PromMatrix;
  const bByKey = new Map(
    b.data.result.map((s) => [keyOf(s.metric), new Map(s.values.map(([t, v]) => [t, Number(v)]))]),
  );
  let maxRelDiff = 0;
  let pa = 0;
  let pb = 0;
  for (const s of b.data.result) pb += s.values.length;
  for (const s of a.data.result) {
    pa += s.values.length;
    const other = bByKey.get(keyOf(s.metric));
    if (!other) continue;
    for (const [t, v] of s.values) {
      const w = other.get(t);
      const x = Number(v);
      if (w === undefined || (Number.isNaN(w) && Number.isNaN(x))) continue;
      const d = Math.abs(x - w) / Math.max(Math.abs(x), Math.abs(w), 1e-300);
      if (d > maxRelDiff || Number.isNaN(d)) maxRelDiff = Number.isNaN(d) ? Infinity : d;
    }
  }
  return { series: [a.data.result.length, b.data.result.length], points: [pa, pb], maxRelDiff };
}

const START = '<!-- query-bench:start -->';
const END = '<!-- query-bench:end -->';

/**
 * Replaces the generated block inside the `## Query` section of docs/benchmarks.md, leaving the
 * hand-written prose and other sections alone; creates the section when it is missing.
 */
export function writeQuerySection(file: string, generated: string): void {
  const block = `${START}\n${generated.trimEnd()}\n${END}`;
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  let out: string;
  if (text.includes(START) && text.includes(END)) {
    out = text.slice(0, text.indexOf(START)) + block + text.slice(text.indexOf(END) + END.length);
  } else if (/^## Query\s*$/m.test(text)) {
    out = text.replace(/^## Query\s*$/m, `## Query\n\n${block}\n`);
  } else {
    out = `${text.trimEnd()}\n\n## Query\n\n${block}\n`;
  }
  writeFileSync(file, out);
}
