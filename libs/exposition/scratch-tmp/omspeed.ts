import fs from 'node:fs';
import { parseExposition, writeExposition } from '@arcwatch/exposition';
const text = fs.readFileSync('/tmp/expo-bench/fleet-0000.prom', 'utf8');
const p = parseExposition(text);
const om = writeExposition(p.families, p.samples, 'openmetrics');
for (let i = 0; i < 10; i++) { const t0 = Date.now(); const r = parseExposition(om, { format: 'openmetrics' }); console.log(Date.now() - t0, r.errors.length); }
