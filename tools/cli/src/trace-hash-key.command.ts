import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { hashApiKey } from '@arcwatch/contracts';
import type { Command } from './main';

const USAGE = `usage: arcwatch trace hash-key [--salt SALT] < keys.txt

Reads API keys from standard input, one a line, and prints each key's salted hash
(HMAC-SHA256, hex) for the keyHash fields of the API-key mapping file. The salt defaults to
$ARCWATCH_API_KEY_SALT. Keys are read from stdin so they stay out of shell history.`;

export const command: Command = async (args, io) => {
  let salt: string | undefined;
  try {
    salt =
      parseArgs({ args, options: { salt: { type: 'string' } }, strict: true }).values.salt ??
      process.env.ARCWATCH_API_KEY_SALT;
  } catch (err) {
    io.err(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (!salt) {
    io.err(`no salt: pass --salt or set ARCWATCH_API_KEY_SALT\n\n${USAGE}`);
    return 2;
  }
  try {
    for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
      const key = line.trim();
      if (key) io.out(hashApiKey(key, salt));
    }
  } catch (err) {
    io.err((err as Error).message);
    return 2;
  }
  return 0;
};
