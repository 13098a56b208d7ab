import type { CostRequest } from './cost-request';
import type { IdlePolicy, Inventory, Placement } from './inventory';
import {
  CostError,
  ZERO,
  addR,
  divR,
  floorDiv,
  largestRemainderRational,
  lcm,
  mulR,
  parseRational,
  rational,
  type Rational,
} from './money';
import type { PriceCatalog, PriceEntry } from './price-catalog';

/**
 * Allocation: per instance and window, the window's cost (price × GPUs × duration, in integer
 * micro-units) split over the requests that ran on the instance, the idle time and the requests
 * without a tenant, so that the parts add up to the window's cost exactly.
 *
 * The window's cost is taken from a cumulative floor anchored where its price and placement
 * began, so windows that tile a price piece add up to that piece's cost to the micro-unit.
 * Each party's claim is computed exactly (rationals, from a sweep over the request intervals),
 * and the integer window cost is split by largest remainder over the claims.
 */
export const ALLOCATION_METHODS = ['time-share', 'tokens'] as const;
export type AllocationMethod = (typeof ALLOCATION_METHODS)[number];

export const IDLE_TENANT = 'idle';
export const UNATTRIBUTED_TENANT = 'unattributed';
export const DEFAULT_WINDOW_MS = 60_000;
const MS_PER_HOUR = 3_600_000n;

export interface AllocationOptions {
  windowMs: number;
  method: AllocationMethod;
  /** Overrides every pool's idle policy when set. */
  idle?: IdlePolicy;
  /** Token weights of the `tokens` method (decimal strings; default 1 and 1). */
  prefillWeight?: string;
  decodeWeight?: string;
}

export interface AllocationLine {
  windowStartMs: number;
  windowEndMs: number;
  instance: string;
  pool: string;
  /** The request's tenant, `unattributed` (tenant unknown) or `idle`. */
  tenant: string;
  /** null for the idle line. */
  requestId: string | null;
  /** For idle lines, the pool owner who pays for it. */
  idleOwner: string | null;
  amountMicro: bigint;
  /** The part of amountMicro that is shared-back idle time (0 unless the idle policy is `shared`). */
  idleShareMicro: bigint;
  /** GPU time this line stands for, in GPU-milliseconds (a measure, not money). */
  gpuMs: number;
  currency: string;
}

export interface WindowAllocation {
  windowStartMs: number;
  windowEndMs: number;
  instance: string;
  pool: string;
  /** The provider resource (FOCUS ResourceId) billed for the instance at the window's start. */
  resourceId: string | null;
  method: AllocationMethod;
  idlePolicy: IdlePolicy;
  currency: string;
  costMicro: bigint;
  lines: AllocationLine[];
}

interface Piece {
  fromMs: number;
  toMs: number;
  /** Micro-units per millisecond for the whole placement. */
  k: Rational;
  anchorMs: number;
  gpus: number;
  entry: PriceEntry;
  placement: Placement;
}

interface Phase {
  fromMs: number;
  toMs: number;
  rate: Rational;
}

/** Windows are aligned to multiples of their length since the Unix epoch. */
export function windowStart(timeMs: number, windowMs: number): number {
  return Math.floor(timeMs / windowMs) * windowMs;
}

/** The cost of [fromMs, toMs) within a piece, as a difference of floors from the piece's anchor. */
function pieceCost(p: Piece, fromMs: number, toMs: number): bigint {
  const a = BigInt(fromMs - p.anchorMs);
  const b = BigInt(toMs - p.anchorMs);
  return floorDiv(p.k.num * b, p.k.den) - floorDiv(p.k.num * a, p.k.den);
}

export class Allocator {
  private readonly prefillW: Rational;
  private readonly decodeW: Rational;

