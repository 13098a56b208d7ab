import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { z } from 'zod';
import { formatMicro } from '@arcwatch/cost';
import { CLOCK, PG_POOL, type Clock } from '@arcwatch/runtime';
import { BILLING_CONFIG, type BillingConfig } from '../config';
import { BillingError } from '../errors';
import { REPORT_DIMENSIONS, ReportsRepository, type ReportDimension } from './reports.repository';

const HOUR_MS = 3_600_000;

/** RFC 3339, or Unix seconds with an optional fraction (docs/http-api.md). */
export function parseApiTime(v: string, field: string): number {
  const t = /^\d+(\.\d+)?$/.test(v) ? Math.round(Number(v) * 1000) : Date.parse(v);
  if (Number.isNaN(t)) throw new BillingError('QUERY_INVALID', `${field}: not a time`);
  return t;
}

const dims = z
  .string()
  .default('tenant')
  .transform((s, ctx) => {
    const list = s
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x !== '');
    for (const d of list) {
      if (!(d in REPORT_DIMENSIONS))
        ctx.addIssue({
          code: 'custom',
          message: `unknown dimension ${d} (${Object.keys(REPORT_DIMENSIONS).join(', ')})`,
        });
    }
    return list as ReportDimension[];
  });

/** Cost reports, the cost of one request, idle per pool, chargeback rows and the "explain this cost" tree. */
@Injectable()
export class ReportsService {
  private readonly repo: ReportsRepository;

  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(BILLING_CONFIG) config: BillingConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    this.repo = new ReportsRepository(config.dbSchema);
  }

  range(q: Record<string, string | undefined>): { fromMs: number; toMs: number } {
    const toMs = q.to ? parseApiTime(q.to, 'to') : this.clock.now();
    const fromMs = q.from ? parseApiTime(q.from, 'from') : toMs - HOUR_MS;
    if (fromMs >= toMs) throw new BillingError('QUERY_INVALID', 'from: must be before to');
    return { fromMs, toMs };
  }

  async cost(q: Record<string, string | undefined>) {
    const { fromMs, toMs } = this.range(q);
    const by = dims.safeParse(q.by);
    if (!by.success) throw new BillingError('QUERY_INVALID', `by: ${by.error.issues.map((i) => i.message).join('; ')}`);
    const rows = await this.repo.costBy(this.pool, fromMs, toMs, by.data, q.tenant);
    return {
      from: new Date(fromMs).toISOString(),
      to: new Date(toMs).toISOString(),
      by: by.data,
      items: rows.map((r): Record<string, string | number | null> => ({
        ...r,
        amount: formatMicro(BigInt(String(r.amount_micro))),
      })),
    };
  }

  /** The cost report as CSV: the grouping columns, then currency, amount, requests, GPU-seconds. */
  async costCsv(q: Record<string, string | undefined>): Promise<string> {
    const r = await this.cost(q);
    const csv = (v: unknown) => {
      const t = v === null || v === undefined ? '' : String(v);
      return /[",\n]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
    };
    const head = [...r.by, 'currency', 'amount', 'requests', 'gpu_seconds'];
    const rows = r.items.map((i) =>
      [...r.by.map((d) => i[d]), i.currency, i.amount, i.requests, i.gpu_seconds].map(csv).join(','),
    );
    return [head.join(','), ...rows].join('\n') + '\n';
  }

  async tokenCost(q: Record<string, string | undefined>) {
    const { fromMs, toMs } = this.range(q);
    const rows = await this.repo.tokenCost(this.pool, fromMs, toMs);
    // Cost per million tokens, each kind against the whole cost of the model version.
    const perMillion = (amount: bigint, tokens: bigint) =>
      tokens === 0n ? null : formatMicro((amount * 1_000_000n) / tokens);
    return {
      from: new Date(fromMs).toISOString(),
      to: new Date(toMs).toISOString(),
      items: rows.map((r) => ({
        model: r.model,
        modelVersion: r.model_version,
        currency: r.currency,
        amount: formatMicro(BigInt(r.amount_micro)),
        inputTokens: Number(r.input_tokens),
        outputTokens: Number(r.output_tokens),
        costPer1MInputTokens: perMillion(BigInt(r.amount_micro), BigInt(r.input_tokens)),
        costPer1MOutputTokens: perMillion(BigInt(r.amount_micro), BigInt(r.output_tokens)),
      })),
    };
  }

  /**
   * `onlyTenant` (a scoped token's tenant): another tenant's request is missing, and the requests
   * it shared GPUs with are listed only where they are that tenant's too.
   */
  async requestCost(requestId: string, onlyTenant: string | null = null) {
    const lines = await this.repo.requestLines(this.pool, requestId);
    if (lines.length === 0 || (onlyTenant !== null && lines[0]!.tenant !== onlyTenant))
      throw new BillingError('REQUEST_NOT_FOUND', `no allocation for request ${requestId}`);
    const windows = [];
    let total = 0n;
    for (const l of lines) {
      const parties = await this.repo.windowParties(this.pool, Number(l.ws), l.instance);
      total += BigInt(l.amount_micro);
      windows.push({
        window: new Date(Number(l.ws)).toISOString(),
        windowEnd: new Date(Number(l.we)).toISOString(),
        instance: l.instance,
        amount: formatMicro(BigInt(l.amount_micro)),
        idleShare: formatMicro(BigInt(l.idle_share_micro)),
        gpuSeconds: Math.round(l.gpu_ms) / 1000,
        sharedWith: parties
          .filter((p) => p.request_id !== null && p.request_id !== requestId)
          .filter((p) => onlyTenant === null || p.tenant === onlyTenant)
          .map((p) => ({ requestId: p.request_id, tenant: p.tenant })),
      });
    }
    const first = lines[0]!;
    return {
      requestId,
      tenant: first.tenant,
      amount: formatMicro(total),
      currency: first.currency,
      method: first.method,
      idlePolicy: first.idle_policy,
      windows,
    };
  }

  async idle(q: Record<string, string | undefined>) {
    const { fromMs, toMs } = this.range(q);
    const rows = await this.repo.idleByPool(this.pool, fromMs, toMs);
    return {
      items: rows.map((r) => {
        const total = BigInt(r.total_micro);
        const idle = BigInt(r.idle_micro) + BigInt(r.idle_shared_micro);
        return {
          pool: r.pool,
          currency: r.currency,
          total: formatMicro(total),
          idleKeptApart: formatMicro(BigInt(r.idle_micro)),
          idleSharedBack: formatMicro(BigInt(r.idle_shared_micro)),
          idleShare: total === 0n ? null : Number((idle * 1_000_000n) / total) / 1_000_000,
        };
      }),
    };
  }

  /**
   * The path from a tenant's total for the span down to instances, windows and requests, each
   * node carrying the amount of its children's sum, plus the idle share inside it and the method.
   */
  async explain(q: Record<string, string | undefined>) {
    if (!q.tenant) throw new BillingError('QUERY_INVALID', 'tenant: required');
    const { fromMs, toMs } = this.range(q);
    const windows = await this.repo.windows(this.pool, fromMs, toMs);
    const instances = new Map<
      string,
      {
        amount: bigint;
        idle: bigint;
        windows: Array<{
          window: string;
          method: string;
          idlePolicy: string;
          amount: bigint;
          idle: bigint;
          windowCost: bigint;
          requests: Array<{ requestId: string | null; amount: bigint; idleShare: bigint }>;
        }>;
      }
    >();
    let total = 0n;
    let idleTotal = 0n;
    for (const w of windows) {
      const mine = w.lines.filter((l) => l.tenant === q.tenant || (l.requestId === null && l.idleOwner === q.tenant));
      if (mine.length === 0) continue;
      const inst = instances.get(w.instance) ?? { amount: 0n, idle: 0n, windows: [] };
      let amount = 0n;
      let idle = 0n;
      const requests = mine.map((l) => {
        amount += l.amountMicro;
        const idlePart = l.requestId === null ? l.amountMicro : l.idleShareMicro;
        idle += idlePart;
        return { requestId: l.requestId, amount: l.amountMicro, idleShare: idlePart };
      });
      inst.windows.push({
        window: new Date(w.windowStartMs).toISOString(),
        method: w.method,
        idlePolicy: w.idlePolicy,
        amount,
        idle,
        windowCost: w.costMicro,
        requests,
      });
      inst.amount += amount;
      inst.idle += idle;
      instances.set(w.instance, inst);
      total += amount;
      idleTotal += idle;
    }
    return {
      tenant: q.tenant,
      from: new Date(fromMs).toISOString(),
      to: new Date(toMs).toISOString(),
      amount: formatMicro(total),
      idleShare: formatMicro(idleTotal),
      instances: [...instances.entries()].map(([instance, i]) => ({
        instance,
        amount: formatMicro(i.amount),
        idleShare: formatMicro(i.idle),
        windows: i.windows.map((w) => ({
          window: w.window,
          method: w.method,
          idlePolicy: w.idlePolicy,
          windowCost: formatMicro(w.windowCost),
          amount: formatMicro(w.amount),
          idleShare: formatMicro(w.idle),
          requests: w.requests.map((r) => ({
            requestId: r.requestId,
            amount: formatMicro(r.amount),
            idleShare: formatMicro(r.idleShare),
          })),
        })),
      })),
    };
  }

  /**
   * FOCUS-shaped chargeback rows, one per day, tenant, team, project, model version and instance,
   * with the split-cost-allocation columns (Allocated*) naming how the cost was split.
   */
  async chargebackCsv(q: Record<string, string | undefined>): Promise<string> {
    const { fromMs, toMs } = this.range(q);
    const rows = await this.repo.costBy(this.pool, fromMs, toMs, [
      'day',
      'tenant',
      'team',
      'project',
      'model',
      'model_version',
      'instance',
      'kind',
    ]);
    const windows = await this.repo.windows(this.pool, fromMs, toMs);
    const method = windows[0]?.method ?? 'time-share';
    const head = [
      'BillingPeriodStart',
      'BillingPeriodEnd',
      'ChargePeriodStart',
      'ChargePeriodEnd',
      'BilledCost',
      'EffectiveCost',
      'BillingCurrency',
      'ChargeCategory',
      'ChargeDescription',
      'ResourceId',
      'ServiceName',
      'SubAccountName',
      'Tags',
      'AllocatedMethodId',
      'AllocatedMethodDetails',
      'AllocatedResourceId',
      'AllocatedResourceName',
      'AllocatedTags',
    ];
    const csv = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
    const lines = [head.join(',')];
    for (const r of rows) {
      const day = String(r.day);
      const start = `${day}T00:00:00Z`;
      const end = new Date(Date.parse(start) + 86_400_000).toISOString().replace('.000Z', 'Z');
      const amount = formatMicro(BigInt(String(r.amount_micro)));
      const tags = JSON.stringify({
        tenant: r.tenant,
        team: r.team,
        project: r.project,
        model: r.model,
        modelVersion: r.model_version,
      });
      lines.push(
        [
          new Date(fromMs).toISOString(),
          new Date(toMs).toISOString(),
          start,
          end,
          amount,
          amount,
          String(r.currency),
          'Usage',
          `GPU time of ${String(r.instance)} (${String(r.kind)})`,
          String(r.instance),
          'ArcWatch GPU inference',
          String(r.tenant),
          tags,
          method,
          JSON.stringify({
            windowSeconds: (windows[0]?.windowEndMs ?? 60_000) / 1000 - (windows[0]?.windowStartMs ?? 0) / 1000,
            idle: windows[0]?.idlePolicy ?? 'separate',
          }),
          `${String(r.tenant)}/${String(r.team)}/${String(r.project)}`,
          `${String(r.model)} ${String(r.model_version)}`,
          tags,
        ]
          .map(csv)
          .join(','),
      );
    }
    return lines.join('\n') + '\n';
  }
}
