// temporary experiment harness (removed before hand-off)
import { PromqlEngine, formatResult } from '@arcwatch/promql';
import { SampleStore, createPool, migrate, sampleStoreMigrations, type HistorySeries } from '@arcwatch/storage';
import { createTestDatabase } from '@arcwatch/testing';
import type { LabelMatcher, Queryable, SeriesData } from '@arcwatch/contracts';
import { generateHistory } from './fleet-history';
import * as fs from 'node:fs';

const HOURS = Number(process.env.HOURS ?? 6);
const stateFile = `/tmp/scratch-db-${HOURS}.json`;
const QUERIES = [
  { id: 'q1', expr: 'avg by (Hostname)(DCGM_FI_DEV_GPU_UTIL)', metric: 'DCGM_FI_DEV_GPU_UTIL' },
  { id: 'q2', expr: 'histogram_quantile(0.99, sum by (le, model_name)(rate(vllm:time_to_first_token_seconds_bucket[5m])))', metric: 'vllm:time_to_first_token_seconds_bucket' },
];
const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
async function main() {
  let url: string; let endMs: number;
  if (fs.existsSync(stateFile)) ({ url, endMs } = JSON.parse(fs.readFileSync(stateFile, 'utf8')));
  else {
    const db = await createTestDatabase(); url = db.url;
    endMs = Math.floor(Date.now() / 60_000) * 60_000 - 10 * 60_000;
    const pool = createPool(url, { max: 4 });
    await migrate(pool, { schema: 'bench', migrations: sampleStoreMigrations('bench') });
    const store = new SampleStore(pool, { schema: 'bench' });
    const h = await generateHistory({ nodes: 125, hours: HOURS, stepSec: 15, endMs });
    for (let from = 0; from < h.labels.length; from += 2500) {
      const g: HistorySeries[] = [];
      for (let i = from; i < Math.min(h.labels.length, from + 2500); i++) g.push({ labels: h.labels[i]!, timestamps: h.timestamps, values: h.matrix.subarray(i * h.steps, (i + 1) * h.steps) });
      await store.importHistory(g);
    }
    await pool.end();
    fs.writeFileSync(stateFile, JSON.stringify({ url, endMs }));
  }
  const pool = createPool(url, { max: 4 });
  const store = new SampleStore(pool, { schema: 'bench', chunkCacheBytes: process.env.CACHE === '0' ? 0 : undefined });
  const startMs = endMs - HOURS * 3_600_000;
  let selMs = 0;
  const timed: Queryable = Object.assign(Object.create(store) as SampleStore, {
    async select(m: LabelMatcher[], a: number, b: number): Promise<SeriesData[]> { const t = performance.now(); const r = await store.select(m, a, b); selMs += performance.now() - t; return r; },
  });
  const engine = new PromqlEngine(timed);
  const only = process.env.Q;
  for (const q of QUERIES) {
    if (only && only !== q.id) continue;
    const parts: Record<string, number[]> = { select: [], evaluate: [], format: [], stringify: [], total: [], selectAlone: [] };
    let body = '';
    for (let i = 0; i < 6; i++) {
      selMs = 0;
      const t0 = performance.now();
      const raw = await engine.evaluateRange(q.expr, startMs, endMs, 15_000);
      const t1 = performance.now();
      const data = formatResult(raw);
      const t2 = performance.now();
      body = JSON.stringify({ status: 'success', data });
      const t3 = performance.now();
      const s0 = performance.now();
      await store.select([{ name: '__name__', type: '=', value: q.metric }], startMs - 300_000, endMs);
      const s1 = performance.now();
      if (i === 0) continue;
      parts.select!.push(selMs); parts.evaluate!.push(t1 - t0 - selMs); parts.format!.push(t2 - t1); parts.stringify!.push(t3 - t2); parts.total!.push(t3 - t0); parts.selectAlone!.push(s1 - s0);
    }
    console.log(q.id, Object.entries(parts).map(([k, v]) => `${k} ${med(v).toFixed(0)}`).join(' | '), 'bytes', body.length, 'hash', hash(body));
  }
  await pool.end();
}
function hash(s: string): string { let h = 0; for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0; return (h >>> 0).toString(16); }
main().catch((e) => { console.error(e); process.exit(1); });
