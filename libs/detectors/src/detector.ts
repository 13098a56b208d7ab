import { z } from 'zod';

/**
 * The contract every streaming detector keeps. A detector sees one series, one sample at a time,
 * in time order; it answers with a score in [0, 1], whether that score crosses the alarm level set
 * by the sensitivity, and which way the value moved. Its whole memory is `state()`: plain JSON
 * (finite numbers, arrays, strings) that `restore` takes back, so a restarted detector continues
 * exactly where it stopped.
 */

export type Direction = 'up' | 'down' | 'none';

/** Which deviations count: a throughput drop only cares about `down`, a latency drift about `up`. */
export type Sidedness = 'both' | 'up' | 'down';

export interface DetectorOutput {
  /** 0 = ordinary, towards 1 = ever more unusual; 0.5 is the deviation the detector calls "clear". */
  score: number;
  /** score ≥ 1 − sensitivity, and the detector has finished warming up. */
  anomalous: boolean;
  direction: Direction;
}

export interface StreamingDetector {
  readonly kind: DetectorKind;
  /**
   * Feeds one sample. A value that is NaN, ±Infinity or missing (null / undefined) is no
   * observation: the answer is score 0, not anomalous, direction none, and the state is untouched,
   * so a gap never reads as a drop to zero. A time earlier than the last one is taken as the last
   * one (no negative elapsed time).
   */
  update(timeMs: number, value: number | null | undefined): DetectorOutput;
  /** Everything the detector remembers, as JSON-safe data. */
  state(): DetectorState;
  /** Replaces the memory with one `state()` returned; throws DetectorError on a foreign state. */
  restore(state: unknown): void;
}

export const DETECTOR_KINDS = ['robust', 'seasonal', 'cusum', 'ensemble'] as const;
export type DetectorKind = (typeof DETECTOR_KINDS)[number];

/** JSON-safe: no NaN, no Infinity, no undefined inside (JSON.stringify would change them). */
export type DetectorState = { kind: DetectorKind; version: 1 } & Record<string, unknown>;

export type DetectorErrorCode = 'DETECTOR_STATE_INVALID' | 'DETECTOR_PARAMS_INVALID' | 'DETECTOR_UNKNOWN';

export class DetectorError extends Error {
  constructor(
    readonly code: DetectorErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DetectorError';
  }
}

export const QUIET: DetectorOutput = Object.freeze({ score: 0, anomalous: false, direction: 'none' });

/** Sensitivity in [0, 1]: the alarm level on the score is 1 − sensitivity (0.5 by default). */
export function alarmLevel(sensitivity: number): number {
  return 1 - sensitivity;
}

/**
 * Maps a deviation d ≥ 0 measured in units of `reference` onto [0, 1): d = reference gives 0.5,
 * twice as far 0.8, three times 0.9. Monotone, so ranking by score is ranking by deviation.
 */
export function deviationScore(d: number, reference: number): number {
  if (!(d > 0)) return 0;
  const r = d / reference;
  return (r * r) / (1 + r * r);
}

/** The signed deviation counted under `sides`, as a magnitude and a direction. */
export function sided(z: number, sides: Sidedness): { magnitude: number; direction: Direction } {
  if (z > 0 && sides !== 'down') return { magnitude: z, direction: 'up' };
  if (z < 0 && sides !== 'up') return { magnitude: -z, direction: 'down' };
  return { magnitude: 0, direction: 'none' };
}

export function isObservation(value: number | null | undefined): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** State check shared by every detector: the kind and version must match. */
export function expectState(state: unknown, kind: DetectorKind): Record<string, unknown> {
  if (typeof state !== 'object' || state === null)
    throw new DetectorError('DETECTOR_STATE_INVALID', `${kind}: state is not an object`);
  const s = state as Record<string, unknown>;
  if (s.kind !== kind || s.version !== 1) {
    throw new DetectorError('DETECTOR_STATE_INVALID', `${kind}: state is for ${String(s.kind)} v${String(s.version)}`);
  }
  return s;
}

/**
 * Calibration against the series' own history. Raw deviations are not comparable between series:
 * a spiky series is routinely 20 spreads off, a smooth one never. The calibrator keeps slow
 * exponential moments of log(1 + deviation) and scores how far today's deviation sits above what
 * this series usually shows, so one alarm level means the same thing on every series.
 */
export interface CalibratorState {
  n: number;
  mean: number;
  variance: number;
}

export interface CalibrationParams {
  /** Smoothing of the moments per sample (about 1 / horizon in samples). */
  alpha: number;
  /** Standard deviations (of log deviations) above the usual that score 0.5. */
  reference: number;
  /** Lower bound on that standard deviation, so a perfectly regular series does not alarm on noise. */
  minStd: number;
}

export const DEFAULT_CALIBRATION: CalibrationParams = { alpha: 0.002, reference: 4, minStd: 0.2 };

export function newCalibrator(): CalibratorState {
  return { n: 0, mean: 0, variance: 0 };
}

/** Scores `deviation` against the moments, then folds it into them. */
export function calibrate(c: CalibratorState, deviation: number, p: CalibrationParams, learnOnly = false): number {
  const u = Math.log1p(Math.max(0, deviation));
  let score = 0;
  if (!learnOnly && c.n > 0) {
    const std = Math.max(Math.sqrt(c.variance), p.minStd);
    score = deviationScore((u - c.mean) / std, p.reference);
  }
  c.n++;
  const a = Math.max(p.alpha, 1 / c.n);
  const d = u - c.mean;
  c.mean += a * d;
  c.variance = (1 - a) * (c.variance + a * d * d);
  return score;
}

export function readCalibrator(v: unknown, kind: DetectorKind): CalibratorState {
  const c = v as Record<string, unknown> | null;
  if (!c || ![c.n, c.mean, c.variance].every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw new DetectorError('DETECTOR_STATE_INVALID', `${kind}: calibration must hold finite n, mean and variance`);
  }
  return { n: c.n as number, mean: c.mean as number, variance: c.variance as number };
}

/** `false` scores raw deviations against the detector's own `reference` instead. */
export const calibrationSchema = z
  .union([
    z.literal(false),
    z
      .object({
        alpha: z.number().gt(0).lt(1).default(DEFAULT_CALIBRATION.alpha),
        reference: z.number().positive().default(DEFAULT_CALIBRATION.reference),
        minStd: z.number().positive().default(DEFAULT_CALIBRATION.minStd),
      })
      .strict(),
  ])
  .default({ ...DEFAULT_CALIBRATION });
