import { answerCase, type CaseInput } from '@arcwatch/alertmanager';
import type { Command } from './main';

/**
 * `arcwatch notify cases-adapter`: the adapter of the alertmanager-routing suite's
 * check-routing.mjs. Reads `{"file": …, "case": …}` on stdin, prints the answer as one JSON line.
 */
export const command: Command = async (_args, io) => {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  let input: CaseInput;
  try {
    input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as CaseInput;
  } catch (e) {
    io.err(`arcwatch notify cases-adapter: stdin is not JSON: ${(e as Error).message}`);
    return 2;
  }
  io.out(JSON.stringify(answerCase(input)));
  return 0;
};
