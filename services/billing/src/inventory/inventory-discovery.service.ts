import { bearerHeaders, clientToken } from '@arcwatch/access';
import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { z } from 'zod';
import { withTransaction } from '@arcwatch/storage';
import {
  gpuModelFromName,
  observeInstances,
  placementChanged,
  type SeriesLabels,
  type SkippedInstance,
} from '@arcwatch/cost';
import { CLOCK, PG_POOL, type Clock } from '@arcwatch/runtime';
import { AllocationRepository } from '../allocation/allocation.repository';
import { BILLING_CONFIG, type BillingConfig } from '../config';
import { BillingError } from '../errors';
import { BillingMetrics } from '../metrics';
import { PricesService } from '../prices/prices.service';

/** The part of a Prometheus /api/v1/query answer discovery reads: the labels of an instant vector. */
const vectorAnswer = z.object({
  status: z.literal('success'),
  data: z.object({
    resultType: z.literal('vector'),
    result: z.array(z.object({ metric: z.record(z.string(), z.string()) })),
  }),
});

export interface DiscoveryPass {
  /** Placement changes stored by this pass. */
  changes: number;
  observed: number;
  skipped: SkippedInstance[];
}

/**
 * Asks the collector's Prometheus-compatible API which GPUs and which serving instances each node
 * reports (observeInstances in libs/cost) and stores a placement row when an instance's node, GPUs
 * or GPU model differ from the last one stored, effective at the time of the query. How these
 * rows combine with request records and the inventory file is AllocationService.inventory's.
 */
@Injectable()
export class InventoryDiscoveryService {
  private readonly repo: AllocationRepository;
  /** The collector's query API needs a viewer token (AUTH_CLIENT_TOKEN, else AUTH_BOOTSTRAP_TOKEN). */
  private readonly headers: Record<string, string>;

  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(BILLING_CONFIG) private readonly config: BillingConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly prices: PricesService,
    private readonly metrics: BillingMetrics,
  ) {
    this.repo = new AllocationRepository(config.dbSchema);
    this.headers = bearerHeaders(clientToken(config));
  }

  get enabled(): boolean {
    return this.config.collectorUrl !== undefined;
  }

  async discoverOnce(): Promise<DiscoveryPass> {
    if (!this.enabled) return { changes: 0, observed: 0, skipped: [] };
    const now = this.clock.now();
    let gpus: SeriesLabels[];
    let serving: SeriesLabels[];
    try {
      [gpus, serving] = await Promise.all([
        this.query(this.config.gpuSeries, now),
        this.query(this.config.servingSeries, now),
      ]);
    } catch (err) {
      this.metrics.inc('discovery_failures');
      throw err;
    }
    const { observations, skipped } = observeInstances(gpus, serving);
    const known = [...new Set(this.prices.current().entries.map((e) => e.gpuModel))];
    const changes = await withTransaction(this.pool, async (db) => {
      const stored = await this.repo.metricPlacements(db);
      const rows = observations
        .map((o) => ({
          instance: o.instance,
          fromMs: now,
          node: o.node,
          gpuUuids: o.gpuUuids,
          gpuModel: gpuModelFromName(o.gpuModelName, known),
        }))
        // A row that is not after the last stored one would rewrite history; the clock went back or another replica was first.
        .filter((r) => {
          const last = stored.get(r.instance)?.at(-1);
          return (last === undefined || last.fromMs < r.fromMs) && placementChanged(last, r);
        });
      return this.repo.addMetricPlacements(db, rows);
    });
    this.metrics.inc('placements_discovered', changes);
    return { changes, observed: observations.length, skipped };
  }

  private async query(expr: string, atMs: number): Promise<SeriesLabels[]> {
    const url = new URL('/api/v1/query', this.config.collectorUrl);
    url.searchParams.set('query', expr);
    url.searchParams.set('time', String(atMs / 1000));
    let body: unknown;
    try {
      const res = await fetch(url, { headers: this.headers, signal: AbortSignal.timeout(10_000) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      body = await res.json();
    } catch (err) {
      throw new BillingError('COLLECTOR_UNAVAILABLE', `collector query ${expr} failed: ${(err as Error).message}`);
    }
    const parsed = vectorAnswer.safeParse(body);
    if (!parsed.success)
      throw new BillingError(
        'COLLECTOR_UNAVAILABLE',
        `collector query ${expr}: not an instant vector (${parsed.error.issues[0]?.message})`,
      );
    return parsed.data.data.result.map((r) => r.metric);
  }
}
