import { z } from 'zod';
import { REQUEST_STATUSES } from '@arcwatch/contracts';

const time = z
  .union([z.iso.datetime({ offset: true }), z.string().regex(/^\d+$/, 'RFC 3339 or ms since epoch')])
  .transform((v) => (/^\d+$/.test(v) ? Number(v) : Date.parse(v)));

/** The longest window one query may scan. */
export const MAX_WINDOW_MS = 31 * 86_400_000;

const windowed = {
  from: time.optional(),
  to: time.optional(),
  tenant: z.string().min(1).optional(),
  model: z.string().min(1).optional(),
};

export const searchQuerySchema = z.object({
  ...windowed,
  status: z.enum(REQUEST_STATUSES).optional(),
  minLatencyMs: z.coerce.number().nonnegative().optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().min(1).optional(),
});
export type SearchQuery = z.infer<typeof searchQuerySchema>;

export const exemplarsQuerySchema = z.object({
  ...windowed,
  metric: z.enum(['e2e', 'ttft', 'tpot', 'queue']).default('e2e'),
});
export type ExemplarsQuery = z.infer<typeof exemplarsQuerySchema>;

export const statsQuerySchema = z.object({
  ...windowed,
  step: z.enum(['1m', '1h']).default('1m'),
});
export type StatsQuery = z.infer<typeof statsQuerySchema>;

export const cursorSchema = z.object({ startedAt: z.iso.datetime({ offset: true }), requestId: z.string().min(1) });
