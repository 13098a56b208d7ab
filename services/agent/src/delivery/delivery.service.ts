import type { CloudEvent } from '@arcwatch/contracts';
import { Spool } from '@arcwatch/gpu-telemetry';
import type { AgentSettings } from '../config/agent-settings.loader';
import { AgentError } from '../errors';
import type { AgentMetrics } from '../metrics';
import { EventBus, type Logger } from '../runtime-lite';

/** One message as it is published, and as it waits in the spool. */
export interface Outgoing {
  subject: string;
  event: CloudEvent<unknown>;
  kind: 'batch' | 'event';
}

const REPLAY_CHUNK = 64;

/**
 * Publish-or-spool. While NATS answers and nothing waits in the spool, messages go straight to
 * JetStream; otherwise they are appended to the spool, and the spool is replayed, oldest first,
 * whenever NATS is back. New messages never overtake spooled ones, so the collector sees a node's
 * batches in the order they were taken. Message ids are deterministic: a batch published, then
 * replayed again after a crash before the spool cursor moved, is dropped by JetStream as a
 * duplicate.
 *
 * The NATS connection is opened in the background and retried for ever: an agent must start, read
 * and spool on a node whose NATS is unreachable.
 */
export class DeliveryService {
  private bus: EventBus | undefined;
  private readonly connecting: Promise<void>;
  private closed = false;
  private streamsReady = false;
  readonly spool: Spool;

  constructor(
    private readonly settings: AgentSettings,
    private readonly metrics: AgentMetrics,
    private readonly logger: Logger,
  ) {
    this.spool = Spool.open({
      dir: settings.spool.dir,
      maxBytes: settings.spool.maxBytes,
      onDrop: (e) => {
        metrics.spoolDropped.inc(e.records);
        logger.warn(
          { records: e.records, bytes: e.bytes, segment: e.segment, reason: e.reason },
          'spool full: oldest messages dropped',
        );
      },
      onTorn: (e) => {
        metrics.spoolTornBytes.inc(e.cutBytes);
        logger.warn(e, 'spool segment torn by a crash: the intact part is kept');
      },
    });
    const st = this.spool.stats();
    if (st.pendingRecords > 0)
      logger.info({ pending: st.pendingRecords }, 'spool resumed: messages will be replayed in order');
    metrics.spool(st);
    this.connecting = this.connect();
  }

  /** Tries to connect every second until it succeeds or the agent stops (the client reconnects by itself after that). */
  private async connect(): Promise<void> {
    let attempt = 0;
    while (!this.closed) {
      try {
        const bus = await EventBus.connect({
          url: this.settings.natsUrl,
          name: `agent-${this.settings.hostname}`,
          namespace: this.settings.natsNamespace,
          publishTimeoutMs: 2000,
          ...(this.settings.natsAuth ? { user: this.settings.natsAuth.user, pass: this.settings.natsAuth.pass } : {}),
          logger: this.logger.child({ component: 'messaging' }),
        });
        if (this.closed) {
          await bus.drain();
          return;
        }
        this.bus = bus;
        this.logger.info({ url: this.settings.natsUrl }, 'connected to NATS');
        return;
      } catch (err) {
        if (attempt++ % 30 === 0)
          this.logger.warn({ err: (err as Error).message }, 'NATS unreachable: spooling until it answers');
        await new Promise((r) => setTimeout(r, 1000).unref());
      }
    }
  }

  connected(): boolean {
    return this.bus !== undefined && this.bus.isConnected();
  }

  private async ready(): Promise<boolean> {
    if (!this.connected()) return false;
    if (!this.streamsReady) {
      try {
        await this.bus!.ensureStreams(['metrics', 'node']);
        this.streamsReady = true;
      } catch (err) {
        this.logger.warn({ err }, 'streams not ensured yet');
        return false;
      }
    }
    return true;
  }

  /** Hands over one interval's messages: published now, or spooled and replayed later. */
  async deliver(items: readonly Outgoing[]): Promise<void> {
    let i = 0;
    if (this.spool.stats().pendingRecords === 0 && (await this.ready())) {
      for (; i < items.length; i++) {
        try {
          await this.bus!.publish(items[i]!.subject, items[i]!.event);
          this.metrics.published.inc({ kind: items[i]!.kind });
        } catch (err) {
          this.metrics.publishFailures.inc();
          this.logger.warn({ err: (err as Error).message }, 'publish failed: spooling');
          break;
        }
      }
    }
    for (; i < items.length; i++) {
      this.spool.append(Buffer.from(JSON.stringify(items[i])));
      this.metrics.spooled.inc();
    }
    await this.replay();
    this.metrics.spool(this.spool.stats());
    this.metrics.connected(this.connected());
  }

  /** Publishes spooled messages oldest first until the spool is empty or NATS fails again. */
  async replay(): Promise<number> {
    let sent = 0;
    while (this.spool.stats().pendingRecords > 0 && (await this.ready())) {
      const chunk = this.spool.peek(REPLAY_CHUNK);
      const items: Outgoing[] = [];
      for (const r of chunk) {
        try {
          items.push(JSON.parse(r.payload.toString('utf8')) as Outgoing);
        } catch (cause) {
          // The CRC held but the text is not ours (a spool written by another version): skipped, said.
          const err = new AgentError(
            'SPOOL_RECORD_INVALID',
            `spool record ending at ${r.segment}:${r.end} is not a message`,
            { cause },
          );
          this.logger.error({ err, code: err.code }, 'unreadable spool record skipped');
        }
      }
      try {
        // One connection writes in order, so JetStream stores the chunk in spool order.
        await this.bus!.publishMany(
          items.map((o) => ({ subject: o.subject, event: o.event })),
          { maxInFlight: 16 },
        );
      } catch (err) {
        this.metrics.publishFailures.inc();
        this.logger.warn(
          { err: (err as Error).message, pending: this.spool.stats().pendingRecords },
          'replay interrupted',
        );
        break;
      }
      for (const o of items) this.metrics.published.inc({ kind: o.kind });
      this.spool.ack(chunk[chunk.length - 1]!);
      sent += chunk.length;
    }
    if (sent > 0) this.logger.info({ replayed: sent, pending: this.spool.stats().pendingRecords }, 'spool replayed');
    return sent;
  }

  /** After the last interval: the spool is closed, NATS drained. */
  async close(): Promise<void> {
    this.closed = true;
    this.spool.close();
    const bus = this.bus;
    this.bus = undefined;
    await bus?.drain().catch((err: unknown) => this.logger.warn({ err }, 'NATS drain failed'));
    await this.connecting;
  }
}
