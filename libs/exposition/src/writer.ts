import type { Labels } from '@arcwatch/contracts';
import { escapeHelp, escapeLabelValue } from './labels';
import { formatSeconds, formatValue } from './numbers';
import type { ExpositionFormat, MetricFamily, MetricType, Sample } from './types';

/** Types text 0.0.4 cannot express are written as `untyped` there. */
const PROMETHEUS_TYPE: Record<MetricType, MetricType> = {
  counter: 'counter',
  gauge: 'gauge',
  histogram: 'histogram',
  summary: 'summary',
  untyped: 'untyped',
  unknown: 'untyped',
  gaugehistogram: 'untyped',
  stateset: 'untyped',
  info: 'untyped',
};

/** Series names a family owns besides its own name, used when a sample has no family index. */
const OWNED_SUFFIXES = ['_total', '_created', '_count', '_sum', '_bucket', '_gcount', '_gsum', '_info'];

/**
 * Writes families and their samples. Each family is written as HELP (when set), TYPE, UNIT
 * (OpenMetrics only: text 0.0.4 has no UNIT) and then its samples, in the order given; samples
 * go under `families[sample.family]`, or under the family whose name they extend when that index
 * is missing. Text 0.0.4 timestamps are integer ms and it has no exemplars; OpenMetrics gets
 * seconds and its closing `# EOF`.
 */
export function writeExposition(families: readonly MetricFamily[], samples: readonly Sample[], format: ExpositionFormat): string {
  const om = format === 'openmetrics';
  const byFamily: Sample[][] = families.map(() => []);
  const byName = new Map<string, number>();
  families.forEach((f, i) => {
    for (const suffix of ['', ...OWNED_SUFFIXES]) if (!byName.has(f.name + suffix)) byName.set(f.name + suffix, i);
  });
  const orphans: Sample[] = [];
  for (const s of samples) {
    const index = s.family >= 0 && s.family < families.length ? s.family : byName.get(s.name);
    if (index === undefined) orphans.push(s);
    else byFamily[index].push(s);
  }

  const out: string[] = [];
  families.forEach((family, i) => {
    if (family.help !== undefined) out.push(`# HELP ${family.name} ${escapeHelp(family.help, om)}`);
    out.push(`# TYPE ${family.name} ${om ? (family.type === 'untyped' ? 'unknown' : family.type) : PROMETHEUS_TYPE[family.type]}`);
    if (om && family.unit !== undefined) out.push(`# UNIT ${family.name} ${family.unit}`);
    for (const s of byFamily[i]) out.push(sampleLine(s, om));
  });
  for (const s of orphans) out.push(sampleLine(s, om));
  if (om) out.push('# EOF');
  return out.join('\n') + '\n';
}

function sampleLine(s: Sample, om: boolean): string {
  let line = s.name + labelText(s.labels) + ' ' + formatValue(s.value);
  if (s.timestampMs !== undefined) line += ' ' + (om ? formatSeconds(s.timestampMs) : String(Math.round(s.timestampMs)));
  if (om && s.exemplar) {
    line += ' # ' + (labelText(s.exemplar.labels) || '{}') + ' ' + formatValue(s.exemplar.value);
    if (s.exemplar.timestampMs !== undefined) line += ' ' + formatSeconds(s.exemplar.timestampMs);
  }
  return line;
}

function labelText(labels: Labels): string {
  let text = '';
  for (const name in labels) text += (text === '' ? '{' : ',') + name + '="' + escapeLabelValue(labels[name]) + '"';
  return text === '' ? '' : text + '}';
}
