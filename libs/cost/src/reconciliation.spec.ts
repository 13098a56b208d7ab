import { Readable } from 'node:stream';
import fc from 'fast-check';
import { allocate, type WindowAllocation } from './allocation';
import { costRequestFromRecord } from './cost-request';
import { readFocusCsv, type InvoiceLine } from './focus-import';
import { reconcile } from './reconciliation';
import { T0, at, h100Inventory, h100Prices, record } from './testing/cost-fixtures';

async function invoice(rows: string[]): Promise<InvoiceLine[]> {
  const out: InvoiceLine[] = [];
  const csv = ['BilledCost,BillingCurrency,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ResourceId', ...rows].join(
    '\n',
  );
  for await (const r of readFocusCsv(Readable.from([csv]))) if (r.ok) out.push(r.line);
  return out;
}

function scenarioWindows(): WindowAllocation[] {
  const records = [
    record({ id: 'r1', tenant: 'acme', scheduled: 0, end: 30 }),
    record({ id: 'r2', tenant: 'globex', scheduled: 10, end: 40 }),
    record({ id: 'r3', tenant: 'initech', scheduled: 20, end: 50 }),
    record({ id: 'r4', tenant: 'acme', received: 55, scheduled: 60, end: 90 }),
    record({ id: 'r5', tenant: 'unknown', scheduled: 70, end: 95 }),
    record({ id: 'r6', tenant: 'globex', scheduled: 100, end: 130 }),
  ];
  const reqs = records.map((r) => {
    const c = costRequestFromRecord(r);
    if (!c.ok) throw new Error(c.reason);
    return c.request;
  });
  return allocate(
    reqs,
    h100Inventory(),
    h100Prices(),
    { windowMs: 60_000, method: 'time-share', idle: 'separate' },
    { fromMs: T0, toMs: T0 + 240_000 },
  ).windows;
}

