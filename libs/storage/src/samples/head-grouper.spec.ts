import { HeadGrouper, type PendingChunk } from './chunk-compaction';
import { encodeBatchPayload } from './head-payload.codec';
import { valuesOf } from './sample-merge';

const HOUR = 3_600_000;

function grouped(grouper: HeadGrouper): Array<{ seriesId: number; startMs: number; ts: number[]; values: number[] }> {
  return [...grouper.chunks()].map((c: PendingChunk) => ({
    seriesId: c.seriesId,
    startMs: c.startMs,
    ts: [...c.samples.timestamps],
    values: [...valuesOf(c.samples.words)],
  }));
}

describe('HeadGrouper', () => {
  it('groups the samples of many head rows by series and aligned bucket, in time order', () => {
    const grouper = new HeadGrouper(2 * HOUR);
    // two rows for series 7 and 9, the later one first; series 9 crosses a bucket boundary
    grouper.add(
      encodeBatchPayload(
        [7, 9],
        [
          [[2 * HOUR + 5_000, 3]],
          [
            [2 * HOUR - 1_000, 20],
            [2 * HOUR + 1_000, 21],
          ],
        ],
      ).payload,
    );
    grouper.add(encodeBatchPayload([7], [[[2 * HOUR + 1_000, 1]]]).payload);
    expect(grouped(grouper)).toEqual([
      { seriesId: 7, startMs: 2 * HOUR, ts: [2 * HOUR + 1_000, 2 * HOUR + 5_000], values: [1, 3] },
      { seriesId: 9, startMs: 0, ts: [2 * HOUR - 1_000], values: [20] },
      { seriesId: 9, startMs: 2 * HOUR, ts: [2 * HOUR + 1_000], values: [21] },
    ]);
  });

  it('keeps the first of two samples at one timestamp (a replayed batch never overwrites)', () => {
    const grouper = new HeadGrouper(2 * HOUR);
    grouper.add(encodeBatchPayload([4], [[[1_000, 1]]]).payload);
    grouper.add(
      encodeBatchPayload(
        [4],
        [
          [
            [1_000, 99],
            [2_000, 2],
          ],
        ],
      ).payload,
    );
    expect(grouped(grouper)).toEqual([{ seriesId: 4, startMs: 0, ts: [1_000, 2_000], values: [1, 2] }]);
  });

  it('gives no chunk for a series that had no samples', () => {
    const grouper = new HeadGrouper(2 * HOUR);
    grouper.add(encodeBatchPayload([1, 2], [[], [[10, 5]]]).payload);
    expect(grouped(grouper).map((c) => c.seriesId)).toEqual([2]);
  });
});
