import type { MetricsBatchSeries, MetricsBatchV1, WireValue } from './metrics-batch.v1';
import type { Labels } from './series';
import { packedSampleCount, type MetricsBatchV2 } from './metrics-batch.v2';
import { base64Length } from './packed-float64';
import { formatSeriesText, parseSeriesText } from './series-text';
import { sharedLabels, withoutShared } from './shared-labels';

export { sharedLabels, withoutShared } from './shared-labels';

/**
 * v1 ↔ v2 of the metrics batch, so that a consumer can take either and a producer can keep its
 * v1-shaped core. Exact both ways for what v1 can say: labels (empty values included), sample
 * order, and the four special values (NaN, ±Inf, the staleness marker). A v2 NaN with another
 * payload reads as v1 "NaN".
 *
 * Values are written and read as little-endian words, never through a JS array of numbers:
 * V8 may canonicalise a NaN held in a plain double array, which would lose the staleness marker.
 */
const STALE_HI = 0x7ff00000;
const STALE_LO = 0x00000002;

export class PackedBatchError extends Error {}

function writeWireValue(buf: Buffer, at: number, v: WireValue): void {
  if (typeof v === 'number') buf.writeDoubleLE(v, at);
  else if (v === 'stale') {
    buf.writeUInt32LE(STALE_LO, at);
    buf.writeUInt32LE(STALE_HI, at + 4);
  } else buf.writeDoubleLE(v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : NaN, at);
}

function readWireValue(buf: Buffer, at: number): WireValue {
  const hi = buf.readUInt32LE(at + 4);
  if ((hi & 0x7ff00000) !== 0x7ff00000) return buf.readDoubleLE(at);
  const lo = buf.readUInt32LE(at);
  if ((hi & 0x000fffff) === 0 && lo === 0) return hi === STALE_HI ? '+Inf' : '-Inf';
  return hi === STALE_HI && lo === STALE_LO ? 'stale' : 'NaN';
}

/** The full label set of one series of a v2 batch. Throws PackedBatchError or SeriesTextError. */
export function packedSeriesLabels(shared: Labels | undefined, text: string): Labels {
  const own = parseSeriesText(text);
  if (shared === undefined) return own;
  for (const n in own)
    if (Object.hasOwn(shared, n))
      throw new PackedBatchError(`series ${JSON.stringify(text)} repeats shared label ${n}`);
  return { ...shared, ...own };
}

/** The shared labels of a v2 batch, read; a name there is refused. Throws PackedBatchError or SeriesTextError. */
export function packedSharedLabels(text: string | undefined): Labels | undefined {
  if (text === undefined) return undefined;
  const shared = parseSeriesText(text);
  if (shared.__name__ !== undefined) throw new PackedBatchError(`shared labels ${JSON.stringify(text)} name a metric`);
  return shared;
}

export function toMetricsBatchV2(b: MetricsBatchV1): MetricsBatchV2 {
  let total = 0;
  let single = true;
  for (const s of b.series) {
    total += s.samples.length;
    if (s.samples.length !== 1) single = false;
  }
  const values = Buffer.alloc(total * 8);
  const times = Buffer.alloc(total * 8);
  const first = b.series[0]?.samples[0]?.[0];
  let sameTime = true;
  let k = 0;
  for (const s of b.series) {
    for (const [t, v] of s.samples) {
      if (t !== first) sameTime = false;
      times.writeDoubleLE(t, k * 8);
      writeWireValue(values, k * 8, v);
      k++;
    }
  }
  const shared = sharedLabels(b.series.map((s) => s.labels));
  const sharedText = Object.keys(shared).length > 0 ? formatSeriesText(shared) : undefined;
  return {
    batchId: b.batchId,
    source: b.source,
    cluster: b.cluster,
    node: b.node,
    target: { job: b.target.job, instance: b.target.instance },
    scrapedAtMs: b.scrapedAtMs,
    ...(sharedText === undefined ? {} : { labels: sharedText }),
    series: b.series.map((s) =>
      formatSeriesText(sharedText === undefined ? s.labels : withoutShared(s.labels, shared)),
    ),
    ...(single ? {} : { counts: b.series.map((s) => s.samples.length) }),
    ...(sameTime ? { timestampMs: first ?? b.scrapedAtMs } : { timestamps: times.toString('base64') }),
    values: values.toString('base64'),
    ...(b.metadata === undefined ? {} : { metadata: b.metadata }),
    ...(b.exemplars === undefined ? {} : { exemplars: b.exemplars }),
  };
}

/** The v1 form of a v2 batch. Throws PackedBatchError (or SeriesTextError) on a batch whose layout does not add up. */
export function toMetricsBatchV1(b: MetricsBatchV2): MetricsBatchV1 {
  const total = packedSampleCount(b);
  const counts = b.counts;
  if (counts !== undefined && counts.length !== b.series.length)
    throw new PackedBatchError(`${counts.length} counts for ${b.series.length} series`);
  const values = Buffer.from(b.values, 'base64');
  if (b.values.length !== base64Length(total) || values.length !== total * 8)
    throw new PackedBatchError(`values: not ${total} float64 values`);
  let times: Buffer | undefined;
  if (b.timestamps !== undefined) {
    times = Buffer.from(b.timestamps, 'base64');
    if (b.timestamps.length !== base64Length(total) || times.length !== total * 8)
      throw new PackedBatchError(`timestamps: not ${total} float64 values`);
  } else if (b.timestampMs === undefined) {
    throw new PackedBatchError('neither timestampMs nor timestamps');
  }
  const shared = packedSharedLabels(b.labels);
  const series: MetricsBatchSeries[] = [];
  let k = 0;
  for (let i = 0; i < b.series.length; i++) {
    const n = counts?.[i] ?? 1;
    const samples: Array<[number, WireValue]> = [];
    for (let j = 0; j < n; j++, k++) {
      const t = times ? times.readDoubleLE(k * 8) : b.timestampMs!;
      if (!Number.isSafeInteger(t)) throw new PackedBatchError(`timestamp ${t} is not an integer`);
      samples.push([t, readWireValue(values, k * 8)]);
    }
    series.push({ labels: packedSeriesLabels(shared, b.series[i]!), samples });
  }
  return {
    batchId: b.batchId,
    source: b.source,
    cluster: b.cluster,
    node: b.node,
    target: { job: b.target.job, instance: b.target.instance },
    scrapedAtMs: b.scrapedAtMs,
    series,
    ...(b.metadata === undefined ? {} : { metadata: b.metadata }),
    ...(b.exemplars === undefined ? {} : { exemplars: b.exemplars }),
  };
}
