import { z } from 'zod';
import {
  apiKeyHashSchema,
  formatZodError,
  requestEventV1Schema,
  type RequestEventKind,
  type RequestEventV1,
} from '@arcwatch/contracts';

/**
 * OTLP spans → request lifecycle events. Two kinds of span are read:
 * - vLLM's `llm_request` span (vllm/tracing.py, v1 output processor): start = arrival, and the
 *   `gen_ai.latency.*` attributes (seconds) give the phases: queued = scheduled − time_in_queue,
 *   scheduled = first_token − time_in_model_prefill, first_token = arrival + time_to_first_token,
 *   end = arrival + e2e;
 * - any span with OpenTelemetry GenAI attributes (a gateway's `chat <model>` span): received at
 *   the span's start, the terminal event at its end, first token from the latency attributes
 *   when present.
 * Everything else is skipped (collectors forward whole traces), and counted.
 */

const anyValue: z.ZodType<OtlpAnyValue> = z.lazy(() =>
  z.object({
    stringValue: z.string().optional(),
    boolValue: z.boolean().optional(),
    intValue: z.union([z.string(), z.number()]).optional(),
    doubleValue: z.union([z.number(), z.string()]).optional(),
    arrayValue: z.object({ values: z.array(anyValue).optional() }).optional(),
    kvlistValue: z.object({ values: z.array(keyValue).optional() }).optional(),
    bytesValue: z.string().optional(),
  }),
);
const keyValue: z.ZodType<OtlpKeyValue> = z.lazy(() => z.object({ key: z.string(), value: anyValue.optional() }));

interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number | string;
  arrayValue?: { values?: OtlpAnyValue[] };
  kvlistValue?: { values?: OtlpKeyValue[] };
  bytesValue?: string;
}
interface OtlpKeyValue {
  key: string;
  value?: OtlpAnyValue;
}

const nanos = z.union([z.string().regex(/^\d+$/), z.number().int().nonnegative()]);
const spanSchema = z.object({
  traceId: z.string().optional(),
  spanId: z.string().optional(),
  name: z.string().optional(),
  startTimeUnixNano: nanos.optional(),
  endTimeUnixNano: nanos.optional(),
  attributes: z.array(keyValue).optional(),
  // OTLP/JSON encodes enums as integers; some exporters write the names.
  status: z.object({ code: z.union([z.number(), z.string()]).optional(), message: z.string().optional() }).optional(),
});
export const otlpTraceRequestSchema = z.object({
  resourceSpans: z
    .array(
      z.object({
        resource: z.object({ attributes: z.array(keyValue).optional() }).optional(),
        scopeSpans: z.array(z.object({ spans: z.array(z.unknown()).optional() })).optional(),
      }),
    )
    .optional(),
});

type AttrValue = string | number | boolean | AttrValue[];
type Attrs = Record<string, AttrValue>;

export interface OtlpMapResult {
  events: RequestEventV1[];
  /** GenAI spans that could not be turned into events, with the reason. */
  rejected: Array<{ span: string; error: string }>;
  /** Spans without GenAI attributes. */
  skippedSpans: number;
  mappedSpans: number;
}

export function mapOtlpTraces(body: unknown): OtlpMapResult | { error: string } {
  const req = otlpTraceRequestSchema.safeParse(body);
  if (!req.success) return { error: formatZodError(req.error) };
  const out: OtlpMapResult = { events: [], rejected: [], skippedSpans: 0, mappedSpans: 0 };
  for (const [ri, rs] of (req.data.resourceSpans ?? []).entries()) {
    const resource = toAttrs(rs.resource?.attributes);
    for (const [si, ss] of (rs.scopeSpans ?? []).entries()) {
      for (const [pi, raw] of (ss.spans ?? []).entries()) {
        const where = `resourceSpans.${ri}.scopeSpans.${si}.spans.${pi}`;
        const span = spanSchema.safeParse(raw);
        if (!span.success) {
          out.rejected.push({ span: where, error: formatZodError(span.error) });
          continue;
        }
        const attrs = { ...resource, ...toAttrs(span.data.attributes) };
        if (!isGenAiSpan(span.data.name, attrs)) {
          out.skippedSpans++;
          continue;
        }
        const mapped = spanToEvents(span.data, attrs);
        if ('error' in mapped) out.rejected.push({ span: where, error: mapped.error });
        else {
          out.events.push(...mapped.events);
          out.mappedSpans++;
        }
      }
    }
  }
  return out;
}

function isGenAiSpan(name: string | undefined, attrs: Attrs): boolean {
  if (name === 'llm_request') return true;
  return [
    'gen_ai.operation.name',
    'gen_ai.request.model',
    'gen_ai.request.id',
    'gen_ai.usage.input_tokens',
    'gen_ai.usage.prompt_tokens',
  ].some((k) => k in attrs);
}

