import { z } from 'zod';

/**
 * Prometheus durations: a sequence of <int><unit> with units y w d h m s ms, largest first
 * ("1h30m", "15s", "500ms"). Returns milliseconds, or undefined when the text is not one.
 */
const UNIT_MS = {
  y: 365 * 86_400_000,
  w: 7 * 86_400_000,
  d: 86_400_000,
  h: 3_600_000,
  m: 60_000,
  s: 1000,
  ms: 1,
} as const;
const DURATION_RE = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;

export function parseDuration(text: string): number | undefined {
  if (text === '0') return 0;
  const m = DURATION_RE.exec(text);
  if (!m || text === '') return undefined;
  const units = [UNIT_MS.y, UNIT_MS.w, UNIT_MS.d, UNIT_MS.h, UNIT_MS.m, UNIT_MS.s, UNIT_MS.ms];
  let total = 0;
  units.forEach((unit, i) => {
    const part = m[i + 1];
    if (part !== undefined) total += Number(part) * unit;
  });
  return total;
}

export function formatDuration(ms: number): string {
  if (ms % 1000 !== 0) return `${ms}ms`;
  const s = ms / 1000;
  if (s % 3600 === 0 && s > 0) return `${s / 3600}h`;
  if (s % 60 === 0 && s > 0) return `${s / 60}m`;
  return `${s}s`;
}

/** A zod string that must be a Prometheus duration; use `parseDuration` on the value. */
export const durationString = z
  .string()
  .refine((s) => parseDuration(s) !== undefined, { message: 'not a valid duration (e.g. 30s, 1m, 1h30m)' });

/** A Prometheus duration parsed to milliseconds by the schema itself. */
export const durationMs = durationString.transform((s) => parseDuration(s) as number);
