import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { z } from 'zod';
import { CostError, formatScaled, parseScaledDecimal } from './money';

/**
 * FOCUS (FinOps Open Cost and Usage Specification) 1.0–1.2 invoice import: a CSV stream in,
 * invoice lines and rejects out, row by row. Each row is validated with zod; a bad row is a
 * reject with its line number and the reason, and the good rows go on. Both styles seen in the
 * wild are read: the provider exports (quoted values, `NULL`, `2024-09-01 00:00:00`) and the
 * specification's examples (ISO times with Z, US dates `4/1/25`, `"$10,000.00 "`, `null`, BOM).
 * Costs are kept exactly, as integers of 10^-12 of the currency (exports carry 11 decimals).
 */
export const INVOICE_SCALE = 12;
export const CHARGE_CATEGORIES = ['Usage', 'Purchase', 'Tax', 'Credit', 'Adjustment'] as const;
/** Columns a FOCUS file must have for ArcWatch to use it (BillingCurrency may come from an option). */
export const REQUIRED_COLUMNS = ['BilledCost', 'ChargePeriodStart', 'ChargePeriodEnd', 'ChargeCategory'] as const;

export interface InvoiceLine {
  /** Deterministic: hash of the row's values and its occurrence among identical rows of the file. */
  id: string;
  lineNo: number;
  billedCost: bigint;
  effectiveCost: bigint | null;
  listCost: bigint | null;
  currency: string;
  chargePeriodStartMs: number;
  chargePeriodEndMs: number;
  billingPeriodStartMs: number | null;
  billingPeriodEndMs: number | null;
  chargeCategory: (typeof CHARGE_CATEGORIES)[number];
  chargeClass: string | null;
  chargeDescription: string | null;
  resourceId: string | null;
  resourceName: string | null;
  providerName: string | null;
  regionId: string | null;
  serviceName: string | null;
  skuId: string | null;
  consumedQuantity: string | null;
  consumedUnit: string | null;
  pricingQuantity: string | null;
  pricingUnit: string | null;
  tags: Record<string, unknown> | null;
}

export interface InvoiceReject {
  lineNo: number;
  reason: string;
  /** The row as read (column → text), for the rejects table. */
  raw: Record<string, string>;
}

export type FocusRow = { ok: true; line: InvoiceLine } | { ok: false; reject: InvoiceReject };

export interface FocusImportOptions {
  /** Used when the file has no BillingCurrency column (the specification's examples omit it). */
  defaultCurrency?: string;
}

const NULLS = new Set(['', 'null', 'NULL']);

function nullable(v: string | undefined): string | null {
  if (v === undefined) return null;
  const t = v.trim();
  return NULLS.has(t) ? null : t;
}

/** "$10,000.00 " → "10000.00"; plain decimals pass through. */
function moneyText(v: string): string {
  return v
    .trim()
    .replace(/^(-?)\$/, '$1')
    .replace(/,(?=\d{3}(\D|$))/g, '');
}

function parseCost(v: string): bigint | undefined {
  try {
    return parseScaledDecimal(moneyText(v), INVOICE_SCALE);
  } catch {
    return undefined;
  }
}

const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?$/;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const US_RE = /^(\d{1,2})\/(\d{1,2})\/(\d{2}|\d{4})$/;

function utc(y: number, mo: number, d: number, h = 0, mi = 0, s = 0, ms = 0): number | undefined {
  const t = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  const back = new Date(t);
  // Date.UTC rolls over (hour 30 becomes the next day); a real timestamp round-trips.
  if (
    back.getUTCFullYear() !== y ||
    back.getUTCMonth() !== mo - 1 ||
    back.getUTCDate() !== d ||
    back.getUTCHours() !== h ||
    back.getUTCMinutes() !== mi ||
    back.getUTCSeconds() !== s
  ) {
    return undefined;
  }
  return t;
}

/** A FOCUS date/time: ISO 8601 (Z or offset; no zone means UTC), `YYYY-MM-DD`, or US `M/D/YY`. */
export function parseFocusTime(text: string): number | undefined {
  const v = text.trim();
  let m = ISO_RE.exec(v);
  if (m) {
    const ms = m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0;
    const t = utc(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0), ms);
    if (t === undefined) return undefined;
    const zone = m[8];
    if (!zone || zone === 'Z') return t;
    const zm = /^([+-])(\d{2}):?(\d{2})$/.exec(zone);
    if (!zm || Number(zm[2]) > 23 || Number(zm[3]) > 59) return undefined;
    const off = (Number(zm[2]) * 60 + Number(zm[3])) * 60_000;
    return zm[1] === '+' ? t - off : t + off;
  }
  m = DATE_RE.exec(v);
  if (m) return utc(Number(m[1]), Number(m[2]), Number(m[3]));
  m = US_RE.exec(v);
  if (m) {
    const y = (m[3] as string).length === 2 ? 2000 + Number(m[3]) : Number(m[3]);
    return utc(y, Number(m[1]), Number(m[2]));
  }
  return undefined;
}

