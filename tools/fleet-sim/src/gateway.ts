/**
 * The simulated inference gateway: draws requests from the tenants' workload profiles, picks a
 * ready instance of the requested model (least outstanding requests), and reports what it sees
 * as lifecycle events. It is also where requests are lost: a dead upstream, a client that never
 * hears back, an event stream that simply stops.
 */
import { type RequestEventSink, type SimRequest, requestEvent } from './request-events';
import { type Random, hex, logNormal, pick, pickWeighted, uniform } from './random';
import { PROJECTS } from './tenants';
import type { ServedModel } from './topology';
import type { VllmEngine } from './vllm-engine';

/** Share of requests the engine fails mid-flight (OOM, engine errors). */
const ENGINE_FAIL_RATE = 0.004;
/** Share of requests whose terminal event never reaches the tracing service. */
const SILENT_END_RATE = 0.003;
/** Share of requests on a dying node that the gateway reports as failed; the rest just vanish. */
const CRASH_REPORTED_RATE = 0.6;

const weights = PROJECTS.map((p) => p.weight);

export function requestId(r: Random): string {
  return `${hex(r, 8)}-${hex(r, 4)}-4${hex(r, 3)}-${pick(r, ['8', '9', 'a', 'b'])}${hex(r, 3)}-${hex(r, 12)}`;
}

/** A new request for `model` arriving at `atMs`, with its size and fate drawn up front. */
export function drawRequest(r: Random, model: ServedModel, atMs: number): SimRequest {
  const project = PROJECTS[pickWeighted(r, weights)];
  const p = project.profile;
  const promptTokens = Math.max(4, Math.round(logNormal(r, p.promptMedian, p.promptSigma)));
  const maxTokens = pick(r, p.maxTokens);
  const natural = Math.max(1, Math.round(logNormal(r, p.outputMedian, p.outputSigma)));
  const cachedTokens = Math.floor((promptTokens * p.prefixHitRatio * uniform(r, 0.5, 1.5)) / 16) * 16;
  const u = r.next();
  const fate = u < ENGINE_FAIL_RATE ? 'fail' : u < ENGINE_FAIL_RATE + p.cancelRate ? 'cancel' : 'complete';
  return {
    id: requestId(r),
    project,
    apiKey: pick(r, project.apiKeys),
    model: model.name,
    promptTokens,
    cachedTokens: Math.min(cachedTokens, promptTokens - 1),
    maxTokens,
    targetOutput: Math.min(maxTokens, natural),
    fate,
    fateAfterMs: fate === 'cancel' ? logNormal(r, 4000, 0.8) : uniform(r, 50, 6000),
    silentEnd: r.next() < SILENT_END_RATE,
    receivedAt: atMs,
    queuedAt: atMs,
    generated: 0,
    lastEventAt: 0,
  };
}

export class Gateway {
  constructor(
    private readonly r: Random,
    private readonly events: RequestEventSink,
  ) {}

  /** Receives one request and hands it to the least busy ready engine, or fails it. */
  admit(req: SimRequest, candidates: readonly VllmEngine[], maxModelLen: number): void {
    this.events.emit(requestEvent(req, 'received', req.receivedAt));
    const hop = uniform(this.r, 1, 4);
    if (req.promptTokens + 1 > maxModelLen) {
      this.terminal(req, 'failed', req.receivedAt + hop, {
        code: 'bad_request',
        message: `This model's maximum context length is ${maxModelLen} tokens; the prompt has ${req.promptTokens}.`,
      });
      return;
    }
    let best: VllmEngine | undefined;
    for (const e of candidates) if (!best || e.load < best.load) best = e;
    if (!best) {
      this.terminal(req, 'failed', req.receivedAt + hop, {
        code: 'no_healthy_upstream',
        message: `no ready instance serves ${req.model}`,
      });
      return;
    }
    best.enqueue(req, req.receivedAt + hop);
  }

  /** The engine under these requests died: some connections reset visibly, others just hang. */
  lost(reqs: readonly SimRequest[], atMs: number): void {
    for (const req of reqs) {
      if (req.silentEnd || this.r.next() >= CRASH_REPORTED_RATE) continue;
      this.terminal(req, 'failed', atMs + uniform(this.r, 5, 50), {
        code: 'upstream_reset',
        message: 'upstream connection reset by peer',
      });
    }
  }

  private terminal(req: SimRequest, kind: 'failed', atMs: number, error: { code: string; message: string }): void {
    if (req.silentEnd) return;
    this.events.emit(requestEvent(req, kind, atMs, { error }));
  }
}