describe('reconciliation to the invoice', () => {
  /*
   * The 8×H100 scenario (time-share, idle separate) models 4_916_000 micro for [0, 180 s):
   *   w0 r1 500_704, r2 364_148, r3 500_703, idle 273_111
   *   w1 r4 546_222, r5 409_667, r6 546_222, idle 136_556
   *   w2 r6 273_111, idle 1_365_556
   * and w3 [180, 240 s) all idle, 1_638_666 (floor(98.32e6·240/3600) − 4_916_000).
   * The invoice bills the resource 2.000 + 0.458 = 2.458 USD for [0, 180 s): exactly half.
   * Halving: even amounts split exactly; the odd ones (r3, w0 idle, r5, w2 r6) leave .5 each,
   * four halves = 2 micro to give, all remainders equal → the first two in order: r3, w0 idle.
   */
  it('scales the modelled lines to the billed amount, exactly', async () => {
    const lines = await invoice([
      `2.000,USD,${at(0)},${at(180)},Usage,i-vllm-h100-0`,
      `0.458,USD,${at(0)},${at(180)},Usage,i-vllm-h100-0`,
      `1.00,USD,${at(0)},${at(180)},Usage,i-elsewhere`,
      `0.10,USD,${at(0)},${at(180)},Tax,`,
    ]);
    const r = reconcile(scenarioWindows(), lines);
    expect(r.groups).toHaveLength(1);
    const g = r.groups[0];
    expect([g?.billedMicro, g?.modelledMicro, g?.scale, g?.windows, g?.invoiceLineIds.length]).toEqual([
      2_458_000n,
      4_916_000n,
      '0.500000',
      3,
      2,
    ]);
    expect(g?.lines.map((l) => [l.requestId ?? 'idle', l.reconciledMicro])).toEqual([
      ['r1', 250_352n],
      ['r2', 182_074n],
      ['r3', 250_352n],
      ['idle', 136_556n],
      ['r4', 273_111n],
      ['r5', 204_833n],
      ['r6', 273_111n],
      ['idle', 68_278n],
      ['r6', 136_555n],
      ['idle', 682_778n],
    ]);
    expect(r.unmatchedInvoiceLines.map((u) => [u.lineNo, u.reason, u.billedMicro])).toEqual([
      [4, 'resource not in inventory', 1_000_000n],
      [5, 'no resource id', 100_000n],
    ]);
    expect(r.unbilledUsage).toEqual([
      {
        instance: 'vllm-h100-0',
        resourceId: 'i-vllm-h100-0',
        fromMs: T0 + 180_000,
        toMs: T0 + 240_000,
        windows: 1,
        modelledMicro: 1_638_666n,
        currency: 'USD',
      },
    ]);
  });

  it('an invoice period with no modelled usage is reported, and a credit reconciles negative', async () => {
    const r = reconcile(
      scenarioWindows(),
      await invoice([
        `5,USD,${at(3600)},${at(7200)},Usage,i-vllm-h100-0`,
        `-1.5,USD,${at(0)},${at(60)},Credit,i-vllm-h100-0`,
      ]),
    );
    expect(r.unmatchedInvoiceLines.map((u) => [u.lineNo, u.reason])).toEqual([[2, 'no modelled usage in period']]);
    expect(r.groups[0]?.lines.reduce((s, l) => s + l.reconciledMicro, 0n)).toBe(-1_500_000n);
    expect(r.groups[0]?.lines.every((l) => l.reconciledMicro <= 0n)).toBe(true);
  });

  it('conserves: Σ reconciled = Σ billed per matched group, every window accounted once (random invoices)', () => {
    const windows = scenarioWindows();
    const totalModelled = windows.reduce((s, w) => s + w.costMicro, 0n);
    const lineArb = fc.record({
      cost: fc.bigInt({ min: -(10n ** 14n), max: 10n ** 16n }),
      from: fc.integer({ min: 0, max: 4 }),
      len: fc.integer({ min: 1, max: 4 }),
      resource: fc.constantFrom('i-vllm-h100-0', 'i-vllm-h100-0', 'i-other', null),
    });
    fc.assert(
      fc.property(fc.array(lineArb, { maxLength: 8 }), (specs) => {
        const lines: InvoiceLine[] = specs.map((s, i) => ({
          id: `l${i}`,
          lineNo: i + 2,
          billedCost: s.cost,
          effectiveCost: null,
          listCost: null,
          currency: 'USD',
          chargePeriodStartMs: T0 + s.from * 60_000,
          chargePeriodEndMs: T0 + (s.from + s.len) * 60_000,
          billingPeriodStartMs: null,
          billingPeriodEndMs: null,
          chargeCategory: 'Usage',
          chargeClass: null,
          chargeDescription: null,
          resourceId: s.resource,
          resourceName: null,
          providerName: null,
          regionId: null,
          serviceName: null,
          skuId: null,
          consumedQuantity: null,
          consumedUnit: null,
          pricingQuantity: null,
          pricingUnit: null,
          tags: null,
        }));
        const r = reconcile(windows, lines);
        for (const g of r.groups) {
          if (g.lines.reduce((s, l) => s + l.reconciledMicro, 0n) !== g.billedMicro) return false;
          if (g.lines.reduce((s, l) => s + l.amountMicro, 0n) !== g.modelledMicro) return false;
        }
        const inGroups = r.groups.reduce((s, g) => s + g.modelledMicro, 0n);
        const unbilled = r.unbilledUsage.reduce((s, u) => s + u.modelledMicro, 0n);
        if (inGroups + unbilled !== totalModelled) return false;
        // Every invoice line is in exactly one group or reported unmatched.
        const used = r.groups.flatMap((g) => g.invoiceLineIds).length + r.unmatchedInvoiceLines.length;
        return used === lines.length;
      }),
      { numRuns: 2000 },
    );
  });

  it('conserves after reconciliation over random schedules and random invoices (both methods, both idle policies)', () => {
    const reqArb = fc.record({
      start: fc.integer({ min: 0, max: 540_000 }),
      len: fc.integer({ min: 1, max: 120_000 }),
      tenant: fc.constantFrom('acme', 'globex', 'unknown'),
      prompt: fc.integer({ min: 0, max: 3000 }),
      completion: fc.integer({ min: 0, max: 900 }),
    });
    const lineArb = fc.record({
      cost: fc.bigInt({ min: -(10n ** 13n), max: 10n ** 15n }),
      from: fc.integer({ min: 0, max: 9 }),
      len: fc.integer({ min: 1, max: 10 }),
    });
    fc.assert(
      fc.property(
        fc.array(reqArb, { maxLength: 15 }),
        fc.array(lineArb, { minLength: 1, maxLength: 6 }),
        fc.constantFrom('time-share' as const, 'tokens' as const),
        fc.constantFrom('separate' as const, 'shared' as const),
        (reqs, specs, method, idle) => {
          const requests = reqs.map((r, i) => ({
            requestId: `q${String(i).padStart(2, '0')}`,
            instance: 'vllm-h100-0',
            startMs: T0 + r.start,
            endMs: T0 + r.start + r.len,
            firstTokenMs: null,
            tenant: r.tenant === 'unknown' ? null : r.tenant,
            team: 't',
            project: 'p',
            model: 'm',
            modelVersion: 'v',
            apiKeyHash: null,
            promptTokens: r.prompt,
            completionTokens: r.completion,
          }));
          const windows = allocate(
            requests,
            h100Inventory(idle),
            h100Prices(),
            { windowMs: 60_000, method, idle },
            { fromMs: T0, toMs: T0 + 600_000 },
          ).windows;
          const lines = specs.map((sp, i) => ({
            ...baseLine(i),
            billedCost: sp.cost,
            chargePeriodStartMs: T0 + sp.from * 60_000,
            chargePeriodEndMs: T0 + (sp.from + sp.len) * 60_000,
          }));
          const r = reconcile(windows, lines);
          for (const g of r.groups) {
            if (g.lines.reduce((a, l) => a + l.reconciledMicro, 0n) !== g.billedMicro) return false;
          }
          const modelled = windows.reduce((a, w) => a + w.costMicro, 0n);
          const accounted =
            r.groups.reduce((a, g) => a + g.modelledMicro, 0n) +
            r.unbilledUsage.reduce((a, u) => a + u.modelledMicro, 0n);
          return accounted === modelled;
        },
      ),
      { numRuns: 2000 },
    );
  });
});

function baseLine(i: number): InvoiceLine {
  return {
    id: `x${i}`,
    lineNo: i + 2,
    billedCost: 0n,
    effectiveCost: null,
    listCost: null,
    currency: 'USD',
    chargePeriodStartMs: T0,
    chargePeriodEndMs: T0,
    billingPeriodStartMs: null,
    billingPeriodEndMs: null,
    chargeCategory: 'Usage',
    chargeClass: null,
    chargeDescription: null,
    resourceId: 'i-vllm-h100-0',
    resourceName: null,
    providerName: null,
    regionId: null,
    serviceName: null,
    skuId: null,
    consumedQuantity: null,
    consumedUnit: null,
    pricingQuantity: null,
    pricingUnit: null,
    tags: null,
  };
}
