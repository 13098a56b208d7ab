import { STREAMS, type CloudEvent, type StreamKey } from '@arcwatch/contracts';
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  jetstream,
  JetStreamApiError,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type JetStreamClient,
  type JetStreamManager,
  type MsgRequest,
  type StreamConfig,
} from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { BatchConsumerRunner, resolveBatchOptions, type BatchConsumerOptions } from './batch-consumer-runner';
import {
  ConsumerRunner,
  resolveConsumerOptions,
  type ConsumerHandle,
  type ConsumerOptions,
  type DeadLetterRequest,
  type DurableSettings,
  type PullRunner,
} from './consumer-runner';
import { deadLetterEvent } from './dead-letter';
import { MessagingError } from './errors';
import { defaultLogger, type MessagingLogger } from './logger';
import { assertDurableName, createNaming, type Naming } from './naming';
import { describeError } from './retry-policy';

export interface EventBusOptions {
  /** Default: the NATS_URL environment variable, else nats://127.0.0.1:4222. */
  url?: string;
  /** Connection name shown by the server, e.g. 'collector'; also the DLQ event source. */
  name: string;
  /** Tests: streams become `<NS>_AW_…` (uppercased), subjects `<ns>.aw.…`. */
  namespace?: string;
  logger?: MessagingLogger;
  /** Keep retrying the first connect instead of failing (default false: fail fast at boot). */
  waitOnFirstConnect?: boolean;
  /** How long a publish waits for its PubAck. Default 5 s. */
  publishTimeoutMs?: number;
  /** The NATS user and password (a service's own user, infra/nats); anonymous when unset. */
  user?: string;
  pass?: string;
}

export interface StreamLimits {
  maxAgeMs?: number;
  maxBytes?: number;
  /** JetStream replicas of a stream this call creates (1 on a single server, 3 on a three-node cluster). */
  replicas?: number;
}

export interface PublishResult {
  seq: number;
  /** True when JetStream already held a message with this event id (within the duplicate window). */
  duplicate: boolean;
}

/** An event to publish: a CloudEvent, or one already serialized. */
export type PublishItem = EventItem | SerializedEventItem;
export interface EventItem {
  subject: string;
  event: CloudEvent<unknown>;
}
/**
 * A CloudEvent as JSON (an outbox row holds the JSON it publishes), its id beside it. The JSON is
 * text, or already its UTF-8 bytes, which are published as they are.
 */
export interface SerializedEventItem {
  subject: string;
  id: string;
  json: string | Uint8Array;
}

const DUPLICATE_WINDOW_MS = 2 * 60_000;
const STREAM_NOT_FOUND = 10059;
const CONSUMER_NOT_FOUND = 10014;
const ALL_STREAMS = Object.keys(STREAMS) as StreamKey[];

function isApiError(err: unknown, code: number): boolean {
  return err instanceof JetStreamApiError && err.code === code;
}

/** The one JetStream adapter: streams, de-duplicated publishing, durable pull consumers. */
export class EventBus {
  private readonly runners = new Set<PullRunner>();
  private readonly encoder = new TextEncoder();
  private draining: Promise<void> | undefined;
  /** Connected right now: false from a `disconnect` until the next `reconnect`. */
  private connected = true;

  private constructor(
    /** Escape hatch: the core NATS connection (request/reply, flush). */
    readonly nc: NatsConnection,
    /** Escape hatch: the JetStream client. */
    readonly js: JetStreamClient,
    /** Escape hatch: JetStream management (stream and consumer admin). */
    readonly jsm: JetStreamManager,
    readonly naming: Naming,
    private readonly logger: MessagingLogger,
    private readonly source: string,
    private readonly publishTimeoutMs: number,
  ) {}

