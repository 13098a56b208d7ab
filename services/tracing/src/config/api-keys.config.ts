import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isMap, isSeq, type Node } from 'yaml';
import { z } from 'zod';
import { apiKeyHashSchema } from '@arcwatch/contracts';
import type { KeyOwner } from '../assembly/tenant-directory';
import { TracingError } from '../tracing.errors';

/**
 * The API-key mapping file. Keys appear only as their salted hash (HMAC-SHA256 with the
 * deployment's salt, `arcwatch trace hash-key` prints one), so the file can be committed.
 *
 *   apiKeys:
 *     - keyHash: 3f1c…(64 hex)
 *       tenant: acme
 *       team: search
 *       project: ranker
 */
const entrySchema = z.object({
  keyHash: apiKeyHashSchema,
  tenant: z.string().min(1),
  team: z.string().min(1).optional(),
  project: z.string().min(1).optional(),
});
const fileSchema = z.object({ apiKeys: z.array(entrySchema) });

export type ApiKeyEntry = KeyOwner & { keyHash: string };

export function parseApiKeysYaml(text: string, fileName: string): ApiKeyEntry[] {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const pos = e.linePos?.[0];
    throw new TracingError('CONFIG_INVALID', `${fileName}${pos ? `:${pos.line}:${pos.col}` : ''}: ${e.message}`);
  }
  const parsed = fileSchema.safeParse(doc.toJS() ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const node = nodeAt(doc.contents, issue.path);
    const line = node?.range ? `:${lines.linePos(node.range[0]).line}` : '';
    throw new TracingError('CONFIG_INVALID', `${fileName}${line}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const seen = new Set<string>();
  for (const [i, e] of parsed.data.apiKeys.entries()) {
    if (seen.has(e.keyHash)) throw new TracingError('CONFIG_INVALID', `${fileName}: apiKeys.${i}.keyHash: duplicate key hash`);
    seen.add(e.keyHash);
  }
  return parsed.data.apiKeys;
}

export function loadApiKeysFile(path: string): ApiKeyEntry[] {
  return parseApiKeysYaml(readFileSync(path, 'utf8'), path);
}

/** The deepest YAML node on `path`, for the line number of an error. */
function nodeAt(root: unknown, path: ReadonlyArray<PropertyKey>): Node | undefined {
  let node = root as Node | undefined;
  for (const key of path) {
    let next: unknown;
    if (isMap(node)) next = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === key)?.value;
    else if (isSeq(node) && typeof key === 'number') next = node.items[key];
    if (next === undefined || next === null) break;
    node = next as Node;
  }
  return node;
}
