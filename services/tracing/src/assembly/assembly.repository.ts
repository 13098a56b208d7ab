import type { Pool, PoolClient } from 'pg';
import type { RequestCompletedV1, RequestEventV1 } from '@arcwatch/contracts';
import type { AssemblyEvent, RequestState } from './request-state';

type Db = Pool | PoolClient;

export interface RecordOutcome {
  /** The request was already assembled: the event changes nothing. */
  late: boolean;
  /** False when the event id was already stored (a redelivery or a replay). */
  inserted: boolean;
}

export interface OutboxRow {
  eventId: string;
  subject: string;
  event: unknown;
}

/** SQL of the assembly state. The schema name is validated by the config schema. */
export class AssemblyRepository {
  constructor(private readonly schema: string) {}

  /**
   * Stores one event and schedules its request, in one statement (so atomically). The event id
   * de-duplicates; a request already in finished_requests is not reopened. A request is due at
   * once only when a decision may have changed (its terminal event is in); otherwise at its
   * abandonment deadline, so streaming phases do not make the assembler re-read open requests.
   */
  async recordEvent(db: Db, e: AssemblyEvent, seenAtMs: number, terminal: boolean, abandonAfterMs: number): Promise<RecordOutcome> {
    const s = this.schema;
    const { rows } = await db.query<{ late: boolean; inserted: boolean }>(
      `WITH gate AS (SELECT 1 FROM ${s}.finished_requests WHERE request_id = $2),
       ins AS (
         INSERT INTO ${s}.request_events (event_id, request_id, event)
         SELECT $1, $2, $3::jsonb WHERE NOT EXISTS (SELECT 1 FROM gate)
         ON CONFLICT (event_id) DO NOTHING
         RETURNING 1
       ),
       open AS (
         INSERT INTO ${s}.open_requests AS o (request_id, first_seen_at, last_seen_at, terminal_seen_at, due_at)
         SELECT $2, $4::timestamptz, $4::timestamptz, $5::timestamptz, CASE WHEN $5::timestamptz IS NULL THEN $6::timestamptz ELSE $4::timestamptz END WHERE EXISTS (SELECT 1 FROM ins)
         ON CONFLICT (request_id) DO UPDATE SET
           first_seen_at    = LEAST(o.first_seen_at, EXCLUDED.first_seen_at),
           last_seen_at     = GREATEST(o.last_seen_at, EXCLUDED.last_seen_at),
           terminal_seen_at = LEAST(o.terminal_seen_at, EXCLUDED.terminal_seen_at),
           due_at           = CASE WHEN o.terminal_seen_at IS NULL AND EXCLUDED.terminal_seen_at IS NULL
                                   THEN GREATEST(o.due_at, EXCLUDED.due_at)
                                   ELSE LEAST(o.due_at, EXCLUDED.last_seen_at) END
         RETURNING 1
       )
       SELECT EXISTS (SELECT 1 FROM gate) AS late, EXISTS (SELECT 1 FROM open) AS inserted`,
      [e.eventId, e.requestId, JSON.stringify(stripDerived(e)), new Date(seenAtMs), terminal ? new Date(seenAtMs) : null, new Date(seenAtMs + abandonAfterMs)],
    );
    return rows[0];
  }

  /** Locks up to `limit` requests due at `nowMs` (other replicas skip them) with their events. */
  async claimDue(db: PoolClient, nowMs: number, limit: number): Promise<Array<Omit<RequestState, 'events'> & { events: RequestEventV1[] }>> {
    const s = this.schema;
    const due = await db.query<{ request_id: string; first_seen_at: Date; last_seen_at: Date; terminal_seen_at: Date | null }>(
      `SELECT request_id, first_seen_at, last_seen_at, terminal_seen_at
         FROM ${s}.open_requests
        WHERE due_at <= $1
        ORDER BY due_at
        LIMIT $2
        FOR UPDATE SKIP LOCKED`,
      [new Date(nowMs), limit],
    );
    if (due.rows.length === 0) return [];
    const ids = due.rows.map((r) => r.request_id);
    const ev = await db.query<{ request_id: string; event: RequestEventV1 }>(
      `SELECT request_id, event FROM ${s}.request_events WHERE request_id = ANY($1::text[])`,
      [ids],
    );
    const byId = new Map<string, RequestEventV1[]>();
    for (const r of ev.rows) (byId.get(r.request_id) ?? byId.set(r.request_id, []).get(r.request_id))?.push(r.event);
    return due.rows.map((r) => ({
      requestId: r.request_id,
      firstSeenAtMs: r.first_seen_at.getTime(),
      lastSeenAtMs: r.last_seen_at.getTime(),
      terminalSeenAtMs: r.terminal_seen_at?.getTime() ?? null,
      events: byId.get(r.request_id) ?? [],
    }));
  }

