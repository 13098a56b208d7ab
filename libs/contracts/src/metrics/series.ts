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
 * samples in [startMs, endMs]; stale markers are returned as `STALE_NAN` values. The arrays may
 * be shared with the store's cache: read them, never write into them.
 */
export interface Queryable {
  select(matchers: LabelMatcher[], startMs: number, endMs: number): Promise<SeriesData[]>;
  labelNames(matchers: LabelMatcher[][], startMs: number, endMs: number): Promise<string[]>;
  labelValues(name: string, matchers: LabelMatcher[][], startMs: number, endMs: number): Promise<string[]>;
  series(matchers: LabelMatcher[][], startMs: number, endMs: number): Promise<Labels[]>;
  /**
   * Optional: the rollup resolutions (ms) this store can answer from downsampled data, and the
   * rollups of the series matching all matchers with a bucket end in (startMs, endMs]. A range
   * query whose windows are whole buckets of one of them reads these instead of raw samples.
   */
  rollupResolutionsMs?(): Promise<readonly number[]>;
  selectRollups?(
    matchers: LabelMatcher[],
    startMs: number,
    endMs: number,
    resolutionMs: number,
  ): Promise<RollupSeriesData[]>;
}

/**
 * Downsampled samples of one series: a list of partial aggregates, each over the samples of
 * one bucket `(end - resolution, end]` (stale markers left out), ordered by time. A bucket may
 * come as several consecutive partials (its samples split between two stored chunks); folding
 * them in order gives the bucket's aggregate, and folding every partial of a window gives the
 * window's. `corr` is the counter-reset correction inside the partial: the sum of every sample
 * followed by a lower one.
 */
export interface RollupSeriesData {
  labels: Labels;
  ends: Float64Array;
  count: Float64Array;
  sum: Float64Array;
  min: Float64Array;
  max: Float64Array;
  firstTs: Float64Array;
  firstV: Float64Array;
  lastTs: Float64Array;
  lastV: Float64Array;
  corr: Float64Array;
  /** The time of a stale marker after the partial's last sample (NaN: none); count 0: markers only. */
  staleAfter: Float64Array;
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
