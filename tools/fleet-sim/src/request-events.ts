/**
 * The request lifecycle events the simulated gateway emits, in the tracing service's ingest
 * shape (`RequestEventInput` from @arcwatch/contracts): the raw API key travels only to the
 * ingest boundary, which hashes it. Each event carries what the gateway knew at that moment.
 */
import type { RequestEventInput, RequestEventKind } from '@arcwatch/contracts';
import type { ProjectSpec } from './tenants';

export type SimRequestEvent = RequestEventInput;

export type RequestFate = 'complete' | 'fail' | 'cancel';

/** One request as the simulator tracks it, from the gateway to the engine and back. */
export interface SimRequest {
  id: string;
  project: ProjectSpec;
  apiKey: string;
  model: string;
  promptTokens: number;
  cachedTokens: number;
  maxTokens: number;
  /** Tokens the model would generate before stopping on its own or at max_tokens. */
  targetOutput: number;
  fate: RequestFate;
  /** For 'fail': ms after scheduling; for 'cancel': ms after receipt. */
  fateAfterMs: number;
  /** The gateway loses track of it: no terminal event is ever sent. */
  silentEnd: boolean;
  receivedAt: number;
  queuedAt: number;
  scheduledAt?: number;
  /** When the current (re)prefill ends; undefined while waiting. */
  prefillDoneAt?: number;
  firstTokenAt?: number;
  /** Generated tokens, fractional while a token is in flight. */
  generated: number;
  instance?: string;
  node?: string;
  modelVersion?: string;
  gpuUuids?: readonly string[];
  /** Last event time sent, so a request's events never go back in time. */
  lastEventAt: number;
}

export interface RequestEventSink {
  emit(event: SimRequestEvent): void;
}

export interface EventExtra {
  finishReason?: string;
  error?: { code: string; message?: string };
}

/**
 * Builds the event for `kind` at `atMs` (rounded up to whole ms and never before the request's
 * previous event, so the per-request order received ≤ queued ≤ … ≤ terminal always holds).
 */
export function requestEvent(
  req: SimRequest,
  kind: RequestEventKind,
  atMs: number,
  extra: EventExtra = {},
): SimRequestEvent {
  const t = Math.max(Math.ceil(atMs), req.lastEventAt);
  req.lastEventAt = t;
  const e: SimRequestEvent = {
    requestId: req.id,
    kind,
    time: new Date(t).toISOString(),
    tenant: req.project.tenant,
    team: req.project.team,
    project: req.project.project,
    apiKey: req.apiKey,
    model: req.model,
  };
  if (kind !== 'received' && req.instance) {
    e.instance = req.instance;
    e.node = req.node;
    e.modelVersion = req.modelVersion;
  }
  if (req.scheduledAt !== undefined && req.gpuUuids) e.gpuUuids = [...req.gpuUuids];
  if (
    kind === 'received' ||
    kind === 'first_token' ||
    kind === 'completed' ||
    kind === 'cancelled' ||
    kind === 'failed'
  ) {
    e.promptTokens = req.promptTokens;
  }
  if (kind === 'first_token' || kind === 'completed' || kind === 'cancelled' || kind === 'failed') {
    if (req.scheduledAt !== undefined) e.cachedTokens = req.cachedTokens;
  }
  if (kind === 'completed' || kind === 'cancelled' || kind === 'failed') e.completionTokens = Math.floor(req.generated);
  if (extra.finishReason) e.finishReason = extra.finishReason;
  if (extra.error) e.error = extra.error;
  return e;
}

/** Collects events between two drains of the model. */
export class EventOutbox implements RequestEventSink {
  private events: SimRequestEvent[] = [];

  emit(event: SimRequestEvent): void {
    this.events.push(event);
  }

  drain(): SimRequestEvent[] {
    const out = this.events;
    this.events = [];
    return out;
  }

  get size(): number {
    return this.events.length;
  }
}