  constructor(
    private readonly inventory: Inventory,
    private readonly catalog: PriceCatalog,
    private readonly opts: AllocationOptions,
  ) {
    if (!Number.isInteger(opts.windowMs) || opts.windowMs <= 0)
      throw new CostError('ALLOCATION_INVALID', 'window must be a positive number of ms');
    this.prefillW = parseRational(opts.prefillWeight ?? '1');
    this.decodeW = parseRational(opts.decodeWeight ?? '1');
  }

  /**
   * Every window of [fromMs, toMs) (widened to whole windows) of one instance, in time order.
   * `requests` are that instance's requests; any order.
   */
  allocateInstance(
    instance: string,
    requests: readonly CostRequest[],
    fromMs: number,
    toMs: number,
  ): WindowAllocation[] {
    const w = this.opts.windowMs;
    const sorted = [...requests].sort((a, b) => a.startMs - b.startMs || cmp(a.requestId, b.requestId));
    const out: WindowAllocation[] = [];
    let next = 0;
    let running: CostRequest[] = [];
    for (let ws = windowStart(fromMs, w); ws < toMs; ws += w) {
      const we = ws + w;
      running = running.filter((r) => r.endMs > ws);
      while (next < sorted.length && (sorted[next] as CostRequest).startMs < we) {
        const r = sorted[next++] as CostRequest;
        if (r.endMs > ws) running.push(r);
      }
      const win = this.allocateWindow(instance, ws, we, running);
      if (win) out.push(win);
    }
    return out;
  }

  private pieces(instance: string, ws: number, we: number): Piece[] {
    const pieces: Piece[] = [];
    for (const pl of this.inventory.placements(instance)) {
      if (pl.toMs <= ws || pl.fromMs >= we) continue;
      const from = Math.max(pl.fromMs, ws);
      const to = Math.min(pl.toMs, we);
      for (const pr of this.catalog.pieces(pl.price, from, to)) {
        const k = mulR(pr.entry.microPerGpuHour, rational(BigInt(pl.gpus), MS_PER_HOUR));
        pieces.push({
          fromMs: pr.fromMs,
          toMs: pr.toMs,
          k,
          anchorMs: Math.max(pl.fromMs, pr.entry.fromMs),
          gpus: pl.gpus,
          entry: pr.entry,
          placement: pl,
        });
      }
    }
    return pieces;
  }

