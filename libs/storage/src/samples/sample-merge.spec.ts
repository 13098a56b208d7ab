import { clip, mergeSorted, sortUnique, type SampleArrays } from './sample-merge';

function s(ts: number[], vals: number[]): SampleArrays {
  const v = Float64Array.from(vals);
  return { timestamps: Float64Array.from(ts), words: new Uint32Array(v.buffer) };
}
const vals = (x: SampleArrays) => Array.from(new Float64Array(Uint32Array.from(x.words).buffer));

describe('sample merging', () => {
  it('sorts and keeps the first-written sample of a repeated timestamp', () => {
    const out = sortUnique(s([30, 10, 20, 10], [3, 1, 2, 9]));
    expect(Array.from(out.timestamps)).toEqual([10, 20, 30]);
    expect(vals(out)).toEqual([1, 2, 3]);
  });

  it('lets stored samples win over replayed ones on equal timestamps', () => {
    const out = mergeSorted(s([10, 20, 30], [1, 2, 3]), s([5, 20, 40], [0.5, 99, 4]));
    expect(Array.from(out.timestamps)).toEqual([5, 10, 20, 30, 40]);
    expect(vals(out)).toEqual([0.5, 1, 2, 3, 4]);
  });

  it('clips to a closed window', () => {
    const out = clip(s([10, 20, 30, 40], [1, 2, 3, 4]), 20, 30);
    expect(Array.from(out.timestamps)).toEqual([20, 30]);
    expect(vals(out)).toEqual([2, 3]);
    expect(clip(s([10], [1]), 11, 20).timestamps.length).toBe(0);
  });
});
