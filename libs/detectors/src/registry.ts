import { z } from 'zod';
import { CusumDetector, cusumParamsSchema, type CusumParams } from './cusum.detector';
import {
  alarmLevel,
  isObservation,
  calibrate,
  calibrationSchema,
  newCalibrator,
  readCalibrator,
  DetectorError,
  expectState,
  type CalibrationParams,
  QUIET,
  type DetectorKind,
  type DetectorOutput,
  type DetectorState,
  type StreamingDetector,
} from './detector';
import { RobustDetector, robustParamsSchema, type RobustParams } from './robust.detector';
import { SeasonalDetector, seasonalParamsSchema, type SeasonalParams } from './seasonal.detector';

/**
 * Inside the ensemble the seasonal level follows faster (0.05 instead of 0.02): CUSUM's slower
 * baseline already covers persistence, and on NAB the pair scores higher that way (docs/detectors.md).
 */
const ensembleSeasonalSchema = seasonalParamsSchema.extend({ alpha: z.number().gt(0).lt(1).default(0.05) });

/**
 * `ensemble` runs several detectors side by side on the same series. By default the seasonal
 * detector and CUSUM, averaged: a departure from the daily / weekly shape that also persists
 * scores highest, a one-sample blip on only one of them half as much. `combine: max` lets the most
 * confident member speak instead; `members` may add the robust detector.
 */
export const ensembleParamsSchema = z
  .object({
    robust: robustParamsSchema.default(() => robustParamsSchema.parse({})),
    seasonal: ensembleSeasonalSchema.default(() => ensembleSeasonalSchema.parse({})),
    cusum: cusumParamsSchema.default(() => cusumParamsSchema.parse({})),
    /** `max`: the most confident member speaks; `mean`: the members' scores are averaged (agreement counts). */
    combine: z.enum(['max', 'mean']).default('mean'),
    /** Which detectors take part. */
    members: z
      .array(z.enum(['robust', 'seasonal', 'cusum']))
      .min(1)
      .default(['seasonal', 'cusum']),
    /**
     * The combined score calibrated once more against its own history (geometric mean of that and
     * the combined score): a series whose members often half-agree learns that this is ordinary.
     */
    calibration: calibrationSchema,
  })
  .strict();
export type EnsembleParams = z.infer<typeof ensembleParamsSchema>;

export class EnsembleDetector implements StreamingDetector {
  readonly kind = 'ensemble' as const;
  private readonly parts: StreamingDetector[];
  private readonly combine: 'max' | 'mean';
  private readonly level: number;
  private readonly calibration: CalibrationParams | false;
  private calibrator = newCalibrator();

  constructor(params: Partial<EnsembleParams> = {}, sensitivity = 0.5) {
    const parsed = ensembleParamsSchema.safeParse(params);
    if (!parsed.success)
      throw new DetectorError('DETECTOR_PARAMS_INVALID', `ensemble: ${parsed.error.issues[0]?.message}`);
    const p = parsed.data;
    const all = {
      robust: () => new RobustDetector(p.robust, sensitivity),
      seasonal: () => new SeasonalDetector(p.seasonal, sensitivity),
      cusum: () => new CusumDetector(p.cusum, sensitivity),
    };
    this.combine = p.combine;
    this.level = alarmLevel(sensitivity);
    this.calibration = p.calibration;
    this.parts = [...new Set(p.members)].map((m) => all[m]());
  }

  update(timeMs: number, value: number | null | undefined): DetectorOutput {
    // The members ignore a missing value; the ensemble's own calibrator must too.
    if (!isObservation(value)) return QUIET;
    let best: DetectorOutput = QUIET;
    let sum = 0;
    for (const d of this.parts) {
      const out = d.update(timeMs, value);
      sum += out.score;
      if (out.score > best.score) best = out;
    }
    if (this.combine === 'max') return best;
    const mean = sum / this.parts.length;
    // Odds keep the ordering and stretch the top end, where the calibrator needs resolution.
    const score = this.calibration
      ? Math.sqrt(mean * calibrate(this.calibrator, mean / (1 - mean + 1e-9), this.calibration))
      : mean;
    return { score, anomalous: score >= this.level, direction: score > 0 ? best.direction : 'none' };
  }

  state(): DetectorState {
    return {
      kind: this.kind,
      version: 1,
      parts: this.parts.map((d) => d.state()),
      calibration: { ...this.calibrator },
    };
  }

  restore(state: unknown): void {
    const s = expectState(state, this.kind);
    if (!Array.isArray(s.parts) || s.parts.length !== this.parts.length)
      throw new DetectorError('DETECTOR_STATE_INVALID', `ensemble: parts must hold ${this.parts.length} states`);
    this.parts.forEach((d, i) => d.restore((s.parts as unknown[])[i]));
    this.calibrator = readCalibrator(s.calibration, this.kind);
  }
}

/** What a detector is built from: the `detector` section of a detector config, or code. */
export interface DetectorSpec {
  kind: DetectorKind;
  /** Kind-specific parameters; omitted ones take their defaults. */
  params?: Record<string, unknown>;
  /** 0..1; the alarm level on the score is 1 − sensitivity. Default 0.5. */
  sensitivity?: number;
}

/** Builds a fresh detector; with `state`, one that continues from that state. */
export function createDetector(spec: DetectorSpec, state?: unknown): StreamingDetector {
  const sensitivity = spec.sensitivity ?? 0.5;
  if (!(sensitivity >= 0 && sensitivity <= 1))
    throw new DetectorError('DETECTOR_PARAMS_INVALID', `sensitivity ${sensitivity} is outside [0, 1]`);
  const params = spec.params ?? {};
  let detector: StreamingDetector;
  switch (spec.kind) {
    case 'robust':
      detector = new RobustDetector(params as Partial<RobustParams>, sensitivity);
      break;
    case 'seasonal':
      detector = new SeasonalDetector(params as Partial<SeasonalParams>, sensitivity);
      break;
    case 'cusum':
      detector = new CusumDetector(params as Partial<CusumParams>, sensitivity);
      break;
    case 'ensemble':
      detector = new EnsembleDetector(params as Partial<EnsembleParams>, sensitivity);
      break;
    default:
      throw new DetectorError('DETECTOR_UNKNOWN', `unknown detector kind "${String(spec.kind)}"`);
  }
  if (state !== undefined) detector.restore(state);
  return detector;
}

/** The parameter schema of each kind, for config validation. */
export const DETECTOR_PARAM_SCHEMAS = {
  robust: robustParamsSchema,
  seasonal: seasonalParamsSchema,
  cusum: cusumParamsSchema,
  ensemble: ensembleParamsSchema,
} as const;