  /** One window; undefined when the instance held no GPUs in it. */
  allocateWindow(
    instance: string,
    ws: number,
    we: number,
    candidates: readonly CostRequest[],
  ): WindowAllocation | undefined {
    const pieces = this.pieces(instance, ws, we);
    if (pieces.length === 0) return undefined;
    const currency = (pieces[0] as Piece).entry.currency;
    for (const p of pieces) {
      if (p.entry.currency !== currency) {
        throw new CostError(
          'CURRENCY_MISMATCH',
          `${instance}: prices in ${currency} and ${p.entry.currency} in one window`,
        );
      }
    }
    const pool = this.inventory.pool((pieces[0] as Piece).placement.pool);
    const idlePolicy = this.opts.idle ?? pool.idle;
    const reqs = candidates.filter((r) => r.startMs < we && r.endMs > ws).sort((a, b) => cmp(a.requestId, b.requestId));

    let cost = 0n;
    for (const p of pieces) cost += pieceCost(p, p.fromMs, p.toMs);

    // The common case — one price and placement over the whole window — has a prefix-sum form.
    const only = pieces.length === 1 ? (pieces[0] as Piece) : undefined;
    if (this.opts.method === 'time-share' && only && only.fromMs <= ws && only.toMs >= we) {
      const fast = timeShareClaims(reqs, ws, we, only.gpus);
      if (fast)
        return this.finish(instance, ws, we, pool, idlePolicy, currency, cost, reqs, fast.claims, fast.gpuMs, pieces);
    }

    // Segment boundaries: every point where a price, a placement or the set of running requests changes.
    const cuts = new Set<number>([ws, we]);
    for (const p of pieces) cuts.add(p.fromMs).add(p.toMs);
    for (const r of reqs) {
      if (r.startMs > ws) cuts.add(r.startMs);
      if (r.endMs < we) cuts.add(r.endMs);
      if (this.opts.method === 'tokens' && r.firstTokenMs !== null && r.firstTokenMs > ws && r.firstTokenMs < we)
        cuts.add(r.firstTokenMs);
    }
    const times = [...cuts].sort((a, b) => a - b);

    const n = reqs.length;
    const phases = this.opts.method === 'tokens' ? reqs.map((r) => this.phasesOf(r)) : [];
    const gpuMs = new Array<number>(n + 1).fill(0);
    // Claims, one per request and the last for idle.
    let claims: Rational[];

    if (this.opts.method === 'time-share') {
      // Integer claims over one denominator: Σ over segments of k · d · (L / n(t)), L = lcm of the n(t).
      const segs: Array<{ d: bigint; piece: number; active: number[] }> = [];
      let L = 1n;
      for (let s = 0; s + 1 < times.length; s++) {
        const t0 = times[s] as number;
        const t1 = times[s + 1] as number;
        const piece = pieces.findIndex((p) => p.fromMs <= t0 && t1 <= p.toMs);
        if (piece < 0) continue;
        const active: number[] = [];
        for (let i = 0; i < n; i++) {
          const r = reqs[i] as CostRequest;
          if (r.startMs <= t0 && r.endMs >= t1) active.push(i);
        }
        if (active.length > 0) L = lcm(L, BigInt(active.length));
        segs.push({ d: BigInt(t1 - t0), piece, active });
        const g = (pieces[piece] as Piece).gpus;
        if (active.length === 0) gpuMs[n] = (gpuMs[n] as number) + (t1 - t0) * g;
        for (const i of active) gpuMs[i] = (gpuMs[i] as number) + ((t1 - t0) * g) / active.length;
      }
      let kDen = 1n;
      for (const p of pieces) kDen = lcm(kDen, p.k.den);
      const ints = new Array<bigint>(n + 1).fill(0n);
      for (const seg of segs) {
        const p = pieces[seg.piece] as Piece;
        const unit = p.k.num * (kDen / p.k.den) * seg.d;
        if (seg.active.length === 0) {
          ints[n] = (ints[n] as bigint) + unit * L;
        } else {
          const each = unit * (L / BigInt(seg.active.length));
          for (const i of seg.active) ints[i] = (ints[i] as bigint) + each;
        }
      }
      claims = ints.map((v) => ({ num: v, den: 1n }));
    } else {
      claims = new Array<Rational>(n + 1).fill(ZERO);
      for (let s = 0; s + 1 < times.length; s++) {
        const t0 = times[s] as number;
        const t1 = times[s + 1] as number;
        const p = pieces.find((x) => x.fromMs <= t0 && t1 <= x.toMs);
        if (!p) continue;
        const segCost = mulR(p.k, rational(BigInt(t1 - t0)));
        const active: number[] = [];
        const rates: Rational[] = [];
        let total = ZERO;
        for (let i = 0; i < n; i++) {
          const r = reqs[i] as CostRequest;
          if (!(r.startMs <= t0 && r.endMs >= t1)) continue;
          active.push(i);
          const ph = (phases[i] as Phase[]).find((x) => x.fromMs <= t0 && t1 <= x.toMs);
          const rate = ph ? ph.rate : ZERO;
          rates.push(rate);
          total = addR(total, rate);
        }
        if (active.length === 0) {
          claims[n] = addR(claims[n] as Rational, segCost);
          gpuMs[n] = (gpuMs[n] as number) + (t1 - t0) * p.gpus;
          continue;
        }
        active.forEach((i, j) => {
          // All running requests at zero tokens (e.g. none reported yet) share the segment equally.
          const share = total.num === 0n ? rational(1n, BigInt(active.length)) : divR(rates[j] as Rational, total);
          claims[i] = addR(claims[i] as Rational, mulR(segCost, share));
          gpuMs[i] = (gpuMs[i] as number) + ((t1 - t0) * p.gpus * Number(share.num)) / Number(share.den);
        });
      }
    }

    return this.finish(instance, ws, we, pool, idlePolicy, currency, cost, reqs, claims, gpuMs, pieces);
  }

