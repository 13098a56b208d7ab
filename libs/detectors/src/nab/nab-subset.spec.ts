import { readFileSync } from 'node:fs';
import path from 'node:path';
import { FIXTURES_DIR } from '@arcwatch/testing';
import { readNabCorpus, type NabFile } from './nab-corpus';
import { NAB_DETECTORS } from './nab-detectors';
import { nabScores } from './nab-run';
import { rawAtThreshold, NAB_PROFILES, probationRows, scoreAllProfiles } from './nab-scorer';

const NAB = path.join(FIXTURES_DIR, 'nab');
const DOC = readFileSync(path.resolve(__dirname, '..', '..', '..', '..', 'docs', 'detectors.md'), 'utf8');

/** The subset table of SCORING.md §8: detector → [standard, low FP, low FN]. */
function publishedOnSubset(): Map<string, number[]> {
  const text = readFileSync(path.join(NAB, 'SCORING.md'), 'utf8');
  const section = text.slice(text.indexOf('re-scored on exactly these 31 files'), text.indexOf('## 9.'));
  const rows = new Map<string, number[]>();
  for (const m of section.matchAll(/^\| ([^|]+?) \| (-?[\d.]+) \| (-?[\d.]+) \| (-?[\d.]+) \|$/gm))
    rows.set(m[1], [Number(m[2]), Number(m[3]), Number(m[4])]);
  return rows;
}

/**
 * Every detector scored on the shared NAB subset (31 files, 53 windows), with one threshold per
 * profile for the whole subset, as SCORING.md prescribes for subsets. The floors are the scores
 * measured when the parameters were fixed (docs/detectors.md), less half a point, so a change that
 * makes a detector worse fails here.
 */
const FLOORS: Record<string, [number, number, number]> = {
  robust: [52.69, 44.64, 57.6],
  seasonal: [66.18, 58.62, 71.0],
  cusum: [53.19, 46.32, 58.66],
  ensemble: [73.59, 65.79, 78.45],
};

describe('NAB subset', () => {
  let corpus: NabFile[];
  const measured = new Map<string, number[]>();
  beforeAll(() => {
    corpus = readNabCorpus(path.join(NAB, 'data'), path.join(NAB, 'labels', 'combined_windows.json'));
  });

  it('reads 31 files and 53 windows, duplicate timestamps matched to their first row', () => {
    expect(corpus).toHaveLength(31);
    expect(corpus.reduce((n, f) => n + f.windows.length, 0)).toBe(53);
    const latency = corpus.find((f) => f.name === 'realKnownCause/ec2_request_latency_system_failure.csv');
    expect(latency?.timestamps.filter((t) => t === '2014-03-09 03:00:00').length).toBeGreaterThan(1);
    for (const f of corpus)
      for (const [a] of f.windows) expect(a).toBeGreaterThanOrEqual(probationRows(f.values.length));
  });

  it.each(Object.keys(FLOORS))('%s scores at least its measured level on all three profiles', (name) => {
    const files = corpus.map((f) => ({ name: f.name, scores: nabScores(NAB_DETECTORS[name], f), windows: f.windows }));
    const results = scoreAllProfiles(files);
    measured.set(
      name,
      results.map((r) => r.score),
    );
    const [standard, lowFp, lowFn] = FLOORS[name];
    expect(results.map((r) => r.profile)).toEqual(['standard', 'reward_low_FP_rate', 'reward_low_FN_rate']);
    expect(results[0].score).toBeGreaterThanOrEqual(standard);
    expect(results[1].score).toBeGreaterThanOrEqual(lowFp);
    expect(results[2].score).toBeGreaterThanOrEqual(lowFn);
    for (const r of results) expect(r.score).toBeLessThan(100);
    // The sweep's optimum is the raw score at its own threshold, recomputed independently.
    expect(rawAtThreshold(files, NAB_PROFILES.standard, results[0].threshold)).toBeCloseTo(results[0].raw, 9);
  });

  it('docs/detectors.md shows these scores beside the published ones, copied unchanged', () => {
    expect([...measured.keys()].sort()).toEqual(Object.keys(FLOORS).sort());
    for (const [name, scores] of measured) {
      const cells = scores.map((x) => x.toFixed(2));
      const plain = `| ${name} | ${cells.join(' | ')} |`;
      const bold = `| **${name}** (seasonal + cusum) | ${cells.map((c) => `**${c}**`).join(' | ')} |`;
      expect(DOC.includes(plain) || DOC.includes(bold)).toBe(true);
    }
    const published = publishedOnSubset();
    expect(published.size).toBe(15);
    for (const [name, [std, lowFp, lowFn]] of published) {
      expect(DOC).toContain(`| ${name} | ${std.toFixed(2)} | ${lowFp.toFixed(2)} | ${lowFn.toFixed(2)} |`);
    }
    const final = JSON.parse(readFileSync(path.join(NAB, 'results', 'final_results.json'), 'utf8')) as Record<
      string,
      Record<string, number>
    >;
    expect(Object.keys(final)).toHaveLength(15);
    for (const [name, r] of Object.entries(final)) {
      expect(DOC).toContain(
        `| ${name} | ${r.standard.toFixed(2)} | ${r.reward_low_FP_rate.toFixed(2)} | ${r.reward_low_FN_rate.toFixed(2)} |`,
      );
    }
    // The claim in the docs: the ensemble is ahead of every published detector on this subset.
    const ensemble = measured.get('ensemble') as number[];
    for (const [name, scores] of published) {
      scores.forEach((s, i) =>
        expect({ name, profile: i, ahead: ensemble[i] > s }).toEqual({ name, profile: i, ahead: true }),
      );
    }
  });

  it('scores are causal: a row’s score does not change when later rows are cut off', () => {
    const file = corpus.find((f) => f.name === 'realKnownCause/nyc_taxi.csv') as NabFile;
    for (const spec of Object.values(NAB_DETECTORS)) {
      const whole = nabScores(spec, file);
      const cut = 6000;
      const prefix = nabScores(spec, {
        ...file,
        timesMs: file.timesMs.slice(0, cut),
        values: file.values.slice(0, cut),
      });
      expect(Array.from(prefix)).toEqual(Array.from(whole.slice(0, cut)));
    }
  });

  it('uses the same profiles as the fixture', () => {
    const profiles = JSON.parse(readFileSync(path.join(NAB, 'config', 'profiles.json'), 'utf8')) as Record<
      string,
      { CostMatrix: Record<string, number> }
    >;
    for (const [name, p] of Object.entries(NAB_PROFILES)) {
      expect(profiles[name].CostMatrix).toMatchObject({
        tpWeight: p.tpWeight,
        fpWeight: p.fpWeight,
        fnWeight: p.fnWeight,
      });
    }
  });
});
