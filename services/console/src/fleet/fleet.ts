import { quoteLabel, sampleValue, type VectorSample } from '../upstream/prometheus';

/** The heatmap's fields. */
export const FLEET_FIELDS = ['utilization', 'memory', 'temperature', 'power', 'xid'] as const;
export type FleetField = (typeof FLEET_FIELDS)[number];

/**
 * The DCGM metrics the heatmap reads, asked for in one instant query (FLEET_QUERY): one series
 * lookup and one pass over the collector's recent samples instead of one per field. Memory used
 * (%) is worked out here from framebuffer used and free.
 */
export const FLEET_METRICS = {
  DCGM_FI_DEV_GPU_UTIL: 'utilization',
  DCGM_FI_DEV_GPU_TEMP: 'temperature',
  DCGM_FI_DEV_POWER_USAGE: 'power',
  DCGM_FI_DEV_XID_ERRORS: 'xid',
  DCGM_FI_DEV_FB_USED: 'fbUsed',
  DCGM_FI_DEV_FB_FREE: 'fbFree',
} as const;
export const FLEET_QUERY = `{__name__=~"${Object.keys(FLEET_METRICS).join('|')}"}`;

/**
 * FLEET_QUERY's answer per heatmap field, names removed. Memory is
 * `100 * DCGM_FI_DEV_FB_USED / (DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE)` as PromQL matches it:
 * used and free with the same labels apart from the name, the result without a name.
 */
export function fleetFields(samples: readonly VectorSample[]): Record<FleetField, VectorSample[]> {
  const out: Record<FleetField, VectorSample[]> = { utilization: [], memory: [], temperature: [], power: [], xid: [] };
  const free = new Map<string, VectorSample>();
  const used: VectorSample[] = [];
  for (const s of samples) {
    const { __name__: name, ...metric } = s.metric;
    const field = FLEET_METRICS[name as keyof typeof FLEET_METRICS];
    if (field === undefined) continue;
    const sample = { metric, value: s.value };
    if (field === 'fbUsed') used.push(sample);
    else if (field === 'fbFree') free.set(labelKey(metric), sample);
    else out[field].push(sample);
  }
  for (const u of used) {
    const f = free.get(labelKey(u.metric));
    if (!f) continue;
    const a = Number(u.value[1]);
    out.memory.push({ metric: u.metric, value: [u.value[0], String((100 * a) / (a + Number(f.value[1])))] });
  }
  return out;
}

function labelKey(m: Record<string, string>): string {
  return Object.keys(m)
    .sort()
    .map((k) => `${k}\u0000${m[k]}`)
    .join('\u0001');
}

/** Every GPU with this series in the last hour is in the inventory: one in it but missing now is down. */
export const INVENTORY_METRIC = 'DCGM_FI_DEV_GPU_UTIL';
export const EXPORTER_UP_QUERY = 'up{job=~".*dcgm.*"}';

/**
 * The oldest fleet snapshot GET /api/console/fleet answers with at once (refreshing it behind the
 * answer): a page shows the heatmap without waiting for the collector, and the live stream brings
 * the refreshed one.
 */
export const FLEET_SNAPSHOT_STALE_MS = 60_000;

/** A GPU at or above this utilisation (%) counts as busy. */
export const BUSY_UTILIZATION = 10;

export interface GpuCell {
  gpu: string;
  uuid: string | null;
  model: string | null;
  state: 'busy' | 'idle' | 'down';
  utilization: number | null;
  memory: number | null;
  temperature: number | null;
  power: number | null;
  /** The last XID error code the exporter reports (0: none). */
  xid: number | null;
}

export interface NodeRow {
  node: string;
  exporterUp: boolean | null;
  gpus: GpuCell[];
}

export interface FleetSummary {
  totals: { gpus: number; busy: number; idle: number; down: number; nodes: number; exportersDown: number; xid: number };
  nodes: NodeRow[];
}

