/**
 * One vLLM engine's scheduler, simulated: a FIFO waiting queue, continuous batching up to
 * max_num_seqs and the KV-cache capacity, chunk-free prefill then decode at one token per engine
 * step, where a step gets slower as the batch grows. Its counters and histograms are fed by the
 * same requests whose lifecycle events the gateway sends, so metrics and traces agree.
 */
import { Histogram } from './histogram';
import { type RequestEventSink, type SimRequest, requestEvent } from './request-events';
import type { NodeSpec, ServedModel } from './topology';
import {
  FINISHED_REASONS,
  type FinishedReason,
  PROMPT_TOKEN_SOURCES,
  type PromptTokenSource,
  VLLM_COUNTERS,
  VLLM_HISTOGRAMS,
  type VllmCounterKey,
  type VllmHistogramKey,
  tokenBuckets,
} from './vllm-catalog';

/** What the GPUs under the engine did during the last step; drives the DCGM readings. */
export interface EngineActivity {
  running: number;
  /** Share of the interval the engine had work. */
  busyFraction: number;
  decodeTokensPerSec: number;
  prefillTokensPerSec: number;
}

const KV_BLOCK = 16;

export class VllmEngine {
  readonly waiting: SimRequest[] = [];
  readonly running: SimRequest[] = [];
  readonly counters: Record<VllmCounterKey, number>;
  readonly promptTokensBySource: Record<PromptTokenSource, number>;
  readonly finished: Record<FinishedReason, number>;
  readonly histograms: Record<VllmHistogramKey, Histogram>;
  activity: EngineActivity = { running: 0, busyFraction: 0, decodeTokensPerSec: 0, prefillTokensPerSec: 0 };
  private readonly model: ServedModel;

  constructor(
    readonly node: NodeSpec,
    /** Process start: the `_created` gauges, and why counters restart from zero after a crash. */
    readonly createdAtMs: number,
    private readonly events: RequestEventSink,
  ) {
    this.model = node.model;
    this.counters = Object.fromEntries(VLLM_COUNTERS.map((c) => [c.key, 0])) as Record<VllmCounterKey, number>;
    this.promptTokensBySource = Object.fromEntries(PROMPT_TOKEN_SOURCES.map((s) => [s, 0])) as Record<
      PromptTokenSource,
      number
    >;
    this.finished = Object.fromEntries(FINISHED_REASONS.map((r) => [r, 0])) as Record<FinishedReason, number>;
    this.histograms = Object.fromEntries(
      VLLM_HISTOGRAMS.map((h) => [
        h.key,
        new Histogram(h.buckets === 'tokens' ? tokenBuckets(this.model.maxModelLen) : h.buckets),
      ]),
    ) as Record<VllmHistogramKey, Histogram>;
  }

  get load(): number {
    return this.running.length + this.waiting.length;
  }

  /** KV-cache tokens held, in whole blocks as the block manager allocates them. */
  kvUsedTokens(): number {
    let used = 0;
    for (const r of this.running)
      used += Math.ceil((r.promptTokens + Math.floor(r.generated) + 1) / KV_BLOCK) * KV_BLOCK;
    return used;
  }

  kvUsage(): number {
    return Math.min(1, this.kvUsedTokens() / this.model.kvCapacityTokens);
  }

  stepMs(): number {
    return this.model.decodeBaseMs + this.model.decodePerSeqMs * this.running.length;
  }

  enqueue(req: SimRequest, atMs: number): void {
    req.queuedAt = atMs;
    req.instance = this.node.vllmInstance;
    req.node = this.node.hostname;
    req.modelVersion = this.model.version;
    this.waiting.push(req);
    this.events.emit(requestEvent(req, 'queued', atMs));
  }

  /** Runs the engine from t0 to t1: admit at t0, then prefill and decode through the interval. */
  step(t0: number, t1: number): void {
    const dt = t1 - t0;
    this.expireWaiting(t1);
    this.admit(t0);
    const stepMs = this.stepMs();
    let decodeTokens = 0;
    let prefillTokens = 0;
    for (const req of [...this.running]) {
      if (req.fate === 'fail' && req.scheduledAt !== undefined && req.scheduledAt + req.fateAfterMs <= t1) {
        this.finish(req, 'error', req.scheduledAt + req.fateAfterMs);
        continue;
      }
      const prefillDone = req.prefillDoneAt ?? Infinity;
      if (prefillDone > t1) {
        prefillTokens += ((req.promptTokens - req.cachedTokens) * dt) / Math.max(dt, prefillDone - t0);
        continue;
      }
      if (req.firstTokenAt === undefined) this.firstToken(req, prefillDone);
      const from = Math.max(t0, prefillDone);
      const before = req.generated;
      let doneAt: number | undefined;
      req.generated = Math.min(req.targetOutput, before + (t1 - from) / stepMs);
      if (req.generated >= req.targetOutput) doneAt = from + (req.targetOutput - before) * stepMs;
      const newTokens = Math.floor(req.generated) - Math.floor(before);
      if (newTokens > 0) {
        decodeTokens += newTokens;
        this.counters.generationTokens += newTokens;
        this.histograms.interTokenLatency.observe(stepMs / 1000, newTokens);
      }
      if (req.fate === 'cancel' && req.receivedAt + req.fateAfterMs <= (doneAt ?? t1)) {
        this.finish(req, 'abort', Math.max(from, req.receivedAt + req.fateAfterMs));
      } else if (doneAt !== undefined) {
        this.finish(req, req.targetOutput >= req.maxTokens ? 'length' : 'stop', doneAt);
      }
    }
    this.preemptIfFull();
    const steps = dt / stepMs;
    if (this.running.length > 0 && steps > 0) {
      const perStep = Math.max(1, Math.round((decodeTokens + prefillTokens) / steps));
      this.histograms.iterationTokens.observe(perStep, Math.max(1, Math.round(steps)));
    }
    this.activity = {
      running: this.running.length,
      busyFraction: this.running.length > 0 || decodeTokens > 0 ? 1 : 0,
      decodeTokensPerSec: (decodeTokens * 1000) / dt,
      prefillTokensPerSec: (prefillTokens * 1000) / dt,
    };
  }

