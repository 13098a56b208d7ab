import { z } from 'zod';
import { ConfigFileError, loadYamlConfig, parseYamlConfig, type YamlSource } from '@arcwatch/config-files';
import { apiKeyHashSchema } from '@arcwatch/contracts';
import type { KeyOwner } from './tenant-directory';

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

function checked(entries: ApiKeyEntry[], source: YamlSource): ApiKeyEntry[] {
  const seen = new Set<string>();
  const issues = entries.flatMap((e, i) => {
    const dup = seen.has(e.keyHash);
    seen.add(e.keyHash);
    return dup ? [source.issue(['apiKeys', i, 'keyHash'], 'duplicate key hash')] : [];
  });
  if (issues.length > 0) throw new ConfigFileError(issues);
  return entries;
}

export function parseApiKeysYaml(text: string, fileName: string): ApiKeyEntry[] {
  const { value, source } = parseYamlConfig(text, fileName, fileSchema);
  return checked(value.apiKeys, source);
}

export function loadApiKeysFile(path: string): ApiKeyEntry[] {
  const { value, source } = loadYamlConfig(path, fileSchema);
  return checked(value.apiKeys, source);
}
