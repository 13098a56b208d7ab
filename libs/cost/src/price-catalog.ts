import {
  ConfigFileError,
  loadYamlConfig,
  parseYamlConfig,
  type ConfigIssue,
  type YamlSource,
} from '@arcwatch/config-files';
import { z } from 'zod';
import { CostError, MICRO_PER_UNIT, addR, mulR, parseRational, rational, type Rational } from './money';

/**
 * The price catalog: what one GPU costs per hour, by GPU model, instance type, provider, region
 * (and zone for spot), pricing kind, effective-dated, each entry in its own currency. Prices are
 * decimal strings in the file and exact fractions of micro-units per GPU-hour in memory: an
 * instance price over 8 GPUs, or a purchase price over 36 months, is rarely a whole micro-unit.
 */
export const PRICING_KINDS = ['on-demand', 'reserved', 'spot', 'on-prem'] as const;
export type PricingKind = (typeof PRICING_KINDS)[number];

/** An average month: 8760 h / 12. Amortisation spreads a purchase over months of this length. */
export const HOURS_PER_MONTH = 730n;

const decimal = z.string().regex(/^\d+(\.\d+)?$/, 'expected a non-negative decimal string, e.g. "12.29"');
const isoTime = z.iso.datetime({ offset: true });
const currency = z.string().regex(/^[A-Z]{3}$/, 'expected an ISO 4217 currency code, e.g. USD');

const amortisedSchema = z.strictObject({
  /** What the machine cost, in the entry's currency. */
  purchasePrice: decimal,
  months: z.number().int().positive(),
  /** GPUs the purchase price and the power draw are for. */
  gpus: z.number().int().positive(),
  /** Average draw of the machine, kW, and the price of a kWh; both optional (power included elsewhere). */
  powerKw: decimal.optional(),
  pricePerKwh: decimal.optional(),
});

export const priceEntrySchema = z
  .strictObject({
    gpuModel: z.string().min(1),
    instanceType: z.string().min(1).optional(),
    provider: z.string().min(1),
    region: z.string().min(1).optional(),
    zone: z.string().min(1).optional(),
    pricingKind: z.enum(PRICING_KINDS),
    effectiveFrom: isoTime,
    effectiveTo: isoTime.optional(),
    currency,
    perGpuHour: decimal.optional(),
    perInstanceHour: decimal.optional(),
    gpusPerInstance: z.number().int().positive().optional(),
    amortised: amortisedSchema.optional(),
    note: z.string().optional(),
  })
  .superRefine((e, ctx) => {
    const forms = [e.perGpuHour, e.perInstanceHour, e.amortised].filter((x) => x !== undefined).length;
    if (forms !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: 'give exactly one of perGpuHour, perInstanceHour (+ gpusPerInstance), amortised',
      });
    }
    if (e.perInstanceHour !== undefined && e.gpusPerInstance === undefined) {
      ctx.addIssue({ code: 'custom', path: ['gpusPerInstance'], message: 'required with perInstanceHour' });
    }
    if (e.amortised !== undefined && e.pricingKind !== 'on-prem') {
      ctx.addIssue({ code: 'custom', path: ['pricingKind'], message: 'amortised prices are pricingKind on-prem' });
    }
    if (e.amortised && (e.amortised.powerKw === undefined) !== (e.amortised.pricePerKwh === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['amortised'], message: 'powerKw and pricePerKwh go together' });
    }
    if (e.effectiveTo !== undefined && Date.parse(e.effectiveTo) <= Date.parse(e.effectiveFrom)) {
      ctx.addIssue({ code: 'custom', path: ['effectiveTo'], message: 'must be after effectiveFrom' });
    }
  });
export type PriceEntryInput = z.infer<typeof priceEntrySchema>;

export const priceCatalogFileSchema = z.strictObject({ prices: z.array(priceEntrySchema) });

export interface PriceEntry extends PriceEntryInput {
  /** Identifies the series this entry belongs to (same key, different effective dates). */
  seriesKey: string;
  fromMs: number;
  toMs: number;
  /** Exact micro-units of `currency` per GPU-hour. */
  microPerGpuHour: Rational;
}

/** What an instance's placement says about its price; unset fields match any entry. */
export interface PriceSelector {
  gpuModel: string;
  instanceType?: string;
  provider?: string;
  region?: string;
  zone?: string;
  pricingKind?: PricingKind;
}

const SELECTOR_FIELDS = ['gpuModel', 'instanceType', 'provider', 'region', 'zone', 'pricingKind'] as const;

export function seriesKeyOf(e: PriceSelector): string {
  return SELECTOR_FIELDS.map((f) => e[f] ?? '*').join('|');
}

export function microPerGpuHour(e: PriceEntryInput): Rational {
  const micro = rational(MICRO_PER_UNIT);
  if (e.perGpuHour !== undefined) return mulR(parseRational(e.perGpuHour), micro);
  if (e.perInstanceHour !== undefined) {
    return mulR(parseRational(e.perInstanceHour), rational(MICRO_PER_UNIT, BigInt(e.gpusPerInstance ?? 1)));
  }
  const a = e.amortised;
  if (!a) throw new CostError('PRICE_NOT_FOUND', 'entry without a price');
  let perHour = mulR(parseRational(a.purchasePrice), rational(1n, BigInt(a.months) * HOURS_PER_MONTH));
  if (a.powerKw !== undefined && a.pricePerKwh !== undefined) {
    perHour = addR(perHour, mulR(parseRational(a.powerKw), parseRational(a.pricePerKwh)));
  }
  return mulR(perHour, rational(MICRO_PER_UNIT, BigInt(a.gpus)));
}

