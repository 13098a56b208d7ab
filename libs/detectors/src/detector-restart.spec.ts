import path from 'node:path';
import { FIXTURES_DIR } from '@arcwatch/testing';
import { DETECTOR_KINDS, DetectorError, type DetectorOutput } from './detector';
import { readNabCorpus } from './nab/nab-corpus';
import { createDetector, type DetectorSpec } from './registry';

/** A deterministic day-shaped series with noise, irregular spacing, gaps and missing values. */
function synthetic(n: number): { t: number[]; v: Array<number | null> } {
  let seed = 12345;
  const rand = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const t: number[] = [];
  const v: Array<number | null> = [];
  let now = Date.UTC(2026, 0, 5);
  for (let i = 0; i < n; i++) {
    now += 60_000 + Math.floor(rand() * 30_000) + (i % 500 === 499 ? 3_600_000 : 0);
    const hour = (now / 3_600_000) % 24;
    const x = 100 + 40 * Math.sin((2 * Math.PI * hour) / 24) + 5 * (rand() - 0.5) + (i > 0.7 * n ? 25 : 0);
    t.push(now);
    v.push(i % 97 === 0 ? null : i % 131 === 0 ? Number.NaN : x);
  }
  return { t, v };
}

function run(
  spec: DetectorSpec,
  t: number[],
  v: Array<number | null>,
  from: number,
  to: number,
  state?: unknown,
): { outs: DetectorOutput[]; state: unknown } {
  const d = createDetector(spec, state);
  const outs: DetectorOutput[] = [];
  for (let i = from; i < to; i++) outs.push(d.update(t[i], v[i]));
  return { outs, state: d.state() };
}

const SPECS: DetectorSpec[] = [
  ...DETECTOR_KINDS.map((kind) => ({ kind })),
  { kind: 'ensemble', params: { combine: 'max', members: ['robust', 'seasonal', 'cusum'] } },
  { kind: 'cusum', params: { sides: 'up', drift: 1, baseline: { dayBins: 1, weekBins: 1 } }, sensitivity: 0.8 },
];

describe('detector state survives a restart bit for bit', () => {
  const series = synthetic(4000);
  const nyc = readNabCorpus(
    path.join(FIXTURES_DIR, 'nab', 'data'),
    path.join(FIXTURES_DIR, 'nab', 'labels', 'combined_windows.json'),
  ).find((f) => f.name === 'realKnownCause/nyc_taxi.csv');

  it.each(SPECS.map((s) => [JSON.stringify(s), s] as const))(
    '%s: half, JSON round trip, rest = uninterrupted',
    (_name, spec) => {
      const inputs: Array<{ t: number[]; v: Array<number | null> }> = [series];
      if (nyc) inputs.push({ t: Array.from(nyc.timesMs), v: Array.from(nyc.values) });
      expect(inputs).toHaveLength(2);
      for (const { t, v } of inputs) {
        const whole = run(spec, t, v, 0, t.length);
        const half = Math.floor(t.length / 2);
        const first = run(spec, t, v, 0, half);
        const saved = JSON.parse(JSON.stringify(first.state)) as unknown;
        const rest = run(spec, t, v, half, t.length, saved);
        const resumed = [...first.outs, ...rest.outs];
        expect(resumed).toHaveLength(whole.outs.length);
        resumed.forEach((o, i) => {
          // Object.is tells 0 from -0 and compares every bit of a double.
          if (
            !Object.is(o.score, whole.outs[i].score) ||
            o.anomalous !== whole.outs[i].anomalous ||
            o.direction !== whole.outs[i].direction
          ) {
            throw new Error(
              `${spec.kind}: row ${i} differs after restart: ${JSON.stringify(o)} vs ${JSON.stringify(whole.outs[i])}`,
            );
          }
        });
        expect(JSON.stringify(rest.state)).toBe(JSON.stringify(whole.state));
        // Not a vacuous comparison: the detector did say something on these series.
        expect(resumed.some((o) => o.score > 0)).toBe(true);
      }
    },
  );

  it('refuses a state of another kind or a damaged one', () => {
    const robust = createDetector({ kind: 'robust' });
    robust.update(0, 1);
    expect(() => createDetector({ kind: 'seasonal' }, robust.state())).toThrow(DetectorError);
    expect(() => createDetector({ kind: 'robust' }, { ...robust.state(), values: [1, null] })).toThrow(/finite/);
    const seasonal = createDetector({ kind: 'seasonal' });
    seasonal.update(0, 1);
    expect(() => createDetector({ kind: 'seasonal' }, { ...seasonal.state(), level: null })).toThrow(/level/);
    expect(() => createDetector({ kind: 'cusum' }, { kind: 'cusum', version: 2 })).toThrow(/v2/);
  });

  it('keeps states JSON-safe: no NaN or Infinity after gaps and missing values', () => {
    for (const spec of SPECS) {
      const { state } = run(spec, series.t, series.v, 0, 1500);
      const text = JSON.stringify(state);
      expect(text).not.toMatch(/null|NaN|Infinity/);
    }
  });
});
