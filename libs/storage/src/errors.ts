/** Failure reasons the storage layer reports; callers map them (nak, term, HTTP status) by code. */
export type StorageErrorCode =
  | 'INVALID_MIGRATIONS'
  | 'MIGRATION_FAILED'
  | 'MIGRATION_CHECKSUM_MISMATCH'
  | 'MIGRATION_LOCK_TIMEOUT'
  | 'INVALID_IDENTIFIER'
  | 'INVALID_BATCH'
  | 'SERIES_LIMIT_EXCEEDED'
  | 'INVALID_MATCHER'
  | 'CORRUPT_CHUNK'
  | 'CHUNK_CHANGED';

export class StorageError extends Error {
  constructor(
    readonly code: StorageErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StorageError';
  }
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Schema and table names are interpolated into SQL (identifiers cannot be bound parameters),
 * so only plain lower-case identifiers are accepted.
 */
export function assertIdentifier(name: string): string {
  if (!IDENTIFIER.test(name))
    throw new StorageError('INVALID_IDENTIFIER', `not a plain SQL identifier: ${JSON.stringify(name)}`);
  return name;
}
