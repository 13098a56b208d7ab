import { DAY_MS, partitionDay, partitionName, planPartitions } from './partitioning';

const now = Date.UTC(2025, 2, 10, 13, 0);

describe('daily partition planning', () => {
  it('names partitions after their UTC day and reads the day back', () => {
    expect(partitionName('chunks', Date.UTC(2025, 2, 10))).toBe('chunks_p20250310');
    expect(partitionDay('chunks', 'chunks_p20250310')).toBe(Date.UTC(2025, 2, 10));
    expect(partitionDay('chunks', 'other_p20250310')).toBeUndefined();
  });

  it('creates today and the days ahead that are missing', () => {
    const plan = planPartitions('chunks', ['chunks_p20250310'], { now, daysAhead: 2 });
    expect(plan.create).toEqual([Date.UTC(2025, 2, 11), Date.UTC(2025, 2, 12)]);
    expect(plan.drop).toEqual([]);
  });

  it('drops only days that ended a whole retention period ago', () => {
    const existing = ['chunks_p20250305', 'chunks_p20250306', 'chunks_p20250307', 'chunks_p20250310'];
    const plan = planPartitions('chunks', existing, { now, daysAhead: 0, retentionDays: 3 });
    // cutoff = 2025-03-07 13:00: the 5th and 6th ended before it; the 7th has not
    expect(plan.drop).toEqual(['chunks_p20250305', 'chunks_p20250306']);
    expect(now - 3 * DAY_MS).toBeGreaterThan(Date.UTC(2025, 2, 7));
  });
});
