import { buildFleet, FLEET_QUERY, fleetFields, nodeSeriesQueries, type FleetField } from './fleet';
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

  it('splits the one instant query per field and works out memory used as PromQL would', () => {
    expect(FLEET_QUERY).toBe(
      '{__name__=~"DCGM_FI_DEV_GPU_UTIL|DCGM_FI_DEV_GPU_TEMP|DCGM_FI_DEV_POWER_USAGE|DCGM_FI_DEV_XID_ERRORS|DCGM_FI_DEV_FB_USED|DCGM_FI_DEV_FB_FREE"}',
    );
    const named = (name: string, gpu: string, v: string, extra: Record<string, string> = {}): VectorSample => ({
      metric: { __name__: name, node: 'n1', gpu, ...extra },
      value: [1700000000, v],
    });
    const f = fleetFields([
      named('DCGM_FI_DEV_GPU_UTIL', '0', '42'),
      named('DCGM_FI_DEV_FB_USED', '0', '30000'),
      named('DCGM_FI_DEV_FB_FREE', '0', '50000'),
      // free with other labels: no match, as `/` would not match them
      named('DCGM_FI_DEV_FB_USED', '1', '10'),
      named('DCGM_FI_DEV_FB_FREE', '1', '10', { extra: 'x' }),
      named('DCGM_FI_DEV_FB_USED', '2', '0'),
      named('DCGM_FI_DEV_FB_FREE', '2', '0'),
      named('DCGM_FI_DEV_XID_ERRORS', '0', '79'),
      named('DCGM_FI_DEV_SM_CLOCK', '0', '1400'),
    ]);
    expect(f.utilization).toEqual([{ metric: { node: 'n1', gpu: '0' }, value: [1700000000, '42'] }]);
    expect(f.memory).toEqual([
      { metric: { node: 'n1', gpu: '0' }, value: [1700000000, String((100 * 30000) / 80000)] },
      { metric: { node: 'n1', gpu: '2' }, value: [1700000000, 'NaN'] },
    ]);
    expect(f.xid.map((x) => x.value[1])).toEqual(['79']);
    expect([f.temperature, f.power]).toEqual([[], []]);
  });

  it('quotes the node name in every series query', () => {
    const q = nodeSeriesQueries('we"ird\\node');
    expect(q.utilization).toBe('DCGM_FI_DEV_GPU_UTIL{node="we\\"ird\\\\node"}');
  });
});
