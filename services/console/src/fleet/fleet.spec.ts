import { buildFleet, nodeSeriesQueries, type FleetField } from './fleet';
import type { VectorSample } from '../upstream/prometheus';

const s = (node: string, gpu: string, v: number, extra: Record<string, string> = {}): VectorSample => ({
  metric: { node, gpu, UUID: `GPU-${node}-${gpu}`, ...extra },
  value: [0, String(v)],
});
const none: Record<FleetField, VectorSample[]> = { utilization: [], memory: [], temperature: [], power: [], xid: [] };

describe('fleet heatmap', () => {
  it('classifies busy, idle and down GPUs and counts them', () => {
    const fleet = buildFleet(
      {
        ...none,
        utilization: [s('n1', '0', 95), s('n1', '1', 3), s('n2', '0', 50)],
        temperature: [s('n1', '0', 81)],
        xid: [s('n1', '1', 79)],
      },
      [s('n1', '0', 1), s('n1', '1', 1), s('n1', '2', 1), s('n2', '0', 1)],
      [
        { metric: { node: 'n1', job: 'dcgm-exporter' }, value: [0, '1'] },
        { metric: { node: 'n2', job: 'dcgm-exporter' }, value: [0, '0'] },
      ],
    );
    expect(fleet.totals).toEqual({ gpus: 4, busy: 1, idle: 1, down: 2, nodes: 2, exportersDown: 1, xid: 1 });
    const n1 = fleet.nodes[0];
    expect(n1.node).toBe('n1');
    expect(n1.gpus.map((g) => [g.gpu, g.state, g.utilization])).toEqual([
      ['0', 'busy', 95],
      ['1', 'idle', 3],
      ['2', 'down', null],
    ]);
    expect(n1.gpus[0].temperature).toBe(81);
    // n2's exporter is down: its last reading does not make its GPU look alive.
    expect(fleet.nodes[1].gpus[0].state).toBe('down');
  });

  it('falls back to the Hostname label and keeps an exporter with no GPUs visible', () => {
    const fleet = buildFleet(
      {
        ...none,
        utilization: [
          { metric: { Hostname: 'h', gpu: '10' }, value: [0, '20'] },
          { metric: { Hostname: 'h', gpu: '9' }, value: [0, 'NaN'] },
        ],
      },
      [],
      [{ metric: { node: 'empty' }, value: [0, '1'] }],
    );
    expect(fleet.nodes.map((n) => n.node)).toEqual(['empty', 'h']);
    expect(fleet.nodes[1].gpus.map((g) => g.gpu)).toEqual(['9', '10']);
    expect(fleet.nodes[1].gpus[0].state).toBe('down');
  });

  it('quotes the node name in every series query', () => {
    const q = nodeSeriesQueries('we"ird\\node');
    expect(q.utilization).toBe('DCGM_FI_DEV_GPU_UTIL{node="we\\"ird\\\\node"}');
  });
});
