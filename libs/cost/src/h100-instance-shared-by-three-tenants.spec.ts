import { allocate, type AllocationMethod, type WindowAllocation } from './allocation';
import { costRequestFromRecord, type CostRequest } from './cost-request';
import type { IdlePolicy } from './inventory';
import { T0, h100Inventory, h100Prices, record } from './testing/cost-fixtures';

/*
 * Three tenants (acme, globex, initech) and one request without a tenant share one 8×H100
 * instance (p5.48xlarge, 98.32 USD/h) over three one-minute windows with idle gaps. Every number
 * below was worked out by hand; the arithmetic is in the comments.
 *
 * Instance cost: 98.32 USD/h = 98_320_000 micro/h = 27.3111… micro/ms. Window costs are floors of
 * the running total from the placement start (T0):
 *   w0 [0,60s):    floor(98_320_000·60/3600)  − 0           = 1_638_666
 *   w1 [60,120s):  floor(98_320_000·120/3600) − 1_638_666   = 3_277_333 − 1_638_666 = 1_638_667
 *   w2 [120,180s): floor(98_320_000·180/3600) − 3_277_333   = 4_916_000 − 3_277_333 = 1_638_667
 * (three minutes = 4_916_000 micro = 98.32 / 20, exact.)
 *
 * Requests (seconds after T0; the occupancy starts at `scheduled`, queue time is free):
 *   r1 acme     0 → 30   prompt 200, completion 100, no first_token
 *   r2 globex  10 → 40   first_token 20, prompt 300, completion 75
 *   r3 initech 20 → 50   prompt 100, completion 50
 *   r4 acme    received 55, scheduled 60 → 90   prompt 100, completion 50
 *   r5 (tenant unknown) 70 → 95   prompt 750, completion 0
 *   r6 globex 100 → 130   prompt 0, completion 150
 */
const RECORDS = [
  record({ id: 'r1', tenant: 'acme', scheduled: 0, end: 30, prompt: 200, completion: 100 }),
  record({ id: 'r2', tenant: 'globex', scheduled: 10, firstToken: 20, end: 40, prompt: 300, completion: 75 }),
  record({ id: 'r3', tenant: 'initech', scheduled: 20, end: 50, prompt: 100, completion: 50 }),
  record({ id: 'r4', tenant: 'acme', received: 55, scheduled: 60, end: 90, prompt: 100, completion: 50 }),
  record({ id: 'r5', tenant: 'unknown', scheduled: 70, end: 95, prompt: 750, completion: 0 }),
  record({ id: 'r6', tenant: 'globex', scheduled: 100, end: 130, prompt: 0, completion: 150 }),
];

function requests(): CostRequest[] {
  return RECORDS.map((r) => {
    const c = costRequestFromRecord(r);
    if (!c.ok) throw new Error(c.reason);
    return c.request;
  });
}

function run(method: AllocationMethod, idle: IdlePolicy): WindowAllocation[] {
  const opts = { windowMs: 60_000, method, idle, prefillWeight: '1', decodeWeight: '4' };
  return allocate(requests(), h100Inventory(idle), h100Prices(), opts, { fromMs: T0, toMs: T0 + 180_000 }).windows;
}

/** window index → party (request id or `idle`) → micro-units. */
function table(windows: WindowAllocation[]): Array<Record<string, bigint>> {
  return windows.map((w) => Object.fromEntries(w.lines.map((l) => [l.requestId ?? 'idle', l.amountMicro])));
}

