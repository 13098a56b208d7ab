/**
 * History beyond the in-memory window, from a Prometheus-compatible query API (the collector's):
 * raw samples of a selector are an instant query of a range selector, `{…}[Nms]` at `end`.
 * Only `select` is needed by the engine for rule evaluation.
 */
import type { LabelMatcher, Labels, Queryable, SeriesData } from '@arcwatch/contracts';

function quote(v: string): string {
  return JSON.stringify(v);
}

export function selectorText(matchers: LabelMatcher[]): string {
  const parts = matchers.map(
    (m) => `${/^[A-Za-z_][A-Za-z0-9_]*$/.test(m.name) ? m.name : quote(m.name)}${m.type}${quote(m.value)}`,
  );
  return `{${parts.join(',')}}`;
}

interface MatrixResponse {
  status: string;
  data?: { resultType: string; result: Array<{ metric: Labels; values: Array<[number, string]> }> };
  error?: string;
}

function parseValue(v: string): number {
  if (v === '+Inf') return Infinity;
  if (v === '-Inf') return -Infinity;
  return Number(v);
}

export class PrometheusApiQueryable implements Queryable {
  constructor(
    private readonly baseUrl: string,
    /** The collector's query API needs a viewer token. */
    private readonly headers: Record<string, string> = {},
  ) {}

  async select(matchers: LabelMatcher[], startMs: number, endMs: number): Promise<SeriesData[]> {
    if (endMs < startMs) return [];
    // The range is left-open, (end − range, end]: one millisecond more covers startMs itself.
    const rangeMs = Math.max(1, Math.round(endMs - startMs + 1));
    const params = new URLSearchParams({
      query: `${selectorText(matchers)}[${rangeMs}ms]`,
      time: String(endMs / 1000),
    });
    const res = await fetch(`${this.baseUrl.replace(/\/$/, '')}/api/v1/query?${params.toString()}`, {
      headers: this.headers,
    });
    const body = (await res.json()) as MatrixResponse;
    if (body.status !== 'success' || !body.data) throw new Error(`history query failed: ${body.error ?? res.status}`);
    return body.data.result.map((s) => ({
      labels: s.metric,
      timestamps: Float64Array.from(s.values.map(([t]) => Math.round(t * 1000))),
      values: Float64Array.from(s.values.map(([, v]) => parseValue(v))),
    }));
  }

  async series(): Promise<Labels[]> {
    return [];
  }

  async labelNames(): Promise<string[]> {
    return [];
  }

  async labelValues(): Promise<string[]> {
    return [];
  }
}
