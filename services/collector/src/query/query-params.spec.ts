import { PromqlError } from '@arcwatch/promql';
import { inferFamilies, mergeMetadata, metadataResponse } from './metric-metadata';
import { fromEngineError, QueryApiError } from './query-errors';
import {
  mergeForm,
  parseInstantParams,
  parseMetadataParams,
  parseRangeParams,
  parseTimeParam,
  parseDurationParam,
} from './query-params';

function failure(fn: () => unknown): { type: string; status: number; message: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof QueryApiError) return { type: err.errorType, status: err.httpStatus, message: err.message };
    throw err;
  }
  throw new Error('expected a QueryApiError');
}

describe('query API parameters', () => {
  it('reads times as Unix seconds or RFC 3339, to the millisecond', () => {
    expect(parseTimeParam('1700000000')).toBe(1_700_000_000_000);
    expect(parseTimeParam('1700000000.123')).toBe(1_700_000_000_123);
    expect(parseTimeParam('1.7e9')).toBe(1_700_000_000_000);
    expect(parseTimeParam('2023-11-14T22:13:20Z')).toBe(1_700_000_000_000);
    expect(parseTimeParam('2023-11-14T23:13:20.5+01:00')).toBe(1_700_000_000_500);
    expect(parseTimeParam('2023-11-14T22:13:20.123456789Z')).toBe(1_700_000_000_123);
    expect(parseTimeParam('2023-11-14 22:13:20')).toBeUndefined();
    expect(parseTimeParam('yesterday')).toBeUndefined();
  });

  it('reads durations as Prometheus durations or float seconds', () => {
    expect(parseDurationParam('15s')).toBe(15_000);
    expect(parseDurationParam('1m30s')).toBe(90_000);
    expect(parseDurationParam('0.5')).toBe(500);
    expect(parseDurationParam('60')).toBe(60_000);
    expect(parseDurationParam('1.5s')).toBeUndefined();
  });

  it('merges a GET query and a POST form, the form winning, first of repeated values', () => {
    expect(mergeForm({ query: 'up', time: '1' }, { time: '2' })).toEqual({ query: 'up', time: '2' });
    expect(mergeForm({ query: ['a', 'b'] }, undefined)).toEqual({ query: 'a' });
  });

  it('defaults the instant query time to now and keeps the timeout', () => {
    expect(parseInstantParams({ query: '1+1' }, 42_000)).toEqual({ query: '1+1', timeMs: 42_000 });
    expect(parseInstantParams({ query: 'up', time: '4', timeout: '30s' }, 0)).toEqual({
      query: 'up',
      timeMs: 4000,
      timeoutMs: 30_000,
    });
  });

  it('rejects bad parameters with the messages Prometheus gives, as bad_data 400', () => {
    expect(failure(() => parseInstantParams({ query: 'up', time: 'soon' }, 0))).toEqual({
      type: 'bad_data',
      status: 400,
      message: 'invalid parameter "time": cannot parse "soon" to a valid timestamp',
    });
    expect(failure(() => parseRangeParams({ query: 'up', end: '10', step: '1' })).message).toBe(
      'invalid parameter "start": cannot parse "" to a valid timestamp',
    );
    expect(failure(() => parseRangeParams({ query: 'up', start: '10', end: '5', step: '1' })).message).toBe(
      'end timestamp must not be before start time',
    );
    expect(failure(() => parseRangeParams({ query: 'up', start: '0', end: '5', step: 'often' })).message).toBe(
      'invalid parameter "step": cannot parse "often" to a valid duration',
    );
    expect(failure(() => parseRangeParams({ query: 'up', start: '0', end: '5', step: '0' })).message).toBe(
      'zero or negative query resolution step widths are not accepted. Try a positive integer',
    );
    expect(failure(() => parseInstantParams({ query: 'up', timeout: 'a while' }, 0)).message).toBe(
      'invalid parameter "timeout": cannot parse "a while" to a valid duration',
    );
    // A deadline already past would otherwise be a 503 timeout the caller caused.
    expect(failure(() => parseInstantParams({ query: 'up', timeout: '-1' }, 0)).message).toBe(
      'invalid parameter "timeout": timeout must be positive, got "-1"',
    );
    expect(failure(() => parseMetadataParams({ limit: 'ten' })).message).toBe('limit must be a number');
  });

  it('allows 11,000 points per series and not one step more', () => {
    expect(parseRangeParams({ query: 'up', start: '0', end: '11000', step: '1' })).toEqual({
      query: 'up',
      startMs: 0,
      endMs: 11_000_000,
      stepMs: 1000,
    });
    expect(parseRangeParams({ query: 'up', start: '0', end: '11000.5', step: '1s' }).stepMs).toBe(1000);
    expect(failure(() => parseRangeParams({ query: 'up', start: '0', end: '11001', step: '1' })).message).toBe(
      'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)',
    );
  });
});

