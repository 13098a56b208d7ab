import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
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

/**
 * The shell around the pure decider: events go into Postgres (the state that survives a
 * SIGKILL), and `assembleDue` decides every due request in one transaction that also projects
 * the finished ones, queues their request.completed events and counts them in the statistics.
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
    private readonly stats: StatsService,
    private readonly metrics: TracingMetrics,
  ) {
    this.repo = new AssemblyRepository(config.dbSchema);
    this.policy = { completionGraceMs: config.completionGraceMs, abandonAfterMs: config.abandonAfterMs };
  }

  /** Stores one parsed event; resolves once it is committed (the consumer acks after that). */
  async record(event: RequestEventV1): Promise<RecordOutcome> {
    const e = toAssemblyEvent(event);
    const outcome = await this.repo.recordEvent(this.pool, e, this.clock.nowMs(), isTerminalKind(e.kind), this.policy.abandonAfterMs);
    if (outcome.late) this.metrics.inc('events_late');
    else if (!outcome.inserted) this.metrics.inc('events_duplicate');
    else this.metrics.inc('events_ingested');
    return outcome;
  }

  /** Decides every request due now; returns how many were assembled. Loops until none is due. */
  async assembleDue(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.assembleBatch();
      total += n.assembled;
      if (n.claimed < DUE_BATCH) break;
    }
    this.metrics.setOpenRequests(await this.repo.countOpen(this.pool));
    return total;
  }

  private async assembleBatch(): Promise<{ claimed: number; assembled: number }> {
    const now = this.clock.nowMs();
    return withTransaction(this.pool, async (db) => {
      const due = await this.repo.claimDue(db, now, DUE_BATCH);
      const waits: Array<{ requestId: string; dueAtMs: number }> = [];
      const records: RequestCompletedV1[] = [];
      for (const row of due) {
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
      if (records.length === 0) return { claimed: due.length, assembled: 0 };
      await this.ensurePartitions(records);
      const fresh = await this.repo.finish(db, records, now);
      await this.repo.enqueue(
        db,
        fresh.map((r) => {
          const subject = SUBJECTS.requestCompleted(r.tenant);
          const id = requestCompletedId(r.requestId);
          return { eventId: id, subject, event: cloudEvent({ id, type: EVENT_TYPES.requestCompleted, source: 'arcwatch/tracing', subject: r.requestId, time: r.endedAt, data: r }) };
        }),
      );
      await this.stats.apply(db, fresh);
      for (const r of fresh) this.metrics.assembledRequest(r.status);
      if (fresh.length < records.length) this.metrics.inc('events_late', records.length - fresh.length);
      return { claimed: due.length, assembled: fresh.length };
    });
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