  async reschedule(db: PoolClient, waits: Array<{ requestId: string; dueAtMs: number }>): Promise<void> {
    if (waits.length === 0) return;
    await db.query(
      `UPDATE ${this.schema}.open_requests o SET due_at = w.due_at
         FROM unnest($1::text[], $2::timestamptz[]) AS w(request_id, due_at)
        WHERE o.request_id = w.request_id`,
      [waits.map((w) => w.requestId), waits.map((w) => new Date(w.dueAtMs))],
    );
  }

  /**
   * Closes the requests: the ones not finished before are projected into `requests`; every one
   * leaves the assembly state. Returns the records that were newly finished (the others were a
   * second assembly of a finished request, reopened by a late event: nothing to do).
   */
  async finish(db: PoolClient, records: RequestCompletedV1[], finishedAtMs: number): Promise<RequestCompletedV1[]> {
    if (records.length === 0) return [];
    const s = this.schema;
    const ids = records.map((r) => r.requestId);
    const fresh = await db.query<{ request_id: string }>(
      `INSERT INTO ${s}.finished_requests (request_id, started_at, finished_at)
       SELECT id, started, $3 FROM unnest($1::text[], $2::timestamptz[]) AS f(id, started)
       ON CONFLICT (request_id) DO NOTHING
       RETURNING request_id`,
      [ids, records.map((r) => r.startedAt), new Date(finishedAtMs)],
    );
    const newIds = new Set(fresh.rows.map((r) => r.request_id));
    const newRecords = records.filter((r) => newIds.has(r.requestId));
    if (newRecords.length > 0) {
      await db.query(
        `INSERT INTO ${s}.requests (request_id, started_at, ended_at, status, tenant, team, project, model, model_version,
                                    instance, queue_ms, ttft_ms, tpot_ms, e2e_ms, prompt_tokens, completion_tokens, record)
         SELECT r->>'requestId', (r->>'startedAt')::timestamptz, (r->>'endedAt')::timestamptz, r->>'status',
                r->>'tenant', r->>'team', r->>'project', r->>'model', r->>'modelVersion', r->>'instance',
                (r->>'queueMs')::float8, (r->>'ttftMs')::float8, (r->>'tpotMs')::float8, (r->>'e2eMs')::float8,
                (r->>'promptTokens')::int, (r->>'completionTokens')::int, r
           FROM jsonb_array_elements($1::jsonb) AS r
         ON CONFLICT DO NOTHING`,
        [JSON.stringify(newRecords)],
      );
    }
    await db.query(`DELETE FROM ${s}.open_requests WHERE request_id = ANY($1::text[])`, [ids]);
    await db.query(`DELETE FROM ${s}.request_events WHERE request_id = ANY($1::text[])`, [ids]);
    return newRecords;
  }

  async enqueue(db: Db, rows: OutboxRow[]): Promise<void> {
    if (rows.length === 0) return;
    await db.query(
      `INSERT INTO ${this.schema}.outbox (event_id, subject, event)
       SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[])
       ON CONFLICT (event_id) DO NOTHING`,
      [rows.map((r) => r.eventId), rows.map((r) => r.subject), rows.map((r) => JSON.stringify(r.event))],
    );
  }

  async countOpen(db: Db): Promise<number> {
    const { rows } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${this.schema}.open_requests`);
    return Number(rows[0].n);
  }
}

/** The stored event is the contract's shape; the derived fields are recomputed on load. */
function stripDerived(e: AssemblyEvent): RequestEventV1 {
  const { eventId: _id, timeMs: _t, ...event } = e;
  return event;
}
