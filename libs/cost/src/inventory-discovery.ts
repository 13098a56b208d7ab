import type { Placement } from './inventory';
import type { PriceSelector } from './price-catalog';

/**
 * Inventory discovery: where a model instance runs, derived from what the fleet reports, and the
 * merge of the sources into one placement timeline.
 *
 * Sources and precedence (config file > request records > metrics):
 * - the inventory file: an instance it lists is taken from the file alone (the caller keeps those
 *   instances out of discovery, see Inventory.extend);
 * - request records: the node and GPU UUIDs a record names, stated at the window it started in;
 * - metrics: GPU series (dcgm-exporter: UUID, Hostname, modelName, gpu) and serving series (vLLM:
 *   the target's `instance` and `node` labels), observed at the time the discoverer asked.
 * A change of placement takes effect at its time. Where request records speak (from the window of
 * a record to the end of the last window that repeated it) they win over metrics, and a field a
 * record leaves open (no GPU UUIDs, hence no count, and never the GPU model) is filled from the
 * metrics in force at that time when they put the instance on the same node; elsewhere the latest
 * metrics statement holds.
 */

/** A series' labels, as the `metric` object of a Prometheus instant-vector result. */
export type SeriesLabels = Readonly<Record<string, string>>;

/** What the metrics say about one instance at one moment. */
export interface MetricsObservation {
  instance: string;
  node: string;
  /** Sorted by the GPU index the exporter gives, then by UUID. */
  gpuUuids: string[];
  /** The exporter's modelName, e.g. "NVIDIA H100 80GB HBM3". */
  gpuModelName: string | null;
}

export interface SkippedInstance {
  instance: string;
  reason: 'no-node-label' | 'no-gpus-on-node' | 'node-shared';
  node: string | null;
}

/** Labels a serving target may carry its node under, in order of preference. */
const NODE_LABELS = ['node', 'Hostname', 'hostname', 'kubernetes_node'] as const;

function nodeOf(labels: SeriesLabels, names: readonly string[]): string | null {
  for (const n of names) {
    const v = labels[n];
    if (v !== undefined && v !== '') return v;
  }
  return null;
}

/**
 * Joins serving series to GPU series by node. An instance holds every GPU its node reports; when
 * two instances share a node, the series do not say which GPUs each holds, so they are skipped
 * (their placement must come from request records or the inventory file) rather than guessed.
 */
