import { sampleStoreMigrations, type Migration } from '@arcwatch/storage';

/**
 * The collector's tables are the sample store's (series catalog, head, chunks, batch log), defined
 * with their migrations in libs/storage because the query engine and the CLI read them too.
 */
export function collectorMigrations(schema: string): Migration[] {
  return sampleStoreMigrations(schema);
}
