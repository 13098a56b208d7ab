import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { generateCatalog, PUBLIC_EVENTS } from '@arcwatch/contracts';
import type { Command } from './main';

export const EVENTS_DOC_VERSION = '1.0.0';

/** `arcwatch contracts export [--out DIR]`: writes the AsyncAPI document and the JSON Schemas. */
export const command: Command = async (args, io) => {
  const i = args.indexOf('--out');
  const out = i >= 0 ? args[i + 1] : 'docs/events';
  if (!out) {
    io.err('usage: arcwatch contracts export [--out DIR]');
    return 2;
  }
  const { asyncapi, schemas } = generateCatalog(PUBLIC_EVENTS, EVENTS_DOC_VERSION);
  const dir = path.join(out, 'schemas');
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(dir)) if (f.endsWith('.schema.json') && !(f in schemas)) rmSync(path.join(dir, f));
  writeFileSync(path.join(out, 'asyncapi.json'), JSON.stringify(asyncapi, null, 2) + '\n');
  for (const [f, s] of Object.entries(schemas)) writeFileSync(path.join(dir, f), JSON.stringify(s, null, 2) + '\n');
  io.out(`${Object.keys(schemas).length} event schemas and asyncapi.json written to ${out}`);
  return 0;
};
