import {
  cloudEvent,
  deterministicId,
  EVENT_TYPES,
  formatSeriesText,
  nodeGpuErrorId,
  nodeGpuErrorSubject,
  NODE_GPU_ERROR_V1,
  sharedLabels,
  SUBJECTS,
  toMetricsBatchV2,
  withoutShared,
  type MetricMetadata,
  type MetricsBatchSeries,
  type MetricsBatchV1,
  type MetricsBatchV2,
  type NodeGpuErrorV1,
} from '@arcwatch/contracts';
import { seriesKey, StalenessTracker } from '@arcwatch/gpu-telemetry';
import type { Outgoing } from '../delivery/delivery.service';

/** The job of the agent's own GPU series (what a dcgm-exporter scrape job would be). */
export const AGENT_JOB = 'arcwatch-agent';

export interface BatchInput {
  cluster: string;
  hostname: string;
  job: string;
  instance: string;
  scrapedAtMs: number;
  /** Full label sets with `__name__` (job and instance are added here). */
  /** 'stale': Prometheus's staleness marker (kept as a word: a NaN payload may not survive a JS number). */
  samples: ReadonlyArray<{ labels: Record<string, string>; value: number | 'stale' }>;
  metadata?: MetricMetadata[];
}

/**
 * One target's reading as a metrics batch v2 on aw.metrics.v1.samples.<cluster>.<node>: the
 * packed form the collector publishes and its writer stores. The id depends only on the target
 * and the time, so a batch spooled, replayed and replayed again is stored once.
 */
export function buildBatch(b: BatchInput): Outgoing {
  const series: MetricsBatchSeries[] = b.samples.map((s) => ({
    labels: { ...s.labels, job: b.job, instance: b.instance },
    samples: [[b.scrapedAtMs, s.value]],
  }));
  const batchId = deterministicId('agent', b.cluster, b.hostname, b.job, b.instance, b.scrapedAtMs);
  const v1: MetricsBatchV1 = {
    batchId,
    source: 'agent',
    cluster: b.cluster,
    node: b.hostname,
    target: { job: b.job, instance: b.instance },
    scrapedAtMs: b.scrapedAtMs,
    series,
    ...(b.metadata && b.metadata.length > 0 ? { metadata: b.metadata } : {}),
  };
  const subject = SUBJECTS.metricsSamples(b.cluster, b.hostname);
  return {
    kind: 'batch',
    subject,
    event: cloudEvent({
      type: EVENT_TYPES.metricsBatchV2,
      source: `arcwatch/agent/${b.hostname}`,
      id: batchId,
      subject,
      time: new Date(b.scrapedAtMs),
      data: toMetricsBatchV2(v1),
    }),
  };
}

export function buildGpuErrorEvent(
  data: NodeGpuErrorV1,
  line: { logName: string; inode: number; offset: number },
): Outgoing {
  const subject = nodeGpuErrorSubject(data.cluster, data.node);
  return {
    kind: 'event',
    subject,
    event: cloudEvent({
      type: NODE_GPU_ERROR_V1,
      source: `arcwatch/agent/${data.node}`,
      id: nodeGpuErrorId(data.node, line.logName, line.inode, line.offset),
      subject,
      time: data.observedAt,
      data,
    }),
  };
}

// Prometheus's staleness marker as the v2 batch carries it (a NaN with this payload, written as two words).
const STALE_HI = 0x7ff00000;
const STALE_LO = 0x00000002;

/** A label set's identity in the order its labels were written: cheap, and mapped to seriesKey once per series. */
function orderKey(labels: Readonly<Record<string, string>>): string {
  let k = '';
  for (const n in labels) k += `${n}\u0000${labels[n]}\u0001`;
  return k;
}

/**
 * One target's batches, interval after interval. Its series hardly change between intervals, so
 * what does not depend on the values is kept: each series' identity and its series text (what
 * the v2 batch carries, written once per series rather than once per interval), and the last
 * batch's series for staleness markers. The batch is the one buildBatch makes from the same
 * samples plus the markers (batch-builder.spec.ts holds them equal).
 */
export class TargetBatcher {
  private readonly staleness = new StalenessTracker();
  /** orderKey → seriesKey. */
  private readonly keys = new Map<string, string>();
  /** seriesKey → series text without the shared labels `sharedText` stands for. */
  private readonly texts = new Map<string, string>();
  private sharedText: string | undefined;

  constructor(private readonly target: { cluster: string; hostname: string; job: string; instance: string }) {}

  private keyOf(labels: Readonly<Record<string, string>>): string {
    const fast = orderKey(labels);
    let key = this.keys.get(fast);
    if (key === undefined) this.keys.set(fast, (key = seriesKey(labels)));
    return key;
  }

  /**
   * This interval's batch: `samples` (labels with `__name__`) plus a staleness marker for every
   * series of the last batch that is gone (every one when `failed`).
   */
  build(
    scrapedAtMs: number,
    samples: ReadonlyArray<{ labels: Record<string, string>; value: number }>,
    opts: { failed: boolean; metadata?: MetricMetadata[] },
  ): Outgoing {
    const { cluster, hostname, job, instance } = this.target;
    const labels: Array<Record<string, string>> = samples.map((s) => ({ ...s.labels, job, instance }));
    const keys = labels.map((l) => this.keyOf(l));
    const stale = this.staleness.update(
      labels.map((l, i) => ({ labels: l, key: keys[i]! })),
      { everything: opts.failed },
    );
    for (const l of stale) {
      labels.push(l);
      keys.push(this.keyOf(l));
    }
    const n = labels.length;
    const shared = sharedLabels(labels);
    const sharedText = Object.keys(shared).length > 0 ? formatSeriesText(shared) : undefined;
    // The texts were written without the shared labels of their time; others now, or too many kept: start again.
    if (sharedText !== this.sharedText || this.texts.size > 2 * n + 1024) {
      this.texts.clear();
      this.sharedText = sharedText;
    }
    if (this.keys.size > 2 * n + 1024) this.keys.clear();
    const series = new Array<string>(n);
    const values = Buffer.allocUnsafe(n * 8);
    for (let i = 0; i < n; i++) {
      let text = this.texts.get(keys[i]!);
      if (text === undefined) {
        text = formatSeriesText(sharedText === undefined ? labels[i]! : withoutShared(labels[i]!, shared));
        this.texts.set(keys[i]!, text);
      }
      series[i] = text;
      if (i < samples.length) values.writeDoubleLE(samples[i]!.value, i * 8);
      else {
        values.writeUInt32LE(STALE_LO, i * 8);
        values.writeUInt32LE(STALE_HI, i * 8 + 4);
      }
    }
    const batchId = deterministicId('agent', cluster, hostname, job, instance, scrapedAtMs);
    // Field for field what toMetricsBatchV2 writes for one sample per series, all at one time.
    const data: MetricsBatchV2 = {
      batchId,
      source: 'agent',
      cluster,
      node: hostname,
      target: { job, instance },
      scrapedAtMs,
      ...(sharedText === undefined ? {} : { labels: sharedText }),
      series,
      timestampMs: scrapedAtMs,
      values: values.toString('base64'),
      ...(opts.metadata && opts.metadata.length > 0 ? { metadata: opts.metadata } : {}),
    };
    const subject = SUBJECTS.metricsSamples(cluster, hostname);
    return {
      kind: 'batch',
      subject,
      event: cloudEvent({
        type: EVENT_TYPES.metricsBatchV2,
        source: `arcwatch/agent/${hostname}`,
        id: batchId,
        subject,
        time: new Date(scrapedAtMs),
        data,
      }),
    };
  }
}
