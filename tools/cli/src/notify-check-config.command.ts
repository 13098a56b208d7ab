import { AlertmanagerConfigError, checkConfigFile } from '@arcwatch/alertmanager';
import { formatIssue } from '@arcwatch/config-files';
import type { Command } from './main';
import { parseFeatureMode, writeText } from './notify-routes.command';

const USAGE = `usage: arcwatch notify check-config [--enable-feature=classic-mode|utf8-strict-mode] FILE...

Validates Alertmanager configuration files (with ArcWatch's arcwatch: block) and prints what
amtool check-config prints; problems also go to stderr as FILE:LINE:COLUMN: field: message.`;

/** `arcwatch notify check-config FILE...`: 0 when every file is valid, 1 otherwise, 2 on usage. */
export const command: Command = async (args, io) => {
  const files: string[] = [];
  let mode: 'classic' | 'utf8' | 'fallback' = 'fallback';
  for (const a of args) {
    if (a.startsWith('--enable-feature=')) mode = parseFeatureMode(a.slice('--enable-feature='.length)) ?? mode;
    else if (a.startsWith('-')) {
      io.err(`arcwatch notify check-config: unknown option "${a}"\n\n${USAGE}`);
      return 2;
    } else files.push(a);
  }
  if (files.length === 0) {
    io.err(`arcwatch notify check-config: missing FILE\n\n${USAGE}`);
    return 2;
  }
  let failed = 0;
  for (const file of files) {
    const r = checkConfigFile(file, { mode });
    failed += r.failures;
    writeText(io, r.text);
    if (r.error instanceof AlertmanagerConfigError) io.err(r.error.issues.map(formatIssue).join('\n'));
  }
  if (failed > 0) {
    io.err(`arcwatch: error: failed to validate ${failed} file(s)`);
    return 1;
  }
  return 0;
};
