import { Injectable } from '@nestjs/common';
import { InjectClock, type Clock } from '@arcwatch/runtime';
import { UpstreamClient } from '../upstream/upstream.client';
import {
  matrixSchema,
  seriesSchema,
  stepFor,
  vectorSchema,
  type MatrixSeries,
  type VectorSample,
} from '../upstream/prometheus';
import { ConsoleError } from '../errors';
import { iso } from '../http/window';
import {
  EXPORTER_UP_QUERY,
  FLEET_FIELDS,
  buildFleet,
  INVENTORY_METRIC,
  nodeSeriesQueries,
  type FleetField,
  type FleetSummary,
} from './fleet';
import { quoteLabel } from '../upstream/prometheus';

/** Fleet and node pages from the collector's Prometheus-compatible API. */
@Injectable()
export class FleetService {
  private now: Promise<FleetSummary & { at: string }> | undefined;

  constructor(
    private readonly upstream: UpstreamClient,
    @InjectClock() private readonly clock: Clock,
  ) {}

  async instant(expr: string, atMs: number): Promise<VectorSample[]> {
    const body = await this.upstream.get<unknown>('collector', 'api/v1/query', { query: expr, time: atMs / 1000 });
    const p = vectorSchema.safeParse(body);
    if (!p.success)
      throw new ConsoleError('UPSTREAM_UNAVAILABLE', `collector: unexpected answer to ${expr}`, {
        details: { service: 'collector' },
        expose: true,
      });
    return p.data.data.result;
  }

  /**
   * Every GPU with samples in the last hour, from the series catalog (/api/v1/series): the labels
   * without reading the hour's samples, which `last_over_time(…[1h])` would (720 per GPU at 5 s).
   */
  async inventory(atMs: number): Promise<VectorSample[]> {
    const body = await this.upstream.get<unknown>('collector', 'api/v1/series', {
      'match[]': INVENTORY_METRIC,
      start: (atMs - 3_600_000) / 1000,
      end: atMs / 1000,
    });
    const p = seriesSchema.safeParse(body);
    if (!p.success)
      throw new ConsoleError('UPSTREAM_UNAVAILABLE', 'collector: unexpected answer to /api/v1/series', {
        details: { service: 'collector' },
        expose: true,
      });
    return p.data.data.map(({ __name__: _, ...metric }) => ({ metric, value: [atMs / 1000, 'NaN'] }));
  }

  async range(expr: string, fromMs: number, toMs: number, stepS: number): Promise<MatrixSeries[]> {
    const body = await this.upstream.get<unknown>('collector', 'api/v1/query_range', {
      query: expr,
      start: fromMs / 1000,
      end: toMs / 1000,
      step: stepS,
    });
    const p = matrixSchema.safeParse(body);
    if (!p.success)
      throw new ConsoleError('UPSTREAM_UNAVAILABLE', `collector: unexpected answer to ${expr}`, {
        details: { service: 'collector' },
        expose: true,
      });
    return p.data.data.result;
  }

  /** The fleet now: callers that ask while it is being computed share that computation. */
  fleet(atMs: number | undefined): Promise<FleetSummary & { at: string }> {
    if (atMs !== undefined) return this.fleetAt(atMs);
    if (!this.now) {
      this.now = this.fleetAt(this.clock.now());
      const clear = () => (this.now = undefined);
      this.now.then(clear, clear);
    }
    return this.now;
  }

  private async fleetAt(at: number): Promise<FleetSummary & { at: string }> {
    const fields = Object.keys(FLEET_FIELDS) as FleetField[];
    const [values, inventory, up] = await Promise.all([
      Promise.all(fields.map((f) => this.instant(FLEET_FIELDS[f], at))),
      this.inventory(at),
      this.instant(EXPORTER_UP_QUERY, at),
    ]);
    const byField = Object.fromEntries(fields.map((f, i) => [f, values[i]])) as Record<FleetField, VectorSample[]>;
    return { at: iso(at), ...buildFleet(byField, inventory, up) };
  }

  /** Every DCGM field that matters for one node's GPUs over the window, and the engines on it. */
  async node(node: string, fromMs: number, toMs: number) {
    const step = stepFor(fromMs, toMs);
    const queries = nodeSeriesQueries(node);
    const entries = await Promise.all(
      Object.entries(queries).map(async ([field, expr]) => {
        const series = await this.range(expr, fromMs, toMs, step);
        return [
          field,
          series.map((s) => ({
            gpu: s.metric.gpu ?? '?',
            uuid: s.metric.UUID ?? null,
            points: s.values.map(([t, v]) => [t, Number(v)]),
          })),
        ] as const;
      }),
    );
    const engines = await this.instant(
      `sum by (instance, model_name) (vllm:num_requests_running{node=${quoteLabel(node)}})`,
      toMs,
    );
    return {
      node,
      from: iso(fromMs),
      to: iso(toMs),
      stepSeconds: step,
      series: Object.fromEntries(entries),
      instances: engines.map((e) => ({
        instance: e.metric.instance ?? null,
        model: e.metric.model_name ?? null,
        running: Number(e.value[1]),
      })),
    };
  }
}