/** The node a DCGM series belongs to: the scrape's `node` label, else the exporter's Hostname. */
export function nodeOf(m: Record<string, string>): string {
  return m.node ?? m.Hostname ?? m.instance ?? 'unknown';
}
function gpuKey(m: Record<string, string>): string {
  return `${nodeOf(m)}\u0000${m.gpu ?? m.UUID ?? '?'}`;
}

/**
 * The heatmap from one instant query per field plus the inventory: cells sorted by node and GPU
 * index; a GPU in the inventory without a current reading is down, as are those of an exporter
 * whose target is down.
 */
export function buildFleet(
  fields: Record<FleetField, VectorSample[]>,
  inventory: VectorSample[],
  up: VectorSample[],
): FleetSummary {
  const cells = new Map<string, { node: string; cell: GpuCell }>();
  const ensure = (m: Record<string, string>) => {
    const key = gpuKey(m);
    let c = cells.get(key);
    if (!c) {
      c = {
        node: nodeOf(m),
        cell: {
          gpu: m.gpu ?? '?',
          uuid: m.UUID ?? null,
          model: m.modelName ?? null,
          state: 'down',
          utilization: null,
          memory: null,
          temperature: null,
          power: null,
          xid: null,
        },
      };
      cells.set(key, c);
    }
    return c.cell;
  };
  for (const s of inventory) ensure(s.metric);
  for (const field of FLEET_FIELDS) {
    for (const s of fields[field]) ensure(s.metric)[field] = sampleValue(s.value[1]);
  }
  const exporter = new Map<string, boolean>();
  for (const s of up)
    exporter.set(nodeOf(s.metric), (exporter.get(nodeOf(s.metric)) ?? false) || Number(s.value[1]) === 1);

  const byNode = new Map<string, NodeRow>();
  for (const { node, cell } of cells.values()) {
    const nodeUp = exporter.get(node);
    if (cell.utilization === null || nodeUp === false) cell.state = 'down';
    else cell.state = cell.utilization >= BUSY_UTILIZATION ? 'busy' : 'idle';
    let row = byNode.get(node);
    if (!row) byNode.set(node, (row = { node, exporterUp: nodeUp ?? null, gpus: [] }));
    row.gpus.push(cell);
  }
  for (const [node, isUp] of exporter) if (!byNode.has(node)) byNode.set(node, { node, exporterUp: isUp, gpus: [] });
  const nodes = [...byNode.values()].sort((a, b) => a.node.localeCompare(b.node));
  for (const n of nodes) n.gpus.sort((a, b) => Number(a.gpu) - Number(b.gpu) || a.gpu.localeCompare(b.gpu));
  const all = nodes.flatMap((n) => n.gpus);
  return {
    totals: {
      gpus: all.length,
      busy: all.filter((g) => g.state === 'busy').length,
      idle: all.filter((g) => g.state === 'idle').length,
      down: all.filter((g) => g.state === 'down').length,
      nodes: nodes.length,
      exportersDown: nodes.filter((n) => n.exporterUp === false).length,
      xid: all.filter((g) => (g.xid ?? 0) > 0).length,
    },
    nodes,
  };
}

/** The per-GPU series of one node's page. */
export function nodeSeriesQueries(node: string): Record<string, string> {
  const sel = `{node=${quoteLabel(node)}}`;
  return {
    utilization: `DCGM_FI_DEV_GPU_UTIL${sel}`,
    memory: `100 * DCGM_FI_DEV_FB_USED${sel} / (DCGM_FI_DEV_FB_USED${sel} + DCGM_FI_DEV_FB_FREE${sel})`,
    temperature: `DCGM_FI_DEV_GPU_TEMP${sel}`,
    memoryTemperature: `DCGM_FI_DEV_MEMORY_TEMP${sel}`,
    power: `DCGM_FI_DEV_POWER_USAGE${sel}`,
    smClock: `DCGM_FI_DEV_SM_CLOCK${sel}`,
    tensorActive: `DCGM_FI_PROF_PIPE_TENSOR_ACTIVE${sel}`,
    dramActive: `DCGM_FI_PROF_DRAM_ACTIVE${sel}`,
    xid: `DCGM_FI_DEV_XID_ERRORS${sel}`,
  };
}
