import { EventLoopSlices } from './event-loop-slices';

describe('EventLoopSlices', () => {
  it('is not due within its budget, and due once the budget is spent', () => {
    const slices = new EventLoopSlices(60_000);
    expect(slices.due()).toBe(false);
    expect(new EventLoopSlices(0).due()).toBe(true);
  });

  it('lets callbacks queued behind the computation run at each pause, and counts the pauses', async () => {
    const slices = new EventLoopSlices(0);
    const seen: number[] = [];
    let item = 0;
    for (; item < 5; item++) {
      setImmediate(() => seen.push(item)); // queued while item `item` is being worked on
      if (slices.due()) await slices.pause();
    }
    // each callback ran before the loop went on to the next item
    expect(seen).toEqual([0, 1, 2, 3, 4]);
    expect(slices.pauses).toBe(5);
  });

  it('without pausing, queued callbacks wait for the whole computation', async () => {
    const slices = new EventLoopSlices(60_000);
    const seen: number[] = [];
    let item = 0;
    for (; item < 5; item++) {
      setImmediate(() => seen.push(item));
      if (slices.due()) await slices.pause();
    }
    expect(seen).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual([5, 5, 5, 5, 5]);
    expect(slices.pauses).toBe(0);
  });
});
