import { ConsoleError } from '../errors';

const HOUR_MS = 3_600_000;
export const MAX_WINDOW_MS = 31 * 24 * HOUR_MS;

/** RFC 3339 (any offset) or Unix seconds with an optional fraction (docs/http-api.md). */
export function parseTime(raw: string, field: string): number {
  const ms = /^\d+(\.\d+)?$/.test(raw)
    ? Math.round(Number(raw) * 1000)
    : /^\d{4}-\d{2}-\d{2}T/.test(raw)
      ? Date.parse(raw)
      : NaN;
  if (!Number.isFinite(ms))
    throw new ConsoleError('VALIDATION_FAILED', `${field}: not a time (RFC 3339 or Unix seconds)`, {
      details: { field },
    });
  return ms;
}

/** `from` inclusive, `to` exclusive; `to` defaults to now and `from` to an hour before it. */
export function parseWindow(
  q: { from?: string | undefined; to?: string | undefined },
  nowMs: number,
): { fromMs: number; toMs: number } {
  const toMs = q.to ? parseTime(q.to, 'to') : nowMs;
  const fromMs = q.from ? parseTime(q.from, 'from') : toMs - HOUR_MS;
  if (!(fromMs < toMs))
    throw new ConsoleError('VALIDATION_FAILED', 'from: must be before to', { details: { field: 'from' } });
  if (toMs - fromMs > MAX_WINDOW_MS)
    throw new ConsoleError('VALIDATION_FAILED', 'from: window longer than 31 days', { details: { field: 'from' } });
  return { fromMs, toMs };
}

export const iso = (ms: number): string => new Date(ms).toISOString();
