import type { AlertTransition } from '@arcwatch/alerting';
import {
  ALERT_V1,
  alertEventId,
  alertFingerprint,
  alertSubject,
  cloudEvent,
  deterministicId,
  type AlertV1,
} from '@arcwatch/contracts';
import type { OutboxEntry } from '@arcwatch/outbox';

export const ANOMALY_SOURCE = 'arcwatch/anomaly';

export function generatorUrl(externalUrl: string, expr: string): string {
  return `${externalUrl.replace(/\/$/, '')}/graph?g0.expr=${encodeURIComponent(expr)}&g0.tab=1`;
}

/**
 * The Alertmanager-shaped event of a firing or resolved transition. startsAt is when the alert
 * fired (as Prometheus sends it), endsAt when it resolved; the id is deterministic per episode and
 * status, so deciding the same transition twice (a crash before commit, a replay) queues it once.
 * `kind: 'flapping'` is the update of a firing alert that flap detection has just marked: status
 * firing again, flapping true, with an id of its own (the episode's firing event already exists).
 */
export function alertOutboxEntry(
  t: AlertTransition | { kind: 'flapping'; alert: AlertTransition['alert']; atMs: number },
  origin: AlertV1['origin'],
  generatorURL: string,
  flapping = false,
): OutboxEntry {
  const a = t.alert;
  const data: AlertV1 = {
    fingerprint: alertFingerprint(a.labels),
    status: t.kind === 'resolved' ? 'resolved' : 'firing',
    labels: a.labels,
    annotations: a.annotations,
    startsAt: new Date(a.firedAtMs ?? a.activeAtMs).toISOString(),
    endsAt: t.kind === 'resolved' && a.resolvedAtMs !== null ? new Date(a.resolvedAtMs).toISOString() : null,
    generatorURL,
    value: Number.isFinite(a.value) ? a.value : null,
    origin,
    flapping,
  };
  return {
    subject: alertSubject(data.status, data.labels),
    event: cloudEvent({
      id:
        t.kind === 'flapping'
          ? deterministicId(ALERT_V1, data.fingerprint, 'flapping', Date.parse(data.startsAt))
          : alertEventId(data),
      source: ANOMALY_SOURCE,
      type: ALERT_V1,
      time: new Date(t.atMs),
      subject: data.fingerprint,
      data,
    }),
  };
}
