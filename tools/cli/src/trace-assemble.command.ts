import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import {
  DEFAULT_POLICY,
  EMPTY_DIRECTORY,
  InMemoryAssembler,
  directoryFromEntries,
  loadApiKeysFile,
  normalizeEventInput,
  toAssemblyEvent,
  type AssemblyPolicy,
  type KeyDirectory,
} from '@arcwatch/request-assembly';
import type { CliIo, Command } from './main';

const USAGE = `usage: arcwatch trace assemble --events FILE.jsonl [options]

Assembles request lifecycle events (one JSON object per line: a bare event or a CloudEvent of
type io.arcwatch.requests.event.v1) and prints one assembled request per line (JSON).

  --events FILE        the events; '-' reads standard input
  --now TIME           assemble as of this RFC 3339 time (default: the end of time, so every
                       request is printed, unfinished ones as abandoned)
  --grace-ms N         wait for missing phases after the terminal event (default ${DEFAULT_POLICY.completionGraceMs})
  --abandon-after-ms N abandon a request this long after its first event (default ${DEFAULT_POLICY.abandonAfterMs})
  --api-keys FILE      API-key mapping YAML (tenant, team, project per key hash)
  --salt SALT          salt for raw apiKey fields (default: $ARCWATCH_API_KEY_SALT)

Lines that are not valid events are reported on stderr with their line number; the rest are
assembled. Exit status: 0 all lines used, 1 some lines rejected, 2 usage or file errors.`;

export const command: Command = async (args, io) => {
  let opts;
  try {
    opts = parseArgs({
      args,
      options: {
        events: { type: 'string' },
        now: { type: 'string' },
        'grace-ms': { type: 'string' },
        'abandon-after-ms': { type: 'string' },
        'api-keys': { type: 'string' },
        salt: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }).values;
  } catch (err) {
    io.err(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (opts.help || !opts.events) {
    io.err(USAGE);
    return opts.help ? 0 : 2;
  }
  const nowMs = opts.now === undefined ? Number.POSITIVE_INFINITY : Date.parse(opts.now);
  const grace = opts['grace-ms'] === undefined ? DEFAULT_POLICY.completionGraceMs : Number(opts['grace-ms']);
  const abandon =
    opts['abandon-after-ms'] === undefined ? DEFAULT_POLICY.abandonAfterMs : Number(opts['abandon-after-ms']);
  for (const [name, v] of [
    ['--now', nowMs],
    ['--grace-ms', grace],
    ['--abandon-after-ms', abandon],
  ] as const) {
    if (Number.isNaN(v) || v < 0) {
      io.err(`${name}: not a valid ${name === '--now' ? 'RFC 3339 time' : 'non-negative number'}`);
      return 2;
    }
  }

  let directory = EMPTY_DIRECTORY;
  try {
    if (opts['api-keys']) directory = directoryFromEntries(loadApiKeysFile(opts['api-keys']));
  } catch (err) {
    io.err((err as Error).message);
    return 2;
  }
  const salt = opts.salt ?? process.env.ARCWATCH_API_KEY_SALT;
  try {
    const input = opts.events === '-' ? process.stdin : createReadStream(opts.events, 'utf8');
    const lines = createInterface({ input, crlfDelay: Infinity });
    return await assembleJsonl(
      lines,
      { name: opts.events, nowMs, salt, directory, policy: { completionGraceMs: grace, abandonAfterMs: abandon } },
      io,
    );
  } catch (err) {
    io.err(`${opts.events}: ${(err as Error).message}`);
    return 2;
  }
};

export interface AssembleJsonlOptions {
  /** The input's name in error messages. */
  name: string;
  nowMs: number;
  salt: string | undefined;
  directory: KeyDirectory;
  policy: AssemblyPolicy;
}

/** The command without its file handling: lines in, records and line-numbered errors out. */
export async function assembleJsonl(
  lines: AsyncIterable<string> | Iterable<string>,
  o: AssembleJsonlOptions,
  io: CliIo,
): Promise<number> {
  const assembler = new InMemoryAssembler(o.policy, o.directory);
  let lineNo = 0;
  let rejected = 0;
  for await (const line of lines) {
    lineNo++;
    if (line.trim() === '') continue;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (err) {
      rejected++;
      io.err(`${o.name}:${lineNo}: not JSON: ${(err as Error).message}`);
      continue;
    }
    const r = normalizeEventInput(json, o.salt);
    if (!r.ok) {
      rejected++;
      io.err(`${o.name}:${lineNo}: ${r.error}`);
      continue;
    }
    // Offline there is no arrival clock: an event "arrives" at its own time.
    const e = toAssemblyEvent(r.event);
    assembler.ingest(e, e.timeMs);
  }
  const nowMs = o.nowMs;
  for (const record of assembler.tick(nowMs)) io.out(JSON.stringify(record));
  const open = assembler.openRequests();
  if (open > 0) io.err(`${open} request(s) still open at ${new Date(nowMs).toISOString()} (not printed)`);
  return rejected > 0 ? 1 : 0;
}
