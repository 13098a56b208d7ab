import { visibleRange } from './virtual-range';

describe('virtualised lists: the rows drawn', () => {
  it('draws the rows in view and a few around them, whatever the length of the list', () => {
    // 5,000 rows of 30 px in a 600 px box: 20 visible, 8 more on each side.
    expect(visibleRange(5_000, 0, 600, 30)).toEqual({ first: 0, last: 28 });
    expect(visibleRange(5_000, 30_000, 600, 30)).toEqual({ first: 992, last: 1_028 });
    const end = visibleRange(5_000, 5_000 * 30 - 600, 600, 30);
    expect(end).toEqual({ first: 4_972, last: 5_000 });
    expect(end.last - end.first).toBeLessThan(40);
  });

  it('stays inside the list when scrolled past its end or when it is short', () => {
    expect(visibleRange(10, 10_000, 600, 30)).toEqual({ first: 9, last: 10 });
    expect(visibleRange(3, 0, 600, 30)).toEqual({ first: 0, last: 3 });
    expect(visibleRange(0, 0, 600, 30)).toEqual({ first: 0, last: 0 });
  });
});
