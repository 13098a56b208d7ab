import type { StreamKey } from '@arcwatch/contracts';
import type { ConsumerMessages, JetStreamClient, JsMsg } from '@nats-io/jetstream';
import type { MsgHdrs } from '@nats-io/nats-core';
import type { MessagingLogger } from './logger';
import type { Naming } from './naming';
import { DEFAULT_BACKOFF, describeError, settle, type BackoffPolicy, type Settlement } from './retry-policy';

export interface InboundMessage {
  /** Canonical subject (test namespace stripped). */
  readonly subject: string;
  readonly data: Uint8Array;
  /** Stream sequence. */
  readonly seq: number;
  /** 1 on first delivery; grows with every redelivery (nak, ack-wait expiry, crash). */
  readonly deliveryCount: number;
  readonly headers: MsgHdrs | undefined;
  /** When JetStream stored the message. */
  readonly storedAt: Date;
  json<T>(): T;
  text(): string;
  /** Resets the ack-wait timer; call it from a handler that runs longer than ackWaitMs. */
  working(): void;
}

export interface ConsumerOptions {
  stream: StreamKey;
  /** Durable consumer name; processes with the same durable share the work. */
  durable: string;
  /** Canonical subject filter, e.g. SUBJECTS.metricsSamplesAll (one per consumer on NATS 2.9). */
  filterSubject: string;
  /** Deliveries before a failing message is dead-lettered. Default 5. */
  maxDeliver?: number;
  /** How long a delivered message may stay unacked before redelivery. Default 30 s. */
  ackWaitMs?: number;
  /** Unacked messages the server hands out across all members of the durable. Default 1000. */
  maxAckPending?: number;
  /** Messages pulled ahead per request. Keep batch × handler time well under ackWaitMs. Default 10. */
  batch?: number;
  deliverPolicy?: 'all' | 'new';
  /** Backoff for nak delays when the error gives none. Default 1 s doubling up to 60 s. */
  backoff?: Partial<BackoffPolicy>;
  /** Resolve = the effect is committed → ack. See RetryableError and PoisonMessageError. */
  handler: (msg: InboundMessage) => Promise<void>;
}

/**
 * What this member of a durable knows of its backlog, from the metadata of the messages it took,
 * without a request to the server. On NATS 2.9 a consumer info request (which computes the
 * consumer's pending count) can slow delivery to that consumer down; asked every 50 ms it
 * halved the rate in the consume bench (docs/messaging.md, "Throughput"). Other members of the
 * durable are not seen here.
 */
export interface ConsumerBacklog {
  /**
   * Messages the server still had for the durable when it delivered the last message this member
   * took (prefetched ones included); undefined until this member took one: ask the server then.
   */
  undelivered: number | undefined;
  /** Taken and not yet acked, nak'ed or terminated: collecting, in the handler, or being settled. */
  inFlight: number;
  /**
   * Nak'ed by this member and not taken again yet: the server still counts them as unacked. An
   * entry is dropped after its delay plus ack wait (another member may have taken it).
   */
  awaitingRedelivery: number;
  /** When this member last took a message. */
  lastTakenAt: Date | undefined;
}

export interface ConsumerHandle {
  readonly stream: StreamKey;
  readonly durable: string;
  /** Stops pulling, lets the in-flight handler finish and settle, and naks what was prefetched. */
  stop(): Promise<void>;
  /** This member's view of the backlog (see ConsumerBacklog); costs no server request. */
  backlog(): ConsumerBacklog;
}

export interface DeadLetterRequest {
  stream: StreamKey;
  durable: string;
  subject: string;
  seq: number;
  deliveryCount: number;
  reason: string;
  payload: Uint8Array;
}

export interface RunnerDeps {
  js: JetStreamClient;
  naming: Naming;
  logger: MessagingLogger;
  deadLetter(req: DeadLetterRequest): Promise<void>;
}

/** The settings every runner shares: what the durable is, and how failures are settled. */
export type DurableSettings = Required<Omit<ConsumerOptions, 'backoff' | 'handler' | 'batch'>> & {
  backoff: BackoffPolicy;
};