  /** Splits the window cost over the claims (the last one is idle) and builds the lines. */
  private finish(
    instance: string,
    ws: number,
    we: number,
    pool: { name: string; owner: string },
    idlePolicy: IdlePolicy,
    currency: string,
    cost: bigint,
    reqs: readonly CostRequest[],
    claims: Rational[],
    gpuMs: number[],
    pieces: readonly Piece[],
  ): WindowAllocation {
    const n = reqs.length;
    const parts = largestRemainderRational(cost, claims);
    const idleShare = new Array<bigint>(n).fill(0n);
    let idleLeft = parts[n] as bigint;
    if (idlePolicy === 'shared' && idleLeft !== 0n && n > 0) {
      const busy = claims.slice(0, n);
      if (busy.some((c) => c.num > 0n)) {
        const back = largestRemainderRational(idleLeft, busy);
        back.forEach((v, i) => (idleShare[i] = v));
        idleLeft = 0n;
      }
    }

    const lines: AllocationLine[] = reqs.map((r, i) => ({
      windowStartMs: ws,
      windowEndMs: we,
      instance,
      pool: pool.name,
      tenant: r.tenant ?? UNATTRIBUTED_TENANT,
      requestId: r.requestId,
      idleOwner: null,
      amountMicro: (parts[i] as bigint) + (idleShare[i] as bigint),
      idleShareMicro: idleShare[i] as bigint,
      gpuMs: gpuMs[i] as number,
      currency,
    }));
    if (idleLeft !== 0n || n === 0) {
      lines.push({
        windowStartMs: ws,
        windowEndMs: we,
        instance,
        pool: pool.name,
        tenant: IDLE_TENANT,
        requestId: null,
        idleOwner: pool.owner,
        amountMicro: idleLeft,
        idleShareMicro: 0n,
        gpuMs: gpuMs[n] as number,
        currency,
      });
    }
    const resourceId = (pieces[0] as Piece).placement.resourceId;
    return {
      windowStartMs: ws,
      windowEndMs: we,
      instance,
      pool: pool.name,
      resourceId,
      method: this.opts.method,
      idlePolicy,
      currency,
      costMicro: cost,
      lines,
    };
  }