function spanToEvents(span: z.infer<typeof spanSchema>, a: Attrs): { events: RequestEventV1[] } | { error: string } {
  if (span.startTimeUnixNano === undefined) return { error: 'startTimeUnixNano is missing' };
  const startMs = nanosToMs(span.startTimeUnixNano);
  const endMs = span.endTimeUnixNano === undefined ? undefined : nanosToMs(span.endTimeUnixNano);
  const requestId =
    str(a['gen_ai.request.id']) ??
    str(a['gen_ai.response.id']) ??
    (span.traceId && span.spanId ? `${span.traceId}-${span.spanId}` : undefined);
  if (requestId === undefined)
    return { error: 'no request id (gen_ai.request.id, gen_ai.response.id or trace and span id)' };

  const sec = (k: string) => {
    const v = num(a[`gen_ai.latency.${k}`]);
    return v === undefined || v < 0 ? undefined : v * 1000;
  };
  const ttft = sec('time_to_first_token');
  const queue = sec('time_in_queue');
  const prefill = sec('time_in_model_prefill');
  const e2e = sec('e2e');

  const firstToken = ttft === undefined ? undefined : startMs + ttft;
  const scheduled =
    firstToken !== undefined && prefill !== undefined
      ? firstToken - prefill
      : queue !== undefined
        ? startMs + queue
        : undefined;
  // The engine's queue starts a little after arrival; never put it before the arrival.
  const queued = scheduled !== undefined && queue !== undefined ? Math.max(startMs, scheduled - queue) : undefined;
  const end = e2e !== undefined ? startMs + e2e : endMs;

  const statusCode = span.status?.code;
  const isError = statusCode === 2 || statusCode === 'STATUS_CODE_ERROR';
  const finishReason = first(a['gen_ai.response.finish_reasons']) ?? str(a['gen_ai.response.finish_reason']);
  const terminal: RequestEventKind = isError
    ? 'failed'
    : finishReason === 'abort' || finishReason === 'cancelled'
      ? 'cancelled'
      : 'completed';

  const apiKeyHash = str(a['arcwatch.api_key_hash']);
  const labels = compact({
    tenant: str(a['arcwatch.tenant']),
    team: str(a['arcwatch.team']),
    project: str(a['arcwatch.project']),
    apiKeyHash: apiKeyHash !== undefined && apiKeyHashSchema.safeParse(apiKeyHash).success ? apiKeyHash : undefined,
    model: str(a['gen_ai.response.model']) ?? str(a['gen_ai.request.model']),
    modelVersion: str(a['arcwatch.model_version']),
    instance: str(a['service.instance.id']) ?? str(a['host.name']),
    node: str(a['k8s.node.name']) ?? str(a['host.name']),
    gpuUuids: strs(a['arcwatch.gpu_uuids']),
  });
  const outcome = compact({
    promptTokens: int(a['gen_ai.usage.input_tokens'] ?? a['gen_ai.usage.prompt_tokens']),
    completionTokens: int(a['gen_ai.usage.output_tokens'] ?? a['gen_ai.usage.completion_tokens']),
    cachedTokens: int(a['gen_ai.usage.cache_read.input_tokens'] ?? a['gen_ai.usage.cached_tokens']),
    finishReason,
    error: isError
      ? {
          code: (str(a['error.type']) ?? 'error').slice(0, 64),
          ...(span.status?.message ? { message: span.status.message.slice(0, 2000) } : {}),
        }
      : undefined,
  });

  const at = (ms: number) => new Date(Math.round(ms)).toISOString();
  const events: RequestEventV1[] = [{ requestId, kind: 'received', time: at(startMs), ...labels }];
  if (queued !== undefined) events.push({ requestId, kind: 'queued', time: at(queued) });
  if (scheduled !== undefined) events.push({ requestId, kind: 'scheduled', time: at(scheduled) });
  if (firstToken !== undefined) events.push({ requestId, kind: 'first_token', time: at(firstToken) });
  if (end !== undefined) events.push({ requestId, kind: terminal, time: at(end), ...outcome });

  for (const e of events) {
    const ok = requestEventV1Schema.safeParse(e);
    if (!ok.success) return { error: formatZodError(ok.error) };
  }
  return { events };
}

function nanosToMs(n: string | number): number {
  // Nanoseconds since 1970 exceed 2^53: divide as bigint, keep the sub-millisecond part.
  const big = BigInt(n);
  return Number(big / 1_000_000n) + Number(big % 1_000_000n) / 1e6;
}

function toAttrs(kvs: OtlpKeyValue[] | undefined): Attrs {
  const out: Attrs = {};
  for (const kv of kvs ?? []) {
    const v = kv.value === undefined ? undefined : fromAnyValue(kv.value);
    if (v !== undefined) out[kv.key] = v;
  }
  return out;
}

function fromAnyValue(v: OtlpAnyValue): AttrValue | undefined {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return Number(v.doubleValue);
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.arrayValue !== undefined)
    return (v.arrayValue.values ?? []).map(fromAnyValue).filter((x): x is AttrValue => x !== undefined);
  return undefined;
}

const str = (v: AttrValue | undefined) => (typeof v === 'string' && v.length > 0 ? v : undefined);
const num = (v: AttrValue | undefined) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const int = (v: AttrValue | undefined) => {
  const n = num(v);
  return n !== undefined && Number.isInteger(n) && n >= 0 ? n : undefined;
};
const first = (v: AttrValue | undefined) => (Array.isArray(v) ? str(v[0]) : undefined);
const strs = (v: AttrValue | undefined) =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && x.length > 0) : str(v)?.split(',');

function compact<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
