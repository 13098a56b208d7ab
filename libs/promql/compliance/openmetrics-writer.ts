/**
 * Renders series as an OpenMetrics text file with sample timestamps, the input of
 * `promtool tsdb create-blocks-from openmetrics`. Samples are written in time order (the block
 * writer appends each series in order), without `# TYPE` lines: the backfill treats every family
 * as unknown, which changes nothing for queries.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { formatOpenMetricsTimestamp, type DemoSeries } from './demo-series';

function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function seriesText(labels: Record<string, string>): string {
  const { __name__: name, ...rest } = labels;
  const pairs = Object.keys(rest)
    .sort()
    .map((k) => `${k}="${escapeLabelValue(rest[k]!)}"`);
  return pairs.length ? `${name}{${pairs.join(',')}}` : name!;
}

/** A float in the shortest form that reads back to the same double (Go's ParseFloat rounds correctly). */
function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** Writes the file; resolves with the number of samples written. */
export async function writeOpenMetrics(file: string, series: readonly DemoSeries[]): Promise<number> {
  const heads = series.map((s) => seriesText(s.labels));
  const order: number[] = [];
  series.forEach((s, si) => {
    for (let i = 0; i < s.timestamps.length; i++) order.push(si * 2 ** 20 + i);
  });
  const tsOf = (code: number) => series[Math.floor(code / 2 ** 20)]!.timestamps[code % 2 ** 20]!;
  order.sort((a, b) => tsOf(a) - tsOf(b) || a - b);

  const out = createWriteStream(file);
  let buf = '';
  for (const code of order) {
    const si = Math.floor(code / 2 ** 20);
    const i = code % 2 ** 20;
    const s = series[si]!;
    buf += `${heads[si]} ${formatValue(s.values[i]!)} ${formatOpenMetricsTimestamp(s.timestamps[i]!)}\n`;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  out.write(`${buf}# EOF\n`);
  out.end();
  await once(out, 'finish');
  return order.length;
}