  static async connect(opts: EventBusOptions): Promise<EventBus> {
    const url = opts.url ?? process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
    const logger = opts.logger ?? defaultLogger(opts.name);
    const naming = createNaming(opts.namespace);
    let nc: NatsConnection;
    try {
      nc = await connect({
        servers: url.split(',').map((s) => s.trim()), // a cluster: several URLs, comma-separated
        name: opts.name,
        maxReconnectAttempts: -1, // a service outlives NATS restarts; it never gives up
        reconnectTimeWait: 1_000,
        waitOnFirstConnect: opts.waitOnFirstConnect ?? false,
        // Otherwise every request (each publish's PubAck wait) allocates two errors with captured
        // stacks in case it fails: ~40 µs of CPU per publish in the tracing bench's profile. A
        // failure is still reported, wrapped in a MessagingError naming the subject and event.
        noAsyncTraces: true,
        ...(opts.user === undefined ? {} : { user: opts.user, pass: opts.pass }),
      });
    } catch (err) {
      throw new MessagingError('CONNECT_FAILED', `cannot connect to NATS at ${url}: ${describeError(err)}`, {
        cause: err,
      });
    }
    try {
      const jsm = await jetstreamManager(nc);
      const timeout = opts.publishTimeoutMs ?? 5_000;
      const bus = new EventBus(nc, jetstream(nc, { timeout }), jsm, naming, logger, `arcwatch/${opts.name}`, timeout);
      void followStatus(nc, logger, (up) => (bus.connected = up));
      return bus;
    } catch (err) {
      await nc.close();
      throw new MessagingError('CONNECT_FAILED', `JetStream is not available at ${url}: ${describeError(err)}`, {
        cause: err,
      });
    }
  }

  /** Whether the connection is up at this moment (a client that is reconnecting is not). */
  isConnected(): boolean {
    return this.connected && !this.nc.isClosed() && !this.draining;
  }

  /** The wire name of a stream (namespace applied). */
  streamName(key: StreamKey): string {
    return this.naming.streamName(key);
  }

  /**
   * Creates the streams that are missing (file storage, 2-minute duplicate window). An existing
   * stream keeps its limits unless `limits` are given, so services that call this with no
   * opinion never undo an operator's retention settings.
   */
  async ensureStreams(keys: StreamKey[] = ALL_STREAMS, limits: StreamLimits = {}): Promise<void> {
    for (const key of keys) await this.ensureStream(key, limits);
  }

  private async ensureStream(key: StreamKey, limits: StreamLimits): Promise<void> {
    const name = this.naming.streamName(key);
    const subjects = this.naming.streamSubjects(key);
    const limitConfig: Partial<StreamConfig> = {
      ...(limits.maxAgeMs === undefined ? {} : { max_age: nanos(limits.maxAgeMs) }),
      ...(limits.maxBytes === undefined ? {} : { max_bytes: limits.maxBytes }),
    };
    // The duplicate window may not exceed max_age.
    const dupWindowMs =
      limits.maxAgeMs && limits.maxAgeMs < DUPLICATE_WINDOW_MS ? limits.maxAgeMs : DUPLICATE_WINDOW_MS;
    for (let attempt = 0; ; attempt++) {
      const existing = await this.jsm.streams.info(name).catch((err: unknown) => {
        if (isApiError(err, STREAM_NOT_FOUND)) return undefined;
        throw err;
      });
      try {
        if (existing === undefined) {
          await this.jsm.streams.add({
            name,
            subjects,
            storage: StorageType.File,
            retention: RetentionPolicy.Limits,
            discard: DiscardPolicy.Old,
            duplicate_window: nanos(dupWindowMs),
            num_replicas: limits.replicas ?? 1,
            ...limitConfig,
          });
          this.logger.info({ stream: name, subjects }, 'stream created');
          return;
        }
        const c = existing.config;
        const changed =
          subjects.some((s) => !c.subjects?.includes(s)) ||
          (limitConfig.max_age !== undefined && limitConfig.max_age !== c.max_age) ||
          (limitConfig.max_bytes !== undefined && limitConfig.max_bytes !== c.max_bytes);
        if (limits.replicas !== undefined && limits.replicas !== c.num_replicas) {
          // Changing a stream's replica count is an operator's decision (and needs a cluster): say so, change nothing.
          this.logger.warn(
            { stream: name, configured: limits.replicas, actual: c.num_replicas },
            'stream exists with another replica count; left as it is',
          );
        }
        if (changed) {
          await this.jsm.streams.update(name, {
            subjects: [...new Set([...(c.subjects ?? []), ...subjects])],
            ...limitConfig,
          });
          this.logger.info({ stream: name, ...limitConfig }, 'stream updated');
        }
        return;
      } catch (err) {
        // Another process may have created it between our info and add: look again, once.
        if (attempt === 0) continue;
        throw new MessagingError('STREAM_CONFIG_CONFLICT', `stream ${name}: ${describeError(err)}`, { cause: err });
      }
    }
  }

