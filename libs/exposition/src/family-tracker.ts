import type { MetricFamily, MetricType, ParseErrorCode, Sample } from './types';

/**
 * How a parser hands families and errors back to its result; both family trackers (text 0.0.4
 * and OpenMetrics) work through it so the line scanner stays format-neutral.
 */
export interface ParseSink {
  addFamily(family: MetricFamily): number;
  family(index: number): MetricFamily;
  error(line: number, column: number | undefined, message: string, code: ParseErrorCode): void;
}

export type MetadataKeyword = 'HELP' | 'TYPE' | 'UNIT';

/**
 * Decides which family each sample belongs to and applies the format's rules about metadata
 * and grouping. `sample.family` is set by `onSample`.
 */
export interface FamilyTracker {
  onMetadata(keyword: MetadataKeyword, name: string, text: string, line: number): void;
  /** Family index for a sample; `rawTimestamp` orders samples (text 0.0.4: ms; OpenMetrics: ns). */
  onSample(sample: Sample, rawTimestamp: number | undefined, line: number): number;
  finish(line: number): void;
}

export const PROMETHEUS_TYPES: ReadonlySet<string> = new Set<MetricType>([
  'counter',
  'gauge',
  'histogram',
  'summary',
  'untyped',
]);

export const OPENMETRICS_TYPES: ReadonlySet<string> = new Set<MetricType>([
  'counter',
  'gauge',
  'histogram',
  'gaugehistogram',
  'stateset',
  'info',
  'summary',
  'unknown',
]);
