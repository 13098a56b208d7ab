import { Inject, Injectable } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import { EventBus } from '@arcwatch/messaging';
import { ensurePartitionsCovering, withTransaction } from '@arcwatch/storage';
import {
  EVENT_TYPES,
  SUBJECTS,
  cloudEvent,
  parseIsoTime,
  requestCompletedId,
  type RequestCompletedV1,
  type RequestEventV1,
} from '@arcwatch/contracts';
import { CLOCK, PG_POOL, type Clock } from '@arcwatch/runtime';
import { TRACING_CONFIG, type TracingConfig } from '../config';
import { TracingMetrics } from '../metrics';
import { AssemblyBacklog } from './assembly-backlog';
import { AckedBefore } from './acked-before';
import { ASSEMBLY_DURABLE } from './assembly-durable';
import { completedBatchEntries, serializedBatchEntries } from './completed-messages';
import { OutboxRelay, copyIntoOutbox, type SerializedOutboxEntry } from '@arcwatch/outbox';

import { StatsService } from '../stats/stats.service';
import { assemble, assemblyDeadline, type AssemblyPolicy } from '@arcwatch/request-assembly';
import { AssemblyRepository, type OpenStateWrite, type RecordOutcome } from './assembly.repository';
import { evolveAll, repeated, toAssemblyEvent, type RequestState } from '@arcwatch/request-assembly';
import { KEY_DIRECTORY } from './key-directory.provider';
import type { KeyDirectory } from '@arcwatch/request-assembly';

const DUE_BATCH = 500;
/** Events stored per transaction: big enough that round trips do not matter, small enough to keep locks short. */
const MAX_EVENTS_PER_TRANSACTION = 5_000;
/** Transactions of one group at once (a backlog): one folds and decides while the other waits on PostgreSQL. */
const CHUNKS_IN_FLIGHT = 2;
const DAY_MS = 86_400_000;
/** The three outcomes, shared by every event (a group of 5,000 events made 5,000 objects). */
const LATE: RecordOutcome = Object.freeze({ late: true, inserted: false });
const INSERTED: RecordOutcome = Object.freeze({ late: false, inserted: true });
const DUPLICATE: RecordOutcome = Object.freeze({ late: false, inserted: false });
const ASSEMBLY_SOURCE = 'arcwatch/tracing';
/** Committed batches whose messages may wait to be published before the consumer waits for them. */
const PUBLISHES_WAITING = 4;

/** What a transaction projected: to count, and to publish, once it has committed. */
interface Projected {
  fresh: RequestCompletedV1[];
  late: number;
  /** The batch messages it queued in the outbox, as queued. */
  queued: SerializedOutboxEntry[];
}
const NOTHING_PROJECTED: Projected = Object.freeze({ fresh: [], late: 0, queued: [] });

export { ASSEMBLY_DURABLE };

/** One consumed event, with the time JetStream stored it (the assembly clock's unit). */
export interface StoredEvent {
  event: RequestEventV1;
  storedAtMs: number;
}

/**
 * The shell around the pure decider. `recordBatch` folds a group of consumed events into the
 * per-request state rows (what survives a SIGKILL) and, in the same transaction, assembles the
 * requests they completed.
 * `assembleDue` decides the requests whose grace period or abandonment deadline has passed.
 * Either way one transaction projects the finished requests, queues their request.completed
 * events in the outbox and counts them in the statistics.
 *
 * Time here is stream time: an event is "seen" when JetStream stored it, and the assembly clock
 * is how far the consumer has read (see progressMs), so a consumer that stalls or lags behind a
 * backlog does not run out grace periods of phases still waiting in the stream, and a replay
 * decides the same way as the live run did.
 */
