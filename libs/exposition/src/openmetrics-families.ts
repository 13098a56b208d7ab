import type { Labels } from '@arcwatch/contracts';
import { OPENMETRICS_TYPES, type FamilyTracker, type MetadataKeyword, type ParseSink } from './family-tracker';
import { checkHistogram, labelKey, type TrackedSample } from './openmetrics-histogram';
import { codePointLength, unescapeHelp } from './labels';
import { parseNumber } from './numbers';
import type { MetricFamily, MetricType, Sample } from './types';

/** Series names each OpenMetrics type owns, as suffixes of the family name. */
const TYPE_SUFFIXES: Partial<Record<MetricType, readonly string[]>> = {
  counter: ['_total', '_created'],
  summary: ['', '_count', '_sum', '_created'],
  histogram: ['_count', '_sum', '_bucket', '_created'],
  gaugehistogram: ['_gcount', '_gsum', '_bucket'],
  info: ['_info'],
};
const PLAIN: readonly string[] = [''];

/**
 * Samples with these suffixes are counters at heart: never NaN, never negative — except that a
 * gauge histogram's `_gsum` may be negative (checked with its buckets).
 */
const COUNTER_LIKE = new Set(['_total', '_sum', '_count', '_bucket', '_gcount', '_gsum']);

const EXEMPLAR_MAX_CODE_POINTS = 128;

interface CurrentFamily {
  index: number;
  family: MetricFamily;
  typed: boolean;
  unitSet: boolean;
  firstLine: number;
  allowed: readonly string[];
  hasSamples: boolean;
  /** Samples of (gauge) histograms, kept for the structure check when the family ends. */
  samples: TrackedSample[];
  group: string | undefined;
  groupTimestamp: number | undefined;
  seenGroups: Set<string>;
  /**
   * Series already seen in the current group: label object and sample name, side by side (a
   * group is one series of a gauge or counter, a few dozen of a histogram).
   */
  groupLabels: Labels[];
  groupNames: string[];
  /** How many entries of groupLabels / groupNames belong to the current group. */
  groupSize: number;
}

/**
 * OpenMetrics 1.0 is strict and whole-exposition: families are contiguous and never repeat,
 * metadata comes before samples, names of finished families may not be reused (including the
 * names their type implies, e.g. `a_total` for counter `a`), and the typed rules on values,
 * `le`/`quantile` labels, exemplars and histogram structure hold.
 */
export class OpenMetricsFamilies implements FamilyTracker {
  private current: CurrentFamily | undefined;
  private readonly seenNames = new Set<string>();

  constructor(private readonly sink: ParseSink) {}

  onMetadata(keyword: MetadataKeyword, name: string, text: string, line: number): void {
    let cur = this.current;
    if (cur && cur.family.name === name && cur.hasSamples) {
      this.sink.error(line, undefined, `${keyword} for "${name}" after its samples`, 'metadata');
      return;
    }
    if (!cur || cur.family.name !== name) cur = this.start(name, line);
    const family = cur.family;
    if (keyword === 'HELP') {
      if (family.help !== undefined) this.sink.error(line, undefined, `second HELP for "${name}"`, 'metadata');
      else family.help = unescapeHelp(text, true);
    } else if (keyword === 'TYPE') {
      if (cur.typed) this.sink.error(line, undefined, `second TYPE for "${name}"`, 'metadata');
      else if (!OPENMETRICS_TYPES.has(text))
        this.sink.error(line, undefined, `unknown metric type "${text}"`, 'metadata');
      else {
        cur.typed = true;
        family.type = text as MetricType;
        cur.allowed = (TYPE_SUFFIXES[family.type] ?? PLAIN).map((s) => name + s);
      }
    } else if (cur.unitSet) {
      this.sink.error(line, undefined, `second UNIT for "${name}"`, 'metadata');
    } else {
      cur.unitSet = true;
      family.unit = text;
    }
  }

  onSample(sample: Sample, rawTimestamp: number | undefined, line: number): number {
    let cur = this.current;
    if (!cur || (sample.name !== cur.family.name && !cur.allowed.includes(sample.name)))
      cur = this.start(sample.name, line);
    const name = cur.family.name;
    const type = cur.family.type;
    const suffix = sample.name.length === name.length ? '' : sample.name.slice(name.length);

    if (type === 'stateset' && !Object.prototype.hasOwnProperty.call(sample.labels, name))
      this.fail(line, `stateset sample without label "${name}"`);
    if ((type === 'histogram' || type === 'gaugehistogram') && suffix === '_bucket') {
      const le = sample.labels.le;
      if (le === undefined) this.fail(line, 'bucket without "le" label');
      else if (!isCanonicalBound(le)) this.fail(line, `invalid "le" value "${le}"`);
    }
    if (type === 'summary' && suffix === '') {
      const q = sample.labels.quantile;
      const qv = q === undefined ? undefined : parseNumber(q, 0, q.length);
      if (qv === undefined || !(qv >= 0 && qv <= 1))
        this.fail(line, `invalid "quantile" value ${q === undefined ? '(missing)' : `"${q}"`}`);
      if (sample.value < 0) this.fail(line, 'quantile values cannot be negative');
    }

    const repeated = this.checkGrouping(cur, sample, rawTimestamp, line);
    cur.hasSamples = true;

    const v = sample.value;
    if (type === 'stateset' && v !== 0 && v !== 1) this.fail(line, 'stateset values must be 0 or 1');
    if (type === 'info' && v !== 1) this.fail(line, 'info values must be 1');
    if (suffix !== '' && COUNTER_LIKE.has(suffix)) {
      if (v !== v) this.fail(line, `${suffix} cannot be NaN`);
      else if (v < 0 && suffix !== '_gsum') this.fail(line, `${suffix} cannot be negative`);
    }
    if (sample.exemplar) {
      const allowed =
        ((type === 'histogram' || type === 'gaugehistogram') && suffix === '_bucket') ||
        (type === 'counter' && suffix === '_total');
      if (!allowed) this.fail(line, 'exemplars are only allowed on counter _total and histogram _bucket samples');
      if (exemplarLength(sample.exemplar.labels) > EXEMPLAR_MAX_CODE_POINTS)
        this.fail(line, `exemplar labels longer than ${EXEMPLAR_MAX_CODE_POINTS} characters`);
    }
    // A series repeated at the same timestamp (e.g. timestamps equal after truncation) is
    // returned but left out of the histogram checks, where it would look like a bucket out of order.
    if (!repeated && (type === 'histogram' || type === 'gaugehistogram'))
      cur.samples.push({ sample, suffix, timestamp: rawTimestamp, line });
    return cur.index;
  }

