import type { RequestCompletedV1 } from '@arcwatch/contracts';
import {
  addRecord,
  addRecordInPlace,
  addToTotals,
  copyStats,
  CardinalityLimiter,
  emptyStats,
  errorReason,
  mergeStats,
  minuteExemplars,
  minuteSeries,
  rollUp,
  summedIncrements,
  MINUTE_MS,
} from './request-stats';

const T0 = Date.parse('2025-06-01T12:00:00.000Z');

function record(over: Partial<RequestCompletedV1>): RequestCompletedV1 {
  return {
    requestId: 'r',
    status: 'completed',
    startedAt: new Date(T0).toISOString(),
    endedAt: new Date(T0 + 1000).toISOString(),
    tenant: 'acme',
    team: 'unknown',
    project: 'unknown',
    apiKeyHash: null,
    model: 'llama',
    modelVersion: 'v1',
    instance: null,
    node: null,
    gpuUuids: [],
    promptTokens: 10,
    completionTokens: 5,
    cachedTokens: 2,
    finishReason: 'stop',
    error: null,
    queueMs: 10,
    prefillMs: 20,
    ttftMs: 200,
    tpotMs: 50,
    e2eMs: 1000,
    missingPhases: [],
    timeline: [],
    ...over,
  };
}

const key = { model: 'llama', modelVersion: 'v1', tenant: 'acme' };

