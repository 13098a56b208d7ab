/**
 * `arcwatch rules check [--lint=duplicate-rules|none] [--lint-fatal] FILE…`: validates rule files
 * like `promtool check rules` (exit 1 on errors, 3 on lint findings with --lint-fatal).
 */
import { checkRuleFiles, type CheckRulesOptions } from '@arcwatch/alerting';
import type { Command } from './main';

export const command: Command = async (args, io) => {
  const opts: CheckRulesOptions = { lint: 'duplicate-rules', lintFatal: false };
  const files: string[] = [];
  for (const a of args) {
    if (a === '--lint-fatal') opts.lintFatal = true;
    else if (a.startsWith('--lint=')) {
      const v = a.slice('--lint='.length);
      if (v !== 'duplicate-rules' && v !== 'all' && v !== 'none') {
        io.err(`unknown lint option ${v}`);
        return 2;
      }
      opts.lint = v;
    } else if (a.startsWith('--')) {
      io.err(`unknown flag ${a}`);
      return 2;
    } else files.push(a);
  }
  if (files.length === 0) {
    io.err('usage: arcwatch rules check [--lint=duplicate-rules|none] [--lint-fatal] FILE…');
    return 2;
  }
  return checkRuleFiles(files, opts, io.out, io.err);
};
