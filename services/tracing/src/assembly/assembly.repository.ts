import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Pool, PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { type CloudEvent, type RequestCompletedV1, type RequestEventV1 } from '@arcwatch/contracts';
import { storedAssemblyEvent, type AssemblyEvent, type RequestState } from '@arcwatch/request-assembly';

type Db = Pool | PoolClient;

export interface RecordOutcome {
  /** The request was already assembled: the event changes nothing. */
  late: boolean;
  /** False when the event id was already in the request's state (a redelivery or a replay). */
  inserted: boolean;
}

/** An open request's state to store, and when it has to be decided again. */
export interface OpenStateWrite {
  state: RequestState;
  dueAtMs: number;
  /** The row was read (and locked) in this transaction; otherwise it is new, as far as we know. */
  existed: boolean;
}

/** An assembled request, and its request.completed event minus the data (which is the record). */
export interface FinishItem {
  record: RequestCompletedV1;
  /** The record's JSON, as UTF-8, when the caller has it already (it is sent as it is). */
  bytes?: Buffer;
  /** The single-form event of the request (`finish` with queue `each`); unused in the batch form. */
  outbox?: { eventId: string; subject: string; envelope: CloudEvent<null> };
}

interface OpenRow {
  request_id: string;
  first_seen_at: Date;
  last_seen_at: Date;
  terminal_seen_at: Date | null;
  events: Record<string, RequestEventV1>;
}

/**
 * SQL of the assembly state. The schema name is validated by the config schema. Every statement
 * takes the requests of a whole group at once (arrays in, one round trip), and rows are always
 * locked in request-id order so that two replicas cannot deadlock on them.
 */
export class AssemblyRepository {
  constructor(private readonly schema: string) {}

  /** The open requests among `ids` (sorted), with their state, locked until the transaction ends. */
  async lockOpen(db: PoolClient, ids: readonly string[]): Promise<RequestState[]> {
    if (ids.length === 0) return [];
    const { rows } = await db.query<OpenRow>(
      `SELECT request_id, first_seen_at, last_seen_at, terminal_seen_at, events FROM ${this.schema}.open_requests
        WHERE request_id = ANY($1::text[]) ORDER BY request_id FOR UPDATE`,
      [ids],
    );
    return rows.map(toState);
  }

  /**
   * The requests among `ids` that were already assembled. A separate statement after lockOpen on
   * purpose: it reads a snapshot taken after the locks were granted, so a request that another
   * transaction finished while we waited for its row is seen as finished, not as new.
   */
  async finishedAmong(db: Db, ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const { rows } = await db.query<{ request_id: string }>(
      `SELECT request_id FROM ${this.schema}.finished_requests WHERE request_id = ANY($1::text[])`,
      [ids],
    );
    return new Set(rows.map((r) => r.request_id));
  }

  /**
   * Stores the states of requests that stay open. A row read under lock is overwritten (the state
   * written is a superset of it). A new one is inserted; should another replica have created it
   * meanwhile, the two states are merged: events by id, the earliest first and terminal arrival,
   * the latest last arrival, the earlier due time (deciding early only means deciding again).
   */
  async saveOpen(db: PoolClient, writes: readonly OpenStateWrite[]): Promise<void> {
    if (writes.length === 0) return;
    const s = this.schema;
    const sorted = [...writes].sort((a, b) => cmp(a.state.requestId, b.state.requestId));
    await db.query(
      `WITH input AS (
         SELECT * FROM jsonb_to_recordset($1::jsonb)
                  AS i(request_id text, events jsonb, first_seen_at timestamptz, last_seen_at timestamptz,
                       terminal_seen_at timestamptz, due_at timestamptz, existed boolean)
       ),
       upd AS (
         UPDATE ${s}.open_requests o
            SET events = i.events, first_seen_at = i.first_seen_at, last_seen_at = i.last_seen_at,
                terminal_seen_at = i.terminal_seen_at, due_at = i.due_at
           FROM input i
          WHERE i.existed AND o.request_id = i.request_id
       )
       INSERT INTO ${s}.open_requests AS o (request_id, events, first_seen_at, last_seen_at, terminal_seen_at, due_at)
       SELECT request_id, events, first_seen_at, last_seen_at, terminal_seen_at, due_at FROM input WHERE NOT existed ORDER BY request_id
       ON CONFLICT (request_id) DO UPDATE SET
         events           = o.events || EXCLUDED.events,
         first_seen_at    = LEAST(o.first_seen_at, EXCLUDED.first_seen_at),
         last_seen_at     = GREATEST(o.last_seen_at, EXCLUDED.last_seen_at),
         terminal_seen_at = LEAST(o.terminal_seen_at, EXCLUDED.terminal_seen_at),
         due_at           = LEAST(o.due_at, EXCLUDED.due_at)`,
      // One JSON document, not a jsonb[] array literal with every quote of every state escaped.
      [
        JSON.stringify(
          sorted.map((w) => ({
            request_id: w.state.requestId,
            events: storedEvents(w.state),
            first_seen_at: new Date(w.state.firstSeenAtMs),
            last_seen_at: new Date(w.state.lastSeenAtMs),
            terminal_seen_at: w.state.terminalSeenAtMs === null ? null : new Date(w.state.terminalSeenAtMs),
            due_at: new Date(w.dueAtMs),
            existed: w.existed,
          })),
        ),
      ],
    );
  }

