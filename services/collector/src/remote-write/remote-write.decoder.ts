import { uncompress, compress } from 'snappyjs';
import protobuf from 'protobufjs';
import { toWireValue, type WireValue } from '@arcwatch/contracts';
import { CollectorError } from '../errors';
import { MetricMetadataType } from './remote-write.proto';

/**
 * A remote_write 1.0 body: snappy block format around a prometheus.WriteRequest. TimeSeries and
 * Sample are read by hand: the staleness marker is a NaN told apart only by its bits, and a
 * double that passes through a decoded JS object may lose them, so each value is turned into its
 * wire form straight from the 8 bytes.
 */
export interface WriteRequestExemplar {
  labels: Array<{ name: string; value: string }>;
  value: number;
  timestampMs: number;
}

export interface WriteRequestSeries {
  labels: Array<{ name: string; value: string }>;
  samples: Array<[number, WireValue]>;
  /** Sent by Prometheus with `send_exemplars: true`. */
  exemplars?: WriteRequestExemplar[];
}

export interface WriteRequestMetadata {
  type: number;
  metric_family_name: string;
  help: string;
  unit: string;
}

export interface DecodedWriteRequest {
  timeseries: WriteRequestSeries[];
  metadata: WriteRequestMetadata[];
}

const STALE_HI = 0x7ff00000;
const STALE_LO = 0x00000002;
const scratch = new DataView(new ArrayBuffer(8));

function readValue(r: protobuf.Reader): WireValue {
  const lo = r.fixed32();
  const hi = r.fixed32();
  if (hi === STALE_HI && lo === STALE_LO) return 'stale';
  scratch.setUint32(0, lo, true);
  scratch.setUint32(4, hi, true);
  return toWireValue(scratch.getFloat64(0, true));
}

function readSample(r: protobuf.Reader, end: number): [number, WireValue] {
  let value: WireValue = 0;
  let ts = 0;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag >>> 3 === 1 && (tag & 7) === 1) value = readValue(r);
    else if (tag >>> 3 === 2 && (tag & 7) === 0) ts = Number(r.int64().toString());
    else r.skipType(tag & 7);
  }
  return [ts, value];
}

function readExemplar(r: protobuf.Reader, end: number): WriteRequestExemplar {
  const e: WriteRequestExemplar = { labels: [], value: 0, timestampMs: 0 };
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag >>> 3 === 1 && (tag & 7) === 2) {
      const len = r.uint32();
      e.labels.push(readLabel(r, r.pos + len));
    } else if (tag >>> 3 === 2 && (tag & 7) === 1) e.value = r.double();
    else if (tag >>> 3 === 3 && (tag & 7) === 0) e.timestampMs = Number(r.int64().toString());
    else r.skipType(tag & 7);
  }
  return e;
}

function readLabel(r: protobuf.Reader, end: number): { name: string; value: string } {
  const l = { name: '', value: '' };
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag >>> 3 === 1 && (tag & 7) === 2) l.name = r.string();
    else if (tag >>> 3 === 2 && (tag & 7) === 2) l.value = r.string();
    else r.skipType(tag & 7);
  }
  return l;
}

function readSeries(r: protobuf.Reader, end: number): WriteRequestSeries {
  const s: WriteRequestSeries = { labels: [], samples: [] };
  while (r.pos < end) {
    const tag = r.uint32();
    const field = tag >>> 3;
    if ((field === 1 || field === 2 || field === 3) && (tag & 7) === 2) {
      const len = r.uint32();
      if (field === 1) s.labels.push(readLabel(r, r.pos + len));
      else if (field === 2) s.samples.push(readSample(r, r.pos + len));
      else (s.exemplars ??= []).push(readExemplar(r, r.pos + len));
    } else {
      // native histograms (4) are not stored.
      r.skipType(tag & 7);
    }
  }
  return s;
}

