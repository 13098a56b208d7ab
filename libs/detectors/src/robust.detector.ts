import { z } from 'zod';
import {
  alarmLevel,
  calibrate,
  calibrationSchema,
  deviationScore,
  expectState,
  newCalibrator,
  readCalibrator,
  isObservation,
  QUIET,
  sided,
  DetectorError,
  type DetectorOutput,
  type DetectorState,
  type StreamingDetector,
} from './detector';

/**
 * Rolling median / MAD: how far a sample sits from the median of the last `window` samples, in
 * robust standard deviations (1.4826·MAD). One spike barely moves a median, so the baseline keeps
 * its shape through short bursts; a level shift becomes the new normal once it fills half the window.
 */
export const robustParamsSchema = z
  .object({
    /** Samples in the rolling window. */
    window: z.number().int().min(5).max(100_000).default(200),
    /** Samples seen before any alarm. */
    warmup: z.number().int().min(1).default(30),
    /** Deviation, in robust standard deviations, that scores 0.5. */
    reference: z.number().positive().default(6),
    sides: z.enum(['both', 'up', 'down']).default('both'),
    calibration: calibrationSchema,
  })
  .strict();
export type RobustParams = z.infer<typeof robustParamsSchema>;

/** Sorted insert / remove keep the median O(window) per sample without re-sorting. */
function lowerBound(sorted: readonly number[], v: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function medianOf(sorted: readonly number[]): number {
  const n = sorted.length;
  const h = n >>> 1;
  return n % 2 === 1 ? sorted[h] : (sorted[h - 1] + sorted[h]) / 2;
}

/**
 * MAD from the sorted window: the deviations |x − median| come out in increasing order when walking
 * outwards from the median on both sides, so the middle one is found in n/2 steps without sorting.
 */
function madOf(sorted: readonly number[], median: number): number {
  const n = sorted.length;
  const lo = (n - 1) >>> 1;
  const hi = n >>> 1;
  let right = lowerBound(sorted, median);
  let left = right - 1;
  let atLo = 0;
  for (let k = 0; k <= hi; k++) {
    const dl = left >= 0 ? median - sorted[left] : Infinity;
    const dr = right < n ? sorted[right] - median : Infinity;
    let d: number;
    if (dl <= dr) {
      d = dl;
      left--;
    } else {
      d = dr;
      right++;
    }
    if (k === lo) atLo = d;
    if (k === hi) return (atLo + d) / 2;
  }
  return atLo;
}

/** The spread used to scale deviations; never 0, so a flat line that moves is still measurable. */
export function robustSpread(sorted: readonly number[], median: number): number {
  const mad = madOf(sorted, median);
  if (mad > 0) return 1.4826 * mad;
  let sum = 0;
  for (const v of sorted) sum += Math.abs(v - median);
  const meanAbs = sum / sorted.length;
  if (meanAbs > 0) return 1.2533 * meanAbs;
  return 1e-6 * Math.max(1, Math.abs(median));
}

export class RobustDetector implements StreamingDetector {
  readonly kind = 'robust' as const;
  private readonly params: RobustParams;
  private readonly level: number;
  private buffer: number[] = [];
  private sorted: number[] = [];
  private head = 0;
  private seen = 0;
  private calibration = newCalibrator();

  constructor(params: Partial<RobustParams> = {}, sensitivity = 0.5) {
    const parsed = robustParamsSchema.safeParse(params);
    if (!parsed.success)
      throw new DetectorError('DETECTOR_PARAMS_INVALID', `robust: ${parsed.error.issues[0]?.message}`);
    this.params = parsed.data;
    this.level = alarmLevel(sensitivity);
  }

  update(_timeMs: number, value: number | null | undefined): DetectorOutput {
    if (!isObservation(value)) return QUIET;
    let out = QUIET;
    if (this.sorted.length >= 2) {
      const p = this.params;
      const median = medianOf(this.sorted);
      const { magnitude, direction } = sided((value - median) / robustSpread(this.sorted, median), p.sides);
      const warm = this.seen >= p.warmup;
      const score = p.calibration
        ? calibrate(this.calibration, magnitude, p.calibration, !warm)
        : deviationScore(magnitude, p.reference);
      if (warm) out = { score, anomalous: score >= this.level, direction };
    }
    this.push(value);
    return out;
  }

  private push(value: number): void {
    this.seen++;
    if (this.buffer.length < this.params.window) {
      this.buffer.push(value);
    } else {
      const old = this.buffer[this.head];
      this.sorted.splice(lowerBound(this.sorted, old), 1);
      this.buffer[this.head] = value;
      this.head = (this.head + 1) % this.params.window;
    }
    this.sorted.splice(lowerBound(this.sorted, value), 0, value);
  }

  state(): DetectorState {
    // Oldest first, so the state does not depend on where the ring happens to start.
    const ordered = [...this.buffer.slice(this.head), ...this.buffer.slice(0, this.head)];
    return { kind: this.kind, version: 1, values: ordered, seen: this.seen, calibration: { ...this.calibration } };
  }

  restore(state: unknown): void {
    const s = expectState(state, this.kind);
    const values = s.values;
    if (
      !Array.isArray(values) ||
      !values.every((v) => typeof v === 'number' && Number.isFinite(v)) ||
      typeof s.seen !== 'number'
    ) {
      throw new DetectorError('DETECTOR_STATE_INVALID', 'robust: values must be finite numbers');
    }
    this.buffer = (values as number[]).slice(-this.params.window);
    this.head = 0;
    this.sorted = [...this.buffer].sort((a, b) => a - b);
    this.seen = s.seen;
    this.calibration = readCalibrator(s.calibration, this.kind);
  }
}