@Injectable()
export class AssemblyService {
  private readonly repo: AssemblyRepository;
  private readonly policy: AssemblyPolicy;
  private readonly daysWithPartitions = new Set<number>();

  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(TRACING_CONFIG) private readonly config: TracingConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(KEY_DIRECTORY) private readonly directory: KeyDirectory,
    @Inject(EventBus) private readonly bus: EventBus,
    private readonly stats: StatsService,
    private readonly metrics: TracingMetrics,
    private readonly backlog: AssemblyBacklog,
    private readonly ackedBefore: AckedBefore,
    private readonly relay: OutboxRelay,
  ) {
    this.repo = new AssemblyRepository(config.dbSchema);
    this.policy = { completionGraceMs: config.completionGraceMs, abandonAfterMs: config.abandonAfterMs };
  }

  /**
   * Stores a group of parsed events and assembles the requests they completed; resolves once all
   * are committed (the consumer acks after that). A group of up to MAX_EVENTS_PER_TRANSACTION
   * events is one transaction. A bigger one (a backlog) is split by request into transactions of
   * about that size, every event of a request in the same one, and CHUNKS_IN_FLIGHT of them run
   * at once: the requests are disjoint, so one transaction's folding and deciding runs while
   * another waits on PostgreSQL. Each decides at the group's stream time (every event stored up
   * to it is in the group), and the consumer's progress moves to it only once all are committed:
   * before that, a request of a transaction still running could be decided without its events by
   * the due pass. A crash in between redelivers the group, and what was committed is a no-op the
   * second time (event ids, finished requests).
   */
  async recordBatch(items: readonly StoredEvent[]): Promise<RecordOutcome[]> {
    if (items.length === 0) return [];
    const progress = maxStoredAt(items);
    if (items.length <= MAX_EVENTS_PER_TRANSACTION) return this.recordChunk(items, progress, true);
    const chunks = chunksByRequest(items, MAX_EVENTS_PER_TRANSACTION);
    const outcomes = new Array<RecordOutcome>(items.length);
    let next = 0;
    let failed = false;
    const lane = async (): Promise<void> => {
      while (!failed && next < chunks.length) {
        const chunk = chunks[next++];
        try {
          const done = await this.recordChunk(
            chunk.map((i) => items[i]),
            progress,
            false,
          );
          chunk.forEach((i, k) => (outcomes[i] = done[k]));
        } catch (err) {
          failed = true;
          throw err;
        }
      }
    };
    // Every lane settles before the group does, so that no transaction of it is still running
    // when its messages are nak'ed and delivered again.
    const settled = await Promise.allSettled(Array.from({ length: Math.min(CHUNKS_IN_FLIGHT, chunks.length) }, lane));
    const rejected = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (rejected) throw rejected.reason;
    await this.repo.advanceProgress(this.pool, ASSEMBLY_DURABLE, progress);
    return outcomes;
  }

  /**
   * One transaction: lock the states of every request in the chunk (one statement), fold the
   * events in, decide each changed request at stream time `progress`, and write back only what
   * changed: the states that stay open, and the finished requests with their outbox events and
   * statistics; with `advance`, also the consumer's progress.
   */
  private async recordChunk(
    items: readonly StoredEvent[],
    progress: number,
    advance: boolean,
  ): Promise<RecordOutcome[]> {
    if (items.length === 0) return [];
    const events = items.map((x) => ({ e: toAssemblyEvent(x.event), seenAtMs: x.storedAtMs }));
    const byRequest = new Map<string, number[]>();
    events.forEach((x, i) =>
      (byRequest.get(x.e.requestId) ?? byRequest.set(x.e.requestId, []).get(x.e.requestId))?.push(i),
    );
    const ids = [...byRequest.keys()].sort();
    const { outcomes, assembled } = await withTransaction(this.pool, async (db) => {
      const open = new Map((await this.repo.lockOpen(db, ids)).map((st) => [st.requestId, st]));
      const outcomes = new Array<RecordOutcome>(events.length);
      const writes: OpenStateWrite[] = [];
      const records: RequestCompletedV1[] = [];
      const closeIds: string[] = [];
      // Requests with no open row may have been assembled before: their events are late. The
      // ones that would open a row are looked up below; the ones assembled here are refused by
      // the closing statement's gate, and found out from what it returns.
      const wouldOpen: Array<{ write: OpenStateWrite; indexes: number[] }> = [];
      const assembledWithoutRow = new Map<string, number[]>();
      for (const id of ids) {
        const indexes = byRequest.get(id) ?? [];
        const before = open.get(id);
        const dups = repeated(
          before?.events ?? [],
          indexes.map((i) => events[i].e),
        );
        const folded = indexes.map((i, k) => {
          const { e, seenAtMs } = events[i];
          outcomes[i] = dups[k] ? DUPLICATE : INSERTED;
          return { event: e, seenAtMs: dups[k] ? null : seenAtMs };
        });
        const state = evolveAll(before, folded);
        if (state === undefined || state === before) continue; // only duplicates: nothing changed
        // A request the group completed is assembled here. One that only a deadline assembles
        // (phases missing, or no end) waits for the due pass, even if the deadline has passed:
        // that pass first checks that no event stored by then is still unacked (decideAndProject).
        const deadline = assemblyDeadline(state, this.policy);
        if (deadline !== undefined) {
          const write = { state, dueAtMs: deadline, existed: before !== undefined };
          if (before === undefined) wouldOpen.push({ write, indexes });
          else writes.push(write);
        } else {
          records.push(assemble(state, this.directory));
          if (before !== undefined) closeIds.push(id);
          else assembledWithoutRow.set(id, indexes);
        }
      }
      // After lockOpen on purpose (see finishedAmong): one finished while we waited is seen.
      const finished = await this.repo.finishedAmong(
        db,
        wouldOpen.map((w) => w.write.state.requestId),
      );
      for (const { write, indexes } of wouldOpen) {
        if (!finished.has(write.state.requestId)) writes.push(write);
        else for (const i of indexes) outcomes[i] = LATE;
      }
      await this.repo.saveOpen(db, writes);
      const projected = await this.project(db, records, closeIds);
      if (advance) await this.repo.advanceProgress(db, ASSEMBLY_DURABLE, progress);
      return { outcomes, assembled: lateWithoutRow(projected, assembledWithoutRow, outcomes) };
    });
    await this.afterCommit(assembled);
    const late = outcomes.filter((o) => o.late).length;
    const duplicate = outcomes.filter((o) => !o.late && !o.inserted).length;
    if (late > 0) this.metrics.inc('events_late', late);
    if (duplicate > 0) this.metrics.inc('events_duplicate', duplicate);
    if (outcomes.length - late - duplicate > 0) this.metrics.inc('events_ingested', outcomes.length - late - duplicate);
    return outcomes;
  }

  /** Decides every request due now; returns how many were assembled. Loops until none is due. */
  async assembleDue(): Promise<number> {
    let total = 0;
    const now = await this.progressMs();
    for (;;) {
      const n = await withTransaction(this.pool, async (db) => {
        const due = await this.repo.claimDue(db, now, DUE_BATCH);
        return { claimed: due.length, assembled: await this.decideAndProject(db, due, now) };
      });
      await this.afterCommit(n.assembled);
      total += n.assembled.fresh.length;
      if (n.claimed < DUE_BATCH) break;
    }
    this.metrics.setOpenRequests(await this.repo.countOpen(this.pool));
    return total;
  }

  /**
   * The assembly clock. While the consumer has nothing undelivered or unacked it is the wall
   * clock; otherwise it is how far the consumer has committed (stored-at time of its latest
   * message), which stands still while the consumer is stalled. With several replicas that is
   * the furthest one; the others lag it by at most a batch, and a dead one's messages are not in
   * it: decisions by a deadline also wait for AckedBefore (decideAndProject).
   */
  async progressMs(): Promise<number> {
    const wall = this.clock.now();
    const committed = await this.repo.progress(this.pool, ASSEMBLY_DURABLE);
    // From what the consumer took, without asking the server (see AssemblyBacklog); the server
    // only before the first message, when nothing is being delivered.
    const caughtUp =
      this.backlog.caughtUp() ??
      (await this.bus.jsm.consumers
        .info(this.bus.streamName('requests'), ASSEMBLY_DURABLE)
        .then((info) => info.num_pending === 0 && info.num_ack_pending === 0)
        .catch(() => false)); // NATS unreachable or no consumer yet: the consumer is not progressing either
    if (committed === undefined) return wall;
    return caughtUp ? Math.max(wall, committed) : Math.min(wall, committed);
  }

  private async decideAndProject(db: PoolClient, states: RequestState[], now: number): Promise<Projected> {
    const waits: Array<{ requestId: string; dueAtMs: number }> = [];
    const records: RequestCompletedV1[] = [];
    const pastDeadline: Array<{ state: RequestState; deadline: number }> = [];
    for (const state of states) {
      const deadline = assemblyDeadline(state, this.policy);
      if (deadline === undefined) records.push(assemble(state, this.directory));
      else if (now < deadline) waits.push({ requestId: state.requestId, dueAtMs: deadline });
      else pastDeadline.push({ state, deadline });
    }
    if (pastDeadline.length > 0) {
      // Assembled without what has not arrived, so only once every event message stored by the
      // deadline is acked: one that a dead member pulled is redelivered only after the ack wait,
      // while the clock runs on with the members still alive. Held ones are decided again next pass.
      const ackedBefore = await this.ackedBefore.ms(Math.max(...pastDeadline.map((p) => p.deadline)));
      let held = 0;
      for (const { state, deadline } of pastDeadline) {
        if (deadline < ackedBefore) records.push(assemble(state, this.directory));
        else {
          waits.push({ requestId: state.requestId, dueAtMs: now + 1 });
          held++;
        }
      }
      this.metrics.inc('deadlines_held', held);
    }
    await this.repo.reschedule(db, waits);
    return this.project(
      db,
      records,
      records.map((r) => r.requestId),
    );
  }

  /** Finishes the assembled requests (closing their open rows), queues their events, counts them. */
  private async project(db: PoolClient, records: RequestCompletedV1[], closeIds: string[]): Promise<Projected> {
    if (records.length === 0) return NOTHING_PROJECTED;
    await this.ensurePartitions(records);
    const perMessage = this.config.completedPerMessage;
    if (perMessage > 1) {
      // Each record serialized once, to UTF-8: the COPY of the closing statement sends those
      // bytes, and its batch message is put together from the same bytes, queued and published
      // as they are.
      const bytes = new Map(records.map((record) => [record, Buffer.from(JSON.stringify(record), 'utf8')]));
      const fresh = await this.repo.finish(
        db,
        records.map((record) => ({ record, bytes: bytes.get(record) })),
        closeIds,
        this.clock.now(),
        false,
      );
      // `fresh` is in request-id order: the same records always make the same messages.
      const queued = serializedBatchEntries(
        completedBatchEntries(fresh, perMessage, ASSEMBLY_SOURCE),
        (r) => bytes.get(r) ?? Buffer.from(JSON.stringify(r), 'utf8'),
      );
      // Copied, not inserted: a batch of newly finished requests cannot have been queued before
      // (its id derives from request ids the gate just let through for the first time).
      await copyIntoOutbox(db, this.config.dbSchema, queued);
      await this.stats.apply(db, fresh);
      return { fresh, late: records.length - fresh.length, queued };
    }
    const items = records.map((r) => {
      const id = requestCompletedId(r.requestId);
      const envelope = cloudEvent({
        id,
        type: EVENT_TYPES.requestCompleted,
        source: ASSEMBLY_SOURCE,
        subject: r.requestId,
        time: r.endedAt,
        data: null,
      });
      return { record: r, outbox: { eventId: id, subject: SUBJECTS.requestCompleted(r.tenant), envelope } };
    });
    const fresh = await this.repo.finish(db, items, closeIds, this.clock.now(), true);
    await this.stats.apply(db, fresh);
    // The single form's rows were queued by the closing statement itself: the relay publishes them.
    return { fresh, late: records.length - fresh.length, queued: [] };
  }

  /**
   * Counters move only for what was committed: a rolled-back batch is counted when it is retried.
   * The batch messages the transaction queued are published now, from the bytes in hand, without
   * the relay reading them back (OutboxRelay.publishCommitted); should that fail, they are still
   * queued and the relay's next pass publishes them. The consumer goes on meanwhile, and waits only
   * once PUBLISHES_WAITING committed batches are still waiting, so that a slow JetStream slows
   * assembly down instead of piling up messages in memory.
   */
  private async afterCommit(a: Projected): Promise<void> {
    for (const r of a.fresh) this.metrics.assembledRequest(r.status);
    if (a.late > 0) this.metrics.inc('events_late', a.late);
    if (a.queued.length === 0) return;
    const published = this.relay.publishCommitted(a.queued);
    if (this.relay.committedPending > PUBLISHES_WAITING) await published;
  }

  /** A replayed or very late request may start on a day with no partition yet. */
  private async ensurePartitions(records: RequestCompletedV1[]): Promise<void> {
    const starts = records.map((r) => parseIsoTime(r.startedAt));
    const days = new Set(starts.map((t) => Math.floor(t / DAY_MS)));
    if ([...days].every((d) => this.daysWithPartitions.has(d))) return;
    await ensurePartitionsCovering(
      this.pool,
      `${this.config.dbSchema}.requests`,
      Math.min(...starts),
      Math.max(...starts),
    );
    for (const d of days) this.daysWithPartitions.add(d);
  }

  openRequests(): Promise<number> {
    return this.repo.countOpen(this.pool);
  }
}

