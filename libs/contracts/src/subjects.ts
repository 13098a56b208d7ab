/**
 * Streams, subjects and event types: the public names of ArcWatch's event contracts.
 * Subject tokens that come from data (cluster, node, tenant…) go through `subjectToken`.
 */
export const STREAMS = {
  metrics: { name: 'AW_METRICS', subjects: ['aw.metrics.v1.>'] },
  requests: { name: 'AW_REQUESTS', subjects: ['aw.requests.v1.>'] },
  billing: { name: 'AW_BILLING', subjects: ['aw.billing.v1.>'] },
  cost: { name: 'AW_COST', subjects: ['aw.cost.v1.>'] },
  alerts: { name: 'AW_ALERTS', subjects: ['aw.alerts.v1.>'] },
  notify: { name: 'AW_NOTIFY', subjects: ['aw.notify.v1.>'] },
  node: { name: 'AW_NODE', subjects: ['aw.node.v1.>'] },
  deadLetter: { name: 'AW_DLQ', subjects: ['aw.dlq.>'] },
} as const;

export type StreamKey = keyof typeof STREAMS;

export const SUBJECTS = {
  metricsSamples: (cluster: string, node: string) =>
    `aw.metrics.v1.samples.${subjectToken(cluster)}.${subjectToken(node)}`,
  metricsSamplesAll: 'aw.metrics.v1.samples.>',
  requestEvents: (tenant: string) => `aw.requests.v1.events.${subjectToken(tenant)}`,
  requestEventsAll: 'aw.requests.v1.events.>',
  requestCompleted: (tenant: string) => `aw.requests.v1.completed.${subjectToken(tenant)}`,
  requestCompletedAll: 'aw.requests.v1.completed.>',
  /** Where a consumer puts what it could not process: aw.dlq.<original subject>. */
  deadLetter: (originalSubject: string) => `aw.dlq.${originalSubject}`,
} as const;

export const EVENT_TYPES = {
  metricsBatch: 'io.arcwatch.metrics.batch.v1',
  /** The packed form of the same batch, on the same subject (metrics-batch.v2.ts). */
  metricsBatchV2: 'io.arcwatch.metrics.batch.v2',
  requestEvent: 'io.arcwatch.requests.event.v1',
  requestCompleted: 'io.arcwatch.requests.completed.v1',
  deadLetter: 'io.arcwatch.dlq.v1',
} as const;

/** NATS subject tokens may not contain '.', '*', '>' or whitespace; empty becomes '_'. */
export function subjectToken(raw: string): string {
  const t = raw.replace(/[.*>\s]/g, '_');
  return t.length === 0 ? '_' : t;
}
