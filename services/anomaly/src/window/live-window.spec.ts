/** The live window: ordered appends, trimming, and history joined under the window for older reads. */
import type { LabelMatcher, Labels, Queryable, SeriesData } from '@arcwatch/contracts';
import { STALE_NAN, isStaleNaN } from '@arcwatch/contracts';
import { PromqlEngine } from '@arcwatch/promql';
import { LiveWindow } from './live-window';
import { selectorText } from './prometheus-api.queryable';

const up = { __name__: 'up', job: 'vllm', instance: 'a' };
const byName = (name: string): LabelMatcher[] => [{ name: '__name__', type: '=', value: name }];

describe('LiveWindow', () => {
  it('keeps samples in time order; an out-of-order sample is placed, an equal time replaces', async () => {
    const w = new LiveWindow(3_600_000);
    w.add(up, 2000, 2);
    w.add(up, 1000, 1);
    w.add(up, 3000, 3);
    w.add(up, 2000, 20);
    const [s] = await w.select(byName('up'), 0, 10_000);
    expect(Array.from(s.timestamps)).toEqual([1000, 2000, 3000]);
    expect(Array.from(s.values)).toEqual([1, 20, 3]);
  });

  it('keeps staleness markers and NaN apart', async () => {
    const w = new LiveWindow(3_600_000);
    w.add(up, 1000, NaN);
    w.add(up, 2000, STALE_NAN);
    const [s] = await w.select(byName('up'), 0, 10_000);
    expect([isStaleNaN(s.values[0]), isStaleNaN(s.values[1])]).toEqual([false, true]);
  });

  it('trims to the window and forgets empty series', async () => {
    const w = new LiveWindow(60_000);
    w.add(up, 0, 1);
    w.add({ ...up, instance: 'b' }, 50_000, 1);
    w.trim(100_000);
    expect(w.size).toBe(1);
    expect((await w.select(byName('up'), 0, 200_000)).map((s) => s.labels.instance)).toEqual(['b']);
  });

  it('reads before the window from history and joins it per series', async () => {
    const asked: Array<[number, number]> = [];
    const history: Queryable = {
      select: async (_m: LabelMatcher[], start: number, end: number): Promise<SeriesData[]> => {
        asked.push([start, end]);
        return [{ labels: up, timestamps: Float64Array.from([10_000, 20_000]), values: Float64Array.from([0, 0]) }];
      },
      series: async (): Promise<Labels[]> => [],
      labelNames: async () => [],
      labelValues: async () => [],
    };
    const w = new LiveWindow(3_600_000, history);
    w.add(up, 30_000, 1);
    const [s] = await w.select(byName('up'), 0, 40_000);
    expect(asked).toEqual([[0, 29_999]]);
    expect(Array.from(s.timestamps)).toEqual([10_000, 20_000, 30_000]);
    // The PromQL engine sees one series across both.
    const r = await new PromqlEngine(w).evaluateInstant('count_over_time(up[1m])', 40_000);
    expect(r.result).toMatchObject({ type: 'vector', samples: [{ value: 3 }] });
  });

  it('writes matchers back as a selector for the history API', () => {
    expect(
      selectorText([
        { name: '__name__', type: '=', value: 'vllm:num_requests_waiting' },
        { name: 'model', type: '=~', value: 'llama.*"x' },
      ]),
    ).toBe('{__name__="vllm:num_requests_waiting",model=~"llama.*\\"x"}');
  });
});
