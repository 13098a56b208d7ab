import fc from 'fast-check';
import {
  NAB_PROFILES,
  probationRows,
  rawAtThreshold,
  rowValues,
  scaledSigmoid,
  scoreAllProfiles,
  scoreCorpus,
  type NabScoredFile,
} from './nab-scorer';

// SCORING.md §10: N = 40, P = 6, one window over rows 20..29, scores at rows 3, 10, 25 and 30.
function tinyFile(): NabScoredFile {
  const scores = new Array<number>(40).fill(0);
  scores[3] = 1.0;
  scores[10] = 0.9;
  scores[25] = 0.8;
  scores[30] = 0.7;
  return { name: 'tiny.csv', scores, windows: [[20, 29]] };
}

describe('NAB scoring, the worked example of SCORING.md', () => {
  it('has the documented sigmoid values and probation', () => {
    expect(scaledSigmoid(-1)).toBeCloseTo(0.9866142981514305, 15);
    expect(scaledSigmoid(-0.5)).toBeCloseTo(0.8482836, 7);
    expect(scaledSigmoid(0)).toBe(0);
    expect(scaledSigmoid(3)).toBeCloseTo(-0.99999939, 8);
    expect(scaledSigmoid(3.0001)).toBe(-1);
    expect(probationRows(40)).toBe(6);
    expect(probationRows(10_000)).toBe(750);
  });

  it('values each row as the table says (standard profile)', () => {
    const { values, windowOf } = rowValues(40, [[20, 29]], NAB_PROFILES.standard);
    expect(values[10]).toBeCloseTo(-0.11, 6);
    expect(values[20]).toBeCloseTo(1.0, 6);
    expect(values[25]).toBeCloseTo(0.859793, 6);
    expect(values[29]).toBeCloseTo(0.248242, 6);
    expect(values[30]).toBeCloseTo(-0.029793, 6);
    expect(values[39]).toBeCloseTo(-0.109153, 6);
    expect(windowOf[19]).toBe(-1);
    expect(windowOf[20]).toBe(0);
    expect(windowOf[29]).toBe(0);
    expect(windowOf[30]).toBe(-1);
  });

  it('gives the documented raw score at each threshold', () => {
    const file = [tinyFile()];
    const expected: Array<[number, number, number, number]> = [
      [1.1, -1.0, -1.0, -2.0],
      [0.9, -1.11, -1.22, -2.11],
      [0.8, 0.749793, 0.639793, 0.749793],
      [0.7, 0.719999, 0.580206, 0.719999],
      [0.0, -1.419104, -3.838208, -1.419104],
    ];
    for (const [t, std, lowFp, lowFn] of expected) {
      expect(rawAtThreshold(file, NAB_PROFILES.standard, t)).toBeCloseTo(std, 5);
      expect(rawAtThreshold(file, NAB_PROFILES.reward_low_FP_rate, t)).toBeCloseTo(lowFp, 5);
      expect(rawAtThreshold(file, NAB_PROFILES.reward_low_FN_rate, t)).toBeCloseTo(lowFn, 5);
    }
  });

  it('chooses 0.8 for every profile and normalises to the documented scores', () => {
    const [standard, lowFp, lowFn] = scoreAllProfiles([tinyFile()]);
    expect(standard).toMatchObject({ profile: 'standard', threshold: 0.8 });
    expect(lowFp).toMatchObject({ profile: 'reward_low_FP_rate', threshold: 0.8 });
    expect(lowFn).toMatchObject({ profile: 'reward_low_FN_rate', threshold: 0.8 });
    expect(standard.score).toBeCloseTo(87.4896, 4);
    expect(lowFp.score).toBeCloseTo(81.9896, 4);
    expect(lowFn.score).toBeCloseTo(91.6598, 4);
  });

  it('scores never alerting as 0 and a perfect detector as 100', () => {
    const silent = { ...tinyFile(), scores: new Array<number>(40).fill(0.5) };
    expect(scoreCorpus([silent], NAB_PROFILES.standard).score).toBe(0);
    const perfect = { ...tinyFile(), scores: Array.from({ length: 40 }, (_, i) => (i === 20 ? 1 : i < 6 ? 1 : 0)) };
    for (const r of scoreAllProfiles([perfect])) expect(r.score).toBeCloseTo(100, 10);
  });

  it('adds files up: a detection in a file without windows is a full false positive', () => {
    const quiet: NabScoredFile = {
      name: 'no-window.csv',
      scores: Array.from({ length: 40 }, (_, i) => (i === 30 ? 0.9 : 0)),
      windows: [],
    };
    const r = scoreCorpus([tinyFile(), quiet], NAB_PROFILES.standard);
    expect(r.threshold).toBe(0.8);
    expect(r.raw).toBeCloseTo(0.749793 - 0.11, 5);
    expect(r.score).toBeCloseTo((100 * (r.raw + 1)) / 2, 10);
  });

  it('rejects a score outside [0, 1]', () => {
    const bad = { ...tinyFile(), scores: Array.from({ length: 40 }, (_, i) => (i === 12 ? 1.5 : 0)) };
    expect(() => scoreCorpus([bad], NAB_PROFILES.standard)).toThrow(/outside \[0, 1\]/);
  });

  it('the sweep finds the best threshold: equal to the best raw score over every candidate (random corpora)', () => {
    const file = fc
      .integer({ min: 8, max: 60 })
      .chain((n) =>
        fc.record({
          scores: fc.array(fc.constantFrom(0, 0.1, 0.25, 0.5, 0.5, 0.75, 0.9, 1), { minLength: n, maxLength: n }),
          cuts: fc.uniqueArray(fc.integer({ min: probationRows(n), max: n - 1 }), { maxLength: 4 }),
        }),
      )
      .map(({ scores, cuts }): NabScoredFile => {
        const sorted = [...cuts].sort((a, b) => a - b);
        const windows: Array<[number, number]> = [];
        for (let i = 0; i + 1 < sorted.length; i += 2) windows.push([sorted[i], sorted[i + 1]]);
        return { name: 'f.csv', scores, windows };
      });
    fc.assert(
      fc.property(fc.array(file, { minLength: 1, maxLength: 3 }), (files) => {
        for (const profile of Object.values(NAB_PROFILES)) {
          const swept = scoreCorpus(files, profile);
          const candidates = [1.1, ...new Set(files.flatMap((f) => Array.from(f.scores)))];
          const best = Math.max(...candidates.map((t) => rawAtThreshold(files, profile, t)));
          expect(swept.raw).toBeCloseTo(best, 9);
          expect(rawAtThreshold(files, profile, swept.threshold)).toBeCloseTo(swept.raw, 9);
        }
      }),
      { numRuns: 300, seed: 42 },
    );
  });
});