export function observeInstances(
  gpuSeries: readonly SeriesLabels[],
  servingSeries: readonly SeriesLabels[],
): { observations: MetricsObservation[]; skipped: SkippedInstance[] } {
  const gpusByNode = new Map<string, Map<string, { index: number; model: string | null }>>();
  for (const s of gpuSeries) {
    const uuid = s.UUID;
    // dcgm-exporter names the host in Hostname; a scrape target label `node` is the fallback.
    const node = nodeOf(s, ['Hostname', 'node']);
    if (!uuid || node === null) continue;
    const gpus = gpusByNode.get(node) ?? new Map<string, { index: number; model: string | null }>();
    const index = Number(s.gpu);
    gpus.set(uuid, { index: Number.isFinite(index) ? index : Number.MAX_SAFE_INTEGER, model: s.modelName || null });
    gpusByNode.set(node, gpus);
  }
  const instanceNode = new Map<string, string | null>();
  for (const s of servingSeries) {
    const instance = s.instance;
    if (!instance) continue;
    const node = nodeOf(s, NODE_LABELS);
    if (!instanceNode.has(instance) || instanceNode.get(instance) === null) instanceNode.set(instance, node);
  }
  const perNode = new Map<string, number>();
  for (const node of instanceNode.values()) if (node !== null) perNode.set(node, (perNode.get(node) ?? 0) + 1);

  const observations: MetricsObservation[] = [];
  const skipped: SkippedInstance[] = [];
  for (const [instance, node] of [...instanceNode.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (node === null) {
      skipped.push({ instance, reason: 'no-node-label', node });
      continue;
    }
    const gpus = gpusByNode.get(node);
    if (!gpus || gpus.size === 0) {
      skipped.push({ instance, reason: 'no-gpus-on-node', node });
      continue;
    }
    if ((perNode.get(node) ?? 0) > 1) {
      skipped.push({ instance, reason: 'node-shared', node });
      continue;
    }
    const sorted = [...gpus.entries()].sort(
      ([ua, a], [ub, b]) => a.index - b.index || (ua < ub ? -1 : ua > ub ? 1 : 0),
    );
    observations.push({
      instance,
      node,
      gpuUuids: sorted.map(([u]) => u),
      gpuModelName: sorted.map(([, g]) => g.model).find((m) => m !== null) ?? null,
    });
  }
  return { observations, skipped };
}

/**
 * The price catalog's GPU model named in an exporter's modelName: the longest known model that
 * appears in it as a whole word ("NVIDIA H100 80GB HBM3" → H100, "Tesla V100-SXM2-16GB" → V100).
 */
export function gpuModelFromName(modelName: string | null, known: readonly string[]): string | null {
  if (modelName === null) return null;
  const candidates = [...known].sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
  for (const model of candidates) {
    const escaped = model.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    if (new RegExp(`(^|[^A-Za-z0-9])${escaped}([^A-Za-z0-9]|$)`, 'i').test(modelName)) return model;
  }
  return null;
}

/** One source's statement about an instance's placement from a time on. */
export interface PlacementStatement {
  fromMs: number;
  node: string | null;
  /** Empty when the source did not name the GPUs. */
  gpuUuids: readonly string[];
  /** Catalog GPU model, when the source says it. */
  gpuModel: string | null;
  /**
   * Request records only: the end of the last window in which records repeated this statement.
   * Until then the records speak for the instance; after it, metrics do again (absent: until the
   * next statement).
   */
  toMs?: number;
}

/** A metrics observation is a new statement when the node, the GPUs or the model differ from the last one. */
export function placementChanged(
  last: PlacementStatement | undefined,
  next: Omit<PlacementStatement, 'fromMs'>,
): boolean {
  if (!last) return true;
  if (last.node !== next.node || last.gpuModel !== next.gpuModel) return true;
  if (last.gpuUuids.length !== next.gpuUuids.length) return true;
  return last.gpuUuids.some((u, i) => u !== next.gpuUuids[i]);
}

/** One stretch of the merged timeline; `gpus` and `gpuModel` are null where no source said. */
export interface MergedPlacement {
  fromMs: number;
  node: string | null;
  gpuUuids: string[];
  gpus: number | null;
  gpuModel: string | null;
  source: 'records' | 'metrics';
}

function latestAt(list: readonly PlacementStatement[], t: number): PlacementStatement | undefined {
  let found: PlacementStatement | undefined;
  for (const s of list) if (s.fromMs <= t) found = s;
  return found;
}

/**
 * Merges one instance's statements from request records and metrics into change points, each in
 * force until the next. Where a record statement holds (from its window to `toMs`), it wins and
 * the fields it leaves open come from the metrics in force then, if on the same node; elsewhere the
 * latest metrics statement holds, and where there is none the last record statement carries on.
 * Consecutive identical stretches are joined, so a source that only repeats what is known splits
 * no window.
 */
export function mergePlacementStatements(
  records: readonly PlacementStatement[],
  metrics: readonly PlacementStatement[],
): MergedPlacement[] {
  const byTime = (a: PlacementStatement, b: PlacementStatement) => a.fromMs - b.fromMs;
  const rec = [...records].sort(byTime);
  const met = [...metrics].sort(byTime);
  const points = new Set<number>();
  for (const r of rec) {
    points.add(r.fromMs);
    if (r.toMs !== undefined) points.add(r.toMs);
  }
  for (const m of met) points.add(m.fromMs);
  const first = Math.min(rec[0]?.fromMs ?? Infinity, met[0]?.fromMs ?? Infinity);

  const out: MergedPlacement[] = [];
  for (const t of [...points].filter((p) => p >= first).sort((a, b) => a - b)) {
    let speaking: PlacementStatement | undefined;
    for (const r of rec) if (r.fromMs <= t && (r.toMs === undefined || t < r.toMs)) speaking = r;
    const m = latestAt(met, t);
    const r = speaking ?? (m === undefined ? latestAt(rec, t) : undefined);
    let merged: MergedPlacement;
    if (r !== undefined) {
      // Metrics fill what a record leaves open only when they place the instance on the same node.
      const fill = m !== undefined && (r.node === null || m.node === r.node) ? m : undefined;
      const gpuUuids = r.gpuUuids.length > 0 ? [...r.gpuUuids] : fill ? [...fill.gpuUuids] : [];
      merged = {
        fromMs: t,
        node: r.node ?? fill?.node ?? null,
        gpuUuids,
        // A record without GPU UUIDs says nothing of the count.
        gpus: gpuUuids.length > 0 ? gpuUuids.length : null,
        gpuModel: r.gpuModel ?? fill?.gpuModel ?? null,
        source: 'records',
      };
    } else if (m !== undefined) {
      merged = {
        fromMs: t,
        node: m.node,
        gpuUuids: [...m.gpuUuids],
        gpus: m.gpuUuids.length > 0 ? m.gpuUuids.length : null,
        gpuModel: m.gpuModel,
        source: 'metrics',
      };
    } else {
      continue;
    }
    const prev = out[out.length - 1];
    const same =
      prev !== undefined &&
      prev.node === merged.node &&
      prev.gpus === merged.gpus &&
      prev.gpuModel === merged.gpuModel &&
      prev.gpuUuids.join(',') === merged.gpuUuids.join(',');
    if (!same) out.push(merged);
  }
  return out;
}

/** What a discovered placement takes where no source said: the pool, the GPU model, count and price selector. */
export interface DiscoveryDefaults {
  pool: string;
  gpuModel: string;
  gpus: number;
  price: Omit<PriceSelector, 'gpuModel'>;
}

/** The merged timeline as inventory placements, each until the next (the last one open-ended). */
export function placementsFromMerged(
  instance: string,
  merged: readonly MergedPlacement[],
  d: DiscoveryDefaults,
): Placement[] {
  return merged.map((m, i) => {
    const gpuModel = m.gpuModel ?? d.gpuModel;
    return {
      instance,
      pool: d.pool,
      fromMs: m.fromMs,
      toMs: merged[i + 1]?.fromMs ?? Number.POSITIVE_INFINITY,
      node: m.node,
      gpuUuids: [...m.gpuUuids],
      gpus: m.gpus ?? d.gpus,
      gpuModel,
      price: { ...d.price, gpuModel },
      resourceId: null,
    };
  });
}