  /**
   * Publishes one CloudEvent and waits for JetStream to store it. `Nats-Msg-Id` is the event id,
   * so a re-publish within the duplicate window returns `duplicate: true` and stores nothing.
   */
  async publish<T>(subject: string, event: CloudEvent<T>): Promise<PublishResult> {
    return this.publishJson(subject, event.id, JSON.stringify(event));
  }

  /**
   * Publishes a CloudEvent already serialized, `id` being its id: the same as `publish` of the
   * parsed event, without parsing and serializing it again. Bytes are sent as they are.
   */
  async publishJson(subject: string, id: string, json: string | Uint8Array): Promise<PublishResult> {
    if (this.draining) throw new MessagingError('BUS_DRAINING', `publish to ${subject} after drain() began`);
    if (!id) throw new MessagingError('PUBLISH_FAILED', `${subject}: event has no id`);
    try {
      const ack = await this.js.publish(
        this.naming.toWire(subject),
        typeof json === 'string' ? this.encoder.encode(json) : json,
        {
          msgID: id,
          timeout: this.publishTimeoutMs,
        },
      );
      return { seq: ack.seq, duplicate: ack.duplicate };
    } catch (err) {
      throw new MessagingError('PUBLISH_FAILED', `${subject} (event ${id}): ${describeError(err)}`, {
        cause: err,
      });
    }
  }

  /**
   * Publishes many events with up to `maxInFlight` PubAcks outstanding at once; results are in
   * input order. On a failure it throws the first error; retrying the whole batch is safe since
   * every event id de-duplicates.
   */
  async publishMany(items: readonly PublishItem[], opts: { maxInFlight?: number } = {}): Promise<PublishResult[]> {
    const results = new Array<PublishResult>(items.length);
    const width = Math.max(1, Math.min(opts.maxInFlight ?? 256, items.length));
    let next = 0;
    let failed = false;
    const lane = async (): Promise<void> => {
      while (!failed && next < items.length) {
        const i = next++;
        try {
          const item = items[i];
          results[i] =
            'json' in item
              ? await this.publishJson(item.subject, item.id, item.json)
              : await this.publish(item.subject, item.event);
        } catch (err) {
          failed = true;
          throw err;
        }
      }
    };
    await Promise.all(Array.from({ length: width }, lane));
    return results;
  }

  /**
   * When JetStream stored the oldest message on `filterSubject` that the durable has not acked:
   * delivered to a member and not acked yet (a member that died holds its messages until the ack
   * wait runs out), waiting for redelivery, or not delivered at all. Undefined when every message
   * is acked, or when the durable does not exist (nothing is held). Every message stored before
   * the time returned has been acked. One consumer info and one message read: not for a path that
   * runs every few milliseconds (docs/messaging.md, "Throughput").
   */
  async oldestUnackedAt(key: StreamKey, durable: string, filterSubject: string): Promise<Date | undefined> {
    const stream = this.naming.streamName(key);
    const info = await this.jsm.consumers.info(stream, durable).catch((err: unknown) => {
      if (isApiError(err, CONSUMER_NOT_FOUND)) return undefined;
      throw err;
    });
    if (info === undefined || (info.num_ack_pending === 0 && info.num_pending === 0)) return undefined;
    // The first message on the filter after the ack floor. The server's message get has taken
    // `next_by_subj` (wildcards too) since 2.9; the client types it only for direct gets.
    const query = { seq: info.ack_floor.stream_seq + 1, next_by_subj: this.naming.toWire(filterSubject) };
    const msg = await this.jsm.streams.getMessage(stream, query as unknown as MsgRequest);
    return msg?.time;
  }

