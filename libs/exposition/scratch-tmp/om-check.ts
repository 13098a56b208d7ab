import fs from 'node:fs';
import path from 'node:path';
import { parseExposition } from '@arcwatch/exposition';
const dir = '/work/shared/fixtures/openmetrics-parsers/cases';
let bad = 0;
for (const c of fs.readdirSync(dir).sort()) {
  const t = JSON.parse(fs.readFileSync(path.join(dir, c, 'test.json'), 'utf8'));
  const body = fs.readFileSync(path.join(dir, c, t.file));
  const r = parseExposition(new Uint8Array(body), { format: 'openmetrics' });
  const ok = r.errors.length === 0;
  if (ok !== t.shouldParse) { bad++; console.log('MISMATCH', c, 'expected', t.shouldParse, JSON.stringify(r.errors.slice(0,3))); }
  else if (process.argv[2]) console.log(c, JSON.stringify(r.errors.slice(0,2)));
}
console.log('mismatches', bad);
