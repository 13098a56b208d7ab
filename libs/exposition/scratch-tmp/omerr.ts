import fs from 'node:fs';
import { parseExposition, writeExposition } from '@arcwatch/exposition';
const text = fs.readFileSync('/tmp/expo-bench/fleet-0000.prom', 'utf8');
const p = parseExposition(text);
const om = writeExposition(p.families, p.samples, 'openmetrics');
const r = parseExposition(om, { format: 'openmetrics' });
console.log(r.errors);
const lines = om.split('\n'); for (const e of r.errors.slice(0, 3)) console.log(lines.slice(e.line - 3, e.line + 1));
