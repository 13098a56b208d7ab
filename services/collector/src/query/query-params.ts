import { z } from 'zod';
import { parseDuration as parsePromDuration } from '@arcwatch/config-files';
import { invalidParam, QueryApiError } from './query-errors';

/**
 * The parameters of /api/v1/query, /query_range and /query_exemplars, read the way Prometheus
 * reads them: from the URL query or from an application/x-www-form-urlencoded body (a body
 * value wins, as with Go's FormValue), times as RFC 3339 or Unix seconds, durations as
 * Prometheus durations or float seconds. Pure: the caller passes "now".
 */

/** Prometheus refuses a range query of more points than this per series. */
export const MAX_POINTS_PER_SERIES = 11_000;

const formValue = z.union([z.string(), z.array(z.string())]).optional();
const formSchema = z.record(z.string(), formValue);

export type FormParams = Record<string, string | undefined>;

/** GET query and POST form body as one set of single values; the first value of a repeated key. */
export function mergeForm(query: unknown, body: unknown): FormParams {
  const out: FormParams = {};
  for (const source of [query, body]) {
    if (typeof source !== 'object' || source === null) continue;
    const parsed = formSchema.safeParse(source);
    if (!parsed.success)
      throw new QueryApiError('bad_data', `invalid parameters: ${parsed.error.issues[0]?.message ?? 'not a form'}`);
    for (const [k, v] of Object.entries(parsed.data)) {
      const first = Array.isArray(v) ? v[0] : v;
      if (first !== undefined) out[k] = first;
    }
  }
  return out;
}

const FLOAT = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** Milliseconds since the epoch; sub-millisecond digits are dropped, as the engine works in ms. */
export function parseTimeParam(text: string): number | undefined {
  if (FLOAT.test(text)) {
    const ms = Math.round(Number(text) * 1000);
    return Number.isFinite(ms) ? ms : undefined;
  }
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const whole = Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${m[8].toUpperCase()}`);
  if (Number.isNaN(whole)) return undefined;
  const fraction = m[7] ? Math.floor(Number(`0${m[7]}`) * 1000) : 0;
  return whole + fraction;
}

/** A duration in milliseconds (possibly fractional, from float seconds). */
export function parseDurationParam(text: string): number | undefined {
  if (FLOAT.test(text)) {
    const ms = Number(text) * 1000;
    return Number.isFinite(ms) ? ms : undefined;
  }
  return parsePromDuration(text);
}

function time(params: FormParams, name: string, fallback?: number): number {
  const text = params[name];
  if ((text === undefined || text === '') && fallback !== undefined) return fallback;
  const ms = parseTimeParam(text ?? '');
  if (ms === undefined) throw invalidParam(name, `cannot parse ${JSON.stringify(text ?? '')} to a valid timestamp`);
  return ms;
}

function timeout(params: FormParams): number | undefined {
  const text = params.timeout;
  if (text === undefined || text === '') return undefined;
  const ms = parseDurationParam(text);
  if (ms === undefined) throw invalidParam('timeout', `cannot parse ${JSON.stringify(text)} to a valid duration`);
  // Prometheus would start a query already past its deadline and answer 503; the caller asked for it.
  if (ms <= 0) throw invalidParam('timeout', `timeout must be positive, got ${JSON.stringify(text)}`);
  return ms;
}

export interface InstantQueryParams {
  query: string;
  timeMs: number;
  timeoutMs?: number;
}

export interface RangeQueryParams {
  query: string;
  startMs: number;
  endMs: number;
  stepMs: number;
  timeoutMs?: number;
}

export function parseInstantParams(params: FormParams, nowMs: number): InstantQueryParams {
  const timeMs = time(params, 'time', nowMs);
  const timeoutMs = timeout(params);
  return { query: params.query ?? '', timeMs, ...(timeoutMs === undefined ? {} : { timeoutMs }) };
}

/** Checks in Prometheus's order, so that the first complaint is the one Prometheus would make. */
export function parseRangeParams(params: FormParams): RangeQueryParams {
  const startMs = time(params, 'start');
  const endMs = time(params, 'end');
  if (endMs < startMs) throw new QueryApiError('bad_data', 'end timestamp must not be before start time');
  const text = params.step ?? '';
  const step = parseDurationParam(text);
  if (step === undefined) throw invalidParam('step', `cannot parse ${JSON.stringify(text)} to a valid duration`);
  // The engine steps in whole milliseconds; a positive step below 1 ms is as unusable as zero.
  const stepMs = Math.floor(step);
  if (!(stepMs > 0))
    throw new QueryApiError(
      'bad_data',
      'zero or negative query resolution step widths are not accepted. Try a positive integer',
    );
  if (Math.floor((endMs - startMs) / stepMs) > MAX_POINTS_PER_SERIES) {
    throw new QueryApiError(
      'bad_data',
      'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)',
    );
  }
  const timeoutMs = timeout(params);
  return { query: params.query ?? '', startMs, endMs, stepMs, ...(timeoutMs === undefined ? {} : { timeoutMs }) };
}

export interface WindowParams {
  query: string;
  startMs: number;
  endMs: number;
}

/** query_exemplars: start and end default to all time. */
export function parseWindowParams(params: FormParams): WindowParams {
  const startMs = time(params, 'start', Number.MIN_SAFE_INTEGER);
  const endMs = time(params, 'end', Number.MAX_SAFE_INTEGER);
  if (endMs < startMs) throw new QueryApiError('bad_data', 'end timestamp must not be before start time');
  return { query: params.query ?? '', startMs, endMs };
}

export interface MetadataParams {
  metric?: string;
  /** Most metrics returned; negative or absent means no limit. */
  limit: number;
  limitPerMetric: number;
}

function intParam(params: FormParams, name: string): number {
  const text = params[name];
  if (text === undefined || text === '') return -1;
  if (!/^[+-]?\d+$/.test(text)) throw new QueryApiError('bad_data', `${name} must be a number`);
  return Number(text);
}

export function parseMetadataParams(params: FormParams): MetadataParams {
  const metric = params.metric;
  return {
    ...(metric ? { metric } : {}),
    limit: intParam(params, 'limit'),
    limitPerMetric: intParam(params, 'limit_per_metric'),
  };
}
