import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { withTransaction } from '@arcwatch/storage';
import { costAllocatedSubject, cloudEvent, COST_ALLOCATED_V1, type RequestCompletedV1 } from '@arcwatch/contracts';
import {
  Allocator,
  Inventory,
  costRequestFromRecord,
  loadInventory,
  mergePlacementStatements,
  placementsFromMerged,
  summarizeCost,
  windowStart,
  type CostRequest,
  type DiscoveryDefaults,
  type Placement,
  type WindowAllocation,
} from '@arcwatch/cost';
import { enqueueOutbox } from '@arcwatch/outbox';
import { CLOCK, PG_POOL, type Clock } from '@arcwatch/runtime';
import { BILLING_CONFIG, type BillingConfig } from '../config';
import { BillingMetrics } from '../metrics';
import { BudgetsService } from '../budgets/budgets.service';
import { PricesService } from '../prices/prices.service';
import { AllocationRepository, type DiscoveredInstance } from './allocation.repository';

export const ALLOCATION_DURABLE = 'billing-allocation';
const RECORDS_PER_TRANSACTION = 5_000;
export const BILLING_SOURCE = 'arcwatch/billing';
const DISCOVERED_POOL = 'discovered';

/**
 * The shell around the pure allocation core (libs/cost). `recordBatch` stores the request
 * records of a consumed group in one transaction; `closeDue` allocates every window that the
 * stream has moved past (the latest request end seen, less the lateness allowance, never past
 * the clock), stores the lines and queues cost.allocated events in the same transaction.
 * Closing follows stream time, not the wall clock, so a replay of the same records closes the
 * same windows with the same requests and publishes the same bytes.
 */
