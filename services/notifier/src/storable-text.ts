import { isWellFormed } from '@arcwatch/alertmanager';

/** Text PostgreSQL can keep in text and jsonb columns: no NUL character, no lone UTF-16 surrogate. */
export function isStorableText(s: string): boolean {
  return !s.includes('\u0000') && isWellFormed(s);
}