describe('one 8×H100 instance shared by three tenants', () => {
  it('prices the three windows as floors of the running total', () => {
    expect(run('time-share', 'separate').map((w) => w.costMicro)).toEqual([1_638_666n, 1_638_667n, 1_638_667n]);
  });

  it('reads occupancy from scheduled, not received: r4 is charged from 60 s', () => {
    const r4 = requests().find((r) => r.requestId === 'r4');
    expect(r4?.startMs).toBe(T0 + 60_000);
    expect(r4?.tenant).toBe('acme');
    expect(requests().find((r) => r.requestId === 'r5')?.tenant).toBeNull();
  });

  /*
   * time-share, idle separate.
   * w0 segments: [0,10) r1 | [10,20) r1 r2 | [20,30) r1 r2 r3 | [30,40) r2 r3 | [40,50) r3 | [50,60) idle.
   *   claims in sixths of a second (L = lcm(1,2,3) = 6): r1 60+30+20 = 110, r2 30+20+30 = 80,
   *   r3 20+30+60 = 110, idle 60; Σ 360.
   *   1_638_666·110/360 = 500_703 rem 180/360; ·80/360 = 364_148 rem 0; idle ·60/360 = 273_111 rem 0.
   *   floors sum to 1_638_665; the one micro left goes to the larger remainder, r1 and r3 tie at
   *   .5, r1 first by id → r1 500_704, r2 364_148, r3 500_703, idle 273_111.
   * w1 segments: [60,70) r4 | [70,90) r4 r5 | [90,95) r5 | [95,100) idle | [100,120) r6.
   *   claims (s): r4 20, r5 15, r6 20, idle 5; Σ 60.
   *   1_638_667·20 = 32_773_340 → 546_222 rem 20/60 (r4, r6); ·15 = 24_580_005 → 409_666 rem 45;
   *   ·5 = 8_193_335 → 136_555 rem 35. Two micro left → r5 (45), idle (35):
   *   r4 546_222, r5 409_667, r6 546_222, idle 136_556.
   * w2: [120,130) r6 | [130,180) idle: ·10/60 → 273_111 rem 10, ·50/60 → 1_365_555 rem 50;
   *   one left → idle: r6 273_111, idle 1_365_556.
   */
  it('time-share, idle kept apart', () => {
    expect(table(run('time-share', 'separate'))).toEqual([
      { r1: 500_704n, r2: 364_148n, r3: 500_703n, idle: 273_111n },
      { r4: 546_222n, r5: 409_667n, r6: 546_222n, idle: 136_556n },
      { r6: 273_111n, idle: 1_365_556n },
    ]);
  });

  /*
   * time-share, idle shared back in proportion to the busy claims.
   * w0: idle 273_111 over 110:80:110 (Σ 300): ·110 = 30_042_210 → 100_140 rem 210 (r1, r3);
   *   ·80 = 21_848_880 → 72_829 rem 180. Two left → r1, r3 (210 beats 180; tie r1 before r3).
   *   r1 500_704 + 100_141 = 600_845; r2 364_148 + 72_829 = 436_977; r3 500_703 + 100_141 = 600_844.
   * w1: idle 136_556 over 40:30:40 (halves of a second; = 4:3:4, Σ 11): ·4 = 546_224 → 49_656 rem 8;
   *   ·3 = 409_668 → 37_242 rem 6. Two left → r4, r6.
   *   r4 546_222 + 49_657 = 595_879; r5 409_667 + 37_242 = 446_909; r6 546_222 + 49_657 = 595_879.
   * w2: all idle back to r6: 273_111 + 1_365_556 = 1_638_667.
   */
  it('time-share, idle shared back', () => {
    const w = run('time-share', 'shared');
    expect(table(w)).toEqual([
      { r1: 600_845n, r2: 436_977n, r3: 600_844n },
      { r4: 595_879n, r5: 446_909n, r6: 595_879n },
      { r6: 1_638_667n },
    ]);
    expect(w[0]?.lines.map((l) => l.idleShareMicro)).toEqual([100_141n, 72_829n, 100_141n]);
  });

  /*
   * tokens, prefill weight 1, decode weight 4; a request's weighted tokens spread evenly over its
   * prefill [scheduled, first_token) and decode [first_token, end) phases (over the whole interval
   * without a first_token).
   *   r1: 200 + 4·100 = 600 over 30 s → 20/s.  r2: prefill 300 over [10,20) → 30/s, decode 4·75 = 300
   *   over [20,40) → 15/s.  r3: 100 + 200 = 300 over 30 s → 10/s.
   * w0: [0,10) r1 → 10 | [10,20) r1 20 : r2 30 → 4, 6 | [20,30) 20:15:10 → 40/9, 30/9, 20/9 |
   *   [30,40) r2 15 : r3 10 → 6, 4 | [40,50) r3 10 | idle 10.
   *   claims in ninths of a second: r1 166, r2 138, r3 146, idle 90; Σ 540.
   *   1_638_666·166 = 272_018_556 → 503_738 rem 36; ·138 = 226_135_908 → 418_770 rem 108;
   *   ·146 = 239_245_236 → 443_046 rem 396; ·90 → 273_111 rem 0. One left → r3:
   *   r1 503_738, r2 418_770, r3 443_047, idle 273_111.
   * w1: r4 (100 + 200)/30 s = 10/s; r5 750/25 s = 30/s; r6 4·150/30 s = 20/s.
   *   [60,70) r4 10 | [70,90) 10:30 → 5, 15 | [90,95) r5 5 | [95,100) idle 5 | [100,120) r6 20.
   *   claims r4 15, r5 20, r6 20, idle 5. ·15 = 24_580_005 → 409_666 rem 45; ·20 → 546_222 rem 20;
   *   ·5 → 136_555 rem 35. Two left → r4, idle: r4 409_667, r5 546_222, r6 546_222, idle 136_556.
   * w2: as time-share (r6 alone): r6 273_111, idle 1_365_556.
   */
  it('tokens, idle kept apart', () => {
    expect(table(run('tokens', 'separate'))).toEqual([
      { r1: 503_738n, r2: 418_770n, r3: 443_047n, idle: 273_111n },
      { r4: 409_667n, r5: 546_222n, r6: 546_222n, idle: 136_556n },
      { r6: 273_111n, idle: 1_365_556n },
    ]);
  });

  /*
   * tokens, idle shared back.
   * w0: 273_111 over 166:138:146 (Σ 450): ·166 = 45_336_426 → 100_747 rem 276; ·138 = 37_689_318 →
   *   83_754 rem 18; ·146 = 39_874_206 → 88_609 rem 156. One left → r1.
   *   r1 503_738 + 100_748 = 604_486; r2 418_770 + 83_754 = 502_524; r3 443_047 + 88_609 = 531_656.
   * w1: 136_556 over 15:20:20 (= 3:4:4): ·3 = 409_668 → 37_242 rem 6; ·4 = 546_224 → 49_656 rem 8.
   *   Two left → r5, r6. r4 409_667 + 37_242 = 446_909; r5, r6 546_222 + 49_657 = 595_879.
   * w2: r6 1_638_667.
   */
  it('tokens, idle shared back', () => {
    expect(table(run('tokens', 'shared'))).toEqual([
      { r1: 604_486n, r2: 502_524n, r3: 531_656n },
      { r4: 446_909n, r5: 595_879n, r6: 595_879n },
      { r6: 1_638_667n },
    ]);
  });

  it('labels tenants, unattributed and idle owner', () => {
    const w = run('time-share', 'separate');
    expect(w[1]?.lines.map((l) => [l.requestId, l.tenant, l.idleOwner])).toEqual([
      ['r4', 'acme', null],
      ['r5', 'unattributed', null],
      ['r6', 'globex', null],
      [null, 'idle', 'platform'],
    ]);
  });

  it('adds up per tenant over the three minutes to the exact three-minute cost', () => {
    for (const [method, idle] of [
      ['time-share', 'separate'],
      ['time-share', 'shared'],
      ['tokens', 'separate'],
      ['tokens', 'shared'],
    ] as const) {
      const total = run(method, idle)
        .flatMap((w) => w.lines)
        .reduce((s, l) => s + l.amountMicro, 0n);
      expect(total).toBe(4_916_000n);
    }
    // time-share, separate, per tenant: acme r1 + r4 = 500_704 + 546_222; globex r2 + r6 (two windows);
    // initech r3; unattributed r5; idle three windows.
    const per = new Map<string, bigint>();
    for (const l of run('time-share', 'separate').flatMap((w) => w.lines))
      per.set(l.tenant, (per.get(l.tenant) ?? 0n) + l.amountMicro);
    expect(Object.fromEntries(per)).toEqual({
      acme: 1_046_926n,
      globex: 364_148n + 546_222n + 273_111n,
      initech: 500_703n,
      unattributed: 409_667n,
      idle: 273_111n + 136_556n + 1_365_556n,
    });
  });
});
