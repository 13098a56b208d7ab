import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { z } from 'zod';
import { AccessGuard, CurrentPrincipal, effectiveTenant, type Principal } from '@arcwatch/access';
import { InjectClock, type Clock } from '@arcwatch/runtime';
import { ConsoleError } from '../errors';
import { parseWindow } from '../http/window';
import { RequestsService } from './requests.service';

const searchSchema = z.object({
  tenant: z.string().optional(),
  model: z.string().min(1).optional(),
  status: z.enum(['completed', 'failed', 'cancelled', 'abandoned']).optional(),
  minLatencyMs: z
    .string()
    .regex(/^\d+(\.\d+)?$/, 'a number of milliseconds')
    .optional(),
  node: z.string().min(1).optional(),
  gpu: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().min(1).optional(),
  from: z.string().optional(),
  to: z.string().optional(),
});

@Controller('api/console/requests')
@UseGuards(AccessGuard)
export class RequestsController {
  constructor(
    private readonly requests: RequestsService,
    @InjectClock() private readonly clock: Clock,
  ) {}

  /** ?from=&to=&tenant=&model=&status=&minLatencyMs=&node=&gpu=&limit=&cursor= (newest first) */
  @Get()
  search(@CurrentPrincipal() p: Principal, @Query() raw: Record<string, string>) {
    const q = searchSchema.safeParse(dropEmpty(raw));
    if (!q.success)
      throw new ConsoleError(
        'VALIDATION_FAILED',
        q.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
      );
    const { fromMs, toMs } = parseWindow(q.data, this.clock.now());
    return this.requests.search({ ...q.data, fromMs, toMs, tenant: effectiveTenant(p, q.data.tenant) });
  }

  @Get(':id')
  byId(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    return this.requests.page(p, id);
  }
}

export function dropEmpty(q: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(q).filter(([, v]) => v !== ''));
}
