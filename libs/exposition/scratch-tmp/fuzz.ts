import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { parseExposition } from '@arcwatch/exposition';
const dir = '/work/shared/fixtures/openmetrics-parsers/cases';
const seeds: string[] = fs.readdirSync(dir).sort().map((c) => fs.readFileSync(path.join(dir, c, 'metrics'), 'utf8'));
const extra = fs.readFileSync('/tmp/omfuzz/extra.txt', 'utf8').split('\n=====\n');
seeds.push(...extra);
let seed = Number(process.argv[2] ?? 1);
const rnd = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff; };
const pick = <T,>(a: T[]) => a[Math.floor(rnd() * a.length)];
const alphabet = [' ', '#', '{', '}', '"', ',', '=', '\\', 'e', '.', '-', '+', 'Inf', 'NaN', '0', '1', '9', '\n', '_total', '_bucket', '_sum', '_count', '_created', 'le="+Inf"', 'a', 'quantile="0.5"', ' # {a="b"} 1', ' 1', '_gsum', '_gcount', '\t'];
const bodies: string[] = [...extra];
for (let k = 0; k < Number(process.argv[3] ?? 3000); k++) {
  let s = pick(seeds);
  const n = 1 + Math.floor(rnd() * 3);
  for (let m = 0; m < n; m++) {
    const lines = s.split('\n');
    const op = Math.floor(rnd() * 6);
    const p = Math.floor(rnd() * (s.length + 1));
    if (op === 0) s = s.slice(0, p) + s.slice(p + 1);
    else if (op === 1) s = s.slice(0, p) + pick(alphabet) + s.slice(p);
    else if (op === 2 && lines.length > 2) { const i = Math.floor(rnd() * (lines.length - 2)); [lines[i], lines[i + 1]] = [lines[i + 1], lines[i]]; s = lines.join('\n'); }
    else if (op === 3 && lines.length > 2) { const i = Math.floor(rnd() * (lines.length - 2)); lines.splice(i, 0, lines[i]); s = lines.join('\n'); }
    else if (op === 4 && lines.length > 2) { const i = Math.floor(rnd() * (lines.length - 2)); lines.splice(i, 1); s = lines.join('\n'); }
    else { const o = pick(seeds).split('\n'); const i = Math.floor(rnd() * Math.max(1, lines.length - 2)); lines.splice(i, 0, o[Math.floor(rnd() * o.length)]); s = lines.join('\n'); }
  }
  bodies.push(s);
}
fs.writeFileSync('/tmp/omfuzz/in.json', JSON.stringify(bodies));
execFileSync('/usr/bin/python3', ['/tmp/omfuzz/oracle.py', '/tmp/omfuzz/in.json', '/tmp/omfuzz/out.json']);
const py: [boolean, string][] = JSON.parse(fs.readFileSync('/tmp/omfuzz/out.json', 'utf8'));
let diff = 0; const seen = new Set<string>();
bodies.forEach((b, i) => {
  const r = parseExposition(b, { format: 'openmetrics' });
  const ok = r.errors.length === 0;
  if (ok !== py[i][0]) {
    diff++;
    const key = (py[i][1] || (r.errors[0]?.message ?? '')).slice(0, 40);
    if (seen.has(key) && i >= extra.length) return; seen.add(key);
    console.log(`--- ours=${ok} py=${py[i][0]} py: ${py[i][1]} | ours: ${JSON.stringify(r.errors.slice(0, 2))}\n${JSON.stringify(b).slice(0, 400)}`);
  }
});
console.log('total', bodies.length, 'diff', diff);
