import { Controller, Get, Param, Query } from '@nestjs/common';
import { assertCanSee, CurrentPrincipal, scopeQuery, type Principal } from '@arcwatch/access';
import { RequestsService } from './requests.service';

/** A token scoped to a tenant sees that tenant's requests and statistics only (docs/access.md). */
@Controller('api/v1/requests')
export class RequestsController {
  constructor(private readonly requests: RequestsService) {}

  /** ?tenant=&model=&from=&to=&minLatencyMs=&status=&limit=&cursor= (newest first). */
  @Get()
  search(@Query() query: Record<string, string>, @CurrentPrincipal() p: Principal) {
    return this.requests.search(scopeQuery(p, query));
  }

  /** ?metric=e2e|ttft|tpot|queue&from=&to=&tenant=&model= */
  @Get('exemplars')
  exemplars(@Query() query: Record<string, string>, @CurrentPrincipal() p: Principal) {
    return this.requests.exemplars(scopeQuery(p, query));
  }

  /** ?step=1m|1h&from=&to=&tenant=&model= */
  @Get('stats')
  stats(@Query() query: Record<string, string>, @CurrentPrincipal() p: Principal) {
    return this.requests.statistics(scopeQuery(p, query));
  }

  /** Another tenant's request, or one still open (its tenant not settled), is missing to a scoped token. */
  @Get(':id')
  async byId(@Param('id') id: string, @CurrentPrincipal() p: Principal) {
    const view = await this.requests.byId(id);
    assertCanSee(p, view.state === 'assembled' ? view.tenant : undefined, `request ${id}`);
    return view;
  }
}