const costField = (required: boolean) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      const t = nullable(v);
      if (t === null) {
        if (required) ctx.addIssue({ code: 'custom', message: 'required' });
        return null;
      }
      const c = parseCost(t);
      if (c === undefined) {
        ctx.addIssue({
          code: 'custom',
          message: `not a decimal amount with at most ${INVOICE_SCALE} decimals: ${JSON.stringify(t)}`,
        });
        return null;
      }
      return c;
    });

const timeField = (required: boolean) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      const t = nullable(v);
      if (t === null) {
        if (required) ctx.addIssue({ code: 'custom', message: 'required' });
        return null;
      }
      const ms = parseFocusTime(t);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: `not a valid date/time: ${JSON.stringify(t)}` });
        return null;
      }
      return ms;
    });

const textField = z
  .string()
  .optional()
  .transform((v) => nullable(v));

const quantityField = z
  .string()
  .optional()
  .transform((v, ctx) => {
    const t = nullable(v);
    if (t !== null && !/^-?\d+(\.\d+)?$/.test(moneyText(t))) {
      ctx.addIssue({ code: 'custom', message: `not a number: ${JSON.stringify(t)}` });
    }
    return t === null ? null : moneyText(t);
  });

export const focusRowSchema = z
  .object({
    BilledCost: costField(true),
    EffectiveCost: costField(false),
    ListCost: costField(false),
    BillingCurrency: z
      .string()
      .optional()
      .transform((v, ctx) => {
        const t = nullable(v);
        if (t !== null && !/^[A-Z]{3}$/.test(t))
          ctx.addIssue({ code: 'custom', message: `not a currency code: ${JSON.stringify(t)}` });
        return t;
      }),
    ChargePeriodStart: timeField(true),
    ChargePeriodEnd: timeField(true),
    BillingPeriodStart: timeField(false),
    BillingPeriodEnd: timeField(false),
    ChargeCategory: z
      .string()
      .optional()
      .transform((v, ctx) => {
        const t = nullable(v);
        const hit = CHARGE_CATEGORIES.find((c) => c === t);
        if (!hit)
          ctx.addIssue({
            code: 'custom',
            message: `expected one of ${CHARGE_CATEGORIES.join(', ')}, got ${JSON.stringify(t ?? '')}`,
          });
        return hit ?? 'Usage';
      }),
    ChargeClass: z
      .string()
      .optional()
      .transform((v, ctx) => {
        const t = nullable(v);
        if (t !== null && t !== 'Correction')
          ctx.addIssue({ code: 'custom', message: `expected Correction or null, got ${JSON.stringify(t)}` });
        return t;
      }),
    ChargeDescription: textField,
    ResourceId: textField,
    ResourceName: textField,
    ProviderName: textField,
    RegionId: textField,
    ServiceName: textField,
    SkuId: textField,
    ConsumedQuantity: quantityField,
    ConsumedUnit: textField,
    PricingQuantity: quantityField,
    PricingUnit: textField,
    Tags: z
      .string()
      .optional()
      .transform((v, ctx) => {
        const t = nullable(v);
        if (t === null) return null;
        try {
          const j: unknown = JSON.parse(t);
          if (j !== null && typeof j === 'object' && !Array.isArray(j)) return j as Record<string, unknown>;
        } catch {
          // reported below
        }
        ctx.addIssue({ code: 'custom', message: 'not a JSON object' });
        return null;
      }),
  })
  .superRefine((r, ctx) => {
    if (r.ChargePeriodStart !== null && r.ChargePeriodEnd !== null && r.ChargePeriodEnd < r.ChargePeriodStart) {
      ctx.addIssue({ code: 'custom', path: ['ChargePeriodEnd'], message: 'before ChargePeriodStart' });
    }
  });

function rowKey(raw: Record<string, string>, columns: readonly string[]): string {
  const h = createHash('sha256');
  for (const c of columns) {
    h.update(c);
    h.update('\u0000');
    h.update(raw[c] ?? '');
    h.update('\u0001');
  }
  return h.digest('hex').slice(0, 24);
}

/** Validates one CSV record (column → text). `occurrence` counts identical earlier rows. */
export function validateFocusRow(
  raw: Record<string, string>,
  lineNo: number,
  columns: readonly string[],
  occurrence: number,
  opts: FocusImportOptions,
): FocusRow {
  const parsed = focusRowSchema.safeParse(raw);
  if (!parsed.success) {
    const reason = parsed.error.issues.map((i) => `${i.path.join('.') || '(row)'}: ${i.message}`).join('; ');
    return { ok: false, reject: { lineNo, reason, raw } };
  }
  const r = parsed.data;
  const currency = r.BillingCurrency ?? opts.defaultCurrency ?? null;
  if (currency === null)
    return {
      ok: false,
      reject: { lineNo, reason: 'BillingCurrency: required (no column and no default currency)', raw },
    };
  return {
    ok: true,
    line: {
      id: `${rowKey(raw, columns)}-${occurrence}`,
      lineNo,
      billedCost: r.BilledCost as bigint,
      effectiveCost: r.EffectiveCost,
      listCost: r.ListCost,
      currency,
      chargePeriodStartMs: r.ChargePeriodStart as number,
      chargePeriodEndMs: r.ChargePeriodEnd as number,
      billingPeriodStartMs: r.BillingPeriodStart,
      billingPeriodEndMs: r.BillingPeriodEnd,
      chargeCategory: r.ChargeCategory,
      chargeClass: r.ChargeClass,
      chargeDescription: r.ChargeDescription,
      resourceId: r.ResourceId,
      resourceName: r.ResourceName,
      providerName: r.ProviderName,
      regionId: r.RegionId,
      serviceName: r.ServiceName,
      skuId: r.SkuId,
      consumedQuantity: r.ConsumedQuantity,
      consumedUnit: r.ConsumedUnit,
      pricingQuantity: r.PricingQuantity,
      pricingUnit: r.PricingUnit,
      tags: r.Tags,
    },
  };
}