  /** The process dies: every request it held is returned to the gateway, which loses them. */
  crash(): SimRequest[] {
    const lost = [...this.running, ...this.waiting];
    this.running.length = 0;
    this.waiting.length = 0;
    return lost;
  }

  private admit(t0: number): void {
    const cap = this.model.kvCapacityTokens;
    let kv = this.kvUsedTokens();
    while (this.waiting.length > 0 && this.running.length < this.model.maxNumSeqs) {
      const req = this.waiting[0];
      if (req.queuedAt > t0) break;
      const need = Math.ceil((req.promptTokens + Math.floor(req.generated) + 1) / KV_BLOCK) * KV_BLOCK;
      if (kv + need > cap) break;
      this.waiting.shift();
      this.running.push(req);
      kv += need;
      const at = Math.max(t0, req.queuedAt);
      // A preempted request recomputes its prompt and what it had generated (recompute mode).
      const toCompute =
        req.scheduledAt === undefined
          ? req.promptTokens - req.cachedTokens
          : req.promptTokens + Math.floor(req.generated);
      req.prefillDoneAt = at + (toCompute / this.model.prefillTokensPerSec) * 1000 + this.stepMs();
      if (req.scheduledAt === undefined) this.schedule(req, at);
    }
  }

  private schedule(req: SimRequest, at: number): void {
    req.scheduledAt = at;
    req.gpuUuids = this.node.gpus.map((g) => g.uuid);
    const computed = req.promptTokens - req.cachedTokens;
    this.counters.prefixCacheQueries += req.promptTokens;
    this.counters.prefixCacheHits += req.cachedTokens;
    this.counters.promptTokens += req.promptTokens;
    this.counters.promptTokensCached += req.cachedTokens;
    this.promptTokensBySource.local_compute += computed;
    this.promptTokensBySource.local_cache_hit += req.cachedTokens;
    const h = this.histograms;
    h.queueTime.observe((at - req.queuedAt) / 1000);
    h.paramsN.observe(1);
    h.paramsMaxTokens.observe(req.maxTokens);
    h.maxNumGenerationTokens.observe(req.maxTokens);
    h.prefillKvComputedTokens.observe(computed);
    h.promptTokens.observe(req.promptTokens);
    this.events.emit(requestEvent(req, 'scheduled', at));
  }

  private firstToken(req: SimRequest, at: number): void {
    req.firstTokenAt = at;
    req.generated = Math.max(req.generated, 1);
    this.counters.generationTokens += 1;
    this.histograms.ttft.observe((at - req.queuedAt) / 1000);
    this.histograms.prefillTime.observe((at - (req.scheduledAt ?? at)) / 1000);
    this.events.emit(requestEvent(req, 'first_token', at));
  }

  private finish(req: SimRequest, reason: FinishedReason, at: number): void {
    const i = this.running.indexOf(req);
    if (i >= 0) this.running.splice(i, 1);
    this.finished[reason] += 1;
    const h = this.histograms;
    const generated = Math.floor(req.generated);
    h.e2e.observe((at - req.queuedAt) / 1000);
    h.generationTokens.observe(generated);
    if (req.scheduledAt !== undefined) h.inferenceTime.observe((at - req.scheduledAt) / 1000);
    if (req.firstTokenAt !== undefined) {
      h.decodeTime.observe((at - req.firstTokenAt) / 1000);
      if (generated > 1) h.requestTpot.observe((at - req.firstTokenAt) / 1000 / (generated - 1));
    }
    if (req.silentEnd) return;
    if (reason === 'error') {
      this.events.emit(
        requestEvent(req, 'failed', at, {
          finishReason: 'error',
          error: { code: 'engine_error', message: 'EngineCore encountered an issue' },
        }),
      );
    } else if (reason === 'abort') {
      this.events.emit(requestEvent(req, 'cancelled', at, { finishReason: 'abort' }));
    } else {
      this.events.emit(requestEvent(req, 'completed', at, { finishReason: reason }));
    }
  }

  /** Clients that give up while still queued leave without ever being scheduled. */
  private expireWaiting(t1: number): void {
    for (let i = this.waiting.length - 1; i >= 0; i--) {
      const req = this.waiting[i];
      if (req.fate !== 'cancel' || req.scheduledAt !== undefined || req.receivedAt + req.fateAfterMs > t1) continue;
      this.waiting.splice(i, 1);
      this.finished.abort += 1;
      this.histograms.e2e.observe((req.receivedAt + req.fateAfterMs - req.queuedAt) / 1000);
      if (!req.silentEnd)
        this.events.emit(requestEvent(req, 'cancelled', req.receivedAt + req.fateAfterMs, { finishReason: 'abort' }));
    }
  }

  /** Generated tokens grow the KV cache; when it overflows the newest request goes back to wait. */
  private preemptIfFull(): void {
    while (this.running.length > 1 && this.kvUsedTokens() > this.model.kvCapacityTokens) {
      const victim = this.running.pop() as SimRequest;
      victim.prefillDoneAt = undefined;
      this.waiting.unshift(victim);
      this.counters.numPreemptions += 1;
    }
  }
}
