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
export function writeExposition(
  families: readonly MetricFamily[],
  samples: readonly Sample[],
  format: ExpositionFormat,
): string {
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
    const { name, type } = om
      ? openMetricsHeader(family, byFamily[i])
      : { name: family.name, type: PROMETHEUS_TYPE[family.type] };
    if (family.help !== undefined) out.push(`# HELP ${name} ${escapeHelp(family.help, om)}`);
    out.push(`# TYPE ${name} ${type}`);
    if (om && family.unit !== undefined) out.push(`# UNIT ${name} ${family.unit}`);
    for (const s of byFamily[i]) out.push(sampleLine(s, om));
  });
  for (const s of orphans) out.push(sampleLine(s, om));
  if (om) out.push('# EOF');
  return out.join('\n') + '\n';
}

/**
 * Text 0.0.4 names a counter family by its full series name (`x_total`, or TGI's bare `x`);
 * OpenMetrics names the family `x` and requires its series to be `x_total`. So a text 0.0.4
 * counter `x_total` is announced as `x`, and a counter series without `_total` (which OpenMetrics
 * cannot express) as `unknown`; series names are never changed.
 */
function openMetricsHeader(family: MetricFamily, samples: readonly Sample[]): { name: string; type: MetricType } {
  if (family.type === 'untyped') return { name: family.name, type: 'unknown' };
  if (family.type !== 'counter' || !samples.some((s) => s.name === family.name))
    return { name: family.name, type: family.type };
  if (family.name.endsWith('_total')) return { name: family.name.slice(0, -'_total'.length), type: 'counter' };
  return { name: family.name, type: 'unknown' };
}

function sampleLine(s: Sample, om: boolean): string {
  let line = s.name + labelText(s.labels) + ' ' + formatValue(s.value);
  if (s.timestampMs !== undefined)
    line += ' ' + (om ? formatSeconds(s.timestampMs) : String(Math.round(s.timestampMs)));
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
