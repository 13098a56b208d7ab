import { Controller, Get, Header, Param, Query } from '@nestjs/common';
import { CurrentPrincipal, requireUnscoped, scopeQuery, type Principal } from '@arcwatch/access';
import { ReportsService } from './reports.service';

/**
 * A token scoped to a tenant reads its tenant's costs (cost, cost.csv, explain, one request);
 * the reports over every tenant (token cost, idle cost, chargeback) need an unscoped token.
 */
@Controller('api/v1/reports')
export class ReportsController {
  constructor(private readonly reports: ReportsService) {}

  /** ?from=&to=&by=tenant,team,project,model,model_version,api_key,day,instance,pool,kind&tenant= */
  @Get('cost')
  cost(@Query() q: Record<string, string>, @CurrentPrincipal() p: Principal) {
    return this.reports.cost(scopeQuery(p, q));
  }

  /** The same as CSV. */
  @Get('cost.csv')
  @Header('content-type', 'text/csv; charset=utf-8')
  costCsv(@Query() q: Record<string, string>, @CurrentPrincipal() p: Principal) {
    return this.reports.costCsv(scopeQuery(p, q));
  }

  /** Cost per 1M input and per 1M output tokens by model version. ?from=&to= */
  @Get('token-cost')
  tokenCost(@Query() q: Record<string, string>, @CurrentPrincipal() p: Principal) {
    requireUnscoped(p, 'the token-cost report');
    return this.reports.tokenCost(q);
  }

  /** Idle cost per pool, kept apart and shared back. ?from=&to= */
  @Get('idle')
  idle(@Query() q: Record<string, string>, @CurrentPrincipal() p: Principal) {
    requireUnscoped(p, 'the idle-cost report');
    return this.reports.idle(q);
  }

  /** ?tenant=&from=&to= — total → instances → windows → requests, each level the sum of the one below. */
  @Get('explain')
  explain(@Query() q: Record<string, string>, @CurrentPrincipal() p: Principal) {
    return this.reports.explain(scopeQuery(p, q));
  }

  /** FOCUS-shaped chargeback CSV with the Allocated* columns. ?from=&to= */
  @Get('chargeback.csv')
  @Header('content-type', 'text/csv; charset=utf-8')
  chargeback(@Query() q: Record<string, string>, @CurrentPrincipal() p: Principal) {
    requireUnscoped(p, 'the chargeback file');
    return this.reports.chargebackCsv(q);
  }

  /** One request's cost: amount, method, windows and the requests it shared the GPUs with. */
  @Get('requests/:id')
  request(@Param('id') id: string, @CurrentPrincipal() p: Principal) {
    return this.reports.requestCost(id, p.tenant);
  }
}
