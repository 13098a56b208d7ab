import { useState, type FormEvent } from 'react';
import { api, fmt, type Unavailable } from '../api';
import { useData } from '../hooks';
import { Chart, Down, Empty, Failure, Part, useListKeys } from '../ui';
import type { PageProps } from '../main';
import { VirtualTable } from '../virtual';

interface Req {
  requestId: string;
  status: string;
  tenant: string;
  team?: string;
  project?: string;
  model: string;
  modelVersion?: string;
  instance?: string | null;
  node?: string | null;
  gpuUuids?: string[];
  startedAt: string;
  endedAt?: string;
  promptTokens?: number | null;
  completionTokens?: number | null;
  cachedTokens?: number | null;
  queueMs?: number | null;
  ttftMs?: number | null;
  tpotMs?: number | null;
  e2eMs?: number | null;
  apiKeyHash?: string | null;
  finishReason?: string | null;
  timeline?: Array<{ kind: string; time: string }>;
}

const FILTERS: Array<[string, string]> = [
  ['tenant', 'Tenant'],
  ['model', 'Model'],
  ['status', 'Status'],
  ['minLatencyMs', 'Min E2E (ms)'],
  ['node', 'Node'],
  ['gpu', 'GPU UUID'],
];

export function RequestsPage({ params, navigate, go, from, to, refresh, principal }: PageProps) {
  const query = {
    from,
    to,
    tenant: params.tenant,
    model: params.model,
    status: params.status,
    minLatencyMs: params.minLatencyMs,
    node: params.node,
    gpu: params.gpu,
    cursor: params.cursor,
    // The list is virtualised: a page of 1,000 costs the browser no more than a page of 100.
    limit: '1000',
  };
  const d = useData(
    `requests:${JSON.stringify(query)}`,
    () => api<{ items: Req[]; nextCursor: string | null; scanned: number }>('requests', { query }),
    refresh,
  );
  const [sel, setSel] = useState(-1);
  const items = d.data?.items ?? [];
  const open = (i: number) => items[i] && go('request', { id: items[i].requestId });
  useListKeys(items.length, sel, setSel, open);
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const next = { ...params };
    for (const [k] of FILTERS) next[k] = String(f.get(k) ?? '').trim();
    delete next.cursor;
    navigate(next);
  };
  return (
    <section>
      <h1>Requests</h1>
      <form className="filters" onSubmit={submit} key={JSON.stringify(params)}>
        {FILTERS.map(([k, label]) =>
          k === 'tenant' && principal.tenant ? null : (
            <label key={k}>
              {label}
              {k === 'status' ? (
                <select name={k} defaultValue={params[k] ?? ''}>
                  <option value="">any</option>
                  {['completed', 'failed', 'cancelled', 'abandoned'].map((s) => (
                    <option key={s}>{s}</option>
                  ))}
                </select>
              ) : (
                <input name={k} defaultValue={params[k] ?? ''} />
              )}
            </label>
          ),
        )}
        <button type="submit">Filter</button>
      </form>
      {d.error ? <Failure error={d.error} /> : null}
      {d.data && items.length === 0 ? (
        <Empty title="No requests match">
          {params.node || params.gpu ? `None of the ${d.data.scanned} newest requests in this window ran there. ` : ''}
          Widen the time range or clear filters. Requests appear once tracing receives lifecycle events
          (docs/tracing.md).
        </Empty>
      ) : null}
      {items.length > 0 ? (
        <>
          <VirtualTable
            label="requests"
            items={items}
            selected={sel}
            head={
              <tr>
                <th>Started</th>
                <th>Request</th>
                <th>Tenant</th>
                <th>Model</th>
                <th>Status</th>
                <th>Node</th>
                <th>Tokens in/out</th>
                <th>TTFT</th>
                <th>E2E</th>
              </tr>
            }
            row={(r, i) => (
              <tr
                key={r.requestId}
                className={i === sel ? 'selected' : ''}
                onClick={() => open(i)}
                data-request={r.requestId}
                data-index={i}
              >
                <td>{fmt.time(r.startedAt)}</td>
                <td>
                  <a
                    href={`/?view=request&id=${encodeURIComponent(r.requestId)}`}
                    onClick={(e) => (e.preventDefault(), open(i))}
                  >
                    {r.requestId}
                  </a>
                </td>
                <td>{r.tenant}</td>
                <td>{r.model}</td>
                <td className={`status ${r.status}`}>{r.status}</td>
                <td>{r.node ?? '–'}</td>
                <td>
                  {r.promptTokens ?? '–'} / {r.completionTokens ?? '–'}
                </td>
                <td>{fmt.ms(r.ttftMs)}</td>
                <td>{fmt.ms(r.e2eMs)}</td>
              </tr>
            )}
          />
          <p className="muted" data-count={items.length}>
            {items.length} requests{d.data?.nextCursor ? ' (newest first; older ones on the next page)' : ''}.
          </p>
          <p className="muted">j / k or ↑ / ↓ to move, Enter to open.</p>
          {d.data?.nextCursor ? (
            <button type="button" onClick={() => navigate({ ...params, cursor: d.data?.nextCursor ?? '' })}>
              Older →
            </button>
          ) : null}
        </>
      ) : null}
    </section>
  );
}

