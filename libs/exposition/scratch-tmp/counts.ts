import fs from 'node:fs';
import { parseExposition, sampleLabels } from '@arcwatch/exposition';
for (const f of process.argv.slice(2)) {
  const fmt = f.includes('.om.') ? 'openmetrics' : 'prometheus';
  const r = parseExposition(fs.readFileSync(f, 'utf8'), { format: fmt });
  const series = new Set(r.samples.map((s) => JSON.stringify(Object.entries(sampleLabels(s)).sort())));
  const types: Record<string, number> = {};
  for (const fam of r.families) types[fam.type] = (types[fam.type] ?? 0) + 1;
  console.log(f.split('/').slice(-1)[0], fmt, 'families', r.families.length, 'samples', r.samples.length, 'series', series.size, 'dropped', r.dropped, 'errors', JSON.stringify(r.errors), JSON.stringify(types), 'empty families', r.families.filter((_, i) => !r.samples.some((s) => s.family === i)).map((f) => f.name).join(','));
}
