import { Body, Controller, Get, Param, Post, Query } from '@nestjs/common';
import { CurrentPrincipal, requireUnscoped, Roles, type Principal } from '@arcwatch/access';
import type { Readable } from 'node:stream';
import { BillingError } from '../errors';
import { InvoicesService } from './invoices.service';

@Controller('api/v1/invoices')
export class InvoicesController {
  constructor(private readonly invoices: InvoicesService) {}

  /**
   * A FOCUS CSV as the body (content-type text/csv), read as a stream. ?currency=USD supplies
   * BillingCurrency for files without it. Answers the import id, counts and every reject.
   */
  @Post()
  @Roles('admin')
  async import(@Body() body: unknown, @CurrentPrincipal() p: Principal, @Query('currency') currency?: string) {
    requireUnscoped(p, 'an invoice');
    if (!body || typeof (body as Readable)[Symbol.asyncIterator] !== 'function') {
      throw new BillingError('INVOICE_INVALID', 'send the invoice as CSV (content-type text/csv)');
    }
    const s = await this.invoices.import(body as Readable, currency ? { defaultCurrency: currency } : {});
    return {
      importId: s.importId,
      new: s.new,
      rows: s.rows,
      lines: s.lines,
      newLines: s.newLines,
      rejects: s.rejects.map((r) => ({ lineNo: r.lineNo, reason: r.reason })),
    };
  }

  @Get(':importId/rejects')
  async rejects(@Param('importId') importId: string, @CurrentPrincipal() p: Principal) {
    requireUnscoped(p, 'an invoice');
    return { items: await this.invoices.rejects(importId) };
  }

  /** Reconciles the allocation to this import's lines and publishes cost.reconciled. */
  @Post(':importId/reconciliation')
  @Roles('admin')
  reconcile(@Param('importId') importId: string, @CurrentPrincipal() p: Principal) {
    requireUnscoped(p, 'an invoice');
    return this.invoices.reconcile(importId);
  }
}
