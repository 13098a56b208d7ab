import { Controller, Get, Param, Query } from '@nestjs/common';
import { RequestsService } from './requests.service';

@Controller('api/v1/requests')
export class RequestsController {
  constructor(private readonly requests: RequestsService) {}

  /** ?tenant=&model=&from=&to=&minLatencyMs=&status=&limit=&cursor= (newest first). */
  @Get()
  search(@Query() query: Record<string, string>) {
    return this.requests.search(query);
  }

  /** ?metric=e2e|ttft|tpot|queue&from=&to=&tenant=&model= */
  @Get('exemplars')
  exemplars(@Query() query: Record<string, string>) {
    return this.requests.exemplars(query);
  }

  /** ?step=1m|1h&from=&to=&tenant=&model= */
  @Get('stats')
  stats(@Query() query: Record<string, string>) {
    return this.requests.statistics(query);
  }

  @Get(':id')
  byId(@Param('id') id: string) {
    return this.requests.byId(id);
  }
}