  finish(): void {
    this.close();
  }

  private fail(line: number, message: string): void {
    this.sink.error(line, undefined, message, 'semantic');
  }

  /** Returns true when this exact series was already seen in the group at this timestamp. */
  private checkGrouping(cur: CurrentFamily, sample: Sample, ts: number | undefined, line: number): boolean {
    const key = groupKey(sample, cur.family);
    const sameGroup = cur.group !== undefined && key === cur.group;
    if (cur.group !== undefined && !sameGroup && cur.seenGroups.has(key)) {
      this.fail(line, 'samples of one label set must be contiguous (group seen before)');
    }
    if (sameGroup) {
      if ((ts === undefined) !== (cur.groupTimestamp === undefined))
        this.fail(line, 'some samples of a group have timestamps and others not');
      else if (
        ts !== undefined &&
        cur.groupTimestamp !== undefined &&
        cur.groupTimestamp > ts &&
        cur.family.type !== 'info'
      ) {
        this.fail(line, 'timestamps went backwards within a group');
      }
    }
    const { groupLabels, groupNames } = cur;
    // Overwritten in place from the start for a new group (truncating the arrays would drop
    // their storage and allocate it again for every gauge sample).
    if (!sameGroup) cur.groupSize = 0;
    // Label objects are shared per label text, so (name, labels object) identifies a series here.
    let repeated = false;
    if (sameGroup && ts === cur.groupTimestamp)
      for (let i = 0; i < cur.groupSize && !repeated; i++)
        repeated = groupLabels[i] === sample.labels && groupNames[i] === sample.name;
    if (!repeated) {
      groupLabels[cur.groupSize] = sample.labels;
      groupNames[cur.groupSize] = sample.name;
      cur.groupSize++;
    }
    cur.group = key;
    cur.groupTimestamp = ts;
    cur.seenGroups.add(key);
    return repeated;
  }

  private start(name: string, line: number): CurrentFamily {
    this.close();
    const family: MetricFamily = { name, type: 'unknown' };
    this.current = {
      index: this.sink.addFamily(family),
      family,
      typed: false,
      unitSet: false,
      firstLine: line,
      allowed: [name],
      hasSamples: false,
      samples: [],
      group: undefined,
      groupTimestamp: undefined,
      seenGroups: new Set(),
      groupLabels: [],
      groupNames: [],
      groupSize: 0,
    };
    return this.current;
  }

  private close(): void {
    const cur = this.current;
    if (!cur) return;
    this.current = undefined;
    const { name, type, unit } = cur.family;
    for (const suffix of new Set([...(TYPE_SUFFIXES[type] ?? PLAIN), ''])) {
      if (this.seenNames.has(name + suffix)) {
        this.sink.error(cur.firstLine, undefined, `"${name + suffix}" clashes with an earlier family`, 'metadata');
      }
      this.seenNames.add(name + suffix);
    }
    if (unit) {
      if (!name.endsWith('_' + unit))
        this.sink.error(cur.firstLine, undefined, `name "${name}" must end with its unit "_${unit}"`, 'metadata');
      if (type === 'info' || type === 'stateset')
        this.sink.error(cur.firstLine, undefined, `a ${type} cannot have a unit`, 'metadata');
    }
    if (type === 'histogram' || type === 'gaugehistogram') {
      for (const p of checkHistogram(cur.samples))
        this.sink.error(p.line, undefined, `${name}: ${p.message}`, 'semantic');
    }
  }
}

/** `le` must be a number; infinities only as `+Inf`/`-Inf` (finite bounds may be non-canonical). */
function isCanonicalBound(le: string): boolean {
  const v = parseNumber(le, 0, le.length);
  if (v === undefined || v !== v) return false;
  if (v === Infinity || v === -Infinity) return le === '+Inf' || le === '-Inf';
  return true;
}

/**
 * A group is one label set of the family without the label that tells its samples apart
 * (`le`, `quantile`, or the stateset's own name); all info samples form one group.
 */
function groupKey(sample: Sample, family: MetricFamily): string {
  const type = family.type;
  if (type === 'info') return '';
  let skip = '';
  if (type === 'summary' && sample.name === family.name) skip = 'quantile';
  else if (type === 'stateset') skip = family.name;
  else if ((type === 'histogram' || type === 'gaugehistogram') && sample.name === family.name + '_bucket') skip = 'le';
  return labelKey(sample.labels, skip);
}

function exemplarLength(labels: Labels): number {
  let n = 0;
  for (const [k, v] of Object.entries(labels)) n += codePointLength(k) + codePointLength(v);
  return n;
}
