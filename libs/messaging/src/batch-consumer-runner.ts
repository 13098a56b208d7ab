import type { ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import {
  PullRunner,
  resolveDurableSettings,
  toInbound,
  type ConsumerOptions,
  type DurableSettings,
  type InboundMessage,
  type RunnerDeps,
} from './consumer-runner';
import { settleBatch, type BatchResult } from './retry-policy';

/**
 * What a batch handler returns once the effect of the batch is committed. Messages named in
 * `failed` (by stream sequence) were left out of that effect and are settled by their error:
 * PoisonMessageError → dead-lettered with its reason, RetryableError or another error → nak'ed
 * with backoff (dead-lettered past maxDeliver). Every other message of the batch is acked.
 */
export interface BatchOutcome {
  failed?: ReadonlyMap<number, unknown>;
}

export interface BatchConsumerOptions extends Omit<ConsumerOptions, 'handler' | 'batch'> {
  /** Most messages handed to the handler at once. Default 100; at most maxAckPending. */
  maxBatch?: number;
  /** How long a batch waits to fill after its first message arrived. Default 50 ms; below ackWaitMs. */
  maxWaitMs?: number;
  /**
   * Commit the effect of all `msgs` (in stream order) in one transaction, then resolve. Throwing
   * means nothing was committed: every message comes back (nak with backoff).
   */
  handler: (msgs: readonly InboundMessage[]) => Promise<BatchOutcome | void>;
}

export type ResolvedBatchOptions = DurableSettings &
  Required<Pick<BatchConsumerOptions, 'maxBatch' | 'maxWaitMs' | 'handler'>>;

export function resolveBatchOptions(opts: BatchConsumerOptions): ResolvedBatchOptions {
  return { maxBatch: 100, maxWaitMs: 50, ...opts, ...resolveDurableSettings(opts) };
}

const TIMED_OUT = Symbol('timed out');

/** Resolves with the promise's value, or TIMED_OUT after `ms`; the promise itself stays usable. */
async function within<T>(p: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<typeof TIMED_OUT>((resolve) => (timer = setTimeout(() => resolve(TIMED_OUT), Math.max(0, ms)))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * One consume loop that hands messages to the handler in groups: a batch closes at maxBatch
 * messages or maxWaitMs after its first one, and the next batch starts only once the previous
 * one is settled, so stream order holds within the durable (as for single messages, a nak'ed
 * message comes back later, behind the others).
 */
export class BatchConsumerRunner extends PullRunner {
  constructor(
    deps: RunnerDeps,
    private readonly opts: ResolvedBatchOptions,
  ) {
    // Twice the batch, so the next batch is on its way while the handler commits this one.
    super(deps, opts, opts.maxBatch * 2);
  }

  protected async process(messages: ConsumerMessages): Promise<void> {
    const it = messages[Symbol.asyncIterator]();
    // A pending next() survives a timeout: the message it brings joins the following batch.
    let next: Promise<IteratorResult<JsMsg>> | undefined;
    const batch: JsMsg[] = [];
    let closesAt = 0;
    try {
      for (;;) {
        next ??= it.next();
        const r = batch.length === 0 ? await next : await within(next, closesAt - Date.now());
        if (r === TIMED_OUT) {
          await this.flush(batch.splice(0));
          continue;
        }
        next = undefined;
        if (r.done) return;
        this.took(r.value);
        if (this.stopping) {
          this.release(r.value);
          continue;
        }
        if (batch.length === 0) closesAt = Date.now() + this.opts.maxWaitMs;
        batch.push(r.value);
        if (batch.length >= this.opts.maxBatch) await this.flush(batch.splice(0));
      }
    } finally {
      // Collected but never handed to the handler (stop, or a broken pull): back to the others.
      for (const m of batch) this.release(m);
    }
  }

  private async flush(msgs: JsMsg[]): Promise<void> {
    if (this.stopping) {
      msgs.forEach((m) => this.release(m));
      return;
    }
    const live: Array<{ m: JsMsg; inbound: InboundMessage }> = [];
    for (const m of msgs) {
      const inbound = toInbound(m, this.deps.naming);
      if (!(await this.deadLetterIfExhausted(m, inbound))) live.push({ m, inbound });
    }
    if (live.length === 0) return;
    // A big batch may take longer than ack-wait; keep it from being redelivered to another member
    // meanwhile. A crash stops these calls, so the batch still comes back after ack-wait.
    const keepAlive = setInterval(
      () => live.forEach(({ m }) => m.working()),
      Math.max(100, Math.floor(this.opts.ackWaitMs / 3)),
    );
    let result: BatchResult;
    try {
      const outcome = await this.opts.handler(live.map((x) => x.inbound));
      result = { kind: 'resolved', failed: outcome?.failed };
    } catch (error) {
      result = { kind: 'threw', error: error ?? new Error('batch handler threw a nullish value') };
    } finally {
      clearInterval(keepAlive);
    }
    if (result.kind === 'resolved' && result.failed) {
      const seqs = new Set(live.map((x) => x.inbound.seq));
      const unknown = [...result.failed.keys()].filter((s) => !seqs.has(s));
      if (unknown.length > 0)
        this.deps.logger.warn(
          { durable: this.opts.durable, seqs: unknown },
          'batch outcome names messages outside the batch; ignored',
        );
    }
    const settlements = settleBatch(
      live.map((x) => x.inbound),
      result,
      this.opts.maxDeliver,
      this.opts.backoff,
    );
    for (let i = 0; i < live.length; i++) await this.apply(live[i].m, live[i].inbound, settlements[i]);
  }
}