/**
 * Reads a FOCUS CSV stream row by row. The header must name the required columns (otherwise the
 * whole file is refused: INVOICE_HEADER_INVALID); a row with the wrong number of fields or broken
 * quoting is a reject like any other bad row.
 */
export async function* readFocusCsv(
  input: Readable | AsyncIterable<string | Buffer>,
  opts: FocusImportOptions = {},
): AsyncGenerator<FocusRow> {
  const skipped: InvoiceReject[] = [];
  const parser = parse({
    bom: true,
    info: true,
    skip_empty_lines: true,
    relax_column_count: true,
    skip_records_with_error: true,
    on_skip: (err: Error | undefined, raw: string | undefined) => {
      const lines = (err as { lines?: number } | undefined)?.lines ?? 0;
      skipped.push({
        lineNo: lines,
        reason: withoutNul(`unreadable CSV: ${err?.message ?? 'skipped'}`),
        raw: { _raw: withoutNul(raw ?? '') },
      });
      return undefined;
    },
  });
  const feed = (async () => {
    try {
      for await (const chunk of input) {
        if (!parser.write(chunk)) await new Promise((res) => parser.once('drain', res));
      }
      parser.end();
    } catch (err) {
      parser.destroy(err as Error);
    }
  })();

  let columns: string[] | null = null;
  const seen = new Map<string, number>();
  for await (const item of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
    while (skipped.length > 0) yield { ok: false, reject: skipped.shift() as InvoiceReject };
    const { record, info } = item;
    if (columns === null) {
      columns = record.map((c) => c.trim());
      const nul = columns.findIndex((c) => c.includes('\u0000'));
      if (nul >= 0) {
        parser.destroy();
        throw new CostError('INVOICE_HEADER_INVALID', `line ${info.lines}: column ${nul + 1} holds a NUL character`);
      }
      const missing = REQUIRED_COLUMNS.filter((c) => !columns?.includes(c));
      if (missing.length > 0) {
        parser.destroy();
        throw new CostError(
          'INVOICE_HEADER_INVALID',
          `line ${info.lines}: missing FOCUS column(s) ${missing.join(', ')}`,
        );
      }
      continue;
    }
    const raw: Record<string, string> = {};
    columns.forEach((c, i) => (raw[c] = record[i] ?? ''));
    // PostgreSQL's text and jsonb cannot hold NUL: such a row is refused, and kept with U+FFFD in its place.
    const nulColumn = columns.find((c) => raw[c].includes('\u0000'));
    if (nulColumn !== undefined) {
      for (const c of columns) raw[c] = withoutNul(raw[c]);
      yield { ok: false, reject: { lineNo: info.lines, reason: `${nulColumn}: holds a NUL character`, raw } };
      continue;
    }
    if (record.length !== columns.length) {
      yield {
        ok: false,
        reject: { lineNo: info.lines, reason: `expected ${columns.length} fields, found ${record.length}`, raw },
      };
      continue;
    }
    const key = rowKey(raw, columns);
    const occurrence = seen.get(key) ?? 0;
    seen.set(key, occurrence + 1);
    yield validateFocusRow(raw, info.lines, columns, occurrence, opts);
  }
  while (skipped.length > 0) yield { ok: false, reject: skipped.shift() as InvoiceReject };
  await feed;
  if (columns === null) throw new CostError('INVOICE_HEADER_INVALID', 'empty file');
}

export interface FocusImportResult {
  lines: InvoiceLine[];
  rejects: InvoiceReject[];
}

export async function importFocusFile(file: string, opts: FocusImportOptions = {}): Promise<FocusImportResult> {
  const lines: InvoiceLine[] = [];
  const rejects: InvoiceReject[] = [];
  for await (const row of readFocusCsv(createReadStream(file), opts)) {
    if (row.ok) lines.push(row.line);
    else rejects.push(row.reject);
  }
  return { lines, rejects };
}

export function formatInvoiceAmount(v: bigint): string {
  return formatScaled(v, INVOICE_SCALE, 2);
}

function withoutNul(s: string): string {
  return s.replaceAll('\u0000', '\ufffd');
}
