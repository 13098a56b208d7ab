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

interface OpenRow {
  request_id: string;
  first_seen_at: Date;
  last_seen_at: Date;
  terminal_seen_at: Date | null;
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
   * Stores a group of events and schedules their requests, in one statement. The event id
   * de-duplicates; a request already in finished_requests is not reopened. A request is due at
   * once only when a decision may have changed (a terminal event is in); otherwise at its
   * abandonment deadline, counted from its first event, so streaming phases do not make the
   * assembler re-read open requests. Rows are sorted by request id so that two replicas lock
   * open_requests rows in the same order. Returns the outcome of each input event, in order,
   * and the requests that now have a terminal event (the ones worth deciding at once).
   */
  async recordEvents(db: Db, events: ReadonlyArray<{ e: AssemblyEvent; seenAtMs: number; terminal: boolean }>, abandonAfterMs: number): Promise<{ outcomes: RecordOutcome[]; terminalRequests: string[] }> {
    if (events.length === 0) return { outcomes: [], terminalRequests: [] };
    const s = this.schema;
    const order = events.map((_, i) => i).sort((a, b) => cmp(events[a].e.requestId, events[b].e.requestId) || a - b);
    const sorted = order.map((i) => events[i]);
    const { rows } = await db.query<{ ord: number; late: boolean; inserted: boolean; terminal_request: string | null }>(
      `WITH input AS (
         SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::jsonb[], $5::timestamptz[], $6::boolean[])
                  AS i(ord, event_id, request_id, event, seen_at, terminal)
       ),
       gate AS (SELECT f.request_id FROM ${s}.finished_requests f WHERE f.request_id IN (SELECT request_id FROM input)),
       ins AS (
         INSERT INTO ${s}.request_events (event_id, request_id, event)
         SELECT event_id, request_id, event FROM input
          WHERE request_id NOT IN (SELECT request_id FROM gate)
          ORDER BY ord
         ON CONFLICT (event_id) DO NOTHING
         RETURNING event_id
       ),
       fresh AS (
         SELECT DISTINCT ON (i.event_id) i.* FROM input i JOIN ins USING (event_id) ORDER BY i.event_id, i.ord
       ),
       per_request AS (
         SELECT request_id, min(seen_at) AS first_seen, max(seen_at) AS last_seen,
                min(seen_at) FILTER (WHERE terminal) AS terminal_seen
           FROM fresh GROUP BY request_id
       ),
       open AS (
         INSERT INTO ${s}.open_requests AS o (request_id, first_seen_at, last_seen_at, terminal_seen_at, due_at)
         SELECT request_id, first_seen, last_seen, terminal_seen,
                CASE WHEN terminal_seen IS NULL THEN first_seen + make_interval(secs => $7::float8 / 1000) ELSE last_seen END
           FROM per_request ORDER BY request_id
         ON CONFLICT (request_id) DO UPDATE SET
           first_seen_at    = LEAST(o.first_seen_at, EXCLUDED.first_seen_at),
           last_seen_at     = GREATEST(o.last_seen_at, EXCLUDED.last_seen_at),
           terminal_seen_at = LEAST(o.terminal_seen_at, EXCLUDED.terminal_seen_at),
           due_at           = CASE WHEN o.terminal_seen_at IS NULL AND EXCLUDED.terminal_seen_at IS NULL
                                   THEN LEAST(o.due_at, EXCLUDED.due_at)
                                   ELSE LEAST(o.due_at, EXCLUDED.last_seen_at) END
         RETURNING request_id, terminal_seen_at IS NOT NULL AS terminal
       )
       SELECT i.ord,
              i.request_id IN (SELECT request_id FROM gate) AS late,
              EXISTS (SELECT 1 FROM fresh f WHERE f.ord = i.ord) AS inserted,
              NULL::text AS terminal_request
         FROM input i
       UNION ALL
       SELECT NULL, false, false, request_id FROM open WHERE terminal`,
      [
        order,
        sorted.map((x) => x.e.eventId),
        sorted.map((x) => x.e.requestId),
        sorted.map((x) => JSON.stringify(stripDerived(x.e))),
        sorted.map((x) => new Date(x.seenAtMs)),
        sorted.map((x) => x.terminal),
        abandonAfterMs,
      ],
    );
    const outcomes = new Array<RecordOutcome>(events.length);
    const terminalRequests: string[] = [];
    for (const r of rows) {
      if (r.terminal_request !== null) terminalRequests.push(r.terminal_request);
      else outcomes[r.ord] = { late: r.late, inserted: r.inserted };
    }
    return { outcomes, terminalRequests: terminalRequests.sort() };
  }

  /** The open requests among `ids`, locked, with their events (the caller already holds the rows). */
  async claimByIds(db: PoolClient, ids: string[]): Promise<Array<Omit<RequestState, 'events'> & { events: RequestEventV1[] }>> {
    if (ids.length === 0) return [];
    const due = await db.query<OpenRow>(
      `SELECT request_id, first_seen_at, last_seen_at, terminal_seen_at FROM ${this.schema}.open_requests
        WHERE request_id = ANY($1::text[]) ORDER BY request_id FOR UPDATE`,
      [ids],
    );
    return this.withEvents(db, due.rows);
  }

  /** How far the consumer has read the stream: the latest stored-at time it committed. */
  async progress(db: Db, durable: string): Promise<number | undefined> {
    const { rows } = await db.query<{ stored_at: Date }>(`SELECT stored_at FROM ${this.schema}.consumer_progress WHERE durable = $1`, [durable]);
    return rows[0]?.stored_at.getTime();
  }

  async advanceProgress(db: Db, durable: string, storedAtMs: number): Promise<void> {
    await db.query(
      `INSERT INTO ${this.schema}.consumer_progress AS p (durable, stored_at) VALUES ($1, $2)
       ON CONFLICT (durable) DO UPDATE SET stored_at = GREATEST(p.stored_at, EXCLUDED.stored_at)`,
      [durable, new Date(storedAtMs)],
    );
  }

  /** Locks up to `limit` requests due at `nowMs` (other replicas skip them) with their events. */
  async claimDue(db: PoolClient, nowMs: number, limit: number): Promise<Array<Omit<RequestState, 'events'> & { events: RequestEventV1[] }>> {
    const due = await db.query<OpenRow>(
      `SELECT request_id, first_seen_at, last_seen_at, terminal_seen_at
         FROM ${this.schema}.open_requests
        WHERE due_at <= $1
        ORDER BY due_at
        LIMIT $2
        FOR UPDATE SKIP LOCKED`,
      [new Date(nowMs), limit],
    );
    return this.withEvents(db, due.rows);
  }

  private async withEvents(db: PoolClient, open: OpenRow[]): Promise<Array<Omit<RequestState, 'events'> & { events: RequestEventV1[] }>> {
    if (open.length === 0) return [];
    const ids = open.map((r) => r.request_id);
    const ev = await db.query<{ request_id: string; event: RequestEventV1 }>(
      `SELECT request_id, event FROM ${this.schema}.request_events WHERE request_id = ANY($1::text[])`,
      [ids],
    );
    const byId = new Map<string, RequestEventV1[]>();
    for (const r of ev.rows) (byId.get(r.request_id) ?? byId.set(r.request_id, []).get(r.request_id))?.push(r.event);
    return open.map((r) => ({
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

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