export type ResolvedConsumerOptions = Required<Omit<ConsumerOptions, 'backoff'>> & { backoff: BackoffPolicy };

export function resolveDurableSettings(opts: Omit<ConsumerOptions, 'handler' | 'batch'>): DurableSettings {
  return {
    maxDeliver: 5,
    ackWaitMs: 30_000,
    maxAckPending: 1_000,
    deliverPolicy: 'all',
    ...opts,
    backoff: { ...DEFAULT_BACKOFF, ...opts.backoff },
  };
}

export function resolveConsumerOptions(opts: ConsumerOptions): ResolvedConsumerOptions {
  return { batch: 10, ...opts, ...resolveDurableSettings(opts) };
}

const RESTART_DELAY_MS = 1_000;
/**
 * Lifetime of each pull request. After stop() the server may still deliver to a request it holds
 * for up to this long (NATS 2.9 does not notice the unsubscribe), so it bounds how long a
 * stopped member can strand messages until their ack-wait.
 */
const PULL_EXPIRES_MS = 5_000;

/**
 * The consume loop over a durable pull consumer, shared by the one-at-a-time and the batch
 * runner: (re)connecting to the consumer, stopping, and carrying out a Settlement.
 */
export abstract class PullRunner implements ConsumerHandle {
  protected stopping = false;
  private messages: ConsumerMessages | undefined;
  private undelivered: number | undefined;
  private taken = 0;
  private settled = 0;
  private lastTakenAt: Date | undefined;
  /** seq → when to stop counting it (ms since epoch). */
  private readonly nakked = new Map<number, number>();
  private loop: Promise<void> | undefined;
  private wakeRestart: (() => void) | undefined;

  constructor(
    protected readonly deps: RunnerDeps,
    protected readonly settings: DurableSettings,
    /** Messages pulled ahead per pull request. */
    private readonly prefetch: number,
  ) {}

  get stream(): StreamKey {
    return this.settings.stream;
  }

