import { createHmac } from 'node:crypto';

/**
 * API keys are identified everywhere by HMAC-SHA256(salt, key), hex. The salt is the
 * deployment's secret: without it a leaked hash cannot be tested against guessed keys.
 * Only the ingest boundary ever holds a raw key, and only long enough to call this.
 */
export function hashApiKey(rawKey: string, salt: string): string {
  if (salt.length < 16) throw new RangeError('API key salt must be at least 16 characters');
  return createHmac('sha256', salt).update(rawKey, 'utf8').digest('hex');
}
