import { QUIET, type StreamingDetector } from './detector';
import { createDetector, type DetectorSpec } from './registry';

function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

/** Roughly normal noise (sum of uniforms). */
function noise(rand: () => number): number {
  return rand() + rand() + rand() + rand() - 2;
}

const MIN = 60_000;
const T0 = Date.UTC(2026, 2, 2);

function feed(d: StreamingDetector, values: number[], stepMs = MIN, start = T0) {
  return values.map((v, i) => d.update(start + i * stepMs, v));
}

describe('robust (rolling median / MAD)', () => {
  it('flags a latency spike upwards and nothing in ordinary noise', () => {
    const rand = lcg(1);
    const values = Array.from({ length: 3000 }, () => 0.8 + 0.05 * noise(rand));
    values[2500] = 2.5;
    const outs = feed(createDetector({ kind: 'robust' }), values);
    expect(outs[2500]).toMatchObject({ anomalous: true, direction: 'up' });
    expect(outs[2500].score).toBeGreaterThan(0.8);
    const falseAlarms = outs.filter((o, i) => o.anomalous && i !== 2500).length;
    expect(falseAlarms).toBeLessThanOrEqual(3);
  });

  it('with sides: down ignores the spike upwards but sees a drop', () => {
    const rand = lcg(2);
    const values = Array.from({ length: 2000 }, () => 100 + 3 * noise(rand));
    values[1500] = 200;
    values[1700] = 20;
    const outs = feed(createDetector({ kind: 'robust', params: { sides: 'down' } }), values);
    expect(outs[1500].score).toBe(0);
    expect(outs[1700]).toMatchObject({ anomalous: true, direction: 'down' });
  });

  it('is silent while warming up', () => {
    const outs = feed(createDetector({ kind: 'robust', params: { warmup: 50 } }), [
      1,
      1,
      1,
      1,
      100,
      ...new Array<number>(40).fill(1),
    ]);
    expect(outs.every((o) => o === QUIET)).toBe(true);
  });
});

describe('seasonal (Holt-Winters, daily and weekly)', () => {
  // Three weeks of a daily traffic shape, sampled every 4-6 minutes, quieter on weekends.
  function traffic(rand: () => number, days: number): { t: number[]; v: number[] } {
    const t: number[] = [];
    const v: number[] = [];
    let now = T0;
    while (now < T0 + days * 86_400_000) {
      const hour = (now / 3_600_000) % 24;
      const weekday = new Date(now).getUTCDay();
      const base = 1000 + 800 * Math.sin((2 * Math.PI * (hour - 6)) / 24);
      v.push((weekday === 0 || weekday === 6 ? 0.6 : 1) * base + 20 * noise(rand));
      t.push(now);
      now += 4 * MIN + Math.floor(rand() * 2 * MIN);
    }
    return { t, v };
  }

  it('knows the daily shape: a noon level at midnight is anomalous, the same level at noon is not', () => {
    const rand = lcg(3);
    const { t, v } = traffic(rand, 21);
    const seasonal = createDetector({ kind: 'seasonal' });
    const robust = createDetector({ kind: 'robust' });
    const outs = t.map((time, i) => seasonal.update(time, v[i]));
    t.forEach((time, i) => robust.update(time, v[i]));
    const falseAlarms = outs.slice(t.length / 2).filter((o) => o.anomalous).length;
    expect(falseAlarms).toBeLessThanOrEqual(5);
    // Day 21 (a Monday) at 00:00 and 12:00.
    const midnight = T0 + 21 * 86_400_000;
    const noonLevel = 1000 + 800 * Math.sin((2 * Math.PI * 6) / 24);
    const atMidnight = seasonal.state();
    const m = seasonal.update(midnight, noonLevel);
    expect(m).toMatchObject({ anomalous: true, direction: 'up' });
    const fresh = createDetector({ kind: 'seasonal' }, atMidnight);
    expect(fresh.update(midnight + 12 * 3_600_000, noonLevel).anomalous).toBe(false);
    // The rolling median, blind to the time of day, calls the midnight value ordinary.
    expect(robust.update(midnight, noonLevel).anomalous).toBe(false);
  });

  it('sees a throughput drop, and a six-hour gap with no data is not one', () => {
    const rand = lcg(4);
    const { t, v } = traffic(rand, 15);
    const d = createDetector({ kind: 'seasonal', params: { sides: 'down' } });
    t.forEach((time, i) => d.update(time, v[i]));
    const last = t[t.length - 1];
    // Resume after six hours at the level that hour should have.
    const resume = last + 6 * 3_600_000;
    const hour = (resume / 3_600_000) % 24;
    const expected = 1000 + 800 * Math.sin((2 * Math.PI * (hour - 6)) / 24);
    expect(d.update(resume, expected).anomalous).toBe(false);
    expect(d.update(resume + 5 * MIN, expected * 0.4)).toMatchObject({ anomalous: true, direction: 'down' });
  });
});

