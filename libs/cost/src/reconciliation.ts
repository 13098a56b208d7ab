import type { AllocationLine, WindowAllocation } from './allocation';
import { INVOICE_SCALE, type InvoiceLine } from './focus-import';
import { formatScaled, largestRemainder, roundHalfEven } from './money';

/**
 * Reconciliation: the invoice is the truth, the model says who used it. Per provider resource
 * and charge period, the billed amount (Σ of its invoice lines, rounded once to micro-units) is
 * split over the modelled allocation lines of the windows in that period, in proportion to their
 * modelled amounts, by largest remainder: Σ reconciled = billed, to the micro-unit. What matches
 * nothing is reported, never dropped: invoice lines without a modelled resource, and modelled
 * usage that no invoice line covers.
 */
export interface ReconciledLine extends AllocationLine {
  /** The modelled amount (amountMicro) scaled to the invoice. */
  reconciledMicro: bigint;
}

export interface ReconciledGroup {
  resourceId: string;
  periodStartMs: number;
  periodEndMs: number;
  currency: string;
  billedMicro: bigint;
  modelledMicro: bigint;
  /** billed / modelled, 6 decimals; null when nothing was modelled. */
  scale: string | null;
  invoiceLineIds: string[];
  windows: number;
  lines: ReconciledLine[];
}

export type UnmatchedReason =
  'no resource id' | 'resource not in inventory' | 'no modelled usage in period' | 'currency differs from the model';

export interface UnmatchedInvoiceLine {
  lineId: string;
  lineNo: number;
  resourceId: string | null;
  billedMicro: bigint;
  currency: string;
  reason: UnmatchedReason;
}

export interface UnbilledUsage {
  instance: string;
  resourceId: string | null;
  fromMs: number;
  toMs: number;
  windows: number;
  modelledMicro: bigint;
  currency: string;
}

export interface ReconciliationResult {
  groups: ReconciledGroup[];
  unmatchedInvoiceLines: UnmatchedInvoiceLine[];
  unbilledUsage: UnbilledUsage[];
}

const PICO_PER_MICRO = 10n ** BigInt(INVOICE_SCALE - 6);

interface Group {
  resourceId: string;
  periodStartMs: number;
  periodEndMs: number;
  currency: string;
  billedPico: bigint;
  lines: InvoiceLine[];
  windows: WindowAllocation[];
}

