import { Inject, Injectable } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import { EventBus } from '@arcwatch/messaging';
import { ensurePartitionsCovering, withTransaction } from '@arcwatch/storage';
import { EVENT_TYPES, SUBJECTS, cloudEvent, isTerminalKind, requestCompletedId, type RequestCompletedV1, type RequestEventV1 } from '@arcwatch/contracts';
import { CLOCK, type Clock } from '../clock';
import { TRACING_CONFIG, type TracingConfig } from '../config';
import { PG_POOL } from '../database/database.providers';
import { TracingMetrics } from '../health/tracing.metrics';
import { StatsService } from '../stats/stats.service';
import { decide, type AssemblyPolicy } from './assembly.decider';
import { AssemblyRepository, type RecordOutcome } from './assembly.repository';
import { evolve, toAssemblyEvent, type RequestState } from './request-state';
import { KEY_DIRECTORY } from './key-directory.provider';
import type { KeyDirectory } from './tenant-directory';

const DUE_BATCH = 500;
const DAY_MS = 86_400_000;

export const ASSEMBLY_DURABLE = 'tracing-assembly';

/** One consumed event, with the time JetStream stored it (the assembly clock's unit). */
export interface StoredEvent {
  event: RequestEventV1;
  storedAtMs: number;
}

type OpenRequestRow = Omit<RequestState, 'events'> & { events: RequestEventV1[] };

/**
 * The shell around the pure decider. `recordBatch` stores a group of consumed events (the state
 * that survives a SIGKILL) and, in the same transaction, assembles the requests they completed.
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
  ) {
    this.repo = new AssemblyRepository(config.dbSchema);
    this.policy = { completionGraceMs: config.completionGraceMs, abandonAfterMs: config.abandonAfterMs };
  }

  /**
   * Stores a group of parsed events and assembles the requests they completed, in one
   * transaction; resolves once it is committed (the consumer acks after that).
   */
  async recordBatch(items: readonly StoredEvent[]): Promise<RecordOutcome[]> {
    if (items.length === 0) return [];
    const events = items.map((x) => ({ e: toAssemblyEvent(x.event), seenAtMs: x.storedAtMs, terminal: isTerminalKind(x.event.kind) }));
    const progress = Math.max(...items.map((x) => x.storedAtMs));
    const { outcomes, assembled } = await withTransaction(this.pool, async (db) => {
      const recorded = await this.repo.recordEvents(db, events, this.policy.abandonAfterMs);
      const rows = await this.repo.claimByIds(db, recorded.terminalRequests);
      const n = await this.decideAndProject(db, rows, progress);
      await this.repo.advanceProgress(db, ASSEMBLY_DURABLE, progress);
      return { outcomes: recorded.outcomes, assembled: n };
    });
    this.countAfterCommit(assembled);
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
      this.countAfterCommit(n.assembled);
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
   * the furthest one; the others lag it by at most a batch.
   */
  async progressMs(): Promise<number> {
    const wall = this.clock.nowMs();
    const committed = await this.repo.progress(this.pool, ASSEMBLY_DURABLE);
    const caughtUp = await this.bus.jsm.consumers
      .info(this.bus.streamName('requests'), ASSEMBLY_DURABLE)
      .then((info) => info.num_pending === 0 && info.num_ack_pending === 0)
      .catch(() => false); // NATS unreachable or no consumer yet: the consumer is not progressing either
    if (committed === undefined) return wall;
    return caughtUp ? Math.max(wall, committed) : Math.min(wall, committed);
  }

  private async decideAndProject(db: PoolClient, rows: OpenRequestRow[], now: number): Promise<{ fresh: RequestCompletedV1[]; late: number }> {
    const waits: Array<{ requestId: string; dueAtMs: number }> = [];
    const records: RequestCompletedV1[] = [];
    for (const row of rows) {
      const state = rebuild(row);
      if (state === undefined) {
        // Both rows are written by one statement, so this is not expected; look again later
        // rather than invent a record.
        waits.push({ requestId: row.requestId, dueAtMs: now + this.policy.abandonAfterMs });
        continue;
      }
      const d = decide(state, now, this.policy, this.directory);
      if (d.type === 'wait') waits.push({ requestId: row.requestId, dueAtMs: d.untilMs });
      else records.push(d.record);
    }
    await this.repo.reschedule(db, waits);
    if (records.length === 0) return { fresh: [], late: 0 };
    await this.ensurePartitions(records);
    const fresh = await this.repo.finish(db, records, this.clock.nowMs());
    await this.repo.enqueue(
      db,
      fresh.map((r) => {
        const subject = SUBJECTS.requestCompleted(r.tenant);
        const id = requestCompletedId(r.requestId);
        return { eventId: id, subject, event: cloudEvent({ id, type: EVENT_TYPES.requestCompleted, source: 'arcwatch/tracing', subject: r.requestId, time: r.endedAt, data: r }) };
      }),
    );
    await this.stats.apply(db, fresh);
    return { fresh, late: records.length - fresh.length };
  }

  /** Counters move only for what was committed: a rolled-back batch is counted when it is retried. */
  private countAfterCommit(a: { fresh: RequestCompletedV1[]; late: number }): void {
    for (const r of a.fresh) this.metrics.assembledRequest(r.status);
    if (a.late > 0) this.metrics.inc('events_late', a.late);
  }

  /** A replayed or very late request may start on a day with no partition yet. */
  private async ensurePartitions(records: RequestCompletedV1[]): Promise<void> {
    const starts = records.map((r) => Date.parse(r.startedAt));
    const days = new Set(starts.map((t) => Math.floor(t / DAY_MS)));
    if ([...days].every((d) => this.daysWithPartitions.has(d))) return;
    await ensurePartitionsCovering(this.pool, `${this.config.dbSchema}.requests`, Math.min(...starts), Math.max(...starts));
    for (const d of days) this.daysWithPartitions.add(d);
  }

  openRequests(): Promise<number> {
    return this.repo.countOpen(this.pool);
  }
}

function rebuild(row: Omit<RequestState, 'events'> & { events: RequestEventV1[] }): RequestState | undefined {
  let state: RequestState | undefined;
  for (const e of row.events) state = evolve(state, toAssemblyEvent(e), row.firstSeenAtMs);
  if (state === undefined) return undefined;
  return { ...state, firstSeenAtMs: row.firstSeenAtMs, lastSeenAtMs: row.lastSeenAtMs, terminalSeenAtMs: row.terminalSeenAtMs };
}
