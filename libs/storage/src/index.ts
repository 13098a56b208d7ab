export { StorageError, assertIdentifier, type StorageErrorCode } from './errors';
export { createPool, drizzleFor, withTransaction, DEFAULT_DATABASE_URL } from './pool';
export { migrate, type MigrateOptions, type MigrateResult } from './migrations/migrate';
export { renderMigrations, type Migration, type MigrationContext } from './migrations/migration';
export {
  ensurePartitions,
  ensurePartitionsCovering,
  type EnsurePartitionsOptions,
  type EnsurePartitionsResult,
} from './partitioning/partitions';
export { isTimescaleInstalled, timescaleTableSql } from './partitioning/partitioning.repository';
export { planPartitions, partitionName, utcDayStart, DAY_MS } from './partitioning/partitioning';
export {
  SampleStore,
  type SampleStoreOptions,
  type AppendResult,
  type AppendManyResult,
  type CompactResult,
  type ImportResult,
  type RetentionOptions,
  type RetentionResult,
  type SeriesExemplars,
} from './samples/sample-store';
export { type MetadataRow, type ExemplarRow } from './samples/catalog-extras.repository';
export { type HistorySeries } from './samples/history-import';
export { sampleStoreMigrations } from './samples/sample-store.migrations';
export { sampleStoreTables } from './samples/sample-store.schema';
export { encodeChunk, decodeChunk, encodeXorChunk } from './samples/chunk.codec';
export { isDecimalChunk } from './samples/decimal-chunk.codec';
export { compileMatcher, compileMatchers } from './samples/label-matching';
