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
  FLEET_QUERY,
  buildFleet,
  fleetFields,
  INVENTORY_METRIC,
  nodeSeriesQueries,
  type FleetSummary,
} from './fleet';
import { quoteLabel } from '../upstream/prometheus';

export type FleetView = FleetSummary & { at: string };

/** Fleet and node pages from the collector's Prometheus-compatible API. */
@Injectable()
export class FleetService {
  private computing: Promise<FleetView> | undefined;
  private latest: { computedAt: number; value: FleetView } | undefined;

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

  /**
   * The fleet now: the latest snapshot if it is at most `maxAgeMs` old. An older one, up to
   * `staleMs`, is answered at once while a refresh runs behind it (the live stream pushes the
   * refreshed fleet when it differs); older still, or none, waits for a fresh one. Callers that
   * ask while it is being computed share that computation.
   */
  current(maxAgeMs: number, staleMs = maxAgeMs): Promise<FleetView> {
    const age = this.latest ? this.clock.now() - this.latest.computedAt : Infinity;
    if (this.latest && age <= maxAgeMs) return Promise.resolve(this.latest.value);
    const fresh = this.refresh();
    return this.latest && age <= staleMs ? Promise.resolve(this.latest.value) : fresh;
  }

  private refresh(): Promise<FleetView> {
    if (!this.computing) {
      const computedAt = this.clock.now();
      const computing = this.fleetAt(computedAt);
      this.computing = computing;
      computing.then(
        (value) => {
          if (!this.latest || this.latest.computedAt <= computedAt) this.latest = { computedAt, value };
          this.computing = undefined;
        },
        () => (this.computing = undefined),
      );
    }
    return this.computing;
  }

  /** The fleet at a given time (not from the snapshot). */
  at(atMs: number): Promise<FleetView> {
    return this.fleetAt(atMs);
  }

  /**
   * Three asks in parallel: every heatmap metric in one instant query, the exporters' `up`, and
   * the inventory from the series catalog.
   */
  private async fleetAt(at: number): Promise<FleetView> {
    const [samples, inventory, up] = await Promise.all([
      this.instant(FLEET_QUERY, at),
      this.inventory(at),
      this.instant(EXPORTER_UP_QUERY, at),
    ]);
    return { at: iso(at), ...buildFleet(fleetFields(samples), inventory, up) };
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
