import { availableParallelism } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { Inject, Injectable } from '@nestjs/common';
import type { Queryable } from '@arcwatch/contracts';
import { parsePromql, PromqlEngine, type QueryResult } from '@arcwatch/promql';
import { InjectClock, type Clock } from '@arcwatch/runtime';
import { SAMPLE_STORE } from '../database/sample-store.provider';
import { COLLECTOR_CONFIG, type CollectorConfig } from '../config';
import { inferFamilies, metadataResponse, type MetadataEntry } from './metric-metadata';
import { fromEngineError } from './query-errors';
import { parseInstantParams, parseMetadataParams, parseRangeParams, parseWindowParams, type FormParams } from './query-params';
import { buildInfo, runtimeInfo, type BuildInfo, type RuntimeInfo } from './status-info';

/** Prometheus's defaults: --query.timeout 2m, --query.lookback-delta 5m. */
export const QUERY_DEFAULTS = { timeoutMs: 120_000, lookbackDeltaMs: 5 * 60_000 } as const;

/** A Prometheus API success body; warnings and infos only when there are some. */
export interface ApiSuccess<T> {
  status: 'success';
  data: T;
  warnings?: string[];
  infos?: string[];
}

type QueryData = { resultType: QueryResult['resultType']; result: QueryResult['result'] };

function envelope(r: QueryResult): ApiSuccess<QueryData> {
  const { warnings, infos, ...data } = r;
  return {
    status: 'success',
    data: data as QueryData,
    ...(warnings.length > 0 ? { warnings } : {}),
    ...(infos.length > 0 ? { infos } : {}),
  };
}

const ALL_TIME = { startMs: 0, endOffsetMs: 86_400_000 } as const;

/**
 * The query endpoints over the sample store. One engine per request, because the `timeout`
 * parameter narrows the engine's deadline for that query only (the shorter of the two wins).
 */
@Injectable()
export class QueryService {
  private readonly startedAtMs: number;

  constructor(
    @Inject(SAMPLE_STORE) private readonly store: Queryable,
    @InjectClock() private readonly clock: Clock,
    @Inject(COLLECTOR_CONFIG) private readonly config: CollectorConfig,
  ) {
    this.startedAtMs = clock.now();
  }

  private engine(timeoutMs: number | undefined): PromqlEngine {
    return new PromqlEngine(this.store, {
      lookbackDeltaMs: QUERY_DEFAULTS.lookbackDeltaMs,
      timeoutMs: Math.min(timeoutMs ?? QUERY_DEFAULTS.timeoutMs, QUERY_DEFAULTS.timeoutMs),
    });
  }

  async instant(form: FormParams): Promise<ApiSuccess<QueryData>> {
    const p = parseInstantParams(form, this.clock.now());
    try {
      return envelope(await this.engine(p.timeoutMs).instantQuery(p.query, p.timeMs));
    } catch (err) {
      throw fromEngineError(err);
    }
  }

  async range(form: FormParams): Promise<ApiSuccess<QueryData>> {
    const p = parseRangeParams(form);
    try {
      return envelope(await this.engine(p.timeoutMs).rangeQuery(p.query, p.startMs, p.endMs, p.stepMs));
    } catch (err) {
      throw fromEngineError(err);
    }
  }

  /** No exemplars are stored; the query is still checked, so a bad one fails as in Prometheus. */
  exemplars(form: FormParams): ApiSuccess<never[]> {
    const p = parseWindowParams(form);
    try {
      parsePromql(p.query);
    } catch (err) {
      throw fromEngineError(err);
    }
    return { status: 'success', data: [] };
  }

  async metadata(form: FormParams): Promise<ApiSuccess<Record<string, MetadataEntry[]>>> {
    const params = parseMetadataParams(form);
    const names = await this.store.labelValues('__name__', [], ALL_TIME.startMs, this.clock.now() + ALL_TIME.endOffsetMs);
    return { status: 'success', data: metadataResponse(inferFamilies(names), params) };
  }

  buildInfo(): ApiSuccess<BuildInfo> {
    return { status: 'success', data: buildInfo(process.version) };
  }

  runtimeInfo(): ApiSuccess<RuntimeInfo> {
    return {
      status: 'success',
      data: runtimeInfo({
        startedAtMs: this.startedAtMs,
        cwd: process.cwd(),
        cpus: availableParallelism(),
        heapLimitBytes: getHeapStatistics().heap_size_limit,
        // Chunk partitions older than this are dropped by storage maintenance.
        retention: `${this.config.retentionDays}d`,
      }),
    };
  }
}