export function reconcile(windows: readonly WindowAllocation[], invoice: readonly InvoiceLine[]): ReconciliationResult {
  const unmatched: UnmatchedInvoiceLine[] = [];
  const byResource = new Map<string, WindowAllocation[]>();
  for (const w of windows) {
    if (w.resourceId === null) continue;
    const list = byResource.get(w.resourceId) ?? [];
    list.push(w);
    byResource.set(w.resourceId, list);
  }

  const groups = new Map<string, Group>();
  const miss = (l: InvoiceLine, reason: UnmatchedReason) =>
    unmatched.push({
      lineId: l.id,
      lineNo: l.lineNo,
      resourceId: l.resourceId,
      billedMicro: roundHalfEven(l.billedCost, PICO_PER_MICRO),
      currency: l.currency,
      reason,
    });
  for (const l of invoice) {
    if (l.resourceId === null) {
      miss(l, 'no resource id');
      continue;
    }
    if (!byResource.has(l.resourceId)) {
      miss(l, 'resource not in inventory');
      continue;
    }
    const key = `${l.resourceId}\u0000${l.chargePeriodStartMs}\u0000${l.chargePeriodEndMs}\u0000${l.currency}`;
    const g = groups.get(key) ?? {
      resourceId: l.resourceId,
      periodStartMs: l.chargePeriodStartMs,
      periodEndMs: l.chargePeriodEndMs,
      currency: l.currency,
      billedPico: 0n,
      lines: [],
      windows: [],
    };
    g.billedPico += l.billedCost;
    g.lines.push(l);
    groups.set(key, g);
  }

  // Each window goes to one group: the shortest charge period that contains its start (an hourly
  // line wins over a monthly one for the same resource), so no window is reconciled twice.
  const ordered = [...groups.values()].sort(
    (a, b) => a.periodEndMs - a.periodStartMs - (b.periodEndMs - b.periodStartMs) || a.periodStartMs - b.periodStartMs,
  );
  const taken = new Set<WindowAllocation>();
  for (const g of ordered) {
    for (const w of byResource.get(g.resourceId) ?? []) {
      if (taken.has(w) || w.windowStartMs < g.periodStartMs || w.windowStartMs >= g.periodEndMs) continue;
      if (w.currency !== g.currency) continue;
      g.windows.push(w);
      taken.add(w);
    }
  }

  const out: ReconciledGroup[] = [];
  for (const g of [...groups.values()].sort(byPeriod)) {
    const billedMicro = roundHalfEven(g.billedPico, PICO_PER_MICRO);
    const currencyOk = (byResource.get(g.resourceId) ?? []).some((w) => w.currency === g.currency);
    if (g.windows.length === 0) {
      for (const l of g.lines) miss(l, currencyOk ? 'no modelled usage in period' : 'currency differs from the model');
      continue;
    }
    g.windows.sort(
      (a, b) => a.windowStartMs - b.windowStartMs || (a.instance < b.instance ? -1 : a.instance > b.instance ? 1 : 0),
    );
    const lines = g.windows.flatMap((w) => w.lines);
    const modelled = lines.reduce((s, l) => s + l.amountMicro, 0n);
    let reconciled: bigint[];
    if (modelled === 0n) {
      // Billed but modelled as free: spread evenly over the windows' lines so nothing is lost.
      reconciled = largestRemainder(
        billedMicro,
        lines.map(() => 1n),
      );
    } else {
      reconciled = largestRemainder(
        billedMicro,
        lines.map((l) => l.amountMicro),
      );
    }
    out.push({
      resourceId: g.resourceId,
      periodStartMs: g.periodStartMs,
      periodEndMs: g.periodEndMs,
      currency: g.currency,
      billedMicro,
      modelledMicro: modelled,
      scale: modelled === 0n ? null : formatScaled(roundHalfEven(billedMicro * 1_000_000n, modelled), 6, 6),
      invoiceLineIds: g.lines.map((l) => l.id).sort(),
      windows: g.windows.length,
      lines: lines.map((l, i) => ({ ...l, reconciledMicro: reconciled[i] as bigint })),
    });
  }

  // Modelled windows that no invoice line covered, merged into runs per instance.
  const unbilled: UnbilledUsage[] = [];
  const rest = windows
    .filter((w) => !taken.has(w))
    .sort((a, b) => (a.instance < b.instance ? -1 : a.instance > b.instance ? 1 : a.windowStartMs - b.windowStartMs));
  for (const w of rest) {
    const last = unbilled[unbilled.length - 1];
    if (
      last &&
      last.instance === w.instance &&
      last.resourceId === w.resourceId &&
      last.toMs === w.windowStartMs &&
      last.currency === w.currency
    ) {
      last.toMs = w.windowEndMs;
      last.windows++;
      last.modelledMicro += w.costMicro;
    } else {
      unbilled.push({
        instance: w.instance,
        resourceId: w.resourceId,
        fromMs: w.windowStartMs,
        toMs: w.windowEndMs,
        windows: 1,
        modelledMicro: w.costMicro,
        currency: w.currency,
      });
    }
  }
  unmatched.sort((a, b) => a.lineNo - b.lineNo);
  return { groups: out, unmatchedInvoiceLines: unmatched, unbilledUsage: unbilled };
}

function byPeriod(a: Group, b: Group): number {
  return a.resourceId < b.resourceId
    ? -1
    : a.resourceId > b.resourceId
      ? 1
      : a.periodStartMs - b.periodStartMs || a.periodEndMs - b.periodEndMs;
}