  /**
   * Creates (or updates) the durable pull consumer and starts handling its messages. Several
   * processes calling this with the same durable share the work.
   */
  async consume(opts: ConsumerOptions): Promise<ConsumerHandle> {
    if (this.draining) throw new MessagingError('BUS_DRAINING', `consume ${opts.durable} after drain() began`);
    const o = resolveConsumerOptions(opts);
    validateConsumerOptions(o, [['batch', o.batch]]);
    await this.ensureConsumer(o);
    return this.startRunner(new ConsumerRunner(this.runnerDeps(), o));
  }

  /**
   * Like consume(), but the handler gets up to `maxBatch` messages at once and commits their
   * effect together; every message is settled after it resolves (see BatchOutcome).
   */
  async consumeBatch(opts: BatchConsumerOptions): Promise<ConsumerHandle> {
    if (this.draining) throw new MessagingError('BUS_DRAINING', `consume ${opts.durable} after drain() began`);
    const o = resolveBatchOptions(opts);
    validateConsumerOptions(o, [
      ['maxBatch', o.maxBatch],
      ['maxWaitMs', o.maxWaitMs],
    ]);
    if (o.maxBatch > o.maxAckPending) {
      throw new MessagingError(
        'CONSUMER_CONFIG_INVALID',
        `consumer ${o.durable}: maxBatch ${o.maxBatch} exceeds maxAckPending ${o.maxAckPending}`,
      );
    }
    if (o.maxWaitMs >= o.ackWaitMs) {
      // Messages waiting for their batch to fill are not kept alive; they would be redelivered.
      throw new MessagingError(
        'CONSUMER_CONFIG_INVALID',
        `consumer ${o.durable}: maxWaitMs ${o.maxWaitMs} must be below ackWaitMs ${o.ackWaitMs}`,
      );
    }
    await this.ensureConsumer(o);
    return this.startRunner(new BatchConsumerRunner(this.runnerDeps(), o));
  }

  private runnerDeps() {
    return {
      js: this.js,
      naming: this.naming,
      logger: this.logger,
      deadLetter: (req: DeadLetterRequest) => this.publishDeadLetter(req),
    };
  }

  private startRunner(runner: PullRunner): ConsumerHandle {
    this.runners.add(runner);
    runner.start();
    return {
      stream: runner.stream,
      durable: runner.durable,
      backlog: () => runner.backlog(),
      stop: async () => {
        await runner.stop();
        this.runners.delete(runner);
      },
    };
  }

