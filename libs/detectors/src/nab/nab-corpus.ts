import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/**
 * Reading a NAB corpus: `<data>/<category>/<name>.csv` files (`timestamp,value`) and a
 * combined_windows.json that maps `<category>/<name>.csv` to `[start, end]` timestamp pairs.
 * The only part of the package that touches the file system; the CLI and the tests use it.
 */
export interface NabFile {
  /** `<category>/<name>.csv`, the key in the windows JSON. */
  name: string;
  /** The timestamp text of each row, as in the CSV. */
  timestamps: string[];
  /** Each row's timestamp read as UTC (the CSVs carry no zone). */
  timesMs: Float64Array;
  values: Float64Array;
  /** Inclusive row ranges. */
  windows: Array<[number, number]>;
}

export class NabCorpusError extends Error {
  readonly code = 'NAB_CORPUS_INVALID' as const;
  constructor(message: string) {
    super(message);
    this.name = 'NabCorpusError';
  }
}

const windowsSchema = z.record(z.string(), z.array(z.tuple([z.string(), z.string()])));

export function parseNabTime(text: string): number {
  return Date.parse(`${text.replace(' ', 'T')}Z`);
}

/** Parses one CSV body; a malformed row is an error naming its line. */
export function parseNabCsv(
  name: string,
  body: string,
): { timestamps: string[]; timesMs: Float64Array; values: Float64Array } {
  const lines = body.split(/\r?\n/);
  if (lines[0]?.trim() !== 'timestamp,value') throw new NabCorpusError(`${name}:1: expected header "timestamp,value"`);
  const timestamps: string[] = [];
  const values: number[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '') continue;
    const comma = line.indexOf(',');
    const ts = line.slice(0, comma);
    const value = Number(line.slice(comma + 1));
    if (comma < 0 || !Number.isFinite(parseNabTime(ts)) || !Number.isFinite(value)) {
      throw new NabCorpusError(`${name}:${i + 1}: not a "timestamp,value" row`);
    }
    timestamps.push(ts);
    values.push(value);
  }
  return { timestamps, timesMs: Float64Array.from(timestamps, parseNabTime), values: Float64Array.from(values) };
}

/** Turns window timestamps into rows: the first row whose timestamp text matches exactly. */
export function windowRows(
  name: string,
  timestamps: readonly string[],
  windows: ReadonlyArray<readonly [string, string]>,
): Array<[number, number]> {
  const first = new Map<string, number>();
  timestamps.forEach((t, i) => {
    if (!first.has(t)) first.set(t, i);
  });
  return windows.map(([start, end]) => {
    const a = first.get(start.replace(/\.0+$/, ''));
    const b = first.get(end.replace(/\.0+$/, ''));
    if (a === undefined || b === undefined)
      throw new NabCorpusError(`${name}: window [${start}, ${end}] does not match a row`);
    return [a, b];
  });
}

/** Every file named in the windows JSON, read from `dataDir`, in the JSON's order. */
export function readNabCorpus(dataDir: string, windowsFile: string): NabFile[] {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(windowsFile, 'utf8'));
  } catch (err) {
    throw new NabCorpusError(`${windowsFile}: cannot read: ${(err as Error).message}`);
  }
  const parsed = windowsSchema.safeParse(json);
  if (!parsed.success)
    throw new NabCorpusError(
      `${windowsFile}: not a NAB windows file (${parsed.error.issues[0]?.message ?? 'invalid'})`,
    );
  return Object.entries(parsed.data).map(([name, windows]) => {
    let body: string;
    try {
      body = readFileSync(path.join(dataDir, name), 'utf8');
    } catch (err) {
      throw new NabCorpusError(
        `${path.join(dataDir, name)}: cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      );
    }
    const csv = parseNabCsv(name, body);
    return { name, ...csv, windows: windowRows(name, csv.timestamps, windows) };
  });
}