/**
 * A request assembled from a group's events alone, with no open row, that the gate refused had
 * been assembled before (a replay, or every event of it late): its events are late, like those of
 * a finished request that would have opened a row, and it is not counted again as a late request.
 */
function lateWithoutRow(
  projected: Projected,
  assembledWithoutRow: ReadonlyMap<string, readonly number[]>,
  outcomes: RecordOutcome[],
): Projected {
  if (projected.late === 0 || assembledWithoutRow.size === 0) return projected;
  const fresh = new Set(projected.fresh.map((r) => r.requestId));
  let refused = 0;
  for (const [id, indexes] of assembledWithoutRow) {
    if (fresh.has(id)) continue;
    for (const i of indexes) outcomes[i] = LATE;
    refused++;
  }
  return refused === 0 ? projected : { ...projected, late: projected.late - refused };
}

function maxStoredAt(items: readonly StoredEvent[]): number {
  let max = -Infinity;
  for (const x of items) if (x.storedAtMs > max) max = x.storedAtMs;
  return max;
}

/**
 * The indexes of `items` in chunks of about `size` events, every event of a request in the chunk
 * of its first one, stream order kept within each chunk. A request with more than `size` events
 * in the group is a chunk of its own.
 */
export function chunksByRequest(items: readonly StoredEvent[], size: number): number[][] {
  const byRequest = new Map<string, number[]>();
  items.forEach((x, i) => {
    const list = byRequest.get(x.event.requestId);
    if (list) list.push(i);
    else byRequest.set(x.event.requestId, [i]);
  });
  const chunks: number[][] = [];
  let current: number[][] = [];
  let count = 0;
  const close = () => {
    if (count === 0) return;
    chunks.push(current.flat().sort((a, b) => a - b));
    current = [];
    count = 0;
  };
  for (const list of byRequest.values()) {
    if (count + list.length > size) close();
    current.push(list);
    count += list.length;
  }
  close();
  return chunks;
}
