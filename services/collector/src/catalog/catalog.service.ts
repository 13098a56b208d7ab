import { Inject, Injectable } from '@nestjs/common';
import { InjectClock, type Clock } from '@arcwatch/runtime';
import type { Labels, Queryable } from '@arcwatch/contracts';
import { CollectorError } from '../errors';
import { SAMPLE_STORE } from '../database/sample-store.provider';
import { parseSelector } from './selector.parser';

/** The query parameters the three catalog endpoints share, already read from GET or POST. */
export interface CatalogQuery {
  match: string[];
  start?: string;
  end?: string;
}

/** Prometheus time parameters: RFC 3339 or (fractional) Unix seconds. */
export function parseTime(text: string, field: string): number {
  if (/^-?\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const ms = Date.parse(text);
  if (Number.isNaN(ms))
    throw new CollectorError(
      'QUERY_INVALID',
      `invalid parameter "${field}": cannot parse "${text}" to a valid timestamp`,
    );
  return ms;
}

/**
 * /api/v1/series, /labels, /label/<name>/values over the sample store. Without start/end the
 * window is all time, as in Prometheus. No SQL here: matchers (regular expressions included) are
 * resolved by the sample store's in-memory series catalog, the one the query engine uses, which
 * libs/storage keeps in step with its series table; drizzle's sampleStoreTables are for readers
 * without that catalog.
 */
@Injectable()
export class CatalogService {
  constructor(
    @Inject(SAMPLE_STORE) private readonly store: Queryable,
    @InjectClock() private readonly clock: Clock,
  ) {}

  private window(q: CatalogQuery): { startMs: number; endMs: number; matchers: ReturnType<typeof parseSelector>[] } {
    const startMs = q.start === undefined ? 0 : parseTime(q.start, 'start');
    const endMs = q.end === undefined ? this.clock.now() + 86_400_000 : parseTime(q.end, 'end');
    if (endMs < startMs)
      throw new CollectorError('QUERY_INVALID', 'invalid parameter "end": end timestamp must not be before start time');
    return { startMs, endMs, matchers: q.match.map(parseSelector) };
  }

  async series(q: CatalogQuery): Promise<Labels[]> {
    if (q.match.length === 0) throw new CollectorError('QUERY_INVALID', 'no match[] parameter provided');
    const w = this.window(q);
    return this.store.series(w.matchers, w.startMs, w.endMs);
  }

  async labelNames(q: CatalogQuery): Promise<string[]> {
    const w = this.window(q);
    return this.store.labelNames(w.matchers, w.startMs, w.endMs);
  }

  async labelValues(name: string, q: CatalogQuery): Promise<string[]> {
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name))
      throw new CollectorError('QUERY_INVALID', `invalid label name: "${name}"`);
    const w = this.window(q);
    return this.store.labelValues(name, w.matchers, w.startMs, w.endMs);
  }
}
