import type { Labels } from '@arcwatch/contracts';
import { compareLabels, sortByLabels } from './values';

describe('sortByLabels', () => {
  it('orders label sets as sorting with compareLabels does, ties in their first order', () => {
    // label sets with different names, missing labels, equal sets (ties) and prefixes of each other
    const sets: Labels[] = [];
    for (let i = 0; i < 200; i++) {
      const l: Labels = { __name__: i % 3 === 0 ? 'a' : 'b' };
      if (i % 2 === 0) l.Hostname = `node-${i % 7}`;
      if (i % 5 !== 0) l.gpu = String(i % 4);
      if (i % 11 === 0) l.zz = 'last';
      sets.push(l);
    }
    const items = sets.map((labels, i) => ({ labels, i }));
    const expected = [...items].sort((x, y) => compareLabels(x.labels, y.labels)).map((x) => x.i);
    expect(sortByLabels([...items]).map((x) => x.i)).toEqual(expected);
    // a concrete prefix of that order
    expect(
      sortByLabels([
        { labels: { b: '1' } },
        { labels: { a: '2' } },
        { labels: { a: '1', b: '1' } },
        { labels: { a: '1' } },
      ]).map((x) => x.labels),
    ).toEqual([{ a: '1' }, { a: '1', b: '1' }, { a: '2' }, { b: '1' }]);
  });
});