describe('request statistics', () => {
  it('adds in place exactly what addRecord returns, and addRecord leaves its input as it was', () => {
    const records = Array.from({ length: 300 }, (_, i) =>
      record({
        requestId: `r${i}`,
        status: i % 7 === 0 ? 'failed' : 'completed',
        error: i % 7 === 0 ? { code: 'oom' } : null,
        queueMs: i % 5 === 0 ? null : i * 0.37,
        ttftMs: 50 + i * 13.1,
        e2eMs: 400 + i * 101.7,
        tpotMs: i % 3 === 0 ? null : 20 + i / 9,
      }),
    );
    const base = records.slice(0, 100).reduce((w, r) => addRecord(w, r), emptyStats(key, T0));
    const before = JSON.stringify(base);
    const folded = records.slice(100).reduce((w, r) => addRecord(w, r), base);
    const inPlace = records.slice(100).reduce((w, r) => addRecordInPlace(w, r), copyStats(base));
    expect(JSON.stringify(base)).toBe(before);
    expect(JSON.stringify(inPlace)).toBe(JSON.stringify(folded));
    expect(inPlace.byStatus).toEqual({ completed: 257, failed: 43 });
  });

  it('counts requests by status, errors by reason and sums tokens', () => {
    let s = emptyStats(key, T0);
    s = addRecord(s, record({ requestId: 'a' }));
    s = addRecord(
      s,
      record({
        requestId: 'b',
        status: 'failed',
        error: { code: 'CUDA OOM' },
        completionTokens: null,
        ttftMs: null,
        tpotMs: null,
      }),
    );
    s = addRecord(s, record({ requestId: 'c', status: 'cancelled', finishReason: 'abort' }));
    expect(s.byStatus).toEqual({ completed: 1, failed: 1, cancelled: 1 });
    expect(s.errorsByReason).toEqual({ cuda_oom: 1, abort: 1 });
    expect([s.promptTokens, s.completionTokens, s.cachedTokens]).toEqual([30, 10, 6]);
    expect(s.latencies.ttft.count).toBe(2);
    expect(s.latencies.e2e.count).toBe(3);
  });

  it('publishes cumulative counters and per-minute quantiles with bounded labels and no request ids', () => {
    const m1 = addRecord(emptyStats(key, T0), record({ requestId: 'req-123', e2eMs: 1000 }));
    const m2 = addRecord(emptyStats(key, T0 + MINUTE_MS), record({ requestId: 'req-456', e2eMs: 3000 }));
    const totals = addToTotals(addToTotals({}, m1), m2);
    const series = minuteSeries(m2, totals);
    const total = series.find((x) => x.labels.__name__ === 'arcwatch_requests_total');
    expect(total).toEqual({
      labels: {
        __name__: 'arcwatch_requests_total',
        model: 'llama',
        model_version: 'v1',
        tenant: 'acme',
        status: 'completed',
      },
      samples: [[T0 + 2 * MINUTE_MS, 2]],
    });
    const p50 = series.find((x) => x.labels.__name__ === 'arcwatch_request_e2e_seconds' && x.labels.quantile === '0.5');
    expect(p50?.samples[0][1]).toBeCloseTo(3, 1);
    const labelValues = series.flatMap((x) => Object.values(x.labels));
    expect(labelValues.some((v) => v.startsWith('req-'))).toBe(false);
  });

  it('exports TTFT and E2E as cumulative histogram buckets whose exemplars link each bucket to its slowest request', () => {
    let m = emptyStats(key, T0);
    m = addRecord(m, record({ requestId: 'fast', ttftMs: 40, e2eMs: 900 }));
    m = addRecord(m, record({ requestId: 'slow', ttftMs: 200, e2eMs: 950 }));
    m = addRecord(m, record({ requestId: 'slower', ttftMs: 240, e2eMs: 4_000 }));
    const totals = addToTotals({}, m);
    const series = minuteSeries(m, totals);
    const ttft = series
      .filter((x) => x.labels.__name__ === 'arcwatch_request_ttft_seconds_bucket')
      .map((x) => [x.labels.le, x.samples[0][1]]);
    expect(ttft).toEqual([
      ['0.05', 1],
      ['0.1', 1],
      ['0.25', 3],
      ['0.5', 3],
      ['1', 3],
      ['2.5', 3],
      ['5', 3],
      ['10', 3],
      ['30', 3],
      ['60', 3],
      ['120', 3],
      ['300', 3],
      ['+Inf', 3],
    ]);
    const exemplars = minuteExemplars(m, series, 7);
    const byBucket = exemplars.map((e) => [
      series[e.series - 7].labels.__name__,
      series[e.series - 7].labels.le,
      e.labels.request_id,
      e.value,
    ]);
    expect(byBucket).toEqual([
      ['arcwatch_request_ttft_seconds_bucket', '0.05', 'fast', 0.04],
      ['arcwatch_request_ttft_seconds_bucket', '0.25', 'slower', 0.24],
      ['arcwatch_request_e2e_seconds_bucket', '1', 'slow', 0.95],
      ['arcwatch_request_e2e_seconds_bucket', '5', 'slower', 4],
    ]);
    // Merged windows keep the slowest exemplar of each bucket whatever the order.
    const other = addRecord(emptyStats(key, T0), record({ requestId: 'slowest', ttftMs: 249, e2eMs: 500 }));
    expect(mergeStats(m, other).buckets?.ttft?.[2]).toEqual(mergeStats(other, m).buckets?.ttft?.[2]);
    expect(mergeStats(m, other).buckets?.ttft?.[2].exemplar?.requestId).toBe('slowest');
    // Minutes stored before buckets existed merge and publish as before.
    const { buckets: _old, ...legacy } = m;
    expect(minuteExemplars(legacy, minuteSeries(legacy, addToTotals({}, legacy)), 0)).toEqual([]);
  });

  it('rolls minutes up into hours by merging', () => {
    const minutes = [0, 1, 59, 60].map((m) =>
      addRecord(emptyStats(key, T0 + m * MINUTE_MS), record({ e2eMs: 1000 * (m + 1) })),
    );
    const hours = rollUp(minutes);
    expect(hours.map((h) => [h.startMs, h.byStatus.completed, h.latencies.e2e.count])).toEqual([
      [T0, 3, 3],
      [T0 + 3_600_000, 1, 1],
    ]);
  });

  it('folds label sets beyond the limit into other', () => {
    const lim = new CardinalityLimiter(2, 1);
    expect(lim.key({ model: 'a', modelVersion: '1', tenant: 't' }).model).toBe('a');
    expect(lim.key({ model: 'b', modelVersion: '1', tenant: 't' }).model).toBe('b');
    expect(lim.key({ model: 'c', modelVersion: '1', tenant: 't' })).toEqual({
      model: 'other',
      modelVersion: 'other',
      tenant: 'other',
    });
    expect(lim.key({ model: 'a', modelVersion: '1', tenant: 't' }).model).toBe('a');
    expect([lim.reason('oom'), lim.reason('timeout'), lim.reason('oom')]).toEqual(['oom', 'other', 'oom']);
  });

  it('names abandoned requests as such and completed ones not at all', () => {
    expect(errorReason(record({ status: 'abandoned' }))).toBe('abandoned');
    expect(errorReason(record({}))).toBeUndefined();
  });

  it('given one label set in two minutes of one group, when the counters are incremented, then each series appears once with the sum', () => {
    const first = addRecord(emptyStats(key, T0), record({ promptTokens: 10 }), undefined);
    const second = addRecord(
      addRecord(emptyStats(key, T0 + MINUTE_MS), record({ promptTokens: 7 }), undefined),
      record({ status: 'failed', promptTokens: 1, error: { code: 'oom' } }),
      'oom',
    );
    const incs = summedIncrements([first, second]);
    expect(new Set(incs.map((i) => i.id)).size).toBe(incs.length);
    const value = (name: string, extra: Record<string, string> = {}) =>
      incs.find((i) => i.labels.__name__ === name && Object.entries(extra).every(([k, v]) => i.labels[k] === v))?.value;
    expect(value('arcwatch_requests_total', { status: 'completed' })).toBe(2);
    expect(value('arcwatch_requests_total', { status: 'failed' })).toBe(1);
    expect(value('arcwatch_request_prompt_tokens_total')).toBe(18);
    expect(value('arcwatch_request_errors_total', { reason: 'oom' })).toBe(1);
  });
});
