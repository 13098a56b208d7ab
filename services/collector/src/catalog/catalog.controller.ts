import { AllTenants } from '@arcwatch/access';
import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { z } from 'zod';
import { CollectorError } from '../errors';
import { success } from '../http/prometheus-response';
import { CatalogService, type CatalogQuery } from './catalog.service';

const stringOrList = z.union([z.string(), z.array(z.string())]).optional();
const paramsSchema = z.object({
  'match[]': stringOrList,
  match: stringOrList,
  start: z.string().optional(),
  end: z.string().optional(),
});

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** GET query string and POST form body carry the same parameters; form values win. */
export function readCatalogQuery(query: unknown, body: unknown): CatalogQuery {
  const q = paramsSchema.safeParse(query ?? {});
  const b = paramsSchema.safeParse(typeof body === 'object' && body !== null ? body : {});
  if (!q.success || !b.success)
    throw new CollectorError('QUERY_INVALID', `invalid parameters: ${(q.error ?? b.error)?.issues[0]?.message}`);
  const match = [...list(q.data['match[]']), ...list(q.data.match), ...list(b.data['match[]']), ...list(b.data.match)];
  const start = b.data.start ?? q.data.start;
  const end = b.data.end ?? q.data.end;
  return { match, ...(start === undefined ? {} : { start }), ...(end === undefined ? {} : { end }) };
}

/**
 * Read with a viewer token. Series are not partitioned by tenant (GPU, node and engine series
 * carry no tenant, request statistics carry it as a label), so a token scoped to one tenant is
 * refused here (403) rather than answered with a rewritten query: docs/access.md.
 */
@AllTenants('the metrics API')
@Controller('api/v1')
export class CatalogController {
  constructor(private readonly catalog: CatalogService) {}

  @Get('series')
  async getSeries(@Query() query: unknown) {
    return success(await this.catalog.series(readCatalogQuery(query, undefined)));
  }

  @Post('series')
  @HttpCode(200)
  async postSeries(@Query() query: unknown, @Body() body: unknown) {
    return success(await this.catalog.series(readCatalogQuery(query, body)));
  }

  @Get('labels')
  async getLabels(@Query() query: unknown) {
    return success(await this.catalog.labelNames(readCatalogQuery(query, undefined)));
  }

  @Post('labels')
  @HttpCode(200)
  async postLabels(@Query() query: unknown, @Body() body: unknown) {
    return success(await this.catalog.labelNames(readCatalogQuery(query, body)));
  }

  @Get('label/:name/values')
  async getLabelValues(@Param('name') name: string, @Query() query: unknown) {
    return success(await this.catalog.labelValues(name, readCatalogQuery(query, undefined)));
  }
}