export class PriceCatalog {
  private readonly bySeries = new Map<string, PriceEntry[]>();
  /** Selector → its series; allocation asks the same question for every window. */
  private readonly resolved = new Map<string, PriceEntry[]>();

  constructor(readonly entries: readonly PriceEntry[]) {
    for (const e of entries) {
      const list = this.bySeries.get(e.seriesKey) ?? [];
      list.push(e);
      this.bySeries.set(e.seriesKey, list);
    }
    for (const list of this.bySeries.values()) list.sort((a, b) => a.fromMs - b.fromMs);
  }

  static fromInputs(inputs: readonly PriceEntryInput[]): PriceCatalog {
    return new PriceCatalog(inputs.map(toEntry));
  }

  /** The one series a selector picks; none or several (with a price at some time) is an error. */
  private series(sel: PriceSelector): PriceEntry[] {
    const key = seriesKeyOf(sel);
    const hit = this.resolved.get(key);
    if (hit) return hit;
    const found = this.match(sel);
    this.resolved.set(key, found);
    return found;
  }

  private match(sel: PriceSelector): PriceEntry[] {
    const matches: PriceEntry[][] = [];
    for (const list of this.bySeries.values()) {
      const first = list[0];
      if (first && SELECTOR_FIELDS.every((f) => sel[f] === undefined || first[f] === sel[f])) matches.push(list);
    }
    if (matches.length === 0) throw new CostError('PRICE_NOT_FOUND', `no price for ${describe(sel)}`);
    if (matches.length > 1) {
      const keys = matches.map((m) => m[0]?.seriesKey).join(', ');
      throw new CostError(
        'PRICE_AMBIGUOUS',
        `${describe(sel)} matches ${matches.length} price series (${keys}); say more`,
      );
    }
    return matches[0] as PriceEntry[];
  }

  /** The entry in force at `timeMs` (the latest effectiveFrom at or before it, until its effectiveTo). */
  lookup(sel: PriceSelector, timeMs: number): PriceEntry {
    const list = this.series(sel);
    let found: PriceEntry | undefined;
    for (const e of list) if (e.fromMs <= timeMs) found = e;
    if (!found || timeMs >= found.toMs) {
      throw new CostError('PRICE_NOT_FOUND', `no price for ${describe(sel)} at ${new Date(timeMs).toISOString()}`);
    }
    return found;
  }

  /**
   * The prices over [fromMs, toMs) as consecutive pieces (a price change inside the span splits
   * it); a gap without a price is PRICE_NOT_FOUND.
   */
  pieces(sel: PriceSelector, fromMs: number, toMs: number): Array<{ fromMs: number; toMs: number; entry: PriceEntry }> {
    const list = this.series(sel);
    const out: Array<{ fromMs: number; toMs: number; entry: PriceEntry }> = [];
    let t = fromMs;
    while (t < toMs) {
      const e = this.lookup(sel, t);
      const next = list.find((x) => x.fromMs > t);
      const end = Math.min(toMs, e.toMs, next ? next.fromMs : Number.POSITIVE_INFINITY);
      out.push({ fromMs: t, toMs: end, entry: e });
      t = end;
    }
    return out;
  }
}

function describe(sel: PriceSelector): string {
  return SELECTOR_FIELDS.filter((f) => sel[f] !== undefined)
    .map((f) => `${f}=${sel[f]}`)
    .join(' ');
}

function toEntry(e: PriceEntryInput): PriceEntry {
  return {
    ...e,
    seriesKey: seriesKeyOf(e),
    fromMs: Date.parse(e.effectiveFrom),
    toMs: e.effectiveTo === undefined ? Number.POSITIVE_INFINITY : Date.parse(e.effectiveTo),
    microPerGpuHour: microPerGpuHour(e),
  };
}

/** Checks that need the whole file: two entries of one series starting at the same time. */
function catalogIssues(inputs: readonly PriceEntryInput[], source: YamlSource): ConfigIssue[] {
  const seen = new Map<string, number>();
  const issues: ConfigIssue[] = [];
  inputs.forEach((e, i) => {
    const key = `${seriesKeyOf(e)}@${Date.parse(e.effectiveFrom)}`;
    const prev = seen.get(key);
    if (prev !== undefined) {
      issues.push(source.issue(['prices', i, 'effectiveFrom'], `same series and effectiveFrom as prices[${prev}]`));
    } else {
      seen.set(key, i);
    }
  });
  return issues;
}

export function parsePriceCatalog(text: string, file: string): PriceCatalog {
  const { value, source } = parseYamlConfig(text, file, priceCatalogFileSchema);
  const issues = catalogIssues(value.prices, source);
  if (issues.length > 0) throw new ConfigFileError(issues);
  return PriceCatalog.fromInputs(value.prices);
}

export function loadPriceCatalog(file: string): PriceCatalog {
  const { value, source } = loadYamlConfig(file, priceCatalogFileSchema);
  const issues = catalogIssues(value.prices, source);
  if (issues.length > 0) throw new ConfigFileError(issues);
  return PriceCatalog.fromInputs(value.prices);
}
