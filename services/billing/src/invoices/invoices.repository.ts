import { asc, eq, inArray } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import type { PoolClient } from 'pg';
import type { InvoiceLine, InvoiceReject } from '@arcwatch/cost';
import { billingTables, type BillingTables } from '../database/billing.schema';

export type Db = Pick<PoolClient, 'query'>;

/** The invoice tables: lines keyed by their row hash (a second import of a row adds nothing), imports, rejects. */
export class InvoicesRepository {
  private readonly t: BillingTables;

  constructor(private readonly s: string) {
    this.t = billingTables(s);
  }

  /** Stores lines; returns how many were new. */
  async saveLines(db: Db, lines: readonly InvoiceLine[]): Promise<number> {
    if (lines.length === 0) return 0;
    const { rowCount } = await db.query(
      `INSERT INTO ${this.s}.invoice_lines (line_id, line_no, resource_id, charge_period_start, charge_period_end, billed_cost_pico, currency,
         charge_category, line)
       SELECT id, n, r, to_timestamp(s / 1000.0), to_timestamp(e / 1000.0), b::numeric, c, cc, l::jsonb
       FROM unnest($1::text[], $2::int[], $3::text[], $4::bigint[], $5::bigint[], $6::text[], $7::text[], $8::text[], $9::text[])
         AS t(id, n, r, s, e, b, c, cc, l)
       ON CONFLICT (line_id) DO NOTHING`,
      [
        lines.map((l) => l.id),
        lines.map((l) => l.lineNo),
        lines.map((l) => l.resourceId),
        lines.map((l) => l.chargePeriodStartMs),
        lines.map((l) => l.chargePeriodEndMs),
        lines.map((l) => l.billedCost.toString()),
        lines.map((l) => l.currency),
        lines.map((l) => l.chargeCategory),
        lines.map((l) => JSON.stringify(l, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))),
      ],
    );
    return rowCount ?? 0;
  }

  /** Records the import; false when this very import (same lines, same rejects) was recorded before. */
  async saveImport(
    db: Db,
    importId: string,
    lineIds: readonly string[],
    rejects: readonly InvoiceReject[],
    atMs: number,
  ): Promise<boolean> {
    const { rowCount } = await db.query(
      `INSERT INTO ${this.s}.invoice_imports (import_id, imported_at, line_ids, rejects) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
      [importId, new Date(atMs), lineIds, rejects.length],
    );
    if (rejects.length > 0) {
      await db.query(
        `INSERT INTO ${this.s}.invoice_rejects (import_id, line_no, reason, raw)
         SELECT $1, n, r, w::jsonb FROM unnest($2::int[], $3::text[], $4::text[]) AS t(n, r, w) ON CONFLICT DO NOTHING`,
        [
          importId,
          rejects.map((r) => r.lineNo),
          rejects.map((r) => r.reason),
          rejects.map((r) => JSON.stringify(r.raw)),
        ],
      );
    }
    return (rowCount ?? 0) > 0;
  }

  async rejects(
    db: Db,
    importId: string,
  ): Promise<Array<{ lineNo: number; reason: string; raw: Record<string, string> }>> {
    const r = this.t.invoiceRejects;
    return drizzle(db as PoolClient)
      .select({ lineNo: r.lineNo, reason: r.reason, raw: r.raw })
      .from(r)
      .where(eq(r.importId, importId))
      .orderBy(asc(r.lineNo));
  }

  async importLines(db: Db, importId: string): Promise<InvoiceLine[] | undefined> {
    const d = drizzle(db as PoolClient);
    const [imp] = await d
      .select({ lineIds: this.t.invoiceImports.lineIds })
      .from(this.t.invoiceImports)
      .where(eq(this.t.invoiceImports.importId, importId));
    if (!imp) return undefined;
    const l = this.t.invoiceLines;
    const rows =
      imp.lineIds.length === 0
        ? []
        : await d
            .select({ line: l.line })
            .from(l)
            .where(inArray(l.lineId, imp.lineIds))
            .orderBy(asc(l.lineNo), asc(l.lineId));
    return rows.map(({ line }) => ({
      ...(line as unknown as InvoiceLine),
      billedCost: BigInt(line.billedCost as string),
      effectiveCost: line.effectiveCost == null ? null : BigInt(line.effectiveCost as string),
      listCost: line.listCost == null ? null : BigInt(line.listCost as string),
    }));
  }
}