interface CostWindow {
  window?: string;
  amount?: string;
  instance?: string;
  [k: string]: unknown;
}
interface RequestPageData {
  request: Req;
  cost:
    | { allocation: { amount: string; currency: string; method: string; idlePolicy?: string; windows: CostWindow[] } }
    | { pending: string }
    | Unavailable;
  gpus:
    | {
        series: Array<{
          field: string;
          uuid: string | null;
          node: string | null;
          gpu: string | null;
          points: Array<[number, number]>;
        }>;
      }
    | Unavailable;
}

const PHASES = ['received', 'queued', 'scheduled', 'prefill_start', 'first_token', 'completed', 'failed', 'cancelled'];

export function RequestPage({ params, go, refresh }: PageProps) {
  const id = params.id ?? '';
  const d = useData(`request:${id}`, () => api<RequestPageData>(`requests/${encodeURIComponent(id)}`), refresh);
  if (!id) return <Empty title="No request selected">Open one from the Requests page.</Empty>;
  const r = d.data?.request;
  const t0 = r ? Date.parse(r.startedAt) : 0;
  const timeline = [...(r?.timeline ?? [])].sort(
    (a, b) => a.time.localeCompare(b.time) || PHASES.indexOf(a.kind) - PHASES.indexOf(b.kind),
  );
  const span = Math.max(1, ...timeline.map((e) => Date.parse(e.time) - t0));
  return (
    <section>
      <h1>Request {id}</h1>
      <div className="toolbar">
        <button type="button" onClick={() => window.history.back()}>
          ← Back
        </button>
      </div>
      {d.error ? <Failure error={d.error} /> : null}
      {r && d.data ? (
        <>
          <dl className="facts">
            <dt>Status</dt>
            <dd className={`status ${r.status}`}>
              {r.status}
              {r.finishReason ? ` (${r.finishReason})` : ''}
            </dd>
            <dt>Tenant / team / project</dt>
            <dd>
              {r.tenant} / {r.team ?? '–'} / {r.project ?? '–'}
            </dd>
            <dt>API key (hash)</dt>
            <dd className="mono">{r.apiKeyHash ?? '–'}</dd>
            <dt>Model</dt>
            <dd>
              {r.model} {r.modelVersion ?? ''}
            </dd>
            <dt>Instance / node</dt>
            <dd>
              {r.instance ?? '–'} /{' '}
              {r.node ? (
                <a href="#" onClick={(e) => (e.preventDefault(), go('node', { node: r.node ?? '' }))}>
                  {r.node}
                </a>
              ) : (
                '–'
              )}
            </dd>
            <dt>Tokens</dt>
            <dd>
              {r.promptTokens ?? '–'} prompt ({r.cachedTokens ?? 0} cached) · {r.completionTokens ?? '–'} completion
            </dd>
            <dt>Latency</dt>
            <dd>
              queue {fmt.ms(r.queueMs)} · TTFT {fmt.ms(r.ttftMs)} · TPOT {fmt.ms(r.tpotMs)} · E2E {fmt.ms(r.e2eMs)}
            </dd>
          </dl>
          <h2>Timeline</h2>
          <ol className="timeline" aria-label="timeline">
            {timeline.map((e) => {
              const at = Date.parse(e.time) - t0;
              return (
                <li key={`${e.kind}-${e.time}`}>
                  <span className="phase">{e.kind}</span>
                  <span className="bar" style={{ width: `${Math.max(0.5, (at / span) * 100)}%` }} />
                  <span className="muted">+{fmt.ms(at)}</span>
                </li>
              );
            })}
          </ol>
          <h2>Cost</h2>
          <div data-section="cost">
            {'allocation' in d.data.cost ? (
              <>
                <p className="amount" data-amount={d.data.cost.allocation.amount}>
                  {d.data.cost.allocation.amount} {d.data.cost.allocation.currency}
                </p>
                <p className="muted">
                  Method {d.data.cost.allocation.method}
                  {d.data.cost.allocation.idlePolicy ? `, idle ${d.data.cost.allocation.idlePolicy}` : ''}: the
                  request's share of each GPU window it ran in.
                </p>
                <pre className="json">{JSON.stringify(d.data.cost.allocation.windows, null, 2)}</pre>
              </>
            ) : 'pending' in d.data.cost ? (
              <Empty title="Not costed yet">{d.data.cost.pending}</Empty>
            ) : (
              <Down service={d.data.cost.unavailable.service} message={d.data.cost.unavailable.message} />
            )}
          </div>
          <h2>GPUs while it ran</h2>
          <Part value={d.data.gpus}>
            {(g) => (
              <div className="charts">
                <Chart
                  title="Utilisation"
                  unit="%"
                  series={g.series
                    .filter((s) => s.field === 'utilization')
                    .map((s) => ({ label: `${s.node ?? ''} GPU ${s.gpu ?? s.uuid}`, points: s.points }))}
                />
                <Chart
                  title="Power"
                  unit="W"
                  series={g.series
                    .filter((s) => s.field === 'power')
                    .map((s) => ({ label: `${s.node ?? ''} GPU ${s.gpu ?? s.uuid}`, points: s.points }))}
                />
              </div>
            )}
          </Part>
        </>
      ) : null}
    </section>
  );
}