  /** How far the consumer has read the stream: the latest stored-at time it committed. */
  async progress(db: Db, durable: string): Promise<number | undefined> {
    const { rows } = await db.query<{ stored_at: Date }>(
      `SELECT stored_at FROM ${this.schema}.consumer_progress WHERE durable = $1`,
      [durable],
    );
    return rows[0]?.stored_at.getTime();
  }

  async advanceProgress(db: Db, durable: string, storedAtMs: number): Promise<void> {
    await db.query(
      `INSERT INTO ${this.schema}.consumer_progress AS p (durable, stored_at) VALUES ($1, $2)
       ON CONFLICT (durable) DO UPDATE SET stored_at = GREATEST(p.stored_at, EXCLUDED.stored_at)`,
      [durable, new Date(storedAtMs)],
    );
  }

  /**
   * Locks up to `limit` requests due at `nowMs`, with their state; other replicas skip them. The
   * scan is the open_requests_due_at index in order, stopping at `limit`.
   */
  async claimDue(db: PoolClient, nowMs: number, limit: number): Promise<RequestState[]> {
    const { rows } = await db.query<OpenRow>(
      `SELECT request_id, first_seen_at, last_seen_at, terminal_seen_at, events
         FROM ${this.schema}.open_requests
        WHERE due_at <= $1
        ORDER BY due_at
        LIMIT $2
        FOR UPDATE SKIP LOCKED`,
      [new Date(nowMs), limit],
    );
    return rows.map(toState);
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
   * Closes requests: the ones not finished before are gated in finished_requests and projected
   * into `requests`; the open rows in `closeIds` are deleted. With `queueEach` it is one statement
   * that also queues each newly finished request's single-form event in the outbox: the item's
   * envelope with the record as its `data`, put together there so that the record crosses the wire
   * and is parsed once. Without it (the batch form, the default) the gate is one statement and the
   * projection a COPY (projectByCopy); the caller queues the batch messages from what this
   * returns. Returns the records that were newly finished (the others were a second assembly of a
   * finished request, reopened by a late event: nothing to do), in request-id order.
   */
  async finish(
    db: PoolClient,
    items: readonly FinishItem[],
    closeIds: readonly string[],
    finishedAtMs: number,
    queueEach: boolean,
  ): Promise<RequestCompletedV1[]> {
    if (items.length === 0 && closeIds.length === 0) return [];
    const sorted = [...items].sort((a, b) => cmp(a.record.requestId, b.record.requestId));
    if (queueEach) return this.finishEach(db, sorted, closeIds, finishedAtMs);
    const s = this.schema;
    const { rows } = await db.query<{ request_id: string }>(
      `WITH closed AS (DELETE FROM ${s}.open_requests WHERE request_id = ANY($2::text[]))
       INSERT INTO ${s}.finished_requests (request_id, started_at, finished_at)
       SELECT request_id, started_at, $3 FROM json_to_recordset($1::json) AS g(request_id text, started_at timestamptz)
        ORDER BY request_id
       ON CONFLICT (request_id) DO NOTHING
       RETURNING request_id`,
      [
        // json, not two arrays: pg escapes each element of an array literal by itself, twice over
        JSON.stringify(sorted.map((i) => ({ request_id: i.record.requestId, started_at: i.record.startedAt }))),
        closeIds,
        new Date(finishedAtMs),
      ],
    );
    const fresh = new Set(rows.map((r) => r.request_id));
    const projected = sorted.filter((i) => fresh.has(i.record.requestId));
    if (projected.length > 0) await this.projectByCopy(db, projected);
    return projected.map((i) => i.record);
  }

  /**
   * Newly finished requests into `requests` by COPY: a quarter less of PostgreSQL's CPU than the
   * same rows by INSERT … SELECT from a JSON document (60 against 80 ms per 1,000 requests with
   * their commit, medians of 50, docs/benchmarks.md). COPY has no ON CONFLICT: should a request
   * already have its row (its gate row deleted by hand, say), the COPY fails on the key, is rolled
   * back to its savepoint, and the rows go in by INSERT … ON CONFLICT DO NOTHING instead, as they
   * always did, so that such a request is skipped, not retried forever.
   */
  private async projectByCopy(db: PoolClient, items: readonly FinishItem[]): Promise<void> {
    await db.query('SAVEPOINT projection');
    try {
      await pipeline(
        Readable.from([copyRows(items)], { objectMode: false }),
        db.query(copyFrom(`COPY ${this.schema}.requests (${REQUEST_COLUMNS}) FROM STDIN`)),
      );
    } catch (err) {
      if ((err as { code?: string }).code !== UNIQUE_VIOLATION) throw err;
      await db.query('ROLLBACK TO SAVEPOINT projection');
      await db.query(
        `INSERT INTO ${this.schema}.requests (${REQUEST_COLUMNS})
         SELECT ${requestColumnsOf("r->>'requestId'", "(r->>'startedAt')::timestamptz")}
           FROM jsonb_array_elements($1::jsonb) AS r
         ON CONFLICT DO NOTHING`,
        [`[${items.map((i) => recordJson(i)).join(',')}]`],
      );
    }
    await db.query('RELEASE SAVEPOINT projection');
  }

  /** The single form's one statement: gate, projection, outbox rows and open rows closed. */
  private async finishEach(
    db: PoolClient,
    sorted: readonly FinishItem[],
    closeIds: readonly string[],
    finishedAtMs: number,
  ): Promise<RequestCompletedV1[]> {
    const s = this.schema;
    const { rows } = await db.query<{ request_id: string }>(
      `WITH input AS (
         SELECT x->'r'->>'requestId' AS request_id, (x->'r'->>'startedAt')::timestamptz AS started_at, x->'r' AS r,
                x->'e'->>'id' AS event_id, x->>'s' AS subject, x->'e' AS envelope
           FROM jsonb_array_elements($1::jsonb) AS x
       ),
       gate AS (
         INSERT INTO ${s}.finished_requests (request_id, started_at, finished_at)
         SELECT request_id, started_at, $2 FROM input ORDER BY request_id
         ON CONFLICT (request_id) DO NOTHING
         RETURNING request_id
       ),
       projected AS (
         INSERT INTO ${s}.requests (${REQUEST_COLUMNS})
         SELECT ${requestColumnsOf('i.request_id', 'i.started_at')}
           FROM input i JOIN gate USING (request_id)
         ON CONFLICT DO NOTHING
       ),
       queued AS (
         INSERT INTO ${s}.outbox (event_id, subject, event)
         SELECT i.event_id, i.subject, jsonb_set(i.envelope, '{data}', i.r)::text FROM input i JOIN gate USING (request_id) ORDER BY i.request_id
         ON CONFLICT (event_id) DO NOTHING
       ),
       closed AS (DELETE FROM ${s}.open_requests WHERE request_id = ANY($3::text[]))
       SELECT request_id FROM gate`,
      [
        // One JSON document for the whole group: a jsonb[] parameter would be an array literal
        // with every quote of every envelope escaped, built by pg and parsed again by the server.
        `[${sorted
          .map((i) => {
            const r = recordJson(i);
            return i.outbox
              ? `{"r":${r},"e":${JSON.stringify(i.outbox.envelope)},"s":${JSON.stringify(i.outbox.subject)}}`
              : `{"r":${r}}`;
          })
          .join(',')}]`,
        new Date(finishedAtMs),
        closeIds,
      ],
    );
    const fresh = new Set(rows.map((r) => r.request_id));
    return sorted.map((i) => i.record).filter((r) => fresh.has(r.requestId));
  }

  async countOpen(db: Db): Promise<number> {
    const { rows } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${this.schema}.open_requests`);
    return Number(rows[0].n);
  }
}

/** The derived fields (id, time in ms) are not stored: the id is the key, the time is re-parsed. */
function toState(r: OpenRow): RequestState {
  const events: AssemblyEvent[] = [];
  for (const [eventId, e] of Object.entries(r.events)) events.push(storedAssemblyEvent(e, eventId));
  return {
    requestId: r.request_id,
    events,
    firstSeenAtMs: r.first_seen_at.getTime(),
    lastSeenAtMs: r.last_seen_at.getTime(),
    terminalSeenAtMs: r.terminal_seen_at?.getTime() ?? null,
  };
}

/** The stored form of a state's events: the contract's shape, keyed by event id. */
function storedEvents(state: RequestState): Record<string, RequestEventV1> {
  // keyed by hashes: a null prototype, so that no id can be a key an object already has
  const out = Object.create(null) as Record<string, RequestEventV1>;
  for (const e of state.events) {
    // eventId is an own property only of an event built by hand (tests); the class's is a getter
    const { eventId: _id, timeMs: _t, ...event } = e;
    out[e.eventId] = event;
  }
  return out;
}

const UNIQUE_VIOLATION = '23505';

const REQUEST_COLUMNS = `request_id, started_at, ended_at, status, tenant, team, project, model, model_version,
  instance, queue_ms, ttft_ms, tpot_ms, e2e_ms, prompt_tokens, completion_tokens, node, gpu_uuids, record`;

/** The values of REQUEST_COLUMNS from a record `r` (jsonb), its id and start given as SQL. */
function requestColumnsOf(requestId: string, startedAt: string): string {
  return `${requestId}, ${startedAt}, (r->>'endedAt')::timestamptz, r->>'status',
          r->>'tenant', r->>'team', r->>'project', r->>'model', r->>'modelVersion', r->>'instance',
          (r->>'queueMs')::float8, (r->>'ttftMs')::float8, (r->>'tpotMs')::float8, (r->>'e2eMs')::float8,
          (r->>'promptTokens')::int, (r->>'completionTokens')::int,
          r->>'node', ARRAY(SELECT jsonb_array_elements_text(r->'gpuUuids')), r::json`;
}

/**
 * The rows of REQUEST_COLUMNS in COPY's text format, as UTF-8, the values the SQL of
 * requestColumnsOf takes from the same records: a JSON null or absent field is NULL, numbers as
 * JSON writes them, the GPUs as an array, the record as its JSON. A record's bytes, when the item
 * has them, are copied in as they are: JSON has no raw tab, newline or carriage return, so only a
 * backslash needs COPY's escaping, and a record with one is escaped from its text.
 */
export function copyRows(items: readonly FinishItem[]): Buffer {
  const heads = new Array<string>(items.length);
  const bodies = new Array<Buffer>(items.length);
  let size = 0;
  for (let k = 0; k < items.length; k++) {
    const { record: r, bytes } = items[k];
    const head = `${copyText(r.requestId)}\t${copyText(r.startedAt)}\t${copyText(r.endedAt)}\t${copyText(r.status)}\t${copyText(
      r.tenant,
    )}\t${copyText(r.team)}\t${copyText(r.project)}\t${copyText(r.model)}\t${copyText(r.modelVersion)}\t${copyText(
      r.instance,
    )}\t${copyNumber(r.queueMs)}\t${copyNumber(r.ttftMs)}\t${copyNumber(r.tpotMs)}\t${copyNumber(r.e2eMs)}\t${copyNumber(
      r.promptTokens,
    )}\t${copyNumber(r.completionTokens)}\t${copyText(r.node)}\t${copyText(arrayLiteral(r.gpuUuids))}\t`;
    const body =
      bytes !== undefined && !bytes.includes(BACKSLASH) ? bytes : Buffer.from(copyText(recordJson(items[k])), 'utf8');
    heads[k] = head;
    bodies[k] = body;
    size += Buffer.byteLength(head, 'utf8') + body.length + 1;
  }
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (let k = 0; k < items.length; k++) {
    at += out.write(heads[k], at, 'utf8');
    at += bodies[k].copy(out, at);
    out[at++] = NEWLINE;
  }
  return out;
}

/** The record's JSON text: from its bytes when the item has them. */
function recordJson(item: FinishItem): string {
  return item.bytes?.toString('utf8') ?? JSON.stringify(item.record);
}

const BACKSLASH = 0x5c;
const NEWLINE = 0x0a;
const COPY_SPECIAL = /[\\\n\r\t]/;
const COPY_SPECIALS = /[\\\n\r\t]/g;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function copyText(v: string | null | undefined): string {
  if (v === null || v === undefined) return '\\N';
  return COPY_SPECIAL.test(v) ? v.replace(COPY_SPECIALS, (c) => COPY_ESCAPES[c]) : v;
}

/** A text[] literal: every element quoted, so that no value can be read as NULL or split. */
function arrayLiteral(values: readonly string[] | undefined): string {
  if (values === undefined || values.length === 0) return '{}';
  return `{${values.map((v) => `"${v.replace(ARRAY_SPECIALS, '\\$&')}"`).join(',')}}`;
}

const ARRAY_SPECIALS = /["\\]/g;

function copyNumber(v: number | null | undefined): string {
  return typeof v === 'number' && Number.isFinite(v) ? String(v) : '\\N';
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
