import {
  NAB_DETECTORS,
  NAB_PROFILE_NAMES,
  NabCorpusError,
  readNabCorpus,
  scoreAllProfiles,
  nabScores,
  type NabProfileName,
} from '@arcwatch/detectors';
import type { Command } from './main';

const PROFILE_ALIASES: Record<string, NabProfileName> = {
  standard: 'standard',
  reward_low_FP_rate: 'reward_low_FP_rate',
  'low-fp': 'reward_low_FP_rate',
  reward_low_FN_rate: 'reward_low_FN_rate',
  'low-fn': 'reward_low_FN_rate',
};

function usage(): string[] {
  return [
    'usage: arcwatch nab score --detector NAME --data DIR --labels FILE [--profile PROFILE] [--verbose]',
    '',
    'Scores a detector on a NAB corpus as NAB does: one threshold per profile, optimised over the whole',
    'corpus, normalised so that never alerting is 0 and a perfect detector 100. Prints one line per profile.',
    '',
    `  --detector NAME   one of: ${Object.keys(NAB_DETECTORS).join(', ')}`,
    '  --data DIR        the corpus root: DIR/<category>/<name>.csv',
    '  --labels FILE     combined_windows.json; every file it names is scored',
    '  --profile P       only this profile: standard, low-fp (reward_low_FP_rate), low-fn (reward_low_FN_rate)',
    '  --verbose         also the chosen threshold and raw score of each profile (on stderr)',
  ];
}

interface Args {
  detector: string;
  data: string;
  labels: string;
  profile?: NabProfileName;
  verbose: boolean;
}

function parseArgs(args: string[]): Args | 'help' | string {
  const values: Record<string, string> = {};
  let verbose = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--help' || arg === '-h') return 'help';
    if (arg === '--verbose') {
      verbose = true;
      continue;
    }
    const m = /^--(detector|data|labels|profile)(?:=(.*))?$/.exec(arg);
    if (!m) return `unknown argument "${arg}"`;
    const value = m[2] ?? args[++i];
    if (value === undefined) return `--${m[1]} needs a value`;
    values[m[1]] = value;
  }
  for (const required of ['detector', 'data', 'labels']) if (!values[required]) return `missing --${required}`;
  if (!(values.detector in NAB_DETECTORS))
    return `unknown detector "${values.detector}" (known: ${Object.keys(NAB_DETECTORS).join(', ')})`;
  let profile: NabProfileName | undefined;
  if (values.profile !== undefined) {
    profile = PROFILE_ALIASES[values.profile];
    if (!profile) return `unknown profile "${values.profile}"`;
  }
  return { detector: values.detector, data: values.data, labels: values.labels, profile, verbose };
}

/**
 * `arcwatch nab score`: 0 and one `<profile>: <score>` line per profile, 1 when the corpus cannot
 * be read, 2 on usage errors. Stdout carries only the score lines, so it can be piped.
 */
export const command: Command = async (args, io) => {
  const parsed = parseArgs(args);
  if (parsed === 'help') {
    for (const line of usage()) io.out(line);
    return 0;
  }
  if (typeof parsed === 'string') {
    io.err(`arcwatch nab score: ${parsed}`);
    for (const line of usage()) io.err(line);
    return 2;
  }
  let corpus;
  try {
    corpus = readNabCorpus(parsed.data, parsed.labels);
  } catch (err) {
    if (err instanceof NabCorpusError) {
      io.err(`arcwatch nab score: ${err.message}`);
      return 1;
    }
    throw err;
  }
  const spec = NAB_DETECTORS[parsed.detector];
  const files = corpus.map((f) => ({ name: f.name, scores: nabScores(spec, f), windows: f.windows }));
  const results = scoreAllProfiles(files).filter((r) => parsed.profile === undefined || r.profile === parsed.profile);
  // NAB_PROFILE_NAMES fixes the order: standard, low FP, low FN.
  results.sort((a, b) => NAB_PROFILE_NAMES.indexOf(a.profile) - NAB_PROFILE_NAMES.indexOf(b.profile));
  io.out(results.map((r) => `${r.profile}: ${r.score.toFixed(2)}`).join('\n'));
  if (parsed.verbose) {
    const windows = files.reduce((n, f) => n + f.windows.length, 0);
    io.err(`${parsed.detector}: ${files.length} files, ${windows} windows`);
    for (const r of results) io.err(`  ${r.profile}: threshold ${r.threshold}, raw ${r.raw.toFixed(6)}`);
  }
  return 0;
};