describe('cusum (change points)', () => {
  it('finds an error-rate step from 1 % to 1.6 % that no single sample shows', () => {
    const rand = lcg(5);
    const values = Array.from({ length: 3000 }, (_, i) => (i < 2000 ? 0.01 : 0.016) + 0.004 * noise(rand));
    const flat = { dayBins: 1, weekBins: 1 };
    const cusum = feed(
      createDetector({ kind: 'cusum', params: { sides: 'up', drift: 1, reference: 4, baseline: flat } }),
      values,
    );
    const robust = feed(createDetector({ kind: 'robust', params: { sides: 'up' } }), values);
    const firstCusum = cusum.findIndex((o, i) => i >= 2000 && o.anomalous);
    expect(firstCusum).toBeGreaterThanOrEqual(2000);
    expect(firstCusum).toBeLessThan(2060);
    expect(cusum[firstCusum].direction).toBe('up');
    // Before the step: only a few short episodes (which an alert's `for` would also hold back).
    const episodes = cusum.slice(300, 2000).filter((o, i, a) => o.anomalous && !a[i - 1]?.anomalous).length;
    expect(episodes).toBeLessThanOrEqual(4);
    // Per sample the shift is within the noise: the robust detector sees no more than stray points.
    expect(robust.slice(2000, 2100).filter((o) => o.anomalous).length).toBeLessThan(5);
  });
});

describe('latency drift', () => {
  it('cusum (sides: up) catches a TTFT p99 creeping up 1 % per sample before it is 3σ out', () => {
    const rand = lcg(9);
    // p99 TTFT around 0.8 s with 0.04 s of noise; from sample 2000 it rises 0.008 s per sample.
    const values = Array.from(
      { length: 2300 },
      (_, i) => 0.8 + 0.04 * noise(rand) + (i >= 2000 ? 0.008 * (i - 2000) : 0),
    );
    const outs = feed(
      createDetector({
        kind: 'cusum',
        params: { sides: 'up', drift: 0.5, reference: 5, baseline: { dayBins: 1, weekBins: 1 } },
      }),
      values,
    );
    const first = outs.findIndex((o, i) => i >= 2000 && o.anomalous);
    expect(first).toBeGreaterThan(2000);
    // At that point the drift is still under three noise standard deviations (0.04·0.577·3 ≈ 0.07 s).
    expect(0.008 * (first - 2000)).toBeLessThan(0.07);
    expect(outs[first].direction).toBe('up');
    expect(outs.slice(300, 2000).filter((o, i, a) => o.anomalous && !a[i - 1]?.anomalous).length).toBeLessThanOrEqual(
      3,
    );
  });
});

describe('what every detector does with odd input', () => {
  const specs: DetectorSpec[] = ['robust', 'seasonal', 'cusum', 'ensemble'].map((kind) => ({ kind }) as DetectorSpec);

  it.each(specs.map((s) => [s.kind, s] as const))(
    '%s: NaN, Infinity, null and undefined are no observation',
    (_k, spec) => {
      const d = createDetector(spec);
      const rand = lcg(6);
      for (let i = 0; i < 500; i++) d.update(T0 + i * MIN, 10 + noise(rand));
      const before = JSON.stringify(d.state());
      for (const missing of [Number.NaN, Infinity, -Infinity, null, undefined]) {
        expect(d.update(T0 + 600 * MIN, missing)).toEqual({ score: 0, anomalous: false, direction: 'none' });
      }
      expect(JSON.stringify(d.state())).toBe(before);
    },
  );

  it.each(specs.map((s) => [s.kind, s] as const))('%s: time going backwards gives finite scores', (_k, spec) => {
    const d = createDetector(spec);
    const rand = lcg(7);
    const outs = Array.from({ length: 400 }, (_, i) => d.update(T0 + (i === 300 ? 100 : i) * MIN, 5 + noise(rand)));
    expect(outs.every((o) => o.score >= 0 && o.score <= 1)).toBe(true);
    expect(JSON.stringify(d.state())).not.toMatch(/null/);
  });

  it('a higher sensitivity never raises fewer alarms', () => {
    const rand = lcg(8);
    const values = Array.from({ length: 2000 }, (_, i) => 50 + 5 * noise(rand) + (i % 300 === 0 ? 30 : 0));
    const counts = [0.2, 0.5, 0.8].map(
      (sensitivity) => feed(createDetector({ kind: 'robust', sensitivity }), values).filter((o) => o.anomalous).length,
    );
    expect(counts[0]).toBeLessThanOrEqual(counts[1]);
    expect(counts[1]).toBeLessThanOrEqual(counts[2]);
    expect(counts[2]).toBeGreaterThan(counts[0]);
  });

  it('rejects unknown parameters and sensitivities outside [0, 1]', () => {
    expect(() => createDetector({ kind: 'robust', params: { windw: 10 } })).toThrow(/robust/);
    expect(() => createDetector({ kind: 'seasonal', sensitivity: 1.5 })).toThrow(/sensitivity/);
    expect(() => createDetector({ kind: 'nope' as 'robust' })).toThrow(/unknown detector kind/);
  });
});
