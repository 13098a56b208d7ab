import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { NAB_DETECTORS, nabScores, readNabCorpus, scoreAllProfiles } from '@arcwatch/detectors';
import { FIXTURES_DIR } from '@arcwatch/testing';
import { main } from './main';

const NAB = path.join(FIXTURES_DIR, 'nab');
const DATA = path.join(NAB, 'data');
/** The ad-exchange and traffic files only (13 of 31): enough to exercise the command, quick to score. */
function smallLabels(): string {
  const all = JSON.parse(readFileSync(path.join(NAB, 'labels', 'combined_windows.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  const some = Object.fromEntries(
    Object.entries(all).filter(([k]) => k.startsWith('realAdExchange/') || k.startsWith('realTraffic/')),
  );
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'nab-')), 'windows.json');
  writeFileSync(file, JSON.stringify(some));
  return file;
}
const LABELS = smallLabels();
const BIN = path.resolve(__dirname, '..', 'bin', 'arcwatch.js');

async function run(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['nab', 'score', ...args], { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n').split('\n'), err };
}

describe('arcwatch nab score', () => {
  it('--help lists every detector name and exits 0', async () => {
    const { code, out } = await run(['--help']);
    expect(code).toBe(0);
    const line = out.find((l) => l.trim().startsWith('--detector NAME')) ?? '';
    for (const name of Object.keys(NAB_DETECTORS)) expect(line).toContain(name);
  });

  it('prints the three profile scores of a detector, as the library computes them', async () => {
    const { code, out } = await run(['--detector', 'seasonal', '--data', DATA, '--labels', LABELS]);
    expect(code).toBe(0);
    const corpus = readNabCorpus(DATA, LABELS);
    const expected = scoreAllProfiles(
      corpus.map((f) => ({ name: f.name, scores: nabScores(NAB_DETECTORS.seasonal, f), windows: f.windows })),
    );
    expect(out).toEqual(expected.map((r) => `${r.profile}: ${r.score.toFixed(2)}`));
    expect(out[0]).toMatch(/^standard: \d+\.\d\d$/);
  });

  it('keeps its output through a pipe, with --profile picking one line', () => {
    const piped = execFileSync(
      'bash',
      ['-c', `node "${BIN}" nab score --detector=cusum --data "${DATA}" --labels "${LABELS}" --profile low-fn | cat`],
      { encoding: 'utf8' },
    );
    expect(piped).toMatch(/^reward_low_FN_rate: \d+\.\d\d\n$/);
  });

  it('exits 2 on an unknown detector or a missing option, 1 on a corpus it cannot read', async () => {
    expect((await run(['--detector', 'prophet', '--data', DATA, '--labels', LABELS])).code).toBe(2);
    const missing = await run(['--detector', 'robust', '--data', DATA]);
    expect(missing.code).toBe(2);
    expect(missing.err[0]).toMatch(/missing --labels/);
    const unreadable = await run(['--detector', 'robust', '--data', '/nonexistent', '--labels', LABELS]);
    expect(unreadable.code).toBe(1);
    expect(unreadable.err[0]).toMatch(/cannot read/);
  });
});
