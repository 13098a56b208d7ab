import { z } from 'zod';
import {
  DEFAULT_CALIBRATION,
  alarmLevel,
  calibrate,
  calibrationSchema,
  deviationScore,
  expectState,
  newCalibrator,
  readCalibrator,
  type CalibratorState,
  isObservation,
  QUIET,
  sided,
  DetectorError,
  type DetectorOutput,
  type DetectorState,
  type StreamingDetector,
} from './detector';

/**
 * Holt-Winters with two additive seasonal profiles, one over the day and one over the week,
 * indexed by the sample's time rather than its position: a sample lands in the bin of its
 * time of day (and of week), so irregular spacing and gaps do not shift the seasons. Smoothing
 * factors are per typical sample interval and are compounded over longer gaps, so a level that
 * went unobserved for an hour moves as much as twelve 5-minute samples would have moved it.
 * Updates use residuals clipped at `clip` spreads (Huber), so a spike does not bend the seasons.
 */
export const seasonalParamsSchema = z
  .object({
    /** Level smoothing per typical interval. */
    alpha: z.number().gt(0).lt(1).default(0.02),
    /** Daily profile smoothing per visit of a bin. */
    gammaDay: z.number().gt(0).lt(1).default(0.05),
    /** Weekly profile smoothing per visit of a bin (learns what the daily profile leaves). */
    gammaWeek: z.number().gt(0).lt(1).default(0.05),
    dayBins: z.number().int().min(1).max(1440).default(48),
    weekBins: z.number().int().min(1).max(2016).default(168),
    /** Smoothing of the residual spread. */
    spreadAlpha: z.number().gt(0).lt(1).default(0.01),
    /** Residuals are clipped at this many spreads before they update the model. */
    clip: z.number().positive().default(5),
    warmup: z.number().int().min(1).default(30),
    /** Residual, in spreads, that scores 0.5. */
    reference: z.number().positive().default(6),
    sides: z.enum(['both', 'up', 'down']).default('both'),
    calibration: calibrationSchema.default({ ...DEFAULT_CALIBRATION, alpha: 0.0005 }),
  })
  .strict();
export type SeasonalParams = z.infer<typeof seasonalParamsSchema>;

const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;

function bin(timeMs: number, period: number, bins: number): number {
  const phase = ((timeMs % period) + period) % period;
  return Math.min(bins - 1, Math.floor((phase / period) * bins));
}

interface SeasonalMemory {
  seen: number;
  lastTimeMs: number;
  /** Typical interval between samples (exponential average), ms; 0 until two samples. */
  stepMs: number;
  level: number;
  spread: number;
  day: number[];
  dayVisits: number[];
  week: number[];
  weekVisits: number[];
  calibration: CalibratorState;
}

export class SeasonalDetector implements StreamingDetector {
  readonly kind = 'seasonal' as const;
  private readonly params: SeasonalParams;
  private readonly level: number;
  private m: SeasonalMemory;

  constructor(params: Partial<SeasonalParams> = {}, sensitivity = 0.5) {
    const parsed = seasonalParamsSchema.safeParse(params);
    if (!parsed.success)
      throw new DetectorError('DETECTOR_PARAMS_INVALID', `seasonal: ${parsed.error.issues[0]?.message}`);
    this.params = parsed.data;
    this.level = alarmLevel(sensitivity);
    this.m = SeasonalDetector.empty(this.params);
  }

  private static empty(p: SeasonalParams): SeasonalMemory {
    return {
      seen: 0,
      lastTimeMs: 0,
      stepMs: 0,
      level: 0,
      spread: 0,
      day: new Array<number>(p.dayBins).fill(0),
      dayVisits: new Array<number>(p.dayBins).fill(0),
      week: new Array<number>(p.weekBins).fill(0),
      weekVisits: new Array<number>(p.weekBins).fill(0),
      calibration: newCalibrator(),
    };
  }

  update(timeMs: number, value: number | null | undefined): DetectorOutput {
    if (!isObservation(value)) return QUIET;
    const p = this.params;
    const o = this.observe(timeMs, value);
    // Before the first spread there is no scale; calibrating on it would learn absurd deviations.
    if (!o || !o.scaled) return QUIET;
    const { magnitude, direction } = sided(o.residual / o.scale, p.sides);
    const score = p.calibration
      ? calibrate(this.m.calibration, magnitude, p.calibration, !o.warm)
      : deviationScore(magnitude, p.reference);
    return o.warm ? { score, anomalous: score >= this.level, direction } : QUIET;
  }

