import { api } from '../api';
import { useData } from '../hooks';
import { Empty, Failure } from '../ui';
import type { PageProps } from '../main';

const DIMS = ['tenant', 'team', 'project', 'model', 'model_version', 'api_key', 'instance', 'pool', 'kind', 'day'];

interface CostRow {
  amount: string;
  currency?: string;
  requests?: number;
  gpu_seconds?: number;
  [dim: string]: unknown;
}
interface ExplainWindow {
  window: string;
  method: string;
  idlePolicy: string;
  windowCost: string;
  amount: string;
  idleShare: string;
  requests: Array<{ requestId: string | null; amount: string; idleShare: string }>;
}
interface Explain {
  tenant: string;
  amount: string;
  idleShare: string;
  instances: Array<{ instance: string; amount: string; idleShare: string; windows: ExplainWindow[] }>;
}

export function CostsPage({ params, navigate, go, from, to, refresh, principal }: PageProps) {
  const by = params.by ?? 'team,project';
  const tenant = principal.tenant ?? params.tenant;
  const report = useData(
    `costs:${by}:${from}:${to}:${tenant ?? ''}`,
    () => api<{ items: CostRow[] }>('costs', { query: { from, to, by, tenant } }),
    refresh,
  );
  const explainTenant = principal.tenant ?? params.explain;
  const explain = useData(
    `explain:${explainTenant ?? ''}:${from}:${to}`,
    () =>
      explainTenant
        ? api<Explain>('costs/explain', { query: { from, to, tenant: explainTenant } })
        : Promise.resolve(undefined),
    refresh,
  );
  const dims = by.split(',');
  const toggle = (d: string) => {
    const next = dims.includes(d) ? dims.filter((x) => x !== d) : [...dims, d];
    navigate({ ...params, by: (next.length ? next : ['tenant']).join(',') }, true);
  };
  const tenants = [
    ...new Set((report.data?.items ?? []).map((r) => r.tenant).filter((t): t is string => typeof t === 'string')),
  ];
  return (
    <section>
      <h1>Costs</h1>
      <div className="toolbar" aria-label="group by">
        Group by:
        {DIMS.map((d) => (
          <button key={d} type="button" className={dims.includes(d) ? 'on' : ''} onClick={() => toggle(d)}>
            {d}
          </button>
        ))}
      </div>
      {report.error ? <Failure error={report.error} /> : null}
      {report.data ? (
        report.data.items.length === 0 ? (
          <Empty title="No allocated cost in this window">
            Billing allocates GPU cost per closed window from prices (infra/billing, `arcwatch cost …`) and assembled
            requests. Configure prices and widen the range.
          </Empty>
        ) : (
          <table aria-label="cost report">
            <thead>
              <tr>
                {dims.map((d) => (
                  <th key={d}>{d}</th>
                ))}
                <th>Requests</th>
                <th>GPU seconds</th>
                <th>Amount</th>
              </tr>
            </thead>
            <tbody>
              {report.data.items.map((r, i) => (
                <tr key={i}>
                  {dims.map((d) => (
                    <td key={d}>
                      {d === 'tenant' && typeof r.tenant === 'string' ? (
                        <a
                          href="#"
                          onClick={(e) => (
                            e.preventDefault(),
                            navigate({ ...params, explain: String(r.tenant) }, true)
                          )}
                        >
                          {r.tenant}
                        </a>
                      ) : (
                        String(r[d] ?? '–')
                      )}
                    </td>
                  ))}
                  <td>{r.requests ?? '–'}</td>
                  <td>{r.gpu_seconds ?? '–'}</td>
                  <td className="num" data-amount={r.amount}>
                    {r.amount} {r.currency ?? ''}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )
      ) : null}
      <h2>Explain this cost</h2>
      {!principal.tenant ? (
        <div className="toolbar">
          Tenant:
          {tenants.length === 0 ? <span className="muted">group by tenant to pick one</span> : null}
          {tenants.map((t) => (
            <button
              key={t}
              type="button"
              className={t === explainTenant ? 'on' : ''}
              onClick={() => navigate({ ...params, explain: t }, true)}
            >
              {t}
            </button>
          ))}
        </div>
      ) : null}
      {explain.error ? <Failure error={explain.error} /> : null}
      {explain.data ? (
        <div className="tree" aria-label="explain">
          <p>
            <b>{explain.data.tenant}</b>: <span data-amount={explain.data.amount}>{explain.data.amount}</span> (idle
            share {explain.data.idleShare}) = the sum of its instances below; each instance is the sum of its windows,
            each window the sum of its requests plus the idle share.
          </p>
          {explain.data.instances.length === 0 ? <Empty title="No allocations for this tenant in this window" /> : null}
          {explain.data.instances.map((i) => (
            <details key={i.instance}>
              <summary>
                instance {i.instance}: {i.amount} (idle {i.idleShare}) · {i.windows.length} windows
              </summary>
              {i.windows.map((w) => (
                <details key={w.window} className="nested">
                  <summary>
                    window {w.window}: {w.amount} of {w.windowCost} · {w.method}, idle {w.idlePolicy} ({w.idleShare})
                  </summary>
                  <ul>
                    {w.requests.map((r, k) => (
                      <li key={r.requestId ?? k}>
                        {r.requestId ? (
                          <a href="#" onClick={(e) => (e.preventDefault(), go('request', { id: r.requestId ?? '' }))}>
                            {r.requestId}
                          </a>
                        ) : (
                          'idle'
                        )}
                        : {r.amount} (idle {r.idleShare})
                      </li>
                    ))}
                  </ul>
                </details>
              ))}
            </details>
          ))}
        </div>
      ) : !explainTenant ? (
        <Empty title="Pick a tenant">
          The explanation goes from a tenant's total down to instances, windows and requests.
        </Empty>
      ) : null}
    </section>
  );
}
