import { readFile } from 'node:fs/promises';
import { detectFormat, EXPOSITION_FORMATS, parseExposition, type ExpositionFormat } from '@arcwatch/exposition';
import type { Command } from './main';

const USAGE = 'usage: arcwatch exposition validate [--format prometheus|openmetrics] FILE';

interface Args {
  format?: ExpositionFormat;
  file: string;
}

function parseArgs(args: string[]): Args | string {
  let format: ExpositionFormat | undefined;
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--format' || arg.startsWith('--format=')) {
      const value = arg === '--format' ? args[++i] : arg.slice('--format='.length);
      if (!EXPOSITION_FORMATS.includes(value as ExpositionFormat)) return `unknown format "${value ?? ''}"`;
      format = value as ExpositionFormat;
    } else if (arg.startsWith('-') && arg !== '-') {
      return `unknown option "${arg}"`;
    } else {
      files.push(arg);
    }
  }
  if (files.length !== 1) return files.length === 0 ? 'missing FILE' : 'exactly one FILE expected';
  return { format, file: files[0] };
}

/**
 * `arcwatch exposition validate [--format F] FILE`: 0 and a summary when FILE is a valid
 * exposition, 1 and one `FILE:LINE: reason` per problem when not, 2 on usage errors. Without
 * --format the format is detected from the body (`# EOF` means OpenMetrics).
 */
export const command: Command = async (args, io) => {
  const parsed = parseArgs(args);
  if (typeof parsed === 'string') {
    io.err(`arcwatch exposition validate: ${parsed}`);
    io.err(USAGE);
    return 2;
  }
  let body: Buffer;
  try {
    body = await readFile(parsed.file);
  } catch (e) {
    io.err(`${parsed.file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    return 2;
  }
  const bytes = new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  const format = parsed.format ?? detectFormat(undefined, bytes);
  const result = parseExposition(bytes, { format });
  if (result.errors.length > 0) {
    for (const e of result.errors) {
      io.err(`${parsed.file}:${e.line}: ${e.message}${e.column === undefined ? '' : ` (column ${e.column})`}`);
    }
    io.err(`${parsed.file}: ${result.errors.length} error(s); not a valid ${format} exposition`);
    return 1;
  }
  const dropped = result.dropped > 0 ? `, ${result.dropped} DCGM blank value(s) dropped` : '';
  io.out(
    `${parsed.file}: ${result.samples.length} samples in ${result.families.length} families (${format})${dropped}`,
  );
  return 0;
};
