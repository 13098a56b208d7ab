import { Body, Controller, Get, HttpCode, Post, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { AllTenants } from '@arcwatch/access';
import { mergeForm } from './query-params';
import { QueryTiming } from './query-timing';
import { QueryService } from './query.service';

/**
 * Prometheus's query API. GET reads the URL query; POST reads an x-www-form-urlencoded body
 * (and the URL query), and answers 200 like Prometheus, not Nest's default 201.
 */
/**
 * Read with a viewer token. Series are not partitioned by tenant (GPU, node and engine series
 * carry no tenant, request statistics carry it as a label), so a token scoped to one tenant is
 * refused here (403) rather than answered with a rewritten query: docs/access.md.
 */
@AllTenants('the metrics API')
@Controller('api/v1')
export class QueryController {
  constructor(
    private readonly queries: QueryService,
    private readonly timing: QueryTiming,
  ) {}

  @Get('query')
  async getQuery(@Query() query: unknown, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.timing.send(reply, 'query', await this.queries.instant(mergeForm(query, undefined)));
  }

  @Post('query')
  @HttpCode(200)
  async postQuery(@Query() query: unknown, @Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.timing.send(reply, 'query', await this.queries.instant(mergeForm(query, body)));
  }

  @Get('query_range')
  async getQueryRange(@Query() query: unknown, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.timing.send(reply, 'query_range', await this.queries.range(mergeForm(query, undefined)));
  }

  @Post('query_range')
  @HttpCode(200)
  async postQueryRange(
    @Query() query: unknown,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.timing.send(reply, 'query_range', await this.queries.range(mergeForm(query, body)));
  }

  @Get('query_exemplars')
  getExemplars(@Query() query: unknown) {
    return this.queries.exemplars(mergeForm(query, undefined));
  }

  @Post('query_exemplars')
  @HttpCode(200)
  postExemplars(@Query() query: unknown, @Body() body: unknown) {
    return this.queries.exemplars(mergeForm(query, body));
  }

  @Get('metadata')
  getMetadata(@Query() query: unknown) {
    return this.queries.metadata(mergeForm(query, undefined));
  }

  @Get('status/buildinfo')
  getBuildInfo() {
    return this.queries.buildInfo();
  }

  @Get('status/runtimeinfo')
  getRuntimeInfo() {
    return this.queries.runtimeInfo();
  }
}
