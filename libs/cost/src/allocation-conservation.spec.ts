import fc from 'fast-check';
import { allocate, type AllocationMethod } from './allocation';
import type { CostRequest } from './cost-request';
import { Inventory, type IdlePolicy } from './inventory';
import { floorDiv } from './money';
import { PriceCatalog } from './price-catalog';

/*
 * Conservation over random schedules: whatever the requests, placements, price changes, window
 * length, method and idle policy, every window's lines add up to that window's cost to the
 * micro-unit, no line is negative, and the windows of one price piece add up to the piece's cost.
 * The time-share shares are also checked against an independent float computation of ∫ 1/n(t).
 */
const T0 = Date.parse('2026-02-01T00:00:00Z');
const TENANTS = ['acme', 'globex', 'initech', null] as const;

interface Schedule {
  windowMs: number;
  method: AllocationMethod;
  idle: IdlePolicy;
  gpus: number;
  /** Placement change (new GPU count) at this offset, or none. */
  replaceAt: number | null;
  newGpus: number;
  /** Price change at this offset, or none. */
  priceChangeAt: number | null;
  price: string;
  newPrice: string;
  requests: CostRequest[];
}

const priceArb = fc
  .tuple(fc.integer({ min: 0, max: 120 }), fc.integer({ min: 0, max: 999_999 }))
  .map(([u, f]) => `${u}.${String(f).padStart(6, '0')}`);

const requestArb = (i: number) =>
  fc
    .record({
      start: fc.integer({ min: 0, max: 600_000 }),
      len: fc.integer({ min: 1, max: 240_000 }),
      ft: fc.option(fc.integer({ min: 0, max: 240_000 }), { nil: null }),
      tenant: fc.constantFrom(...TENANTS),
      prompt: fc.integer({ min: 0, max: 5000 }),
      completion: fc.integer({ min: 0, max: 2000 }),
      instance: fc.constantFrom('a', 'b'),
    })
    .map((r): CostRequest => ({
      requestId: `req-${String(i).padStart(4, '0')}`,
      instance: r.instance,
      startMs: T0 + r.start,
      endMs: T0 + r.start + r.len,
      firstTokenMs: r.ft !== null && r.ft > 0 && r.ft < r.len ? T0 + r.start + r.ft : null,
      tenant: r.tenant,
      team: 't',
      project: 'p',
      model: 'm',
      modelVersion: 'v',
      apiKeyHash: null,
      promptTokens: r.prompt,
      completionTokens: r.completion,
    }));

const scheduleArb: fc.Arbitrary<Schedule> = fc
  .record({
    windowMs: fc.constantFrom(5_000, 7_000, 60_000, 90_000),
    method: fc.constantFrom<AllocationMethod>('time-share', 'tokens'),
    idle: fc.constantFrom<IdlePolicy>('separate', 'shared'),
    gpus: fc.integer({ min: 1, max: 8 }),
    replaceAt: fc.option(fc.integer({ min: 1, max: 700_000 }), { nil: null }),
    newGpus: fc.integer({ min: 1, max: 8 }),
    priceChangeAt: fc.option(fc.integer({ min: 1, max: 700_000 }), { nil: null }),
    price: priceArb,
    newPrice: priceArb,
    n: fc.integer({ min: 0, max: 12 }),
  })
  .chain((s) =>
    fc.tuple(...Array.from({ length: s.n }, (_, i) => requestArb(i))).map((requests) => ({ ...s, requests })),
  );

function setup(s: Schedule): { inventory: Inventory; catalog: PriceCatalog } {
  const placements = ['a', 'b'].flatMap((instance) => {
    const base = {
      instance,
      pool: 'p',
      node: null,
      gpuUuids: [],
      gpuModel: 'H100',
      price: { gpuModel: 'H100' },
      resourceId: null,
    };
    if (s.replaceAt === null) return [{ ...base, fromMs: T0, toMs: Number.POSITIVE_INFINITY, gpus: s.gpus }];
    return [
      { ...base, fromMs: T0, toMs: T0 + s.replaceAt, gpus: s.gpus },
      { ...base, fromMs: T0 + s.replaceAt, toMs: Number.POSITIVE_INFINITY, gpus: s.newGpus },
    ];
  });
  const inventory = new Inventory([{ name: 'p', owner: 'ops', idle: s.idle }], placements);
  const entry = {
    gpuModel: 'H100',
    provider: 'aws',
    pricingKind: 'on-demand' as const,
    currency: 'USD',
    perGpuHour: s.price,
  };
  const entries = [{ ...entry, effectiveFrom: new Date(T0 - 3_600_000).toISOString() }];
  if (s.priceChangeAt !== null)
    entries.push({ ...entry, perGpuHour: s.newPrice, effectiveFrom: new Date(T0 + s.priceChangeAt).toISOString() });
  return { inventory, catalog: PriceCatalog.fromInputs(entries) };
}

