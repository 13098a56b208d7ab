import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { formatZodError, type RequestCompletedV1 } from '@arcwatch/contracts';
import type { z } from 'zod';
import { CLOCK, PG_POOL, type Clock } from '@arcwatch/runtime';
import { TRACING_CONFIG, type TracingConfig } from '../config';
import { toAssemblyEvent, compareEvents } from '@arcwatch/request-assembly';
import { HOUR_MS, MINUTE_MS, QUANTILES, rollUp, type LatencyName } from '../stats/request-stats';
import { quantile } from '../stats/latency-sketch';
import { StatsService } from '../stats/stats.service';
import { TracingError } from '../errors';
import { RequestsRepository, type LatencyColumn } from './requests.repository';
import {
  MAX_WINDOW_MS,
  cursorSchema,
  exemplarsQuerySchema,
  searchQuerySchema,
  statsQuerySchema,
} from './requests.schema';

/** Latency bucket upper bounds for exemplars, in seconds (Prometheus-like). */
export const EXEMPLAR_BUCKETS_S = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300] as const;
const COLUMN: Record<LatencyName, LatencyColumn> = {
  e2e: 'e2e_ms',
  ttft: 'ttft_ms',
  tpot: 'tpot_ms',
  queue: 'queue_ms',
};

export type RequestView =
  | (RequestCompletedV1 & { state: 'assembled' })
  | { requestId: string; state: 'open'; timeline: Array<{ kind: string; time: string }> };

@Injectable()
export class RequestsService {
  private readonly repo: RequestsRepository;

  constructor(
    @Inject(PG_POOL) pool: Pool,
    @Inject(TRACING_CONFIG) config: TracingConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly stats: StatsService,
  ) {
    this.repo = new RequestsRepository(pool, config.dbSchema);
  }

  /** An assembled request, or one still being assembled with the events seen so far. */
  async byId(requestId: string): Promise<RequestView> {
    const record = await this.repo.byId(requestId);
    if (record) return { ...record, state: 'assembled' };
    const events = await this.repo.openEvents(requestId);
    if (events.length === 0) throw new TracingError('REQUEST_NOT_FOUND', `no request ${requestId}`);
    const timeline = events
      .map(toAssemblyEvent)
      .sort(compareEvents)
      .map((e) => ({ kind: e.kind, time: new Date(e.timeMs).toISOString() }));
    return { requestId, state: 'open', timeline };
  }

  async search(raw: unknown): Promise<{ requests: RequestCompletedV1[]; nextCursor: string | null }> {
    const q = parse(searchQuerySchema, raw);
    const { fromMs, toMs } = this.window(q.from, q.to);
    let after: { startedAt: string; requestId: string } | undefined;
    if (q.cursor) {
      const c = cursorSchema.safeParse(safeJson(Buffer.from(q.cursor, 'base64url').toString('utf8')));
      if (!c.success) throw new TracingError('QUERY_INVALID', 'cursor: not a cursor returned by this API');
      after = c.data;
    }
    const requests = await this.repo.search({
      fromMs,
      toMs,
      tenant: q.tenant,
      model: q.model,
      status: q.status,
      minLatencyMs: q.minLatencyMs,
      limit: q.limit,
      after,
    });
    const last = requests[requests.length - 1];
    const nextCursor =
      requests.length === q.limit && last
        ? Buffer.from(JSON.stringify({ startedAt: last.startedAt, requestId: last.requestId })).toString('base64url')
        : null;
    return { requests, nextCursor };
  }

  /** Latency buckets with the ids of their slowest requests: the link from a chart to requests. */
  async exemplars(raw: unknown) {
    const q = parse(exemplarsQuerySchema, raw);
    const { fromMs, toMs } = this.window(q.from, q.to);
    const bounds = EXEMPLAR_BUCKETS_S.map((s) => s * 1000);
    const rows = await this.repo.latencyBuckets(COLUMN[q.metric], bounds, {
      fromMs,
      toMs,
      tenant: q.tenant,
      model: q.model,
    });
    return {
      metric: q.metric,
      from: new Date(fromMs).toISOString(),
      to: new Date(toMs).toISOString(),
      buckets: rows.map((r) => ({
        le: r.bucket < bounds.length ? String(EXEMPLAR_BUCKETS_S[r.bucket]) : '+Inf',
        count: r.count,
        exemplars: r.exemplars.map((id) => ({ requestId: id })),
        maxSeconds: r.maxMs / 1000,
      })),
    };
  }

  /** Per-minute or per-hour statistics (hours are merged minutes). */
  async statistics(raw: unknown) {
    const q = parse(statsQuerySchema, raw);
    const { fromMs, toMs } = this.window(q.from, q.to);
    const minutes = await this.stats.minutes(fromMs, toMs, { model: q.model, tenant: q.tenant });
    const windows = q.step === '1h' ? rollUp(minutes, HOUR_MS) : minutes;
    return windows.map((w) => ({
      start: new Date(w.startMs).toISOString(),
      stepSeconds: (q.step === '1h' ? HOUR_MS : MINUTE_MS) / 1000,
      ...w.key,
      requests: w.byStatus,
      errorsByReason: w.errorsByReason,
      tokens: { prompt: w.promptTokens, completion: w.completionTokens, cached: w.cachedTokens },
      latencySeconds: Object.fromEntries(
        Object.entries(w.latencies).map(([name, sk]) => [
          name,
          sk.count === 0 ? null : Object.fromEntries(QUANTILES.map((qq) => [`p${qq * 100}`, quantile(sk, qq)])),
        ]),
      ),
    }));
  }

  private window(from: number | undefined, to: number | undefined): { fromMs: number; toMs: number } {
    const toMs = to ?? this.clock.now();
    const fromMs = from ?? toMs - HOUR_MS;
    if (!(fromMs < toMs)) throw new TracingError('QUERY_INVALID', 'from: must be before to');
    if (toMs - fromMs > MAX_WINDOW_MS) throw new TracingError('QUERY_INVALID', 'from: window longer than 31 days');
    return { fromMs, toMs };
  }
}

function parse<S extends z.ZodType>(schema: S, raw: unknown): z.infer<S> {
  const r = schema.safeParse(raw ?? {});
  if (!r.success) throw new TracingError('QUERY_INVALID', formatZodError(r.error));
  return r.data;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
