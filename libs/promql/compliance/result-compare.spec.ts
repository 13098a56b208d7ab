import type { QueryOutcome } from './prometheus-reference';
import { compareOutcomes, orderMatters, sameValue } from './result-compare';

const vec = (...samples: [Record<string, string>, number][]): QueryOutcome => ({
  ok: true,
  type: 'vector',
  samples: samples.map(([labels, value]) => ({ labels, timeMs: 1000, value })),
});
const plain = { shouldFail: false, ordered: false };

describe('comparing outcomes as the compliance tester does', () => {
  it('takes values within 1e-5 of the smaller magnitude as equal, NaN as NaN, infinities by sign', () => {
    expect(sameValue(1_000_000, 1_000_009)).toBe(true);
    expect(sameValue(1_000_000, 1_000_011)).toBe(false);
    expect(sameValue(0, 1e-300)).toBe(false);
    expect(sameValue(NaN, NaN)).toBe(true);
    expect(sameValue(NaN, 0)).toBe(false);
    expect(sameValue(Infinity, Infinity)).toBe(true);
    expect(sameValue(Infinity, -Infinity)).toBe(false);
  });

  it('needs the same label sets, in any order unless the query orders them', () => {
    const ref = vec([{ a: '1' }, 2], [{ a: '2' }, 1]);
    expect(compareOutcomes(ref, vec([{ a: '2' }, 1], [{ a: '1' }, 2]), plain)).toBeUndefined();
    expect(compareOutcomes(ref, vec([{ a: '2' }, 1], [{ a: '1' }, 2]), { ...plain, ordered: true })).toMatch(
      /order differs/,
    );
    expect(compareOutcomes(ref, vec([{ a: '1' }, 2]), plain)).toMatch(/reference 2, ours 1; missing \{a="2"\}/);
    expect(compareOutcomes(ref, vec([{ a: '1' }, 2], [{ a: '3' }, 1]), plain)).toMatch(/extra \{a="3"\}/);
    expect(compareOutcomes(ref, vec([{ a: '1' }, 2], [{ a: '2' }, 1.1]), plain)).toMatch(/reference 1, ours 1.1/);
  });

  it('compares matrices point by point, timestamps exactly', () => {
    const m = (ts: number[], vs: number[]): QueryOutcome => ({
      ok: true,
      type: 'matrix',
      series: [{ labels: { a: '1' }, timestamps: ts, values: vs }],
    });
    expect(compareOutcomes(m([1000, 2000], [1, NaN]), m([1000, 2000], [1, NaN]), plain)).toBeUndefined();
    expect(compareOutcomes(m([1000, 2000], [1, 2]), m([1000], [1]), plain)).toMatch(
      /point 1 at 2 in the reference, none in ours/,
    );
    expect(compareOutcomes(m([1000], [1]), m([1001], [1]), plain)).toMatch(/point 0/);
  });

  it('requires a should_fail query to fail on both sides, and any other to succeed on both', () => {
    const err: QueryOutcome = { ok: false, error: 'bad_data: parse error' };
    expect(compareOutcomes(err, err, { ...plain, shouldFail: true })).toBeUndefined();
    expect(compareOutcomes(err, vec(), { ...plain, shouldFail: true })).toBe('ours accepted a query that should fail');
    expect(compareOutcomes(vec(), vec(), { ...plain, shouldFail: true })).toBe(
      'the reference accepted a query that should fail',
    );
    expect(compareOutcomes(vec(), err, plain)).toBe('ours failed: bad_data: parse error');
    expect(compareOutcomes({ ok: true, type: 'scalar', timeMs: 1000, value: 1 }, vec(), plain)).toMatch(
      /result type scalar/,
    );
  });

  it('checks order only for sort and ungrouped topk/bottomk at the top', () => {
    expect(orderMatters('topk (3, demo_memory_usage_bytes)')).toBe(true);
    expect(orderMatters('sort_desc(x)')).toBe(true);
    expect(orderMatters('topk by(instance) (2, demo_memory_usage_bytes)')).toBe(false);
    expect(orderMatters('sum(topk(3, x))')).toBe(false);
  });
});
