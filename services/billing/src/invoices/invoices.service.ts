import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Readable } from 'node:stream';
import type { Pool } from 'pg';
import { withTransaction } from '@arcwatch/storage';
import {
  COST_RECONCILED_V1,
  cloudEvent,
  costAllocatedId,
  costReconciledId,
  costReconciledSubject,
  type CostKey,
} from '@arcwatch/contracts';
import {
  CostError,
  formatMicro,
  readFocusCsv,
  reconcile,
  summarizeCost,
  type AllocationLine,
  type InvoiceLine,
  type InvoiceReject,
  type WindowAllocation,
} from '@arcwatch/cost';
import { enqueueOutbox } from '@arcwatch/outbox';
import { CLOCK, PG_POOL, type Clock } from '@arcwatch/runtime';
import { BILLING_SOURCE } from '../allocation/allocation.service';
import { BILLING_CONFIG, type BillingConfig } from '../config';
import { BillingError } from '../errors';
import { BillingMetrics } from '../metrics';
import { ReportsRepository } from '../reports/reports.repository';
import { InvoicesRepository } from './invoices.repository';

export interface ImportSummary {
  importId: string;
  /** False when the same file had been imported before: nothing changed. */
  new: boolean;
  rows: number;
  lines: number;
  newLines: number;
  rejects: InvoiceReject[];
}

const CHUNK = 1_000;

/**
 * Invoice import and reconciliation. An import streams the CSV through the FOCUS reader, stores
 * good lines in chunks inside one transaction and the rejects with their line numbers; its id is
 * a hash of what it found, so the same file imported again is recognised and changes nothing.
 * Reconciliation scales the stored allocation of each matched resource and charge period to the
 * billed amount and queues cost.reconciled events (deterministic ids) for the keys it touched.
 */