describe('allocation conserves money over random schedules', () => {
  it('Σ lines = window cost, every line ≥ 0, for every window', () => {
    fc.assert(
      fc.property(scheduleArb, (s) => {
        const { inventory, catalog } = setup(s);
        const run = allocate(
          s.requests,
          inventory,
          catalog,
          { windowMs: s.windowMs, method: s.method },
          { fromMs: T0, toMs: T0 + 900_000 },
        );
        for (const w of run.windows) {
          let sum = 0n;
          for (const l of w.lines) {
            if (l.amountMicro < 0n) return false;
            sum += l.amountMicro;
          }
          if (sum !== w.costMicro) return false;
          if (w.idlePolicy === 'separate' && w.lines.some((l) => l.idleShareMicro !== 0n)) return false;
        }
        return true;
      }),
      { numRuns: 2000 },
    );
  });

  it('the windows of one price and placement add up to that stretch’s exact cost (floor)', () => {
    fc.assert(
      fc.property(scheduleArb, (s) => {
        const fixed = { ...s, replaceAt: null, priceChangeAt: null };
        const { inventory, catalog } = setup(fixed);
        const span = 900_000;
        const run = allocate(
          fixed.requests,
          inventory,
          catalog,
          { windowMs: s.windowMs, method: s.method },
          { fromMs: T0, toMs: T0 + span },
        );
        const end = run.windows.reduce((m, w) => Math.max(m, w.windowEndMs), T0);
        const k = catalog.lookup({ gpuModel: 'H100' }, T0).microPerGpuHour;
        // Placement starts at T0 (the anchor): Σ = floor(price · gpus · (end − T0) / 1 h).
        const expected = floorDiv(k.num * BigInt(fixed.gpus) * BigInt(end - T0), k.den * 3_600_000n);
        const perInstance = run.windows.filter((w) => w.instance === 'a').reduce((a, w) => a + w.costMicro, 0n);
        return perInstance === expected;
      }),
      { numRuns: 2000 },
    );
  });

  it('time-share parts are within one micro-unit of the exact ∫ price·gpus/n(t) dt', () => {
    fc.assert(
      fc.property(scheduleArb, (s) => {
        const fixed = {
          ...s,
          method: 'time-share' as const,
          idle: 'separate' as const,
          replaceAt: null,
          priceChangeAt: null,
        };
        const { inventory, catalog } = setup(fixed);
        const run = allocate(
          fixed.requests,
          inventory,
          catalog,
          { windowMs: s.windowMs, method: 'time-share' },
          { fromMs: T0, toMs: T0 + 900_000 },
        );
        const k = catalog.lookup({ gpuModel: 'H100' }, T0).microPerGpuHour;
        const perMs = (Number(k.num) / Number(k.den) / 3_600_000) * fixed.gpus;
        for (const w of run.windows) {
          const reqs = fixed.requests.filter((r) => r.instance === w.instance);
          // Reference: step through each millisecond boundary set, counting running requests.
          // Windows are epoch-aligned; the placement (and its cost) starts at T0.
          const from = Math.max(w.windowStartMs, T0);
          const pts = new Set([from, w.windowEndMs]);
          for (const r of reqs) for (const t of [r.startMs, r.endMs]) if (t > from && t < w.windowEndMs) pts.add(t);
          const ts = [...pts].sort((a, b) => a - b);
          const exact = new Map<string, number>();
          let exactTotal = 0;
          for (let i = 0; i + 1 < ts.length; i++) {
            const mid = ((ts[i] as number) + (ts[i + 1] as number)) / 2;
            const on = reqs.filter((r) => r.startMs < mid && mid < r.endMs);
            const c = perMs * ((ts[i + 1] as number) - (ts[i] as number));
            exactTotal += c;
            for (const r of on) exact.set(r.requestId, (exact.get(r.requestId) ?? 0) + c / on.length);
          }
          // Scale the exact claims to the integer window cost, as the allocator does.
          const scale = exactTotal === 0 ? 0 : Number(w.costMicro) / exactTotal;
          for (const l of w.lines) {
            if (l.requestId === null) continue;
            const want = (exact.get(l.requestId) ?? 0) * scale;
            if (Math.abs(Number(l.amountMicro) - want) > 1 + want * 1e-9) return false;
          }
        }
        return true;
      }),
      { numRuns: 2000 },
    );
  });
});