describe('engine errors in the API', () => {
  it('puts parse errors, with their position, under the query parameter', () => {
    const e = fromEngineError(
      new PromqlError('bad_data', 'unexpected end of input', { offset: 3, line: 1, column: 4 }),
    );
    expect([e.errorType, e.httpStatus, e.message]).toEqual([
      'bad_data',
      400,
      'invalid parameter "query": 1:4: parse error: unexpected end of input',
    ]);
  });

  it('reports execution errors as 422, timeouts as 503, storage failures as 500', () => {
    expect(
      [fromEngineError(new PromqlError('execution', 'vector cannot contain metrics with the same labelset'))].map(
        (e) => [e.errorType, e.httpStatus],
      ),
    ).toEqual([['execution', 422]]);
    expect(
      [fromEngineError(new PromqlError('timeout', 'query timed out in query execution'))].map((e) => [
        e.errorType,
        e.httpStatus,
      ]),
    ).toEqual([['timeout', 503]]);
    expect(
      [fromEngineError(new Error('connection refused'))].map((e) => [e.errorType, e.httpStatus, e.message]),
    ).toEqual([['internal', 500, 'connection refused']]);
  });
});

describe('metadata derived from metric names', () => {
  const names = [
    'vllm:time_to_first_token_seconds_bucket',
    'vllm:time_to_first_token_seconds_count',
    'vllm:time_to_first_token_seconds_sum',
    'vllm:time_to_first_token_seconds_created',
    'vllm:prompt_tokens_total',
    'vllm:prompt_tokens_created',
    'go_gc_duration_seconds_count',
    'go_gc_duration_seconds_sum',
    'go_gc_duration_seconds',
    'DCGM_FI_DEV_FB_USED',
  ];

  it('groups histogram and summary series into families and names counters by _total', () => {
    expect(Object.fromEntries(inferFamilies(names))).toEqual({
      'vllm:time_to_first_token_seconds': 'histogram',
      'vllm:prompt_tokens_total': 'counter',
      go_gc_duration_seconds: 'summary',
      DCGM_FI_DEV_FB_USED: 'unknown',
    });
  });

  it('prefers what targets declared, guessing only families nobody described', () => {
    const declared = [
      { metric: 'vllm:prompt_tokens', type: 'counter' as const, help: 'Number of prefill tokens processed.', unit: '' },
      { metric: 'go_gc_duration_seconds', type: 'summary' as const, help: 'GC pauses.', unit: 'seconds' },
      {
        metric: 'go_gc_duration_seconds',
        type: 'summary' as const,
        help: 'A summary of the wall-time pause.',
        unit: '',
      },
    ];
    const merged = mergeMetadata(declared, inferFamilies(names));
    expect(Object.fromEntries(merged)).toEqual({
      'vllm:prompt_tokens': [{ type: 'counter', help: 'Number of prefill tokens processed.', unit: '' }],
      go_gc_duration_seconds: [
        { type: 'summary', help: 'GC pauses.', unit: 'seconds' },
        { type: 'summary', help: 'A summary of the wall-time pause.', unit: '' },
      ],
      'vllm:time_to_first_token_seconds': [{ type: 'histogram', help: '', unit: '' }],
      DCGM_FI_DEV_FB_USED: [{ type: 'unknown', help: '', unit: '' }],
    });
    expect(metadataResponse(merged, { metric: 'go_gc_duration_seconds', limit: -1, limitPerMetric: 1 })).toEqual({
      go_gc_duration_seconds: [{ type: 'summary', help: 'GC pauses.', unit: 'seconds' }],
    });
  });

  it('filters by metric and limits the number of families', () => {
    const families = mergeMetadata([], inferFamilies(names));
    expect(metadataResponse(families, { metric: 'vllm:prompt_tokens_total', limit: -1, limitPerMetric: -1 })).toEqual({
      'vllm:prompt_tokens_total': [{ type: 'counter', help: '', unit: '' }],
    });
    expect(Object.keys(metadataResponse(families, { limit: 2, limitPerMetric: -1 }))).toEqual([
      'DCGM_FI_DEV_FB_USED',
      'go_gc_duration_seconds',
    ]);
  });
});
