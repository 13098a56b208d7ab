import { PROMETHEUS_TYPES, type FamilyTracker, type MetadataKeyword, type ParseSink } from './family-tracker';
import { unescapeHelp } from './labels';
import type { MetricType, Sample } from './types';

/** Series names a typed family owns in text 0.0.4 beyond its own name (as Prometheus's parser). */
const OWNED_SUFFIXES: Partial<Record<MetricType, readonly string[]>> = {
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['_sum', '_count'],
};

interface FamilyState {
  index: number;
  typed: boolean;
  hasSamples: boolean;
}

/**
 * Text 0.0.4 is forgiving: a sample without HELP/TYPE gets an `untyped` family of its own name,
 * families may be split across the body, and a second HELP or TYPE for a name is an error on
 * that line only (the first one stands).
 */
export class PrometheusFamilies implements FamilyTracker {
  private readonly byName = new Map<string, FamilyState>();
  /** Sample name → family, including `_bucket`/`_sum`/`_count` of typed histograms/summaries. */
  private readonly bySampleName = new Map<string, FamilyState>();

  constructor(private readonly sink: ParseSink) {}

  onMetadata(keyword: MetadataKeyword, name: string, text: string, line: number): void {
    if (keyword === 'UNIT') return; // not part of text 0.0.4: a plain comment there
    let state = this.byName.get(name);
    if (keyword === 'HELP') {
      if (!state) state = this.create(name, 'untyped');
      const family = this.sink.family(state.index);
      if (family.help !== undefined) {
        this.sink.error(line, undefined, `second HELP line for metric name "${name}"`, 'metadata');
        return;
      }
      family.help = unescapeHelp(text, false);
      return;
    }
    if (!PROMETHEUS_TYPES.has(text)) {
      this.sink.error(line, undefined, `unknown metric type "${text}" for "${name}"`, 'metadata');
      return;
    }
    if (state?.typed) {
      this.sink.error(line, undefined, `second TYPE line for metric name "${name}"`, 'metadata');
      return;
    }
    if (state?.hasSamples) {
      this.sink.error(line, undefined, `TYPE line for "${name}" after its samples`, 'metadata');
      return;
    }
    if (!state) state = this.create(name, text as MetricType);
    else this.sink.family(state.index).type = text as MetricType;
    state.typed = true;
    for (const suffix of OWNED_SUFFIXES[text as MetricType] ?? []) {
      if (!this.bySampleName.has(name + suffix)) this.bySampleName.set(name + suffix, state);
    }
  }

  onSample(sample: Sample, _rawTimestamp: number | undefined, _line: number): number {
    const state = this.bySampleName.get(sample.name) ?? this.create(sample.name, 'untyped');
    state.hasSamples = true;
    return state.index;
  }

  finish(): void {}

  private create(name: string, type: MetricType): FamilyState {
    const state: FamilyState = { index: this.sink.addFamily({ name, type }), typed: false, hasSamples: false };
    this.byName.set(name, state);
    // A typed family's own name wins over an `_sum`/`_count` mapping registered earlier.
    this.bySampleName.set(name, state);
    return state;
  }
}
