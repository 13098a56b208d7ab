import { availableParallelism } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { Inject, Injectable } from '@nestjs/common';
import type { Labels } from '@arcwatch/contracts';
import { PromqlEngine, responseJson, selectorsOf, type RawQueryResult } from '@arcwatch/promql';
import type { SampleStore } from '@arcwatch/storage';
import { InjectClock, type Clock } from '@arcwatch/runtime';
import { SAMPLE_STORE } from '../database/sample-store.provider';
import { COLLECTOR_CONFIG, type CollectorConfig } from '../config';
import { inferFamilies, mergeMetadata, metadataResponse, type MetadataEntry, type MetricType } from './metric-metadata';
import { fromEngineError } from './query-errors';
import {
  parseInstantParams,
  parseMetadataParams,
  parseRangeParams,
  parseWindowParams,
  type FormParams,
} from './query-params';
import { emptyTimings, type TimedAnswer } from './query-timing';
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

/** The response body as JSON text (responseJson: the API's shape and JSON in one pass), timed. */
function serialized(raw: RawQueryResult, timings: TimedAnswer['timings']): TimedAnswer {
  const t0 = performance.now();
  const body = responseJson(raw);
  timings.serializeMs = performance.now() - t0;
  return { body, timings };
}

const ALL_TIME = { startMs: 0, endOffsetMs: 86_400_000 } as const;

export interface ExemplarSeries {
  seriesLabels: Labels;
  exemplars: Array<{ labels: Labels; value: string; timestamp: number }>;
}

/** Prometheus writes sample values as Go's strconv.FormatFloat(v, 'f', -1, 64) does. */
function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/**
 * The query endpoints over the sample store. One engine per request, because the `timeout`
 * parameter narrows the engine's deadline for that query only (the shorter of the two wins).
 */
@Injectable()
export class QueryService {
  private readonly startedAtMs: number;

  constructor(
    @Inject(SAMPLE_STORE) private readonly store: SampleStore,
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

  async instant(form: FormParams): Promise<TimedAnswer> {
    const p = parseInstantParams(form, this.clock.now());
    const timings = emptyTimings();
    let raw: RawQueryResult;
    try {
      raw = await this.engine(p.timeoutMs).evaluateInstant(p.query, p.timeMs, timings);
    } catch (err) {
      throw fromEngineError(err);
    }
    return serialized(raw, timings);
  }

  async range(form: FormParams): Promise<TimedAnswer> {
    const p = parseRangeParams(form);
    const timings = emptyTimings();
    let raw: RawQueryResult;
    try {
      raw = await this.engine(p.timeoutMs).evaluateRange(p.query, p.startMs, p.endMs, p.stepMs, timings);
    } catch (err) {
      throw fromEngineError(err);
    }
    return serialized(raw, timings);
  }

  /**
   * Exemplars of the series any selector of the query matches, in Prometheus's shape:
   * `[{seriesLabels, exemplars: [{labels, value, timestamp}]}]`, value as a string and timestamp
   * in float seconds. A query that does not parse fails as in Prometheus.
   */
  async exemplars(form: FormParams): Promise<ApiSuccess<ExemplarSeries[]>> {
    const p = parseWindowParams(form);
    let selectors;
    try {
      selectors = selectorsOf(p.query);
    } catch (err) {
      throw fromEngineError(err);
    }
    if (selectors.length === 0) return { status: 'success', data: [] };
    const found = await this.store.exemplars(selectors, p.startMs, p.endMs);
    return {
      status: 'success',
      data: found.map((s) => ({
        seriesLabels: s.labels,
        exemplars: s.exemplars.map((e) => ({
          labels: e.labels,
          value: formatValue(e.value),
          timestamp: e.timestampMs / 1000,
        })),
      })),
    };
  }

  /** What targets declared, then guesses from names for the families nobody described. */
  async metadata(form: FormParams): Promise<ApiSuccess<Record<string, MetadataEntry[]>>> {
    const params = parseMetadataParams(form);
    const [declared, names] = await Promise.all([
      this.store.metadata(params.metric),
      this.store.labelValues('__name__', [], ALL_TIME.startMs, this.clock.now() + ALL_TIME.endOffsetMs),
    ]);
    const entries = declared.map((d) => ({ metric: d.metric, type: d.type as MetricType, help: d.help, unit: d.unit }));
    return { status: 'success', data: metadataResponse(mergeMetadata(entries, inferFamilies(names)), params) };
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
