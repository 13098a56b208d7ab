import { Controller, Get, Header, Param, Query } from '@nestjs/common';
import { ReportsService } from './reports.service';

@Controller('api/v1/reports')
export class ReportsController {
  constructor(private readonly reports: ReportsService) {}

  /** ?from=&to=&by=tenant,team,project,model,model_version,api_key,day,instance,pool,kind&tenant= */
  @Get('cost')
  cost(@Query() q: Record<string, string>) {
    return this.reports.cost(q);
  }

  /** The same as CSV. */
  @Get('cost.csv')
  @Header('content-type', 'text/csv; charset=utf-8')
  costCsv(@Query() q: Record<string, string>) {
    return this.reports.costCsv(q);
  }

  /** Cost per 1M input and per 1M output tokens by model version. ?from=&to= */
  @Get('token-cost')
  tokenCost(@Query() q: Record<string, string>) {
    return this.reports.tokenCost(q);
  }

  /** Idle cost per pool, kept apart and shared back. ?from=&to= */
  @Get('idle')
  idle(@Query() q: Record<string, string>) {
    return this.reports.idle(q);
  }

  /** ?tenant=&from=&to= — total → instances → windows → requests, each level the sum of the one below. */
  @Get('explain')
  explain(@Query() q: Record<string, string>) {
    return this.reports.explain(q);
  }

  /** FOCUS-shaped chargeback CSV with the Allocated* columns. ?from=&to= */
  @Get('chargeback.csv')
  @Header('content-type', 'text/csv; charset=utf-8')
  chargeback(@Query() q: Record<string, string>) {
    return this.reports.chargebackCsv(q);
  }

  /** One request's cost: amount, method, windows and the requests it shared the GPUs with. */
  @Get('requests/:id')
  request(@Param('id') id: string) {
    return this.reports.requestCost(id);
  }
}
