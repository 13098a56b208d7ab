import { z } from 'zod';
import { deterministicId } from '../cloudevents/envelope';
import { subjectToken } from '../subjects';

/**
 * An alert as Alertmanager shapes it (labels, annotations, startsAt, endsAt, generatorURL,
 * fingerprint), published by the anomaly service on every state change that a receiver cares
 * about: aw.alerts.v1.<firing|resolved>.<severity>.<team>, CloudEvents type
 * io.arcwatch.alert.v1. The notifier, or any integration, consumes them.
 */
export const ALERT_V1 = 'io.arcwatch.alert.v1';
/** An acknowledgement by a person (notifier API or console), on aw.alerts.v1.acknowledged.<severity>.<team>. */
export const ALERT_ACKNOWLEDGED_V1 = 'io.arcwatch.alert.acknowledged.v1';

export const ALERT_STATUSES = ['firing', 'resolved'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

/** P0 (page now) … P3 (ticket); the `severity` label, when it holds one of these. */
export const SEVERITIES = ['P0', 'P1', 'P2', 'P3'] as const;
export type Severity = (typeof SEVERITIES)[number];

const isoTime = z.iso.datetime({ offset: true });
const labelSet = z.record(z.string(), z.string());

export const alertV1Schema = z.object({
  /** 16 hex characters: Alertmanager's fingerprint of the label set (alertFingerprint). */
  fingerprint: z.string().regex(/^[0-9a-f]{16}$/),
  status: z.enum(ALERT_STATUSES),
  labels: labelSet,
  annotations: labelSet,
  startsAt: isoTime,
  /** Set when resolved; null while firing. */
  endsAt: isoTime.nullable(),
  generatorURL: z.string(),
  /** The value of the expression (or detector score) at the transition; null when none. */
  value: z.number().nullable(),
  /** Where it came from: an alerting rule (group / rule) or a detector. */
  origin: z.object({
    kind: z.enum(['rule', 'detector']),
    group: z.string(),
    name: z.string(),
  }),
  /** True when fire / resolve cycles were folded into one alert by flap detection. */
  flapping: z.boolean().default(false),
});
export type AlertV1 = z.infer<typeof alertV1Schema>;

export const alertAcknowledgedV1Schema = z.object({
  fingerprint: z.string().regex(/^[0-9a-f]{16}$/),
  labels: labelSet,
  /** The firing episode acknowledged (its startsAt). */
  startsAt: isoTime,
  acknowledgedAt: isoTime,
  by: z.string().min(1),
  comment: z.string().default(''),
});
export type AlertAcknowledgedV1 = z.infer<typeof alertAcknowledgedV1Schema>;

export function alertSubject(status: AlertStatus | 'acknowledged', labels: Record<string, string>): string {
  return `aw.alerts.v1.${status}.${subjectToken(labels.severity ?? 'none')}.${subjectToken(labels.team ?? 'none')}`;
}

/** One id per transition: the same episode firing (or resolving) twice is one event. */
export function alertEventId(a: Pick<AlertV1, 'fingerprint' | 'status' | 'startsAt'>): string {
  return deterministicId(ALERT_V1, a.fingerprint, a.status, Date.parse(a.startsAt));
}

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK = 0xffffffffffffffffn;
const SEP = 0xff;

/**
 * Alertmanager's (Prometheus model) label-set fingerprint: FNV-1a 64 over the label names sorted,
 * each name and value followed by the byte 0xff; 16 lowercase hex digits.
 */
export function alertFingerprint(labels: Record<string, string>): string {
  let h = FNV_OFFSET;
  const feed = (bytes: Uint8Array): void => {
    for (const b of bytes) h = ((h ^ BigInt(b)) * FNV_PRIME) & MASK;
  };
  const enc = new TextEncoder();
  for (const name of Object.keys(labels).sort()) {
    feed(enc.encode(name));
    feed(Uint8Array.of(SEP));
    feed(enc.encode(labels[name]));
    feed(Uint8Array.of(SEP));
  }
  return h.toString(16).padStart(16, '0');
}
