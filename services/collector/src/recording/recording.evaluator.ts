import {
  deterministicId,
  STALE_NAN,
  toWireValue,
  type Labels,
  type MetricsBatchSeries,
  type MetricsBatchV1,
} from '@arcwatch/contracts';
import type { RawResult } from '@arcwatch/promql';
import type { RecordingRule, RuleGroup } from '@arcwatch/rules';

/**
 * The pure core of recording rules: what one rule's query result becomes (Prometheus's
 * RecordingRule.Eval), and what one evaluation of a group publishes: a MetricsBatchV1 with every
 * rule's series at the evaluation time, plus staleness markers for series the group wrote last
 * time and not now, so that instant queries stop seeing them at once rather than after the
 * lookback window.
 */
export interface RecordedSample {
  labels: Labels;
  value: number;
}

export type RuleOutcome = { ok: true; samples: RecordedSample[] } | { ok: false; error: string };

/** Series keys the group wrote at its last evaluation. */
export interface GroupState {
  written: ReadonlyMap<string, Labels>;
}

export const EMPTY_GROUP_STATE: GroupState = { written: new Map() };

export const RECORDING_NODE = 'recording-rules';

export function seriesKey(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}\u0000${labels[k]}`)
    .join('\u0001');
}

/** The rule's name and labels on each result sample; a label given as "" is removed. */
export function recordRule(rule: RecordingRule, result: RawResult, limit: number): RuleOutcome {
  let input: Array<{ labels: Labels; value: number }>;
  if (result.type === 'vector') input = result.samples;
  else if (result.type === 'scalar') input = [{ labels: {}, value: result.value }];
  else return { ok: false, error: `rule result is a ${result.type}, not an instant vector or scalar` };

  const seen = new Set<string>();
  const samples: RecordedSample[] = [];
  for (const s of input) {
    const labels: Labels = { ...s.labels, __name__: rule.record };
    for (const [name, value] of Object.entries(rule.labels)) {
      if (value === '') delete labels[name];
      else labels[name] = value;
    }
    const key = seriesKey(labels);
    if (seen.has(key))
      return { ok: false, error: 'vector contains metrics with the same labelset after applying rule labels' };
    seen.add(key);
    samples.push({ labels, value: s.value });
  }
  if (limit > 0 && samples.length > limit)
    return { ok: false, error: `exceeded limit of ${limit} with ${samples.length} series` };
  return { ok: true, samples };
}

/**
 * Replicas (and restarts) evaluate a group at the same aligned times, so the same group, file
 * and time always give the same batch id, and JetStream drops the copies.
 */
export function recordingBatchId(group: Pick<RuleGroup, 'file' | 'name'>, evalTimeMs: number): string {
  return deterministicId('recording_rule', group.file, group.name, evalTimeMs);
}

export function groupBatch(
  group: Pick<RuleGroup, 'file' | 'name'>,
  cluster: string,
  evalTimeMs: number,
  sampleTimeMs: number,
  outcomes: readonly RuleOutcome[],
  previous: GroupState,
): { batch: MetricsBatchV1; state: GroupState } {
  const series: MetricsBatchSeries[] = [];
  const written = new Map<string, Labels>();
  for (const outcome of outcomes) {
    if (!outcome.ok) continue;
    for (const s of outcome.samples) {
      const key = seriesKey(s.labels);
      if (written.has(key)) continue;
      written.set(key, s.labels);
      series.push({ labels: s.labels, samples: [[sampleTimeMs, toWireValue(s.value)]] });
    }
  }
  for (const [key, labels] of previous.written) {
    if (!written.has(key)) series.push({ labels, samples: [[sampleTimeMs, toWireValue(STALE_NAN)]] });
  }
  return {
    batch: {
      batchId: recordingBatchId(group, evalTimeMs),
      source: 'recording_rule',
      cluster,
      node: RECORDING_NODE,
      target: { job: group.name, instance: group.file },
      scrapedAtMs: evalTimeMs,
      series,
    },
    state: { written },
  };
}

/** The evaluation time a tick at `nowMs` stands for: the interval boundary at or before it. */
export function evalTimeAt(nowMs: number, intervalMs: number): number {
  return Math.floor(nowMs / intervalMs) * intervalMs;
}

/** The next boundary strictly after `nowMs`. */
export function nextEvalTime(nowMs: number, intervalMs: number): number {
  return evalTimeAt(nowMs, intervalMs) + intervalMs;
}
