/**
 * Metrics batch messages (io.arcwatch.metrics.batch.v1 and v2) as samples for the window. A
 * message that is not a well-formed batch is poison (dead-lettered with the reason); NaN values
 * and staleness markers are samples like any other.
 */
import { z } from 'zod';
import {
  EVENT_TYPES,
  formatZodError,
  fromWireValue,
  metricsBatchV1Schema,
  metricsBatchV2Schema,
  parseCloudEvent,
  toMetricsBatchV1,
  type Labels,
  type MetricsBatchV1,
} from '@arcwatch/contracts';
import { PoisonMessageError, type InboundMessage } from '@arcwatch/messaging';

export interface WindowSample {
  labels: Labels;
  t: number;
  v: number;
}

const TYPES = [EVENT_TYPES.metricsBatch, EVENT_TYPES.metricsBatchV2] as const;

function decodeOne(msg: InboundMessage): MetricsBatchV1 {
  const env = parseCloudEvent(msg.data, TYPES, z.unknown());
  if (!env.ok) throw new PoisonMessageError(`${msg.subject}#${msg.seq}: ${env.reason}`);
  if (env.event.type === EVENT_TYPES.metricsBatchV2) {
    const v2 = metricsBatchV2Schema.safeParse(env.event.data);
    if (!v2.success)
      throw new PoisonMessageError(
        `${msg.subject}#${msg.seq}: invalid ${env.event.type} data: ${formatZodError(v2.error)}`,
      );
    try {
      return toMetricsBatchV1(v2.data);
    } catch (err) {
      throw new PoisonMessageError(`${msg.subject}#${msg.seq}: ${(err as Error).message}`);
    }
  }
  const v1 = metricsBatchV1Schema.safeParse(env.event.data);
  if (!v1.success)
    throw new PoisonMessageError(
      `${msg.subject}#${msg.seq}: invalid ${env.event.type} data: ${formatZodError(v1.error)}`,
    );
  return v1.data;
}

export function decodeMetricsMessages(msgs: readonly InboundMessage[]): {
  samples: WindowSample[];
  failed: Map<number, PoisonMessageError>;
} {
  const samples: WindowSample[] = [];
  const failed = new Map<number, PoisonMessageError>();
  for (const msg of msgs) {
    try {
      const b = decodeOne(msg);
      for (const s of b.series)
        for (const [t, w] of s.samples) samples.push({ labels: s.labels, t, v: fromWireValue(w) });
    } catch (err) {
      if (!(err instanceof PoisonMessageError)) throw err;
      failed.set(msg.seq, err);
    }
  }
  return { samples, failed };
}
