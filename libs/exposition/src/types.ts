import type { Labels } from '@arcwatch/contracts';
import type { LabelCache } from './label-cache';

/** `prometheus` is the text format 0.0.4; `openmetrics` is OpenMetrics 1.0 text. */
export type ExpositionFormat = 'prometheus' | 'openmetrics';

export const EXPOSITION_FORMATS: readonly ExpositionFormat[] = ['prometheus', 'openmetrics'];

/**
 * The TYPE of a family as written in the exposition: text 0.0.4 says `untyped` where OpenMetrics
 * says `unknown`; the last three exist only in OpenMetrics.
 */
export type MetricType =
  'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped' | 'unknown' | 'gaugehistogram' | 'stateset' | 'info';

export interface MetricFamily {
  name: string;
  type: MetricType;
  help?: string;
  unit?: string;
}

export interface Exemplar {
  labels: Labels;
  value: number;
  timestampMs?: number;
}

export interface Sample {
  /** The series name as written, e.g. `vllm:e2e_request_latency_seconds_bucket`. */
  name: string;
  /**
   * Labels without `__name__`. Objects are shared between samples with the same label text and
   * frozen: treat them as read-only (copy before changing).
   */
  labels: Labels;
  value: number;
  /** Milliseconds since the epoch; OpenMetrics seconds are converted (rounded to the ms). */
  timestampMs?: number;
  exemplar?: Exemplar;
  /** Creation time in ms, for producers that carry it beside the sample (never set by the parser). */
  createdMs?: number;
  /** Index into `ParseResult.families` of the family this sample belongs to. */
  family: number;
}

/**
 * `syntax`: the line could not be read and contributed no sample. `metadata`: a HELP/TYPE/UNIT
 * line was refused. `semantic`: an OpenMetrics rule (counter values, bucket order, grouping…) is
 * broken; the samples involved are still returned. `eof`/`encoding`: whole-body problems.
 */
export type ParseErrorCode = 'syntax' | 'metadata' | 'semantic' | 'eof' | 'encoding';

export interface ParseError {
  /** 1-based line number. */
  line: number;
  /** 1-based column (UTF-16 units) where the problem was detected, when it points somewhere useful. */
  column?: number;
  message: string;
  code: ParseErrorCode;
}

export interface ParseResult {
  format: ExpositionFormat;
  families: MetricFamily[];
  samples: Sample[];
  errors: ParseError[];
  /** Samples dropped on purpose (DCGM "blank" sentinels), not errors. */
  dropped: number;
  /** Lines read, including comments and blank lines. */
  lines: number;
}

/** Which samples count as DCGM blanks ("no value") and are dropped. */
export type BlankSentinelPolicy = 'dcgm' | 'all' | 'none';

export interface ParseOptions {
  format?: ExpositionFormat;
  /**
   * dcgm-exporter prints DCGM's "blank" values (≥ 2^63−16: not supported, not found, …) as
   * numbers. `dcgm` (default) drops them for `DCGM_*`/`dcgm_*` series only, so that a genuine
   * uint64 counter elsewhere survives; `all` drops them anywhere; `none` keeps them.
   */
  blankSentinels?: BlankSentinelPolicy;
  /**
   * Label objects by their exact text; pass one per target (and format) to reuse label objects
   * across its scrapes. A fresh cache is used per parse otherwise.
   */
  labelCache?: LabelCache;
}

/** Smallest value (as parsed to a double) that DCGM uses for "blank": 2^63 − 16 rounds to 2^63. */
export const DCGM_BLANK_MIN = 9223372036854775808 - 16;
