// temporary measurement (removed before hand-off): quantile_over_time with the previous sort-per-window vs selection
import { PromqlEngine } from '@arcwatch/promql';
import { RANGE_FUNCTIONS } from '../libs/promql/src/range-functions';
import { SampleStore, createPool } from '@arcwatch/storage';
import * as fs from 'node:fs';
function sortedQuantile(q: number, values: number[]): number {
  if (values.length === 0 || Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const sorted = [...values].sort((a, b) => (Number.isNaN(a) ? (Number.isNaN(b) ? 0 : -1) : Number.isNaN(b) ? 1 : a - b));
  const n = sorted.length; const rank = q * (n - 1); const lower = Math.max(0, Math.floor(rank)); const upper = Math.min(n - 1, lower + 1); const weight = rank - Math.floor(rank);
  return sorted[lower]! * (1 - weight) + sorted[upper]! * weight;
}
const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
async function main() {
  const { url, endMs } = JSON.parse(fs.readFileSync('/tmp/scratch-db-6.json', 'utf8'));
  const pool = createPool(url, { max: 4 });
  const engine = new PromqlEngine(new SampleStore(pool, { schema: 'bench' }));
  const hours = Number(process.env.QH ?? 6);
  const expr = 'quantile_over_time(0.9, DCGM_FI_DEV_GPU_UTIL[5m])';
  const selection = RANGE_FUNCTIONS.quantile_over_time!.compute;
  const sorting = (w: { params: number[]; vs: ArrayLike<number> }) => sortedQuantile(w.params[0]!, Array.from(w.vs));
  const bodies: string[] = [];
  const times: Record<string, number[]> = { sort: [], select: [] };
  for (let i = 0; i < 4; i++) {
    for (const [k, f] of [['sort', sorting], ['select', selection]] as const) {
      RANGE_FUNCTIONS.quantile_over_time!.compute = f;
      const t = performance.now();
      bodies.push(JSON.stringify(await engine.rangeQuery(expr, endMs - hours * 3_600_000, endMs, 15_000)));
      if (i > 0) times[k]!.push(performance.now() - t);
    }
  }
  console.log(expr, `${hours} h`, Object.entries(times).map(([k, v]) => `${k} ${med(v).toFixed(0)} ms [${v.map((x) => x.toFixed(0)).join(', ')}]`).join(' | '), 'same answers', bodies.every((b) => b === bodies[0]));
  await pool.end();
}
main().catch((e) => { console.error(e); process.exit(1); });
