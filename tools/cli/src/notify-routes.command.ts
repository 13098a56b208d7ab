import {
  AlertmanagerConfigError,
  buildRouteTree,
  loadAlertmanagerConfigFile,
  MatcherError,
  matchingTreeText,
  parseMatcher,
  receiversLine,
  routesShowText,
  type MatcherMode,
} from '@arcwatch/alertmanager';
import { formatIssue } from '@arcwatch/config-files';
import type { CliIo, Command } from './main';

const USAGE = `usage: arcwatch notify routes [show] --config FILE
       arcwatch notify routes test --config FILE [--tree] [--verify.receivers=R1,R2] [--enable-feature=classic-mode|utf8-strict-mode] label=value...

show prints the routing tree, test the receivers an alert with these labels is routed to
(comma-separated, in routing-tree order), both exactly as amtool config routes show / test do.`;

interface Args {
  sub: 'show' | 'test';
  config?: string;
  tree: boolean;
  verify?: string;
  mode: MatcherMode;
  labels: string[];
}

export function parseFeatureMode(value: string): MatcherMode | undefined {
  const features = value.split(',').map((f) => f.trim());
  if (features.includes('classic-mode')) return 'classic';
  if (features.includes('utf8-strict-mode')) return 'utf8';
  return undefined;
}

function parse(args: string[]): Args | string {
  const out: Args = { sub: 'show', tree: false, mode: 'fallback', labels: [] };
  const rest = [...args];
  if (rest[0] === 'show' || rest[0] === 'test') out.sub = rest.shift() as Args['sub'];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    const value = (flag: string): string | undefined =>
      a === flag ? rest[++i] : a.startsWith(`${flag}=`) ? a.slice(flag.length + 1) : undefined;
    const config = value('--config') ?? value('--config.file');
    const verify = value('--verify.receivers');
    const feature = value('--enable-feature');
    if (config !== undefined) out.config = config;
    else if (verify !== undefined) out.verify = verify;
    else if (feature !== undefined) out.mode = parseFeatureMode(feature) ?? out.mode;
    else if (a === '--tree') out.tree = true;
    else if (a.startsWith('--')) return `unknown option "${a}"`;
    else out.labels.push(a);
  }
  if (!out.config) return 'missing --config FILE';
  if (out.sub === 'show' && out.labels.length > 0) return 'routes show takes no labels';
  return out;
}

/** Writes `text` line by line so nothing is lost on a pipe; `text` ends with a newline. */
export function writeText(io: CliIo, text: string): void {
  for (const line of text.split('\n').slice(0, -1)) io.out(line);
}

/** `arcwatch notify routes [show|test]`: 0 on success, 1 on a bad config / labels / verify mismatch, 2 on usage. */
export const command: Command = async (args, io) => {
  const a = parse(args);
  if (typeof a === 'string') {
    io.err(`arcwatch notify routes: ${a}\n\n${USAGE}`);
    return 2;
  }
  let root;
  try {
    root = buildRouteTree(loadAlertmanagerConfigFile(a.config as string, { mode: a.mode }).route);
  } catch (e) {
    if (e instanceof AlertmanagerConfigError) {
      io.err(`arcwatch: error: ${e.amMessage}`);
      io.err(e.issues.map(formatIssue).join('\n'));
      return 1;
    }
    throw e;
  }
  if (a.sub === 'show') {
    writeText(io, `${routesShowText(root)}\n`);
    return 0;
  }
  const labels: Record<string, string> = {};
  for (const l of a.labels) {
    try {
      const m = parseMatcher(l, a.mode);
      if (m.type !== '=') {
        io.err('arcwatch: error: Labels must be specified as key=value pairs');
        return 1;
      }
      labels[m.name] = m.value;
    } catch (e) {
      if (e instanceof MatcherError) {
        io.err(`arcwatch: error: Failed to parse labels: ${e.message}`);
        return 1;
      }
      throw e;
    }
  }
  if (a.tree) writeText(io, `${matchingTreeText(root, labels)}\n`);
  const line = receiversLine(root, labels);
  io.out(line);
  if (a.verify !== undefined && a.verify !== '' && a.verify !== line) {
    io.out('WARNING: Expected receivers did not match resolved receivers.');
    return 1;
  }
  return 0;
};
