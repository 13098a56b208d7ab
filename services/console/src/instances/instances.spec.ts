import { buildEngines, summarizeStats, type StatsWindow } from './instances';

const w = (start: string, tenant: string, completed: number, failed: number, p50: number | null): StatsWindow => ({
  start,
  stepSeconds: 60,
  model: 'llama',
  modelVersion: 'v1',
  tenant,
  requests: { completed, failed },
  tokens: { prompt: 0, completion: completed * 10, cached: 0 },
  latencySeconds: { e2e: p50 === null ? null : { p50, p90: p50 * 2, p99: p50 * 3 }, ttft: null },
});

describe('model instance summaries', () => {
  it('adds counts per model and tenant and keeps the latest minute with requests', () => {
    const rows = summarizeStats(
      [
        w('2026-12-03T10:01:00Z', 'acme', 30, 0, 0.5),
        w('2026-12-03T10:00:00Z', 'acme', 30, 6, 0.2),
        w('2026-12-03T10:02:00Z', 'acme', 0, 0, null),
        w('2026-12-03T10:00:00Z', 'globex', 6, 0, 1),
      ],
      120,
    );
    expect(rows.map((r) => [r.tenant, r.requests, r.errors, r.requestsPerSecond])).toEqual([
      ['acme', 66, 6, 0.55],
      ['globex', 6, 0, 0.05],
    ]);
    expect(rows[0].latest?.start).toBe('2026-12-03T10:01:00Z');
    expect(rows[0].latest?.latencySeconds.e2e?.p50).toBe(0.5);
    expect(rows[0].completionTokensPerSecond).toBe(5);
  });

  it('joins engine gauges by instance and model', () => {
    const m = { instance: 'n1:8000', node: 'n1', model_name: 'llama' };
    const rows = buildEngines({
      running: [{ metric: m, value: [0, '3'] }],
      waiting: [{ metric: m, value: [0, '1'] }],
      kvCache: [],
      requestsPerSecond: [],
      tokensPerSecond: [{ metric: m, value: [0, '+Inf'] }],
      preemptions: [],
    });
    expect(rows).toEqual([
      { instance: 'n1:8000', node: 'n1', model: 'llama', values: { running: 3, waiting: 1, tokensPerSecond: null } },
    ]);
  });
});