  private async ensureConsumer(o: DurableSettings): Promise<void> {
    const stream = this.naming.streamName(o.stream);
    const filter = this.naming.toWire(o.filterSubject);
    // max_deliver stays unlimited on the server: the runner dead-letters at maxDeliver itself, and
    // a message whose last attempt crashed the process must come back once more to reach the DLQ.
    const tunable: Partial<ConsumerConfig> = {
      ack_wait: nanos(o.ackWaitMs),
      max_ack_pending: o.maxAckPending,
      max_deliver: -1,
    };
    const existing = await this.jsm.consumers.info(stream, o.durable).catch((err: unknown) => {
      if (isApiError(err, CONSUMER_NOT_FOUND)) return undefined;
      throw new MessagingError('CONSUMER_CONFIG_INVALID', `consumer ${stream}/${o.durable}: ${describeError(err)}`, {
        cause: err,
      });
    });
    try {
      if (existing === undefined) {
        await this.jsm.consumers.add(stream, {
          durable_name: o.durable,
          ack_policy: AckPolicy.Explicit,
          deliver_policy: o.deliverPolicy === 'new' ? DeliverPolicy.New : DeliverPolicy.All,
          filter_subject: filter,
          ...tunable,
        });
        return;
      }
      const c = existing.config;
      if (c.filter_subject !== filter) {
        throw new MessagingError(
          'CONSUMER_CONFIG_INVALID',
          `durable ${o.durable} on ${stream} filters ${c.filter_subject ?? '(nothing)'}, not ${filter}; use a new durable name`,
        );
      }
      if (
        c.ack_wait !== tunable.ack_wait ||
        c.max_ack_pending !== tunable.max_ack_pending ||
        c.max_deliver !== tunable.max_deliver
      ) {
        await this.jsm.consumers.update(stream, o.durable, tunable);
      }
    } catch (err) {
      if (err instanceof MessagingError) throw err;
      throw new MessagingError('CONSUMER_CONFIG_INVALID', `consumer ${stream}/${o.durable}: ${describeError(err)}`, {
        cause: err,
      });
    }
  }

  private async publishDeadLetter(req: DeadLetterRequest): Promise<void> {
    const { subject, event } = deadLetterEvent({
      ...req,
      stream: STREAMS[req.stream].name,
      source: this.source,
      now: new Date(),
    });
    await this.publish(subject, event);
  }

  /**
   * Stops every consumer (each finishes and settles its in-flight message, and naks what it had
   * prefetched), then drains the connection so pending acks and publishes reach the server.
   */
  drain(): Promise<void> {
    this.draining ??= (async () => {
      await Promise.all([...this.runners].map((r) => r.stop()));
      this.runners.clear();
      if (!this.nc.isClosed()) await this.nc.drain();
    })();
    return this.draining;
  }
}

function validateConsumerOptions(o: DurableSettings, more: Array<[string, number]>): void {
  assertDurableNameAsMessagingError(o.durable);
  const positive: Array<[string, number]> = [
    ['maxDeliver', o.maxDeliver],
    ['ackWaitMs', o.ackWaitMs],
    ['maxAckPending', o.maxAckPending],
    ...more,
  ];
  for (const [field, value] of positive) {
    if (!Number.isInteger(value) || value < 1) {
      throw new MessagingError(
        'CONSUMER_CONFIG_INVALID',
        `consumer ${o.durable}: ${field} must be a positive integer, got ${value}`,
      );
    }
  }
  if (!o.filterSubject.startsWith(STREAMS[o.stream].subjects[0].replace(/>$/, ''))) {
    throw new MessagingError(
      'CONSUMER_CONFIG_INVALID',
      `consumer ${o.durable}: filter ${o.filterSubject} is outside stream ${STREAMS[o.stream].name}`,
    );
  }
}

function assertDurableNameAsMessagingError(durable: string): void {
  try {
    assertDurableName(durable);
  } catch (err) {
    throw new MessagingError('CONSUMER_CONFIG_INVALID', (err as Error).message);
  }
}

async function followStatus(
  nc: NatsConnection,
  logger: MessagingLogger,
  setConnected: (up: boolean) => void,
): Promise<void> {
  for await (const s of nc.status()) {
    if (s.type === 'disconnect' || s.type === 'reconnecting') setConnected(false);
    else if (s.type === 'reconnect') setConnected(true);
    const info = { type: s.type, ...('server' in s ? { server: s.server } : {}) };
    if (s.type === 'disconnect' || s.type === 'error' || s.type === 'staleConnection')
      logger.warn(info, 'nats connection status');
    else if (s.type === 'reconnect') logger.info(info, 'nats reconnected');
    else logger.debug(info, 'nats connection status');
  }
}
