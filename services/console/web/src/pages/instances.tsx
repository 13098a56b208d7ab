import { useMemo } from 'react';
import { api, fmt, type Unavailable } from '../api';
import { useData } from '../hooks';
import { Chart, Empty, Failure, Part, type Series } from '../ui';
import type { PageProps } from '../main';

type Q = { p50: number | null; p90: number | null; p99: number | null } | null;
interface Instances {
  engines:
    | {
        items: Array<{
          instance: string;
          node: string | null;
          model: string | null;
          values: Record<string, number | null>;
        }>;
      }
    | Unavailable;
  models:
    | {
        items: Array<{
          model: string;
          modelVersion: string;
          tenant: string;
          requests: number;
          errors: number;
          requestsPerSecond: number;
          completionTokensPerSecond: number;
          latest: { start: string; latencySeconds: Record<string, Q> } | null;
        }>;
        minutes: Array<{ start: string; model: string; tenant: string; requests: number; e2e: Q }>;
      }
    | Unavailable;
}

export function InstancesPage({ from, to, refresh, params, go }: PageProps) {
  const d = useData(
    `instances:${from}:${to}:${params.tenant ?? ''}`,
    () => api<Instances>('instances', { query: { from, to, tenant: params.tenant } }),
    refresh,
  );
  const rpm = useMemo((): Series[] => {
    const m = d.data?.models;
    if (!m || 'unavailable' in m) return [];
    const byModel = new Map<string, Map<number, number>>();
    for (const x of m.minutes) {
      const t = Date.parse(x.start) / 1000;
      const s = byModel.get(x.model) ?? new Map<number, number>();
      s.set(t, (s.get(t) ?? 0) + x.requests / 60);
      byModel.set(x.model, s);
    }
    return [...byModel.entries()].map(([model, s]) => ({
      label: model,
      points: [...s.entries()].sort((a, b) => a[0] - b[0]),
    }));
  }, [d.data]);
  return (
    <section>
      <h1>Model instances</h1>
      {d.error ? <Failure error={d.error} /> : null}
      {d.data ? (
        <>
          <h2>Engines</h2>
          <Part value={d.data.engines}>
            {(e) =>
              e.items.length === 0 ? (
                <Empty title="No inference engines reporting">
                  Add your vLLM / TGI endpoints to the collector's scrape config (COLLECTOR_CONFIG).
                </Empty>
              ) : (
                <table aria-label="engines">
                  <thead>
                    <tr>
                      <th>Instance</th>
                      <th>Node</th>
                      <th>Model</th>
                      <th>Requests/s</th>
                      <th>Tokens/s</th>
                      <th>Running</th>
                      <th>Queued</th>
                      <th>KV cache</th>
                      <th>Preemptions (5m)</th>
                    </tr>
                  </thead>
                  <tbody>
                    {e.items.map((r) => (
                      <tr key={`${r.instance}-${r.model}`}>
                        <td>{r.instance}</td>
                        <td>
                          {r.node ? (
                            <a href="#" onClick={(ev) => (ev.preventDefault(), go('node', { node: r.node ?? '' }))}>
                              {r.node}
                            </a>
                          ) : (
                            '–'
                          )}
                        </td>
                        <td>{r.model}</td>
                        <td>{fmt.num(r.values.requestsPerSecond, 2)}</td>
                        <td>{fmt.num(r.values.tokensPerSecond, 0)}</td>
                        <td>{fmt.num(r.values.running, 0)}</td>
                        <td>{fmt.num(r.values.waiting, 0)}</td>
                        <td>
                          {r.values.kvCache === null || r.values.kvCache === undefined
                            ? '–'
                            : `${(r.values.kvCache * 100).toFixed(0)} %`}
                        </td>
                        <td>{fmt.num(r.values.preemptions, 0)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )
            }
          </Part>
          <h2>Requests by model and tenant</h2>
          <Part value={d.data.models}>
            {(m) =>
              m.items.length === 0 ? (
                <Empty title="No requests in this window">
                  Tracing has assembled no requests here. Send lifecycle events to tracing (docs/tracing.md) or widen
                  the range.
                </Empty>
              ) : (
                <>
                  <table aria-label="models">
                    <thead>
                      <tr>
                        <th>Model</th>
                        <th>Version</th>
                        <th>Tenant</th>
                        <th>Requests</th>
                        <th>Req/s (range avg)</th>
                        <th>Failed</th>
                        <th>Tokens/s out</th>
                        <th>TTFT p50 / p99</th>
                        <th>TPOT p50 / p99</th>
                        <th>E2E p50 / p90 / p99</th>
                      </tr>
                    </thead>
                    <tbody>
                      {m.items.map((r) => {
                        const l = r.latest?.latencySeconds ?? {};
                        return (
                          <tr key={`${r.model}-${r.modelVersion}-${r.tenant}`}>
                            <td>{r.model}</td>
                            <td>{r.modelVersion}</td>
                            <td>
                              <a
                                href="#"
                                onClick={(e) => (
                                  e.preventDefault(),
                                  go('requests', { tenant: r.tenant, model: r.model })
                                )}
                              >
                                {r.tenant}
                              </a>
                            </td>
                            <td data-col="requests">{r.requests}</td>
                            <td>{fmt.num(r.requestsPerSecond, 2)}</td>
                            <td>{r.errors}</td>
                            <td>{fmt.num(r.completionTokensPerSecond, 0)}</td>
                            <td>
                              {fmt.secs(l.ttft?.p50)} / {fmt.secs(l.ttft?.p99)}
                            </td>
                            <td>
                              {fmt.secs(l.tpot?.p50)} / {fmt.secs(l.tpot?.p99)}
                            </td>
                            <td>
                              {fmt.secs(l.e2e?.p50)} / {fmt.secs(l.e2e?.p90)} / {fmt.secs(l.e2e?.p99)}
                            </td>
                          </tr>
                        );
                      })}
                    </tbody>
                  </table>
                  <p className="muted">
                    Percentiles are those of each row's latest minute with requests; counts cover the whole range.
                  </p>
                  <Chart
                    title="Requests per second by model"
                    unit="req/s"
                    series={rpm}
                    window={[Date.parse(from) / 1000, Date.parse(to) / 1000]}
                  />
                </>
              )
            }
          </Part>
        </>
      ) : null}
    </section>
  );
}
