import fs from 'node:fs';
import { parseExposition, LabelCache } from '@arcwatch/exposition';
const text = fs.readFileSync(process.argv[2] ?? '/tmp/expo-bench/fleet-0000.prom', 'utf8');
let r = parseExposition(text);
console.log(r.samples.length, r.families.length, r.errors.length, r.dropped);
const shared = new LabelCache();
for (const mode of ['fresh', 'shared']) for (let k = 0; k < 4; k++) {
  const c0 = process.cpuUsage();
  const N = 20;
  for (let i = 0; i < N; i++) r = parseExposition(text, mode === 'shared' ? { labelCache: shared } : {});
  const cu = process.cpuUsage(c0);
  const dt = (cu.user + cu.system) / 1e6 / N;
  console.log(`${mode} cpu: ${(r.samples.length / dt / 1e6).toFixed(2)} M samples/s, ${(text.length / dt / 1e6).toFixed(0)} MB/s, ${(dt*1000).toFixed(1)} ms`);
}