@Injectable()
export class AllocationService {
  private readonly repo: AllocationRepository;
  private readonly fileInventory: Inventory;

  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(BILLING_CONFIG) private readonly config: BillingConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly prices: PricesService,
    private readonly budgets: BudgetsService,
    private readonly metrics: BillingMetrics,
  ) {
    this.repo = new AllocationRepository(config.dbSchema);
    this.fileInventory = config.inventoryFile ? loadInventory(config.inventoryFile) : new Inventory([], []);
  }

  private get windowMs(): number {
    return this.config.windowSeconds * 1000;
  }

  /**
   * Stores a consumed group's records, one transaction per RECORDS_PER_TRANSACTION (a group of
   * batch messages may hold hundreds of thousands). Every step is idempotent on the request id, so
   * a crash between two transactions redelivers the group and the first part is a no-op.
   */
  async recordBatch(records: readonly RequestCompletedV1[]): Promise<void> {
    for (let i = 0; i < records.length; i += RECORDS_PER_TRANSACTION)
      await this.recordChunk(records.slice(i, i + RECORDS_PER_TRANSACTION));
  }

  private async recordChunk(records: readonly RequestCompletedV1[]): Promise<void> {
    const reqs: Array<CostRequest & { node: string | null }> = [];
    const found = new Map<string, DiscoveredInstance & { gpuUuids: string[] }>();
    for (const rec of records) {
      const c = costRequestFromRecord(rec);
      if (!c.ok) {
        this.metrics.inc('requests_skipped');
        continue;
      }
      reqs.push({ ...c.request, node: rec.node });
      const from = windowStart(c.request.startMs, this.windowMs);
      const prev = found.get(c.request.instance);
      if (!prev || from < prev.fromMs) {
        found.set(c.request.instance, {
          instance: c.request.instance,
          node: rec.node,
          gpus: rec.gpuUuids.length > 0 ? rec.gpuUuids.length : this.config.defaultGpus,
          gpuUuids: rec.gpuUuids,
          fromMs: from,
        });
      }
    }
    if (reqs.length === 0) return;
    const statements = this.recordStatements(
      records.filter((r) => r.instance !== null && !this.fileInventory.has(r.instance)),
    );
    await withTransaction(this.pool, async (db) => {
      const fresh = await this.repo.saveRequests(db, reqs);
      await this.repo.discoverInstances(
        db,
        [...found.values()].filter((f) => !this.fileInventory.has(f.instance)),
      );
      await this.repo.addRecordPlacements(db, statements);
      const closed = await this.repo.progress(db, 'closed_until');
      const late = closed === null ? 0 : reqs.filter((r) => fresh.has(r.requestId) && r.startMs < closed).length;
      this.metrics.inc('requests_late', late);
      this.metrics.inc('requests_recorded', fresh.size);
      await this.repo.raiseProgress(db, 'watermark', Math.max(...reqs.map((r) => r.endMs)));
    });
  }

  /**
   * What the records say about placement, as stretches of windows per instance: the
   * earliest-starting record of a window speaks for it, and a window that repeats the stretch
   * before it (or names no GPUs on the same node) extends that stretch.
   */
  private recordStatements(
    records: readonly RequestCompletedV1[],
  ): Array<{ instance: string; fromMs: number; toMs: number; node: string | null; gpuUuids: string[] }> {
    const byWindow = new Map<
      string,
      { instance: string; fromMs: number; startMs: number; id: string; node: string | null; gpuUuids: string[] }
    >();
    for (const rec of records) {
      const c = costRequestFromRecord(rec);
      if (!c.ok) continue;
      const fromMs = windowStart(c.request.startMs, this.windowMs);
      const key = `${c.request.instance}\u0000${fromMs}`;
      const prev = byWindow.get(key);
      if (
        prev &&
        (prev.startMs < c.request.startMs || (prev.startMs === c.request.startMs && prev.id <= rec.requestId))
      )
        continue;
      byWindow.set(key, {
        instance: c.request.instance,
        fromMs,
        startMs: c.request.startMs,
        id: rec.requestId,
        node: rec.node,
        gpuUuids: [...rec.gpuUuids],
      });
    }
    const sorted = [...byWindow.values()].sort((a, b) =>
      a.instance < b.instance ? -1 : a.instance > b.instance ? 1 : a.fromMs - b.fromMs,
    );
    const out: Array<{ instance: string; fromMs: number; toMs: number; node: string | null; gpuUuids: string[] }> = [];
    for (const s of sorted) {
      const last = out[out.length - 1];
      const repeats =
        last !== undefined &&
        last.instance === s.instance &&
        last.node === s.node &&
        (s.gpuUuids.length === 0 || last.gpuUuids.join(',') === s.gpuUuids.join(','));
      if (repeats) last.toMs = s.fromMs + this.windowMs;
      else
        out.push({
          instance: s.instance,
          fromMs: s.fromMs,
          toMs: s.fromMs + this.windowMs,
          node: s.node,
          gpuUuids: s.gpuUuids,
        });
    }
    return out;
  }

  /**
   * The inventory now. Precedence: an instance the inventory file lists is taken from the file
   * alone; any other instance gets the merged timeline of what request records state (node, GPU
   * UUIDs, each change from the window of the record that showed it) and what the collector's
   * metrics showed (each change from the time it was observed), the record winning at the same time
   * (mergePlacementStatements); what neither says comes from the BILLING_DEFAULT_* values.
   */
  async inventory(): Promise<Inventory> {
    const [records, fromMetrics] = await Promise.all([
      this.repo.recordPlacements(this.pool),
      this.repo.metricPlacements(this.pool),
    ]);
    const defaults: DiscoveryDefaults = {
      pool: DISCOVERED_POOL,
      gpuModel: this.config.defaultGpuModel,
      gpus: this.config.defaultGpus,
      price: {
        provider: this.config.defaultProvider,
        region: this.config.defaultRegion,
        pricingKind: this.config.defaultPricingKind,
      },
    };
    const placements: Placement[] = [];
    for (const instance of new Set([...records.keys(), ...fromMetrics.keys()])) {
      if (this.fileInventory.has(instance)) continue;
      const merged = mergePlacementStatements(records.get(instance) ?? [], fromMetrics.get(instance) ?? []);
      placements.push(...placementsFromMerged(instance, merged, defaults));
    }
    return this.fileInventory.extend(
      [{ name: DISCOVERED_POOL, owner: this.config.defaultPoolOwner, idle: this.config.defaultIdle }],
      placements,
    );
  }

  /** Allocates the windows the stream has moved past, a bounded number per transaction; returns how many instance windows. */
  async closeDue(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.closeSome();
      total += n;
      if (n === 0) return total;
    }
  }

  private async closeSome(): Promise<number> {
    const inventory = await this.inventory();
    return withTransaction(this.pool, async (db) => {
      await this.repo.lockClosing(db);
      const watermark = await this.repo.progress(db, 'watermark');
      if (watermark === null) return 0;
      const w = this.windowMs;
      const target = windowStart(Math.min(watermark, this.clock.now()) - this.config.latenessSeconds * 1000, w);
      const previous = await this.repo.progress(db, 'closed_until');
      let closed = previous;
      if (closed === null) {
        const first = await this.repo.earliestStart(db);
        if (first === null) return 0;
        closed = windowStart(first, w);
      }
      if (closed >= target) return 0;
      const upto = Math.min(target, closed + this.config.maxWindowsPerPass * w);
      const requests = await this.repo.requestsDuring(db, closed, upto);
      const allocator = new Allocator(inventory, this.prices.current(), {
        windowMs: w,
        method: this.config.method,
        prefillWeight: this.config.prefillWeight,
        decodeWeight: this.config.decodeWeight,
      });
      const byInstance = new Map<string, CostRequest[]>();
      for (const r of requests) {
        const list = byInstance.get(r.instance) ?? [];
        list.push(r);
        byInstance.set(r.instance, list);
      }
      const windows: WindowAllocation[] = [];
      for (const instance of inventory.instances())
        windows.push(...allocator.allocateInstance(instance, byInstance.get(instance) ?? [], closed, upto));
      const byId = new Map(requests.map((r) => [r.requestId, r]));
      await this.repo.saveWindows(db, windows, byId);
      const records = summarizeCost(windows, byId, w);
      await this.repo.saveCostRecords(db, records);
      await enqueueOutbox(
        db,
        this.config.dbSchema,
        records.map((r) => ({
          subject: costAllocatedSubject(r.key.tenant),
          event: cloudEvent({
            type: COST_ALLOCATED_V1,
            source: BILLING_SOURCE,
            id: r.id,
            time: r.key.periodEnd,
            subject: r.key.tenant,
            data: r.data,
          }),
        })),
      );
      await this.repo.raiseProgress(db, 'closed_until', upto);
      await this.budgets.afterClose(db, previous, upto);
      this.metrics.inc('windows_allocated', windows.length);
      return Math.max(windows.length, 1);
    });
  }
}