@Injectable()
export class InvoicesService {
  private readonly repo: InvoicesRepository;
  private readonly reports: ReportsRepository;

  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(BILLING_CONFIG) private readonly config: BillingConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly metrics: BillingMetrics,
  ) {
    this.repo = new InvoicesRepository(config.dbSchema);
    this.reports = new ReportsRepository(config.dbSchema);
  }

  async import(
    body: Readable | AsyncIterable<string | Buffer>,
    opts: { defaultCurrency?: string } = {},
  ): Promise<ImportSummary> {
    try {
      return await withTransaction(this.pool, async (db) => {
        const hash = createHash('sha256');
        const rejects: InvoiceReject[] = [];
        const ids: string[] = [];
        let chunk: InvoiceLine[] = [];
        let newLines = 0;
        let rows = 0;
        for await (const row of readFocusCsv(body, opts)) {
          rows++;
          if (!row.ok) {
            rejects.push(row.reject);
            hash.update(`reject:${row.reject.lineNo}:${row.reject.reason}\n`);
            continue;
          }
          ids.push(row.line.id);
          hash.update(`line:${row.line.id}\n`);
          chunk.push(row.line);
          if (chunk.length >= CHUNK) {
            newLines += await this.repo.saveLines(db, chunk);
            chunk = [];
          }
        }
        newLines += await this.repo.saveLines(db, chunk);
        const importId = hash.digest('hex').slice(0, 32);
        const isNew = await this.repo.saveImport(db, importId, ids, rejects, this.clock.now());
        this.metrics.inc('invoice_lines_imported', newLines);
        if (isNew) this.metrics.inc('invoice_rows_rejected', rejects.length);
        return { importId, new: isNew, rows, lines: ids.length, newLines, rejects };
      });
    } catch (err) {
      if (err instanceof CostError) throw new BillingError('INVOICE_INVALID', `${err.code}: ${err.message}`);
      throw err;
    }
  }

  async rejects(importId: string): Promise<Array<{ lineNo: number; reason: string; raw: Record<string, string> }>> {
    return this.repo.rejects(this.pool, importId);
  }

  async reconcile(importId: string): Promise<Record<string, unknown>> {
    return withTransaction(this.pool, async (db) => {
      const lines = await this.repo.importLines(db, importId);
      if (!lines) throw new BillingError('IMPORT_NOT_FOUND', `no invoice import ${importId}`);
      let from = Number.POSITIVE_INFINITY;
      let to = Number.NEGATIVE_INFINITY;
      for (const l of lines) {
        from = Math.min(from, l.chargePeriodStartMs);
        to = Math.max(to, l.chargePeriodEndMs);
      }
      const windows = lines.length === 0 ? [] : await this.reports.windows(db, from, to);
      const result = reconcile(windows, lines);
      // Per estimate key (window period): Σ reconciled lines, published as the final figure.
      const reconciledWindows: WindowAllocation[] = [];
      const estimates: WindowAllocation[] = [];
      for (const g of result.groups) {
        const byWindow = new Map<string, { w: WindowAllocation; lines: AllocationLine[]; est: AllocationLine[] }>();
        for (const l of g.lines) {
          const k = `${l.windowStartMs}|${l.instance}`;
          const e = byWindow.get(k) ?? {
            w: windows.find(
              (x) => x.windowStartMs === l.windowStartMs && x.instance === l.instance,
            ) as WindowAllocation,
            lines: [],
            est: [],
          };
          e.lines.push({ ...l, amountMicro: l.reconciledMicro });
          e.est.push(l);
          byWindow.set(k, e);
        }
        for (const e of byWindow.values()) {
          reconciledWindows.push({ ...e.w, lines: e.lines });
          estimates.push({ ...e.w, lines: e.est });
        }
      }
      const requests = await this.reports.requestsByIds(db, [
        ...new Set(
          reconciledWindows.flatMap((w) => w.lines.map((l) => l.requestId)).filter((x): x is string => x !== null),
        ),
      ]);
      const windowMs = this.config.windowSeconds * 1000;
      const finals = summarizeCost(reconciledWindows, requests, windowMs);
      const est = new Map(summarizeCost(estimates, requests, windowMs).map((r) => [keyString(r.key), r]));
      const events = finals.map((f) => {
        const e = est.get(keyString(f.key));
        const { status: _s, ...rest } = f.data;
        const data = {
          ...rest,
          status: 'final' as const,
          estimateAmount: e ? e.data.amount : '0.00',
          supersedes: costAllocatedId(f.key, f.data.method),
          invoiceImportId: importId,
        };
        return {
          subject: costReconciledSubject(f.key.tenant),
          event: cloudEvent({
            type: COST_RECONCILED_V1,
            source: BILLING_SOURCE,
            id: costReconciledId(f.key, importId, data.amount),
            time: f.key.periodEnd,
            subject: f.key.tenant,
            data,
          }),
        };
      });
      await enqueueOutbox(db, this.config.dbSchema, events);
      const summary = {
        importId,
        groups: result.groups.map((g) => ({
          resourceId: g.resourceId,
          periodStart: new Date(g.periodStartMs).toISOString(),
          periodEnd: new Date(g.periodEndMs).toISOString(),
          currency: g.currency,
          billed: formatMicro(g.billedMicro),
          modelled: formatMicro(g.modelledMicro),
          reconciled: formatMicro(g.lines.reduce((s, l) => s + l.reconciledMicro, 0n)),
          scale: g.scale,
          windows: g.windows,
        })),
        unmatchedInvoiceLines: result.unmatchedInvoiceLines.map((u) => ({
          ...u,
          billed: formatMicro(u.billedMicro),
          billedMicro: u.billedMicro.toString(),
        })),
        unbilledUsage: result.unbilledUsage.map((u) => ({
          instance: u.instance,
          resourceId: u.resourceId,
          from: new Date(u.fromMs).toISOString(),
          to: new Date(u.toMs).toISOString(),
          windows: u.windows,
          modelled: formatMicro(u.modelledMicro),
          currency: u.currency,
        })),
        events: events.length,
      };
      await db.query(
        `INSERT INTO ${this.config.dbSchema}.reconciliations (import_id, run_at, summary) VALUES ($1, $2, $3)
         ON CONFLICT (import_id) DO UPDATE SET summary = EXCLUDED.summary`,
        [importId, new Date(this.clock.now()), JSON.stringify(summary)],
      );
      return summary;
    });
  }
}

function keyString(k: CostKey): string {
  return JSON.stringify([k.periodStart, k.tenant, k.team, k.project, k.model, k.modelVersion, k.apiKeyHash, k.kind]);
}
