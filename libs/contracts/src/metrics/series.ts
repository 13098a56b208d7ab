/**
 * The shapes of stored series shared by the writer, the query engine and the APIs. Types only:
 * no service reads another's tables, but they agree on what a series is.
 */

/** Label set including `__name__`. */
export type Labels = Record<string, string>;

export type MatchType = '=' | '!=' | '=~' | '!~';

export interface LabelMatcher {
  name: string;
  type: MatchType;
  value: string;
}

/** The samples of one series inside a queried window, ordered by time (ms since epoch). */
export interface SeriesData {
  labels: Labels;
  timestamps: Float64Array | number[];
  values: Float64Array | number[];
}

/**
 * Read access to stored samples. `select` returns every series matching all matchers with its
 * samples in [startMs, endMs]; stale markers are returned as `STALE_NAN` values.
 */
export interface Queryable {
  select(matchers: LabelMatcher[], startMs: number, endMs: number): Promise<SeriesData[]>;
  labelNames(matchers: LabelMatcher[][], startMs: number, endMs: number): Promise<string[]>;
  labelValues(name: string, matchers: LabelMatcher[][], startMs: number, endMs: number): Promise<string[]>;
  series(matchers: LabelMatcher[][], startMs: number, endMs: number): Promise<Labels[]>;
}

/**
 * Prometheus's staleness marker: a NaN with a distinct bit pattern (0x7ff0000000000002).
 * Arithmetic turns it into an ordinary NaN, so it is tested by bits, never by value.
 */
const staleBuf = new DataView(new ArrayBuffer(8));
staleBuf.setUint32(0, 0x7ff00000);
staleBuf.setUint32(4, 0x00000002);
export const STALE_NAN: number = staleBuf.getFloat64(0);

const probe = new DataView(new ArrayBuffer(8));
export function isStaleNaN(v: number): boolean {
  if (v === v) return false;
  probe.setFloat64(0, v);
  return probe.getUint32(0) === 0x7ff00000 && probe.getUint32(4) === 0x00000002;
}
