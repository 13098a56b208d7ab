import { DEFAULT_FLAP, flapConfigSchema, initialFlapState, observeFlap, type FlapState } from './flap';

const MIN = 60_000;

/** Feeds a fire/resolve pattern, one evaluation a minute; returns what each evaluation reported. */
function replay(pattern: string, state: FlapState = initialFlapState()) {
  const out: Array<{ flapping: boolean; change: string | null; holdFiring: boolean; reportedFiring: boolean }> = [];
  let s = state;
  [...pattern].forEach((c, i) => {
    const active = c === '1';
    const o = observeFlap(s, i * MIN, active, DEFAULT_FLAP);
    s = o.state;
    out.push({
      flapping: o.flapping,
      change: o.change,
      holdFiring: o.holdFiring,
      reportedFiring: active || o.holdFiring,
    });
  });
  return { out, state: s };
}

describe('flap detection with hysteresis', () => {
  it('a steady alert never flaps', () => {
    const { out } = replay('0000111111111111111100000000');
    expect(out.some((o) => o.flapping)).toBe(false);
  });

  it('repeated fire / resolve cycles fold into one firing alert marked flapping', () => {
    // Fires and resolves every other minute for 20 minutes, then stays resolved.
    const pattern = '0' + '10'.repeat(10) + '0'.repeat(40);
    const { out } = replay(pattern);
    const started = out.findIndex((o) => o.change === 'started');
    // The fourth transition (fire, resolve, fire, resolve) inside 30 minutes starts flapping.
    expect(started).toBe(4);
    // From there on the alert reads as firing without a break until flapping ends.
    const stopped = out.findIndex((o) => o.change === 'stopped');
    expect(stopped).toBeGreaterThan(started);
    expect(out.slice(started, stopped).every((o) => o.reportedFiring && o.flapping)).toBe(true);
    // Resolved notifications the state machine would have sent without the fold: one per cycle.
    const resolvesWithout = pattern.split('10').length - 1;
    const resolvesWith = out.filter((o, i) => i > 0 && out[i - 1].reportedFiring && !o.reportedFiring).length;
    expect(resolvesWithout).toBe(10);
    expect(resolvesWith).toBe(2);
  });

  it('stops flapping only when the window holds at most `exit` transitions (hysteresis)', () => {
    const { out } = replay('0' + '10'.repeat(3) + '0'.repeat(60));
    const started = out.findIndex((o) => o.change === 'started');
    const stopped = out.findIndex((o) => o.change === 'stopped');
    expect(started).toBe(4);
    // The last transition is at minute 6; the window keeps it for 30 minutes, transitions 1..5 age out before.
    expect(stopped).toBeGreaterThan(30);
    expect(stopped).toBeLessThanOrEqual(36);
  });

  it('does not mutate the state it is given and survives JSON', () => {
    const { state } = replay('0101');
    const copy = JSON.parse(JSON.stringify(state)) as FlapState;
    const frozen = JSON.stringify(state);
    const a = observeFlap(state, 10 * MIN, true);
    expect(JSON.stringify(state)).toBe(frozen);
    expect(observeFlap(copy, 10 * MIN, true)).toEqual(a);
  });

  it('reads the flap: section of a detector file', () => {
    expect(flapConfigSchema.parse({ window: '1h', enter: 6, exit: 2 })).toEqual({
      windowMs: 3_600_000,
      enter: 6,
      exit: 2,
    });
    expect(flapConfigSchema.parse({})).toEqual(DEFAULT_FLAP);
    expect(flapConfigSchema.safeParse({ enter: 3, exit: 3 }).success).toBe(false);
    expect(flapConfigSchema.safeParse({ window: '1 hour' }).success).toBe(false);
  });
});
