import { api, fmt } from '../api';
import { takeBootFleet } from '../boot';
import { useLive } from '../hooks';
import { Empty, Failure } from '../ui';
import type { PageProps } from '../main';
import { VirtualTable } from '../virtual';

interface Gpu {
  gpu: string;
  uuid: string | null;
  state: 'busy' | 'idle' | 'down';
  utilization: number | null;
  memory: number | null;
  temperature: number | null;
  power: number | null;
  xid: number | null;
}
interface Fleet {
  at: string;
  totals: { gpus: number; busy: number; idle: number; down: number; nodes: number; exportersDown: number; xid: number };
  nodes: Array<{ node: string; exporterUp: boolean | null; gpus: Gpu[] }>;
}

const METRICS = {
  utilization: ['Utilisation', '%', 100],
  memory: ['Memory used', '%', 100],
  temperature: ['Temperature', '°C', 95],
  power: ['Power', 'W', 700],
} as const;
type Metric = keyof typeof METRICS;

/** Cool to hot on a 0..max scale. */
function heat(v: number | null, max: number): string {
  if (v === null) return '#3a3a3a';
  const x = Math.max(0, Math.min(1, v / max));
  return `hsl(${Math.round(220 - 220 * x)}, 70%, ${Math.round(35 + 15 * x)}%)`;
}

export function FleetPage({ params, navigate, go, refresh }: PageProps) {
  const metric: Metric = (params.metric as Metric) in METRICS ? (params.metric as Metric) : 'utilization';
  const d = useLive('fleet', 'fleet', () => api<Fleet>('fleet'), refresh, takeBootFleet<Fleet>());
  const [label, unit, max] = METRICS[metric];
  return (
    <section>
      <h1>Fleet</h1>
      {d.error ? <Failure error={d.error} /> : null}
      {d.data ? (
        <>
          <div className="totals" aria-label="totals">
            <div className="card">
              <b data-total="gpus">{d.data.totals.gpus}</b> GPUs
            </div>
            <div className="card busy">
              <b data-total="busy">{d.data.totals.busy}</b> busy
            </div>
            <div className="card idle">
              <b data-total="idle">{d.data.totals.idle}</b> idle
            </div>
            <div className="card down">
              <b data-total="down">{d.data.totals.down}</b> down
            </div>
            <div className="card">
              <b>{d.data.totals.nodes}</b> nodes ({d.data.totals.exportersDown} exporters down)
            </div>
            <div className="card">
              <b>{d.data.totals.xid}</b> GPUs with XID
            </div>
          </div>
          <div className="toolbar">
            {(Object.keys(METRICS) as Metric[]).map((m) => (
              <button
                key={m}
                type="button"
                className={m === metric ? 'on' : ''}
                onClick={() => navigate({ ...params, metric: m }, true)}
              >
                {METRICS[m][0]}
              </button>
            ))}
            <span className="muted">
              as of {fmt.time(d.data.at)} · busy ≥ 10 % utilisation · ⚠ XID error ·{' '}
              <span className="live" data-live={d.mode}>
                {d.mode === 'live' ? 'live' : d.mode === 'polling' ? 'polling (stream lost)' : d.mode}
              </span>
            </span>
          </div>
          {d.data.nodes.length === 0 ? (
            <Empty title="No GPUs reported yet">
              The collector has no DCGM series. Point it at your dcgm-exporter targets (COLLECTOR_CONFIG, see
              docs/collector.md) or run `npm start`, which scrapes the simulated fleet.
            </Empty>
          ) : (
            <table className="heatmap" aria-label={`${label} by node`}>
              <tbody>
                {d.data.nodes.map((n) => (
                  <tr key={n.node}>
                    <th>
                      <a
                        href={`/?view=node&node=${encodeURIComponent(n.node)}`}
                        onClick={(e) => (e.preventDefault(), go('node', { node: n.node }))}
                      >
                        {n.node}
                      </a>
                      {n.exporterUp === false ? <span className="badge down">exporter down</span> : null}
                    </th>
                    {n.gpus.map((g) => (
                      <td key={g.gpu}>
                        <button
                          type="button"
                          className={`cell ${g.state}`}
                          data-node={n.node}
                          data-gpu={g.gpu}
                          data-value={g[metric] ?? ''}
                          style={{ background: heat(g[metric], max) }}
                          title={`${n.node} GPU ${g.gpu}: ${fmt.num(g[metric])} ${unit} · util ${fmt.num(g.utilization)} % · ${fmt.num(g.temperature, 0)} °C · ${fmt.num(g.power, 0)} W · ${g.state}`}
                          onClick={() => go('node', { node: n.node, gpu: g.gpu })}
                        >
                          {g.state === 'down' ? '✕' : fmt.num(g[metric], 0)}
                          {(g.xid ?? 0) > 0 ? <span className="xid">⚠</span> : null}
                        </button>
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {d.data.nodes.length > 0 ? (
            <>
              <h2>GPUs by {label.toLowerCase()}</h2>
              <VirtualTable
                label="gpus"
                maxHeight={420}
                items={d.data.nodes
                  .flatMap((n) => n.gpus.map((g) => ({ node: n.node, ...g })))
                  .sort((a, b) => (b[metric] ?? -1) - (a[metric] ?? -1))}
                head={
                  <tr>
                    <th>Node</th>
                    <th>GPU</th>
                    <th>State</th>
                    <th className="num">Util %</th>
                    <th className="num">Memory %</th>
                    <th className="num">°C</th>
                    <th className="num">W</th>
                    <th>XID</th>
                  </tr>
                }
                row={(g, i) => (
                  <tr
                    key={`${g.node}/${g.gpu}`}
                    data-gpu-row={`${g.node}/${g.gpu}`}
                    data-index={i}
                    onClick={() => go('node', { node: g.node, gpu: g.gpu })}
                  >
                    <td>{g.node}</td>
                    <td>{g.gpu}</td>
                    <td className={g.state === 'down' ? 'bad' : ''}>{g.state}</td>
                    <td className="num">{fmt.num(g.utilization, 0)}</td>
                    <td className="num">{fmt.num(g.memory, 0)}</td>
                    <td className="num">{fmt.num(g.temperature, 0)}</td>
                    <td className="num">{fmt.num(g.power, 0)}</td>
                    <td>{(g.xid ?? 0) > 0 ? `⚠ ${g.xid}` : ''}</td>
                  </tr>
                )}
              />
            </>
          ) : null}
        </>
      ) : d.loading ? (
        <p className="loading">Loading…</p>
      ) : null}
    </section>
  );
}
