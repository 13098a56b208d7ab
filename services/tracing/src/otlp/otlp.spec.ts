import { DEFAULT_POLICY } from '@arcwatch/request-assembly';
import { InMemoryAssembler } from '@arcwatch/request-assembly';
import { toAssemblyEvent } from '@arcwatch/request-assembly';
import { EMPTY_DIRECTORY } from '@arcwatch/request-assembly';
import {
  decodeOtlpProtobuf,
  encodeOtlpRequest,
  encodeOtlpResponse,
  ExportTraceServiceResponse,
} from './otlp-trace.proto';
import { mapOtlpTraces, type OtlpMapResult } from './otlp.mapper';

const ARRIVAL_NS = '1748779200000000000'; // 2025-06-01T12:00:00Z
const s = (key: string, v: string) => ({ key, value: { stringValue: v } });
const i = (key: string, v: number) => ({ key, value: { intValue: String(v) } });
const d = (key: string, v: number) => ({ key, value: { doubleValue: v } });

/** A span as vLLM's v1 output processor exports it, plus a gateway span and a plain HTTP span. */
function vllmTracePayload() {
  return {
    resourceSpans: [
      {
        resource: {
          attributes: [s('service.name', 'vllm'), s('service.instance.id', 'vllm-0'), s('host.name', 'gpu-node-1')],
        },
        scopeSpans: [
          {
            spans: [
              {
                traceId: '5b8efff798038103d269b633813fc60c',
                spanId: 'eee19b7ec3c1b174',
                name: 'llm_request',
                kind: 2,
                startTimeUnixNano: ARRIVAL_NS,
                endTimeUnixNano: '1748779201306000000',
                attributes: [
                  s('gen_ai.request.id', 'cmpl-7f3a'),
                  s('gen_ai.response.model', 'Qwen/Qwen2.5-0.5B-Instruct'),
                  i('gen_ai.usage.prompt_tokens', 100),
                  i('gen_ai.usage.completion_tokens', 11),
                  d('gen_ai.latency.time_in_queue', 0.1),
                  d('gen_ai.latency.time_to_first_token', 0.305),
                  d('gen_ai.latency.time_in_model_prefill', 0.2),
                  d('gen_ai.latency.time_in_model_decode', 1.0),
                  d('gen_ai.latency.e2e', 1.305),
                  s('arcwatch.tenant', 'acme'),
                  {
                    key: 'arcwatch.gpu_uuids',
                    value: { arrayValue: { values: [{ stringValue: 'GPU-2' }, { stringValue: 'GPU-1' }] } },
                  },
                  {
                    key: 'gen_ai.response.finish_reasons',
                    value: { arrayValue: { values: [{ stringValue: 'stop' }] } },
                  },
                ],
                status: { code: 0 },
              },
              {
                traceId: '5b8efff798038103d269b633813fc60c',
                spanId: '00f067aa0ba902b7',
                name: 'chat llama-3-8b',
                startTimeUnixNano: ARRIVAL_NS,
                endTimeUnixNano: '1748779200040000000',
                attributes: [
                  s('gen_ai.operation.name', 'chat'),
                  s('gen_ai.request.model', 'llama-3-8b'),
                  s('error.type', 'timeout'),
                ],
                status: { code: 2, message: 'upstream timed out' },
              },
              {
                traceId: '5b8efff798038103d269b633813fc60c',
                spanId: '1111111111111111',
                name: 'GET /health',
                startTimeUnixNano: ARRIVAL_NS,
              },
            ],
          },
        ],
      },
    ],
  };
}

function assembleMapped(r: OtlpMapResult) {
  const a = new InMemoryAssembler(DEFAULT_POLICY, EMPTY_DIRECTORY);
  for (const e of r.events) a.ingest(toAssemblyEvent(e), 0);
  return a.tick(Number.POSITIVE_INFINITY);
}

describe.each([
  ['OTLP/JSON', () => JSON.parse(JSON.stringify(vllmTracePayload()))],
  ['OTLP/protobuf', () => decodeOtlpProtobuf(encodeOtlpRequest(vllmTracePayload()))],
])('%s', (_name, body) => {
  it("maps vLLM's llm_request span into phases that assemble into its own latencies", () => {
    const r = mapOtlpTraces(body());
    if ('error' in r) throw new Error(r.error);
    expect([r.mappedSpans, r.skippedSpans, r.rejected]).toEqual([2, 1, []]);
    const records = assembleMapped(r);
    const vllm = records.find((x) => x.requestId === 'cmpl-7f3a');
    expect(vllm).toMatchObject({
      status: 'completed',
      startedAt: '2025-06-01T12:00:00.000Z',
      endedAt: '2025-06-01T12:00:01.305Z',
      tenant: 'acme',
      model: 'Qwen/Qwen2.5-0.5B-Instruct',
      instance: 'vllm-0',
      node: 'gpu-node-1',
      gpuUuids: ['GPU-1', 'GPU-2'],
      promptTokens: 100,
      completionTokens: 11,
      finishReason: 'stop',
      queueMs: 100,
      prefillMs: 200,
      ttftMs: 305,
      tpotMs: 100,
      e2eMs: 1305,
      missingPhases: [],
    });
  });

  it('maps an errored GenAI span to a failed request keyed by trace and span id', () => {
    const r = mapOtlpTraces(body());
    if ('error' in r) throw new Error(r.error);
    const failed = assembleMapped(r).find((x) => x.requestId === '5b8efff798038103d269b633813fc60c-00f067aa0ba902b7');
    expect(failed).toMatchObject({
      status: 'failed',
      model: 'llama-3-8b',
      e2eMs: 40,
      error: { code: 'timeout', message: 'upstream timed out' },
    });
  });
});

describe('OTLP edge cases', () => {
  it('rejects a GenAI span without a start time, with its path, and keeps the rest', () => {
    const p = vllmTracePayload();
    delete (p.resourceSpans[0].scopeSpans[0].spans[1] as { startTimeUnixNano?: string }).startTimeUnixNano;
    const r = mapOtlpTraces(p);
    if ('error' in r) throw new Error(r.error);
    expect(r.rejected).toEqual([
      { span: 'resourceSpans.0.scopeSpans.0.spans.1', error: 'startTimeUnixNano is missing' },
    ]);
    expect(r.mappedSpans).toBe(1);
  });

  it('refuses a body that is not an ExportTraceServiceRequest', () => {
    expect(mapOtlpTraces({ resourceSpans: 'nope' })).toEqual({ error: expect.stringContaining('resourceSpans') });
  });

  it('encodes a partial-success response that decodes back', () => {
    const msg = ExportTraceServiceResponse.toObject(
      ExportTraceServiceResponse.decode(encodeOtlpResponse(2, 'two bad spans')),
      { longs: Number },
    );
    expect(msg).toEqual({ partialSuccess: { rejectedSpans: 2, errorMessage: 'two bad spans' } });
  });
});
