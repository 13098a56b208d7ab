import protobuf from 'protobufjs';

/**
 * The part of OTLP 1.x (opentelemetry/proto/collector/trace/v1/trace_service.proto and
 * trace/v1/trace.proto) that request tracing reads, loaded by protobufjs reflection. Field
 * numbers are the upstream ones; fields we do not read (links, span events, flags, dropped
 * counts) are left out, which protobuf decoding skips safely.
 */
const OTLP_TRACE_SUBSET = `
syntax = "proto3";
package otlp;

message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ExportTraceServiceResponse { ExportTracePartialSuccess partial_success = 1; }
message ExportTracePartialSuccess { int64 rejected_spans = 1; string error_message = 2; }

message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; string schema_url = 3; }
message Resource { repeated KeyValue attributes = 1; }
message ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; string schema_url = 3; }
message InstrumentationScope { string name = 1; string version = 2; }

message Span {
  bytes trace_id = 1;
  bytes span_id = 2;
  string trace_state = 3;
  bytes parent_span_id = 4;
  string name = 5;
  int32 kind = 6;
  fixed64 start_time_unix_nano = 7;
  fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9;
  Status status = 15;
}
message Status { string message = 2; int32 code = 3; }

message KeyValue { string key = 1; AnyValue value = 2; }
message AnyValue {
  oneof value {
    string string_value = 1;
    bool bool_value = 2;
    int64 int_value = 3;
    double double_value = 4;
    ArrayValue array_value = 5;
    KeyValueList kvlist_value = 6;
    bytes bytes_value = 7;
  }
}
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
`;

const root = protobuf.parse(OTLP_TRACE_SUBSET, { keepCase: false }).root;

export const ExportTraceServiceRequest = root.lookupType('otlp.ExportTraceServiceRequest');
export const ExportTraceServiceResponse = root.lookupType('otlp.ExportTraceServiceResponse');

/**
 * Decodes a protobuf request into the OTLP/JSON shape (camelCase fields, hex ids, nanoseconds
 * and int64 as decimal strings), so one schema and one mapper serve both encodings.
 */
export function decodeOtlpProtobuf(body: Uint8Array): unknown {
  const msg = ExportTraceServiceRequest.decode(body);
  const obj = ExportTraceServiceRequest.toObject(msg, { longs: String, bytes: String, defaults: false });
  return rewriteIds(obj);
}

function rewriteIds(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteIds);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    // protobufjs renders bytes as base64; OTLP/JSON carries trace and span ids as hex.
    out[k] =
      (k === 'traceId' || k === 'spanId' || k === 'parentSpanId') && typeof v === 'string'
        ? Buffer.from(v, 'base64').toString('hex')
        : rewriteIds(v);
  }
  return out;
}

export function encodeOtlpResponse(rejectedSpans: number, errorMessage: string): Uint8Array {
  const partialSuccess = rejectedSpans > 0 || errorMessage ? { rejectedSpans, errorMessage } : undefined;
  return ExportTraceServiceResponse.encode(
    ExportTraceServiceResponse.fromObject(partialSuccess ? { partialSuccess } : {}),
  ).finish();
}

/** Builds a protobuf request from the OTLP/JSON shape (used by tests and the benchmark). */
export function encodeOtlpRequest(json: unknown): Uint8Array {
  return ExportTraceServiceRequest.encode(
    ExportTraceServiceRequest.fromObject(idsToBase64(json) as Record<string, unknown>),
  ).finish();
}

function idsToBase64(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(idsToBase64);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] =
      (k === 'traceId' || k === 'spanId' || k === 'parentSpanId') && typeof v === 'string'
        ? Buffer.from(v, 'hex').toString('base64')
        : idsToBase64(v);
  }
  return out;
}