  get durable(): string {
    return this.settings.durable;
  }

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wakeRestart?.();
    // close() queues the end behind the prefetched messages; the loop naks those as it meets them.
    void this.messages?.close();
    await this.loop;
  }

  /** Handles messages until the iterator ends (stop, or a broken pull: the loop restarts). */
  protected abstract process(messages: ConsumerMessages): Promise<void>;

  backlog(): ConsumerBacklog {
    const now = Date.now();
    for (const [seq, until] of this.nakked) if (until <= now) this.nakked.delete(seq);
    return {
      undelivered: this.undelivered,
      inFlight: this.taken - this.settled,
      awaitingRedelivery: this.nakked.size,
      lastTakenAt: this.lastTakenAt,
    };
  }

  /** Every message the iterator yields passes here first; each is then settled exactly once. */
  protected took(m: JsMsg): void {
    this.taken++;
    this.undelivered = m.info.pending;
    this.lastTakenAt = new Date();
    this.nakked.delete(m.seq);
  }

  private ack(m: JsMsg): void {
    this.settled++;
    m.ack();
  }

  private nak(m: JsMsg, delayMs: number): void {
    this.settled++;
    this.nakked.set(m.seq, Date.now() + delayMs + this.settings.ackWaitMs);
    m.nak(delayMs);
  }

  private term(m: JsMsg): void {
    this.settled++;
    m.term();
  }

  private async run(): Promise<void> {
    const streamName = this.deps.naming.streamName(this.settings.stream);
    while (!this.stopping) {
      try {
        const consumer = await this.deps.js.consumers.get(streamName, this.settings.durable);
        if (this.stopping) return;
        this.messages = await consumer.consume({ max_messages: this.prefetch, expires: PULL_EXPIRES_MS });
        await this.process(this.messages);
      } catch (err) {
        if (this.stopping) return;
        this.deps.logger.error(
          { err: describeError(err), durable: this.settings.durable },
          'consumer loop failed; restarting',
        );
      }
      if (!this.stopping) await this.pause(RESTART_DELAY_MS);
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wakeRestart = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  /**
   * Gives a message that was pulled but never handled back to the other members. Not at once:
   * NATS 2.9 may hand an immediate nak straight back to this consumer's still-open pull request.
   */
  protected release(m: JsMsg): void {
    this.nak(m, PULL_EXPIRES_MS);
  }

  /**
   * The server never stops redelivering (max_deliver −1, see ensureConsumer): a handler that
   * crashed the process or outran ack-wait on its last attempt still reaches the DLQ here,
   * without being run again. Returns true when the message was taken care of this way.
   */
  protected async deadLetterIfExhausted(m: JsMsg, inbound: InboundMessage): Promise<boolean> {
    if (inbound.deliveryCount <= this.settings.maxDeliver) return false;
    await this.deadLetter(
      m,
      inbound,
      `delivered ${inbound.deliveryCount} times without being settled (handler crashed or exceeded ack wait)`,
    );
    return true;
  }

  protected async apply(m: JsMsg, inbound: InboundMessage, outcome: Settlement): Promise<void> {
    switch (outcome.kind) {
      case 'ack':
        this.ack(m);
        return;
      case 'nak':
        this.deps.logger.warn(
          {
            subject: inbound.subject,
            seq: inbound.seq,
            deliveryCount: inbound.deliveryCount,
            delayMs: outcome.delayMs,
            reason: outcome.reason,
          },
          'handler failed; message will be redelivered',
        );
        this.nak(m, outcome.delayMs);
        return;
      case 'dead-letter':
        await this.deadLetter(m, inbound, outcome.reason);
        return;
    }
  }

  private async deadLetter(m: JsMsg, inbound: InboundMessage, reason: string): Promise<void> {
    try {
      await this.deps.deadLetter({
        stream: this.settings.stream,
        durable: this.settings.durable,
        subject: inbound.subject,
        seq: inbound.seq,
        deliveryCount: inbound.deliveryCount,
        reason,
        payload: inbound.data,
      });
    } catch (err) {
      // Never term a message whose dead letter was not stored: it would be lost. It comes back
      // after the longest backoff and is dead-lettered again (the DLQ event id de-duplicates).
      this.deps.logger.error(
        { err: describeError(err), subject: inbound.subject, seq: inbound.seq },
        'dead-letter publish failed; message kept',
      );
      this.nak(m, this.settings.backoff.maxMs);
      return;
    }
    this.deps.logger.warn(
      { subject: inbound.subject, seq: inbound.seq, deliveryCount: inbound.deliveryCount, reason },
      'message dead-lettered',
    );
    // No reason on term(): NATS 2.9 only understands a bare +TERM and would ignore the rest.
    this.term(m);
  }
}

/** One consume loop whose messages are handled one at a time, in order. */
export class ConsumerRunner extends PullRunner {
  constructor(
    deps: RunnerDeps,
    private readonly opts: ResolvedConsumerOptions,
  ) {
    super(deps, opts, opts.batch);
  }

  protected async process(messages: ConsumerMessages): Promise<void> {
    for await (const m of messages) {
      this.took(m);
      if (this.stopping) {
        this.release(m);
        continue;
      }
      await this.handle(m);
    }
  }

  private async handle(m: JsMsg): Promise<void> {
    const inbound = toInbound(m, this.deps.naming);
    if (await this.deadLetterIfExhausted(m, inbound)) return;
    let failure: { error: unknown } | undefined;
    try {
      await this.opts.handler(inbound);
    } catch (error) {
      failure = { error: error ?? new Error('handler threw a nullish value') };
    }
    await this.apply(
      m,
      inbound,
      settle(failure?.error, inbound.deliveryCount, this.opts.maxDeliver, this.opts.backoff),
    );
  }
}

export function toInbound(m: JsMsg, naming: Naming): InboundMessage {
  return {
    subject: naming.fromWire(m.subject),
    data: m.data,
    seq: m.seq,
    deliveryCount: m.info.deliveryCount,
    headers: m.headers,
    storedAt: m.time,
    json: <T>() => m.json<T>(),
    text: () => m.string(),
    working: () => m.working(),
  };
}