  /**
   * The forecast residual of a sample and the scale to measure it by, then the model learns the
   * sample. Undefined for the very first sample (nothing to forecast from). Other detectors use it
   * as their baseline (CUSUM accumulates these residuals).
   */
  observe(
    timeMs: number,
    value: number,
  ): { residual: number; scale: number; scaled: boolean; warm: boolean } | undefined {
    const p = this.params;
    const m = this.m;
    if (m.seen === 0) {
      m.seen = 1;
      m.lastTimeMs = timeMs;
      m.level = value;
      return undefined;
    }
    const dt = Math.max(0, timeMs - m.lastTimeMs);
    m.lastTimeMs = Math.max(m.lastTimeMs, timeMs);
    if (dt > 0) m.stepMs = m.stepMs === 0 ? dt : m.stepMs + 0.05 * (Math.min(dt, 10 * m.stepMs) - m.stepMs);
    const steps = m.stepMs > 0 ? Math.max(1, dt / m.stepMs) : 1;
    const d = bin(timeMs, DAY_MS, p.dayBins);
    const w = bin(timeMs, WEEK_MS, p.weekBins);
    const residual = value - (m.level + m.day[d] + m.week[w]);
    // A perfectly regular series still gets a non-zero scale.
    const scale = Math.max(1.2533 * m.spread, 1e-9 * Math.max(1, Math.abs(m.level)));
    const scaled = m.spread > 0;
    const warm = m.seen >= p.warmup && scaled;

    // Early on the averages are plain means (1/n), later exponential; that learns fast and settles.
    m.seen++;
    const limit = m.spread > 0 && m.seen > p.warmup ? p.clip * 1.2533 * m.spread : Infinity;
    const r = Math.max(-limit, Math.min(limit, residual));
    const alpha = Math.max(1 - Math.pow(1 - p.alpha, steps), 1 / m.seen);
    m.level += alpha * r;
    let rest = r * (1 - alpha);
    const gd = Math.max(p.gammaDay, 1 / (m.dayVisits[d] + 2));
    m.day[d] += gd * rest;
    m.dayVisits[d]++;
    rest *= 1 - gd;
    const gw = Math.max(p.gammaWeek, 1 / (m.weekVisits[w] + 2));
    m.week[w] += gw * rest;
    m.weekVisits[w]++;
    const sa = Math.max(p.spreadAlpha, 1 / m.seen);
    m.spread += sa * (Math.min(Math.abs(residual), limit) - m.spread);
    return { residual, scale, scaled, warm };
  }

  state(): DetectorState {
    const m = this.m;
    return {
      kind: this.kind,
      version: 1,
      ...m,
      day: [...m.day],
      dayVisits: [...m.dayVisits],
      week: [...m.week],
      weekVisits: [...m.weekVisits],
      calibration: { ...m.calibration },
    };
  }

  restore(state: unknown): void {
    const s = expectState(state, this.kind);
    const p = this.params;
    const nums = (k: string, len: number): number[] => {
      const v = s[k];
      if (!Array.isArray(v) || v.length !== len || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
        throw new DetectorError('DETECTOR_STATE_INVALID', `seasonal: ${k} must be ${len} finite numbers`);
      }
      return [...(v as number[])];
    };
    const num = (k: string): number => {
      const v = s[k];
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw new DetectorError('DETECTOR_STATE_INVALID', `seasonal: ${k} must be a finite number`);
      return v;
    };
    this.m = {
      seen: num('seen'),
      lastTimeMs: num('lastTimeMs'),
      stepMs: num('stepMs'),
      level: num('level'),
      spread: num('spread'),
      day: nums('day', p.dayBins),
      dayVisits: nums('dayVisits', p.dayBins),
      week: nums('week', p.weekBins),
      weekVisits: nums('weekVisits', p.weekBins),
      calibration: readCalibrator(s.calibration, this.kind),
    };
  }
}
