import fs from 'node:fs';
import { parseExposition } from '@arcwatch/exposition';
const text = fs.readFileSync('/tmp/expo-bench/fleet-0000.prom', 'utf8');
let r = parseExposition(text);
console.log(r.samples.length, r.families.length, r.errors.length, r.dropped);
for (let k = 0; k < 5; k++) {
  const t0 = process.hrtime.bigint();
  const N = 20;
  for (let i = 0; i < N; i++) r = parseExposition(text);
  const dt = Number(process.hrtime.bigint() - t0) / 1e9 / N;
  console.log(`${(r.samples.length / dt / 1e6).toFixed(2)} M samples/s, ${(text.length / dt / 1e6).toFixed(0)} MB/s, ${(dt*1000).toFixed(1)} ms`);
}