  /**
   * A request's token rate over time for the `tokens` method: prefill tokens (weighted) spread
   * over [start, first token), decode tokens over [first token, end). Without a first-token time,
   * or when one phase has no length, all weighted tokens spread over the whole interval.
   */
  private phasesOf(r: CostRequest): Phase[] {
    const pre = mulR(this.prefillW, rational(BigInt(r.promptTokens)));
    const dec = mulR(this.decodeW, rational(BigInt(r.completionTokens)));
    if (r.firstTokenMs === null) {
      return [{ fromMs: r.startMs, toMs: r.endMs, rate: divR(addR(pre, dec), rational(BigInt(r.endMs - r.startMs))) }];
    }
    return [
      { fromMs: r.startMs, toMs: r.firstTokenMs, rate: divR(pre, rational(BigInt(r.firstTokenMs - r.startMs))) },
      { fromMs: r.firstTokenMs, toMs: r.endMs, rate: divR(dec, rational(BigInt(r.endMs - r.firstTokenMs))) },
    ];
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Window cost and lines agree: Σ lines = costMicro. A check for callers and tests. */
export function windowBalance(w: WindowAllocation): bigint {
  let s = 0n;
  for (const l of w.lines) s += l.amountMicro;
  return w.costMicro - s;
}

export interface AllocationRun {
  windows: WindowAllocation[];
  /** Requests that could not be placed: no instance, or an instance the inventory does not know. */
  skipped: Array<{ requestId: string; reason: string }>;
}

/**
 * Allocates every instance of the inventory over [fromMs, toMs) (default: the span of the
 * requests, widened to whole windows); instances without requests are all idle.
 */
export function allocate(
  requests: readonly CostRequest[],
  inventory: Inventory,
  catalog: PriceCatalog,
  opts: AllocationOptions,
  range?: { fromMs: number; toMs: number },
): AllocationRun {
  const byInstance = new Map<string, CostRequest[]>();
  const skipped: AllocationRun['skipped'] = [];
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const r of requests) {
    if (!inventory.has(r.instance)) {
      skipped.push({ requestId: r.requestId, reason: `instance ${r.instance} is not in the inventory` });
      continue;
    }
    const list = byInstance.get(r.instance) ?? [];
    list.push(r);
    byInstance.set(r.instance, list);
    lo = Math.min(lo, r.startMs);
    hi = Math.max(hi, r.endMs);
  }
  const fromMs = range?.fromMs ?? lo;
  const toMs = range?.toMs ?? hi;
  const allocator = new Allocator(inventory, catalog, opts);
  const windows: WindowAllocation[] = [];
  if (fromMs < toMs) {
    for (const instance of inventory.instances()) {
      windows.push(...allocator.allocateInstance(instance, byInstance.get(instance) ?? [], fromMs, toMs));
    }
  }
  windows.sort((a, b) => a.windowStartMs - b.windowStartMs || cmp(a.instance, b.instance));
  return { windows, skipped };
}

function gcdN(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/**
 * Time-share claims of one window under one price and placement, in O(n log n): with L the lcm
 * of the running counts, F(t) = Σ d·L/n(t) up to t is an integer step function, and a request's
 * claim is F(its end) − F(its start). Claims are in units of 1/L ms (idle last); undefined when
 * the integers would leave the exactly representable range (the caller then takes the general path).
 */
function timeShareClaims(
  reqs: readonly CostRequest[],
  ws: number,
  we: number,
  gpus: number,
): { claims: Rational[]; gpuMs: number[] } | undefined {
  const n = reqs.length;
  const starts = reqs.map((r) => Math.max(r.startMs, ws));
  const ends = reqs.map((r) => Math.min(r.endMs, we));
  const pts = [...new Set([ws, we, ...starts, ...ends])].sort((a, b) => a - b);
  const ss = [...starts].sort((a, b) => a - b);
  const es = [...ends].sort((a, b) => a - b);
  const counts = new Array<number>(pts.length - 1);
  let si = 0;
  let ei = 0;
  let L = 1;
  for (let k = 0; k + 1 < pts.length; k++) {
    const t = pts[k] as number;
    while (si < n && (ss[si] as number) <= t) si++;
    while (ei < n && (es[ei] as number) <= t) ei++;
    const c = si - ei;
    counts[k] = c;
    if (c > 1) {
      L = (L / gcdN(L, c)) * c;
      if (L * (we - ws) > Number.MAX_SAFE_INTEGER) return undefined;
    }
  }
  const F = new Map<number, number>();
  let acc = 0;
  let idle = 0;
  F.set(pts[0] as number, 0);
  for (let k = 0; k + 1 < pts.length; k++) {
    const d = (pts[k + 1] as number) - (pts[k] as number);
    const c = counts[k] as number;
    if (c === 0) idle += d * L;
    else acc += (d * L) / c;
    F.set(pts[k + 1] as number, acc);
  }
  const claims = new Array<Rational>(n + 1);
  const gpuMs = new Array<number>(n + 1);
  for (let i = 0; i < n; i++) {
    const c = (F.get(ends[i] as number) as number) - (F.get(starts[i] as number) as number);
    claims[i] = { num: BigInt(c), den: 1n };
    gpuMs[i] = (c * gpus) / L;
  }
  claims[n] = { num: BigInt(idle), den: 1n };
  gpuMs[n] = (idle * gpus) / L;
  return { claims, gpuMs };
}
