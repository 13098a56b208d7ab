/**
 * `arcwatch rules test [--run REGEX]… FILE…`: promtool-format rule unit tests. Output and exit
 * code as `promtool test rules` (0 when every test passes, 1 otherwise).
 */
import { testRuleFiles } from '@arcwatch/alerting';
import type { Command } from './main';

export const command: Command = async (args, io) => {
  const run: string[] = [];
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--run') run.push(args[++i] ?? '');
    else if (a.startsWith('--run=')) run.push(a.slice('--run='.length));
    else if (a.startsWith('--')) {
      io.err(`unknown flag ${a}`);
      return 2;
    } else files.push(a);
  }
  if (files.length === 0) {
    io.err('usage: arcwatch rules test [--run REGEX]… FILE…');
    return 2;
  }
  return testRuleFiles(files, { run }, io.out, io.err);
};
