/**
 * The alert state machine of one alerting rule, as a pure decider: given the rule's state and
 * the expression's result at time t, it returns the new state, the transitions that happened and
 * the ALERTS / ALERTS_FOR_STATE samples. It follows Prometheus's AlertingRule.Eval:
 *
 * - a new result element starts `pending` (activeAt = t); it turns `firing` once t − activeAt ≥ for
 *   (at once when for = 0);
 * - an element that disappears: a pending alert is dropped; a firing one resolves, unless
 *   keep_firing_for holds it firing until t − keepFiringSince ≥ keep_firing_for;
 * - a resolved alert stays in the state (inactive) for 15 minutes so that resolved notifications
 *   are re-sent, then it is forgotten;
 * - a resolved alert whose labels come back starts a new episode (new activeAt).
 *
 * The state is plain data (JSON-serialisable) so the service can persist it and restore it.
 */
import { labelsKey } from './labels';

export type AlertStateName = 'inactive' | 'pending' | 'firing';

export interface ActiveAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: AlertStateName;
  value: number;
  activeAtMs: number;
  firedAtMs: number | null;
  resolvedAtMs: number | null;
  keepFiringSinceMs: number | null;
  lastSentAtMs: number | null;
}

/** State of one alerting rule: its alerts by label-set key. */
export interface RuleAlertState {
  alerts: Record<string, ActiveAlert>;
}

export interface AlertRuleParams {
  name: string;
  forMs: number;
  keepFiringForMs: number;
}

/** One element of the rule's result, with its labels and annotations already expanded. */
export interface AlertCandidate {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  value: number;
}

export type AlertTransitionKind = 'pending' | 'firing' | 'resolved' | 'dropped';

export interface AlertTransition {
  kind: AlertTransitionKind;
  alert: ActiveAlert;
  atMs: number;
}

export interface SeriesSample {
  labels: Record<string, string>;
  value: number;
}

export interface AlertDecision {
  state: RuleAlertState;
  transitions: AlertTransition[];
  /** ALERTS and ALERTS_FOR_STATE samples for time t (only pending and firing alerts). */
  series: SeriesSample[];
}

export const RESOLVED_RETENTION_MS = 15 * 60_000;

export class DuplicateAlertLabelsError extends Error {
  readonly code = 'DUPLICATE_ALERT_LABELSET';
  constructor() {
    super('vector contains metrics with the same labelset after applying alert labels');
  }
}

export function emptyRuleState(): RuleAlertState {
  return { alerts: {} };
}

function alertsSample(a: ActiveAlert): SeriesSample {
  return { labels: { ...a.labels, __name__: 'ALERTS', alertstate: a.state }, value: 1 };
}

function forStateSample(a: ActiveAlert): SeriesSample {
  return { labels: { ...a.labels, __name__: 'ALERTS_FOR_STATE' }, value: Math.floor(a.activeAtMs / 1000) };
}

/** One evaluation of the rule at `nowMs` with the expression's (expanded) result. */
export function decideAlerts(
  prev: RuleAlertState,
  rule: AlertRuleParams,
  candidates: readonly AlertCandidate[],
  nowMs: number,
): AlertDecision {
  const alerts: Record<string, ActiveAlert> = {};
  for (const [k, a] of Object.entries(prev.alerts)) alerts[k] = { ...a };
  const transitions: AlertTransition[] = [];
  const present = new Set<string>();

  for (const c of candidates) {
    const labels: Record<string, string> = { ...c.labels, alertname: rule.name };
    delete labels.__name__;
    const key = labelsKey(labels);
    if (present.has(key)) throw new DuplicateAlertLabelsError();
    present.add(key);
    const existing = alerts[key];
    if (existing && existing.state !== 'inactive') {
      existing.value = c.value;
      existing.annotations = c.annotations;
      continue;
    }
    alerts[key] = {
      labels,
      annotations: c.annotations,
      state: 'pending',
      value: c.value,
      activeAtMs: nowMs,
      firedAtMs: null,
      resolvedAtMs: null,
      keepFiringSinceMs: null,
      lastSentAtMs: null,
    };
    transitions.push({ kind: 'pending', alert: alerts[key], atMs: nowMs });
  }

  const series: SeriesSample[] = [];
  for (const key of Object.keys(alerts)) {
    const a = alerts[key];
    if (!present.has(key)) {
      let keepFiring = false;
      if (a.state === 'firing' && rule.keepFiringForMs > 0) {
        if (a.keepFiringSinceMs === null) a.keepFiringSinceMs = nowMs;
        keepFiring = nowMs - a.keepFiringSinceMs < rule.keepFiringForMs;
      }
      if (a.state === 'pending' || (a.resolvedAtMs !== null && nowMs - a.resolvedAtMs > RESOLVED_RETENTION_MS)) {
        delete alerts[key];
        if (a.state === 'pending') transitions.push({ kind: 'dropped', alert: a, atMs: nowMs });
      }
      if (a.state !== 'inactive' && !keepFiring) {
        const wasFiring = a.state === 'firing';
        a.state = 'inactive';
        a.resolvedAtMs = nowMs;
        if (wasFiring) transitions.push({ kind: 'resolved', alert: a, atMs: nowMs });
      }
      if (!keepFiring) continue;
    } else {
      a.keepFiringSinceMs = null;
    }
    if (a.state === 'pending' && nowMs - a.activeAtMs >= rule.forMs) {
      a.state = 'firing';
      a.firedAtMs = nowMs;
      transitions.push({ kind: 'firing', alert: a, atMs: nowMs });
    }
    // A shorter `for` after a reload can only promote; a longer one demotes back to pending.
    if (a.state === 'firing' && nowMs - a.activeAtMs < rule.forMs) {
      a.state = 'pending';
      a.firedAtMs = null;
      a.lastSentAtMs = null;
      a.keepFiringSinceMs = null;
    }
    series.push(alertsSample(a), forStateSample(a));
  }
  return { state: { alerts }, transitions, series };
}

/** Pending and firing alerts (what /api/v1/alerts lists), in label order. */
export function activeAlerts(state: RuleAlertState): ActiveAlert[] {
  return Object.keys(state.alerts)
    .sort()
    .map((k) => state.alerts[k])
    .filter((a) => a.state !== 'inactive');
}
