import { UNKNOWN_LABEL, type RequestCompletedV1, type RequestEventKind, type RequestStatus } from '@arcwatch/contracts';
import { sortedEvents, type AssemblyEvent, type RequestState } from './request-state';
import { resolveTenant, type KeyDirectory } from './tenant-directory';

export interface AssemblyPolicy {
  /** How long after the terminal event to wait for phases still missing (late or reordered). */
  completionGraceMs: number;
  /** A request with no terminal event is abandoned this long after its first event arrived. */
  abandonAfterMs: number;
}

export const DEFAULT_POLICY: AssemblyPolicy = { completionGraceMs: 5_000, abandonAfterMs: 600_000 };

export type Decision = { type: 'wait'; untilMs: number } | { type: 'assemble'; record: RequestCompletedV1 };

/** The phases reported as missing; a failed or cancelled request may legitimately skip the rest. */
const PHASES_OF_FAILURE: readonly RequestEventKind[] = ['received'];
const PHASES_REPORTED: readonly RequestEventKind[] = ['received', 'queued', 'scheduled', 'first_token'];

/**
 * Whether the request is done, by the clock `nowMs`:
 * - a terminal event and all four earlier phases → assemble now;
 * - a terminal event with phases missing → wait out the grace period, then assemble without them
 *   (a phase may be late or may never come: a request cancelled while queued is never scheduled,
 *   a gateway may not report `queued`; the grace period is what lets reordered phases still count);
 * - no terminal event → abandoned once `abandonAfterMs` passed since the first event arrived (from
 *   the first, so that a request which keeps trickling events cannot stay open forever).
 *
 * `nowMs` is the assembly clock: in the service, how far the consumer has read the stream (see
 * AssemblyService.progressMs), so that a stalled or lagging consumer does not run out grace
 * periods for phases that are waiting in the stream.
 */
export function decide(state: RequestState, nowMs: number, policy: AssemblyPolicy, directory: KeyDirectory): Decision {
  const deadline = assemblyDeadline(state, policy);
  if (deadline !== undefined && nowMs < deadline) return { type: 'wait', untilMs: deadline };
  return { type: 'assemble', record: assemble(state, directory) };
}

/**
 * The clock time from which `decide` assembles the request: the end of its grace period, or its
 * abandonment; undefined when it is complete and assembled at any time. A request assembled
 * because its deadline passed is assembled without what has not arrived by then, so the service
 * checks that nothing stored before the deadline is still on its way (AssemblyService).
 */
export function assemblyDeadline(state: RequestState, policy: AssemblyPolicy): number | undefined {
  const events = Object.values(state.events); // which kinds are present: no order needed
  const terminal = events.some((e) => e.kind === 'completed' || e.kind === 'failed' || e.kind === 'cancelled');
  if (terminal) {
    const missing = PHASES_REPORTED.some((k) => !events.some((e) => e.kind === k));
    return missing ? (state.terminalSeenAtMs ?? state.lastSeenAtMs) + policy.completionGraceMs : undefined;
  }
  return state.firstSeenAtMs + policy.abandonAfterMs;
}

/**
 * The record of a request from whatever it has now. Pure and order-independent: every choice
 * goes through the total order of `sortedEvents`.
 */
export function assemble(state: RequestState, directory: KeyDirectory): RequestCompletedV1 {
  const events = sortedEvents(state);
  if (events.length === 0) throw new Error(`request ${state.requestId} has no events`);
  const terminal = events.find((e) => e.kind === 'completed' || e.kind === 'failed' || e.kind === 'cancelled');
  const status: RequestStatus = terminal ? (terminal.kind as RequestStatus) : 'abandoned';

  // Repeated non-terminal phases (a retried `received`): the earliest is the phase.
  const first = (k: RequestEventKind) => events.find((e) => e.kind === k)?.timeMs;
  const received = first('received');
  const queued = first('queued');
  const scheduled = first('scheduled');
  const firstToken = first('first_token');
  const end = terminal?.timeMs;

  const apiKeyHash = lastDefined(events, (e) => e.apiKeyHash);
  const labels = resolveTenant(
    {
      tenant: lastDefined(events, (e) => e.tenant),
      team: lastDefined(events, (e) => e.team),
      project: lastDefined(events, (e) => e.project),
    },
    apiKeyHash,
    directory,
  );
  const completionTokens = lastDefined(events, (e) => e.completionTokens) ?? null;

  const present = new Set(events.map((e) => e.kind));
  const reported = status === 'completed' || status === 'abandoned' ? PHASES_REPORTED : PHASES_OF_FAILURE;

  return {
    requestId: state.requestId,
    status,
    startedAt: iso(received ?? events[0].timeMs),
    endedAt: iso(end ?? events[events.length - 1].timeMs),
    ...labels,
    apiKeyHash: apiKeyHash ?? null,
    model: lastDefined(events, (e) => e.model) ?? UNKNOWN_LABEL,
    modelVersion: lastDefined(events, (e) => e.modelVersion) ?? UNKNOWN_LABEL,
    instance: lastDefined(events, (e) => e.instance) ?? null,
    node: lastDefined(events, (e) => e.node) ?? null,
    gpuUuids: [...(lastDefined(events, (e) => e.gpuUuids) ?? [])].sort(),
    promptTokens: lastDefined(events, (e) => e.promptTokens) ?? null,
    completionTokens,
    cachedTokens: lastDefined(events, (e) => e.cachedTokens) ?? null,
    finishReason: lastDefined(events, (e) => e.finishReason) ?? null,
    error: lastDefined(events, (e) => e.error) ?? null,
    queueMs: span(queued ?? received, scheduled),
    prefillMs: span(scheduled, firstToken),
    ttftMs: span(received, firstToken),
    tpotMs:
      status === 'completed' && completionTokens !== null && completionTokens > 1
        ? per(span(firstToken, end), completionTokens - 1)
        : null,
    e2eMs: span(received, end),
    missingPhases: reported.filter((k) => !present.has(k)),
    timeline: events.map((e) => ({ kind: e.kind, time: iso(e.timeMs) })),
  };
}

/** The value from the latest event that states it: later events know more (token counts grow). */
function lastDefined<T>(events: AssemblyEvent[], pick: (e: AssemblyEvent) => T | undefined): T | undefined {
  for (let i = events.length - 1; i >= 0; i--) {
    const v = pick(events[i]);
    if (v !== undefined) return v;
  }
  return undefined;
}

/** A duration, or null when a bound is missing or the clocks disagree (negative). */
function span(fromMs: number | undefined, toMs: number | undefined): number | null {
  if (fromMs === undefined || toMs === undefined || toMs < fromMs) return null;
  return toMs - fromMs;
}

function per(total: number | null, n: number): number | null {
  return total === null ? null : Math.round((total / n) * 1000) / 1000;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
