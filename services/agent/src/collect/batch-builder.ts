import {
  cloudEvent,
  deterministicId,
  METRICS_BATCH_V2,
  nodeGpuErrorId,
  nodeGpuErrorSubject,
  NODE_GPU_ERROR_V1,
  SUBJECTS,
  toMetricsBatchV2,
  type MetricMetadata,
  type MetricsBatchSeries,
  type MetricsBatchV1,
  type NodeGpuErrorV1,
} from '@arcwatch/contracts';
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
      type: METRICS_BATCH_V2,
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
