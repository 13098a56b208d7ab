// temporary experiment (removed before hand-off)
import { createPool } from '@arcwatch/storage';
import * as fs from 'node:fs';
const { url, endMs } = JSON.parse(fs.readFileSync('/tmp/scratch-db-6.json', 'utf8'));
const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
async function main() {
  const pool = createPool(url, { max: 4 });
  const { rows: idr } = await pool.query<{ id: number }>(`SELECT id FROM bench.series WHERE metric = 'vllm:time_to_first_token_seconds_bucket' ORDER BY id`);
  const ids = idr.map((r) => r.id);
  const startMs = endMs - 6 * 3_600_000 - 300_000;
  const where = `WHERE series_id = ANY($1::int4[]) AND start_time > to_timestamp($2::int8 / 1000.0) AND start_time <= to_timestamp($3::int8 / 1000.0) AND end_time >= to_timestamp($4::int8 / 1000.0) ORDER BY series_id, start_time`;
  const variants: Record<string, (part: number[]) => Promise<number>> = {
    hex: async (p) => { const r = await pool.query({ text: `SELECT series_id, count, data FROM bench.chunks ${where}`, values: [p, startMs - 7_200_000, endMs, startMs], rowMode: 'array' }); let n = 0; for (const row of r.rows) n += (row[2] as Buffer).length; return n; },
    b64: async (p) => { const r = await pool.query({ text: `SELECT series_id, count, encode(data, 'base64') FROM bench.chunks ${where}`, values: [p, startMs - 7_200_000, endMs, startMs], rowMode: 'array' }); let n = 0; for (const row of r.rows) n += Buffer.from(row[2] as string, 'base64').length; return n; },
    b64nl: async (p) => { const r = await pool.query({ text: `SELECT series_id, count, translate(encode(data, 'base64'), E'\\n', '') FROM bench.chunks ${where}`, values: [p, startMs - 7_200_000, endMs, startMs], rowMode: 'array' }); let n = 0; for (const row of r.rows) n += Buffer.from(row[2] as string, 'base64').length; return n; },
    meta: async (p) => { const r = await pool.query({ text: `SELECT series_id, count, xmin::text::int8 FROM bench.chunks ${where}`, values: [p, startMs - 7_200_000, endMs, startMs], rowMode: 'array' }); return r.rows.length; },
  };
  for (const [name, fn] of Object.entries(variants)) {
    for (const par of [1, 2]) {
      const times: number[] = []; let bytes = 0;
      for (let i = 0; i < 7; i++) {
        const t = performance.now();
        const half = Math.ceil(ids.length / par);
        const parts = []; for (let k = 0; k < ids.length; k += half) parts.push(ids.slice(k, k + half));
        bytes = (await Promise.all(parts.map(fn))).reduce((a, b) => a + b, 0);
        times.push(performance.now() - t);
      }
      console.log(name, 'x' + par, med(times).toFixed(0), 'ms', bytes);
    }
  }
  await pool.end();
}
main().catch((e) => { console.error(e); process.exit(1); });