export function decodeWriteRequest(body: Uint8Array): DecodedWriteRequest {
  let raw: Uint8Array;
  try {
    raw = uncompress(body);
  } catch (err) {
    throw new CollectorError(
      'BODY_INVALID',
      `remote_write body is not snappy-compressed (block format): ${(err as Error).message}`,
    );
  }
  const out: DecodedWriteRequest = { timeseries: [], metadata: [] };
  try {
    const r = protobuf.Reader.create(raw);
    while (r.pos < r.len) {
      const tag = r.uint32();
      const field = tag >>> 3;
      if ((field === 1 || field === 3) && (tag & 7) === 2) {
        const len = r.uint32();
        if (field === 1) {
          out.timeseries.push(readSeries(r, r.pos + len));
        } else {
          const m = MetricMetadataType.toObject(MetricMetadataType.decode(r, len), {
            defaults: true,
          }) as WriteRequestMetadata;
          out.metadata.push(m);
        }
      } else {
        r.skipType(tag & 7);
      }
    }
  } catch (err) {
    throw new CollectorError(
      'BODY_INVALID',
      `remote_write body is not a prometheus.WriteRequest: ${(err as Error).message}`,
    );
  }
  refuseNul(out);
  return out;
}

const NUL = '\u0000';

/**
 * Protobuf strings may hold a NUL character (U+0000), which PostgreSQL stores in neither text nor
 * jsonb; accepted, such a series would be refused by the writer on every redelivery.
 */
function refuseNul(req: DecodedWriteRequest): void {
  const bad = (labels: ReadonlyArray<{ name: string; value: string }>) =>
    labels.some((l) => l.name.includes(NUL) || l.value.includes(NUL));
  const series = req.timeseries.findIndex((s) => bad(s.labels) || (s.exemplars ?? []).some((e) => bad(e.labels)));
  if (series >= 0)
    throw new CollectorError('BODY_INVALID', `timeseries ${series}: a label contains a NUL character (U+0000)`);
  const meta = req.metadata.findIndex((m) => [m.metric_family_name, m.help, m.unit].some((t) => t?.includes(NUL)));
  if (meta >= 0) throw new CollectorError('BODY_INVALID', `metadata ${meta}: contains a NUL character (U+0000)`);
}

function writeValue(w: protobuf.Writer, v: WireValue): void {
  if (v === 'stale') {
    w.uint32((1 << 3) | 1)
      .fixed32(STALE_LO)
      .fixed32(STALE_HI);
    return;
  }
  const n = typeof v === 'number' ? v : v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : NaN;
  w.uint32((1 << 3) | 1).double(n);
}

/** The inverse, for tests and tools that play a remote_write client. */
export function encodeWriteRequest(req: DecodedWriteRequest): Uint8Array {
  const w = protobuf.Writer.create();
  for (const s of req.timeseries) {
    w.uint32((1 << 3) | 2).fork();
    for (const l of s.labels)
      w.uint32((1 << 3) | 2)
        .fork()
        .uint32((1 << 3) | 2)
        .string(l.name)
        .uint32((2 << 3) | 2)
        .string(l.value)
        .ldelim();
    for (const [ts, v] of s.samples) {
      w.uint32((2 << 3) | 2).fork();
      writeValue(w, v);
      w.uint32((2 << 3) | 0).int64(ts);
      w.ldelim();
    }
    for (const e of s.exemplars ?? []) {
      w.uint32((3 << 3) | 2).fork();
      for (const l of e.labels)
        w.uint32((1 << 3) | 2)
          .fork()
          .uint32((1 << 3) | 2)
          .string(l.name)
          .uint32((2 << 3) | 2)
          .string(l.value)
          .ldelim();
      w.uint32((2 << 3) | 1).double(e.value);
      w.uint32((3 << 3) | 0).int64(e.timestampMs);
      w.ldelim();
    }
    w.ldelim();
  }
  for (const m of req.metadata) {
    w.uint32((3 << 3) | 2).fork();
    MetricMetadataType.encode(MetricMetadataType.fromObject(m), w);
    w.ldelim();
  }
  return compress(w.finish());
}
