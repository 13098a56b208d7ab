import type { EscalationPolicy } from '@arcwatch/alertmanager';

/**
 * Escalation as decide / evolve over plain data. One state per alert fingerprint: the policy's
 * levels page their targets one after another, each after its delay, until the alert is
 * acknowledged or resolved; after the last level the chain runs again `repeat` times. An
 * acknowledgement with an ack_timeout re-arms: when it lapses and the alert still fires, the last
 * paged level is paged again and the chain goes on. `epoch` changes whenever pending timers must
 * be void (ack, resolve, new episode), and every timer names epoch, cycle and level, so a stale
 * or duplicated timer decides nothing.
 */
export type EscalationStatus = 'active' | 'acknowledged' | 'resolved' | 'exhausted';

export interface EscalationState {
  fingerprint: string;
  policy: string;
  /** The firing episode (the alert's startsAt, ISO). */
  episode: string;
  epoch: number;
  cycle: number;
  /** 0-based index of the next level to page. */
  level: number;
  /** 0-based index of the level paged last; -1 before the first page. */
  lastPaged: number;
  status: EscalationStatus;
  nextAt: string | null;
  ackedUntil: string | null;
}

export interface Timer {
  fingerprint: string;
  epoch: number;
  cycle: number;
  /** 1-based level the timer will page (the job id carries it). */
  level: number;
}

export type EscalationAction =
  | { kind: 'page'; level: number; cycle: number; targets: string[] }
  | { kind: 'schedule'; timer: Timer; at: string }
  | { kind: 'acknowledge'; targets: string[] }
  | { kind: 'resolve'; targets: string[] };

export interface Decision {
  state: EscalationState;
  actions: EscalationAction[];
}

export function timerJobId(t: Timer): string {
  return `esc-${t.fingerprint}-e${t.epoch}-c${t.cycle}-l${t.level}`;
}

export function parseTimerJobId(id: string): Timer | undefined {
  const m = /^esc-([0-9a-f]{16})-e(\d+)-c(\d+)-l(\d+)$/.exec(id);
  return m ? { fingerprint: m[1], epoch: Number(m[2]), cycle: Number(m[3]), level: Number(m[4]) } : undefined;
}

const plus = (now: Date, ms: number): string => new Date(now.getTime() + ms).toISOString();

function schedule(s: EscalationState, policy: EscalationPolicy, now: Date, delayMs: number): Decision {
  const at = plus(now, delayMs);
  const state = { ...s, nextAt: at };
  return {
    state,
    actions: [
      {
        kind: 'schedule',
        timer: { fingerprint: s.fingerprint, epoch: s.epoch, cycle: s.cycle, level: s.level + 1 },
        at,
      },
    ],
  };
}

/** Targets paged so far in this episode (for acknowledge / resolve). */
export function pagedTargets(s: Pick<EscalationState, 'lastPaged' | 'cycle'>, policy: EscalationPolicy): string[] {
  const upTo = s.cycle > 0 ? policy.levels.length - 1 : s.lastPaged;
  return [...new Set(policy.levels.slice(0, upTo + 1).flatMap((l) => l.targets))];
}

/** A firing alert matched the policy: start (or restart for a new episode). An episode already running changes nothing. */
export function start(
  prev: EscalationState | undefined,
  fingerprint: string,
  episode: string,
  policy: EscalationPolicy,
  now: Date,
): Decision {
  if (prev && prev.episode === episode && prev.status !== 'resolved') return { state: prev, actions: [] };
  const s: EscalationState = {
    fingerprint,
    policy: policy.name,
    episode,
    epoch: (prev?.epoch ?? 0) + 1,
    cycle: 0,
    level: 0,
    lastPaged: -1,
    status: 'active',
    nextAt: null,
    ackedUntil: null,
  };
  return schedule(s, policy, now, policy.levels[0].delayMs);
}

