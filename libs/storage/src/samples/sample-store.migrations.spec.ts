import { renderMigrations } from '../migrations/migration';
import { sampleStoreMigrations } from './sample-store.migrations';

/**
 * Stores in use have these checksums on record (migrate refuses a migration whose rendering
 * changed): the shipped migrations must render byte for byte the same, with and without
 * TimescaleDB. A change goes in a new migration.
 */
const SHIPPED: Record<string, { plain: string; timescale: string }> = {
  '0001_sample_store': {
    plain: 'eadadb4d4723b8069c311e9ab89a4de783232b4faa6e9fed96daba0bba6aa455',
    timescale: '0dc29a17ac05d702213ded839daa8aa33fe7dc4f746e0684873fb45f8f3221fa',
  },
  '0002_series_range_metadata_exemplars': {
    plain: 'd9cab83c39072c807d3f7856d12884c99cfe9e6fea5239fefa671693ed3da132',
    timescale: 'd9cab83c39072c807d3f7856d12884c99cfe9e6fea5239fefa671693ed3da132',
  },
};

describe('sample store migrations', () => {
  it('render the shipped migrations as they shipped, with and without TimescaleDB', () => {
    const plain = renderMigrations(sampleStoreMigrations('collector'), { schema: 'collector', timescale: false });
    const ts = renderMigrations(sampleStoreMigrations('collector'), { schema: 'collector', timescale: true });
    for (const [id, sums] of Object.entries(SHIPPED)) {
      expect(plain.find((m) => m.id === id)?.checksum).toBe(sums.plain);
      expect(ts.find((m) => m.id === id)?.checksum).toBe(sums.timescale);
    }
  });

  it('render 0003 the same with and without TimescaleDB: it decides at run time', () => {
    const [plain, ts] = [false, true].map((timescale) =>
      renderMigrations(sampleStoreMigrations('collector'), { schema: 'collector', timescale }).find(
        (m) => m.id === '0003_chunk_version_timescale_layout',
      )!,
    );
    expect(plain!.sql).toBe(ts!.sql);
    expect(plain!.sql).toContain('remove_retention_policy');
  });
});
