import { useMemo } from 'react';
import { api } from '../api';
import { useData } from '../hooks';
import { Chart, Empty, Failure, type Series } from '../ui';
import type { PageProps } from '../main';

interface NodeData {
  node: string;
  stepSeconds: number;
  series: Record<string, Array<{ gpu: string; uuid: string | null; points: Array<[number, number]> }>>;
  instances: Array<{ instance: string | null; model: string | null; running: number }>;
}

const FIELDS: Array<[string, string, string]> = [
  ['utilization', 'GPU utilisation', '%'],
  ['memory', 'Framebuffer used', '%'],
  ['temperature', 'GPU temperature', '°C'],
  ['memoryTemperature', 'Memory temperature', '°C'],
  ['power', 'Power', 'W'],
  ['smClock', 'SM clock', 'MHz'],
  ['tensorActive', 'Tensor pipe active', 'ratio'],
  ['dramActive', 'DRAM active', 'ratio'],
  ['xid', 'Last XID error', 'code'],
];

export function NodePage({ params, go, from, to, refresh }: PageProps) {
  const node = params.node ?? '';
  const gpu = params.gpu;
  const d = useData(
    `node:${node}:${from}:${to}`,
    () => api<NodeData>(`nodes/${encodeURIComponent(node)}`, { query: { from, to } }),
    refresh,
  );
  const charts = useMemo(() => {
    if (!d.data) return [];
    return FIELDS.map(([field, title, unit]) => ({
      field,
      title,
      unit,
      series: (d.data?.series[field] ?? [])
        .filter((s) => gpu === undefined || s.gpu === gpu)
        .map((s): Series => ({ label: `GPU ${s.gpu}`, points: s.points })),
    }));
  }, [d.data, gpu]);
  const uuid = gpu !== undefined ? d.data?.series.utilization?.find((s) => s.gpu === gpu)?.uuid : undefined;
  if (!node) return <Empty title="No node selected">Pick a node on the Fleet page.</Empty>;
  return (
    <section>
      <h1>
        Node {node}
        {gpu !== undefined ? ` · GPU ${gpu}` : ''}
      </h1>
      <div className="toolbar">
        <button type="button" onClick={() => go('fleet')}>
          ← Fleet
        </button>
        {gpu !== undefined ? (
          <button type="button" onClick={() => go('node', { node })}>
            All GPUs of {node}
          </button>
        ) : null}
        <button type="button" data-action="requests-on-node" onClick={() => go('requests', { node })}>
          Requests served by {node}
        </button>
        {uuid ? (
          <button type="button" data-action="requests-on-gpu" onClick={() => go('requests', { gpu: uuid })}>
            Requests served by this GPU
          </button>
        ) : null}
      </div>
      {d.error ? <Failure error={d.error} /> : null}
      {d.data ? (
        <>
          <h2>Instances on this node</h2>
          {d.data.instances.length === 0 ? (
            <Empty title="No inference engine reports from this node">
              The collector scrapes no vLLM target labelled node={node}.
            </Empty>
          ) : (
            <table>
              <thead>
                <tr>
                  <th>Instance</th>
                  <th>Model</th>
                  <th>Running requests</th>
                </tr>
              </thead>
              <tbody>
                {d.data.instances.map((i) => (
                  <tr key={`${i.instance}-${i.model}`}>
                    <td>{i.instance}</td>
                    <td>{i.model}</td>
                    <td>{i.running}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <div className="charts">
            {charts.map((c) => (
              <Chart
                key={c.field}
                title={c.title}
                unit={c.unit}
                series={c.series}
                window={[Date.parse(from) / 1000, Date.parse(to) / 1000]}
              />
            ))}
          </div>
        </>
      ) : null}
    </section>
  );
}