/** A timer fired; `firing` is the alert's state re-read just now. */
export function due(s: EscalationState, t: Timer, policy: EscalationPolicy, firing: boolean, now: Date): Decision {
  if (t.epoch !== s.epoch || t.cycle !== s.cycle || t.level !== s.level + 1) return { state: s, actions: [] };
  if (!firing)
    return {
      state: { ...s, status: 'resolved', nextAt: null, epoch: s.epoch + 1 },
      actions: [{ kind: 'resolve', targets: pagedTargets(s, policy) }],
    };
  if (s.status === 'acknowledged') {
    if (s.ackedUntil === null || Date.parse(s.ackedUntil) > now.getTime()) return { state: s, actions: [] };
    // The acknowledgement lapsed with the alert still firing: page the last paged level again.
    s = { ...s, status: 'active', ackedUntil: null, level: Math.max(0, s.lastPaged) };
  }
  if (s.status !== 'active') return { state: s, actions: [] };
  const level = policy.levels[s.level];
  const page: EscalationAction = { kind: 'page', level: s.level + 1, cycle: s.cycle, targets: level.targets };
  const paged: EscalationState = { ...s, lastPaged: s.level };
  if (s.level + 1 < policy.levels.length) {
    const next = schedule({ ...paged, level: s.level + 1 }, policy, now, policy.levels[s.level + 1].delayMs);
    return { state: next.state, actions: [page, ...next.actions] };
  }
  if (s.cycle < policy.repeat) {
    const wait = policy.levels[0].delayMs || level.delayMs || 60_000;
    const next = schedule({ ...paged, cycle: s.cycle + 1, level: 0 }, policy, now, wait);
    return { state: next.state, actions: [page, ...next.actions] };
  }
  return { state: { ...paged, status: 'exhausted', nextAt: null }, actions: [page] };
}

/** Someone acknowledged: pending timers are void; with ack_timeout a re-arm timer is set. */
export function acknowledge(s: EscalationState, policy: EscalationPolicy, now: Date): Decision {
  if (s.status === 'resolved') return { state: s, actions: [] };
  const ackTargets: EscalationAction = { kind: 'acknowledge', targets: pagedTargets(s, policy) };
  const acked: EscalationState = { ...s, status: 'acknowledged', epoch: s.epoch + 1, nextAt: null, ackedUntil: null };
  if (policy.ackTimeoutMs === undefined) return { state: acked, actions: [ackTargets] };
  const until = plus(now, policy.ackTimeoutMs);
  // The re-arm timer pages the last paged level again (level index = lastPaged, so timer level = lastPaged + 1).
  const rearm: EscalationState = { ...acked, ackedUntil: until, level: Math.max(0, s.lastPaged), nextAt: until };
  return {
    state: rearm,
    actions: [
      ackTargets,
      {
        kind: 'schedule',
        timer: { fingerprint: s.fingerprint, epoch: rearm.epoch, cycle: rearm.cycle, level: rearm.level + 1 },
        at: until,
      },
    ],
  };
}

/** The alert resolved: timers are void, and whoever was paged hears it is over. */
export function resolve(s: EscalationState, policy: EscalationPolicy): Decision {
  if (s.status === 'resolved') return { state: s, actions: [] };
  return {
    state: { ...s, status: 'resolved', epoch: s.epoch + 1, nextAt: null, ackedUntil: null },
    actions: [{ kind: 'resolve', targets: pagedTargets(s, policy) }],
  };
}

/** The timer a state waits for, if any (what the reconciler re-creates when Redis lost it). */
export function pendingTimer(s: EscalationState): { timer: Timer; at: string } | undefined {
  if (s.nextAt === null || (s.status !== 'active' && s.status !== 'acknowledged')) return undefined;
  return { timer: { fingerprint: s.fingerprint, epoch: s.epoch, cycle: s.cycle, level: s.level + 1 }, at: s.nextAt };
}
