import { z } from 'zod';
import {
  alarmLevel,
  calibrate,
  calibrationSchema,
  deviationScore,
  expectState,
  isObservation,
  newCalibrator,
  readCalibrator,
  QUIET,
  DetectorError,
  type CalibratorState,
  type DetectorOutput,
  type DetectorState,
  type StreamingDetector,
} from './detector';
import { SeasonalDetector, seasonalParamsSchema } from './seasonal.detector';

/**
 * Two-sided CUSUM: small, sustained shifts (a latency that creeps up, an error rate that steps
 * from 1 % to 3 %, throughput that sags) add up where a per-sample test sees only noise. What is
 * summed is the standardised residual against a slow seasonal baseline (the Holt-Winters model of
 * the seasonal detector, with a slower level), so the daily rhythm of traffic is not read as a
 * shift. Residuals are clipped at `clip`, so one spike adds at most that much; `drift` (k) is the
 * allowance per sample; the sums decay once the baseline has absorbed a lasting change.
 */
/** The seasonal model's parameters, with a slower level: a shift must persist to be absorbed. */
const baselineSchema = seasonalParamsSchema
  .omit({ calibration: true, reference: true, sides: true })
  .extend({ alpha: z.number().gt(0).lt(1).default(0.03) });

export const cusumParamsSchema = z
  .object({
    drift: z.number().min(0).default(3),
    /** Sum that scores 0.5 (h); with calibration on, the score is the lower of this and the calibrated one. */
    reference: z.number().positive().default(1),
    clip: z.number().positive().default(6),
    sides: z.enum(['both', 'up', 'down']).default('both'),
    /** The baseline: seasonal-model parameters (set dayBins and weekBins to 1 for a flat baseline). */
    baseline: baselineSchema.default(() => baselineSchema.parse({})),
    calibration: calibrationSchema,
  })
  .strict();
export type CusumParams = z.infer<typeof cusumParamsSchema>;

interface CusumMemory {
  up: number;
  down: number;
  calibration: CalibratorState;
}

export class CusumDetector implements StreamingDetector {
  readonly kind = 'cusum' as const;
  private readonly params: CusumParams;
  private readonly level: number;
  private readonly baseline: SeasonalDetector;
  private m: CusumMemory = { up: 0, down: 0, calibration: newCalibrator() };

  constructor(params: Partial<CusumParams> = {}, sensitivity = 0.5) {
    const parsed = cusumParamsSchema.safeParse(params);
    if (!parsed.success)
      throw new DetectorError('DETECTOR_PARAMS_INVALID', `cusum: ${parsed.error.issues[0]?.message}`);
    this.params = parsed.data;
    this.level = alarmLevel(sensitivity);
    this.baseline = new SeasonalDetector({ ...this.params.baseline, calibration: false });
  }

  update(timeMs: number, value: number | null | undefined): DetectorOutput {
    if (!isObservation(value)) return QUIET;
    const p = this.params;
    const m = this.m;
    const o = this.baseline.observe(timeMs, value);
    if (!o || !o.warm) return QUIET;
    const z = Math.max(-p.clip, Math.min(p.clip, o.residual / o.scale));
    m.up = p.sides === 'down' ? 0 : Math.max(0, m.up + z - p.drift);
    m.down = p.sides === 'up' ? 0 : Math.max(0, m.down - z - p.drift);
    const sum = Math.max(m.up, m.down);
    // Calibrated, a sum must be unusual for this series and also reach the textbook level h.
    const raw = deviationScore(sum, p.reference);
    const score = p.calibration ? Math.min(raw, calibrate(m.calibration, sum, p.calibration)) : raw;
    const direction = sum === 0 ? 'none' : m.up >= m.down ? 'up' : 'down';
    return { score, anomalous: score >= this.level, direction };
  }

  state(): DetectorState {
    return {
      kind: this.kind,
      version: 1,
      up: this.m.up,
      down: this.m.down,
      calibration: { ...this.m.calibration },
      baseline: this.baseline.state(),
    };
  }

  restore(state: unknown): void {
    const s = expectState(state, this.kind);
    if (![s.up, s.down].every((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0)) {
      throw new DetectorError('DETECTOR_STATE_INVALID', 'cusum: up and down must be finite non-negative numbers');
    }
    this.baseline.restore(s.baseline);
    this.m = { up: s.up as number, down: s.down as number, calibration: readCalibrator(s.calibration, this.kind) };
  }
}
