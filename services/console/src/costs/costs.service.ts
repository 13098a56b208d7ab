import { Injectable } from '@nestjs/common';
import { ConsoleError } from '../errors';
import { iso } from '../http/window';
import { UpstreamClient } from '../upstream/upstream.client';

const DIMENSIONS = [
  'tenant',
  'team',
  'project',
  'model',
  'model_version',
  'api_key',
  'day',
  'instance',
  'pool',
  'kind',
] as const;

/** Billing's reports, passed through with the caller's tenant applied. */
@Injectable()
export class CostsService {
  constructor(private readonly upstream: UpstreamClient) {}

  async cost(fromMs: number, toMs: number, by: string, tenant: string | undefined) {
    const dims = by.split(',').filter((d) => d !== '');
    const bad = dims.find((d) => !(DIMENSIONS as readonly string[]).includes(d));
    if (bad !== undefined || dims.length === 0)
      throw new ConsoleError('VALIDATION_FAILED', `by: one or more of ${DIMENSIONS.join(', ')}`, {
        details: { field: 'by' },
      });
    const body = await this.upstream.get<{ items?: Array<Record<string, unknown>> }>('billing', 'api/v1/reports/cost', {
      from: iso(fromMs),
      to: iso(toMs),
      by: dims.join(','),
      tenant,
    });
    const items = (body.items ?? []).filter((r) => tenant === undefined || !('tenant' in r) || r.tenant === tenant);
    return { ...body, items, tenant: tenant ?? null };
  }

  /** Total → instances → windows → requests for one tenant (billing checks that each level adds up). */
  async explain(fromMs: number, toMs: number, tenant: string) {
    return this.upstream.get<Record<string, unknown>>('billing', 'api/v1/reports/explain', {
      from: iso(fromMs),
      to: iso(toMs),
      tenant,
    });
  }

  /** Fleet-wide views (idle per pool, cost per 1M tokens): unscoped tokens only. */
  async fleetWide(fromMs: number, toMs: number) {
    const [idle, tokenCost] = await Promise.all([
      this.upstream.call<Record<string, unknown>>('billing', 'GET', 'api/v1/reports/idle', {
        from: iso(fromMs),
        to: iso(toMs),
      }),
      this.upstream.call<Record<string, unknown>>('billing', 'GET', 'api/v1/reports/token-cost', {
        from: iso(fromMs),
        to: iso(toMs),
      }),
    ]);
    return { idle: this.upstream.unwrap(idle), tokenCost: this.upstream.unwrap(tokenCost) };
  }
}
