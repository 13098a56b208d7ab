import fc from 'fast-check';
import {
  REQUEST_EVENT_KINDS,
  UNKNOWN_LABEL,
  type RequestCompletedV1,
  type RequestEventKind,
  type RequestEventV1,
  type RequestStatus,
} from '@arcwatch/contracts';
import { assemble } from './assembly.decider';
import { evolveAll, sortedEvents, toAssemblyEvent, type AssemblyEvent, type RequestState } from './request-state';
import { directoryFromEntries, resolveTenant, type KeyDirectory } from './tenant-directory';

/**
 * The record as its definition reads, one search per phase and per attribute over the sorted
 * events: the oracle that `assemble` (one pass each way) must match, key order included, since
 * the record's JSON is what goes out.
 */
function referenceAssemble(state: RequestState, directory: KeyDirectory): RequestCompletedV1 {
  const events = sortedEvents(state);
  const isTerminal = (e: AssemblyEvent) => e.kind === 'completed' || e.kind === 'failed' || e.kind === 'cancelled';
  const terminal = events.find(isTerminal);
  const status: RequestStatus = terminal ? (terminal.kind as RequestStatus) : 'abandoned';
  const first = (k: RequestEventKind) => events.find((e) => e.kind === k)?.timeMs;
  const last = <K extends keyof AssemblyEvent>(k: K): AssemblyEvent[K] | undefined =>
    [...events].reverse().find((e) => e[k] !== undefined)?.[k];
  const [received, queued, scheduled, firstToken] = (['received', 'queued', 'scheduled', 'first_token'] as const).map(
    first,
  );
  const end = terminal?.timeMs;
  const span = (a?: number, b?: number) => (a === undefined || b === undefined || b < a ? null : b - a);
  const completionTokens = last('completionTokens') ?? null;
  const present = new Set(events.map((e) => e.kind));
  const reported: RequestEventKind[] =
    status === 'completed' || status === 'abandoned'
      ? ['received', 'queued', 'scheduled', 'first_token']
      : ['received'];
  const decode = span(firstToken, end);
  return {
    requestId: state.requestId,
    status,
    startedAt: new Date(received ?? events[0].timeMs).toISOString(),
    endedAt: new Date(end ?? events[events.length - 1].timeMs).toISOString(),
    ...resolveTenant(
      { tenant: last('tenant'), team: last('team'), project: last('project') },
      last('apiKeyHash'),
      directory,
    ),
    apiKeyHash: last('apiKeyHash') ?? null,
    model: last('model') ?? UNKNOWN_LABEL,
    modelVersion: last('modelVersion') ?? UNKNOWN_LABEL,
    instance: last('instance') ?? null,
    node: last('node') ?? null,
    gpuUuids: [...(last('gpuUuids') ?? [])].sort(),
    promptTokens: last('promptTokens') ?? null,
    completionTokens,
    cachedTokens: last('cachedTokens') ?? null,
    finishReason: last('finishReason') ?? null,
    error: last('error') ?? null,
    queueMs: span(queued ?? received, scheduled),
    prefillMs: span(scheduled, firstToken),
    ttftMs: span(received, firstToken),
    tpotMs:
      status === 'completed' && completionTokens !== null && completionTokens > 1 && decode !== null
        ? Math.round((decode / (completionTokens - 1)) * 1000) / 1000
        : null,
    e2eMs: span(received, end),
    missingPhases: reported.filter((k) => !present.has(k)),
    timeline: events.map((e) => ({ kind: e.kind, time: new Date(e.timeMs).toISOString() })),
  };
}

const KEY_A = 'a'.repeat(64);
const KEY_B = 'b'.repeat(64);
const directory = directoryFromEntries([{ keyHash: KEY_A, tenant: 'owner-a', project: 'p-owned' }]);

const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 2 });

/** An event with any subset of the attributes, few distinct times so that ties happen. */
const anyEvent = fc
  .record({
    kind: fc.constantFrom<RequestEventKind>(...REQUEST_EVENT_KINDS),
    offsetMs: fc.integer({ min: -3, max: 40 }),
    tenant: maybe(fc.constantFrom('acme', 'globex')),
    team: maybe(fc.constantFrom('search', 'ads')),
    project: maybe(fc.constantFrom('p1', 'p2')),
    apiKeyHash: maybe(fc.constantFrom(KEY_A, KEY_B)),
    model: maybe(fc.constantFrom('llama', 'qwen')),
    modelVersion: maybe(fc.constantFrom('v1', 'v2')),
    instance: maybe(fc.constantFrom('vllm-0', 'vllm-1')),
    node: maybe(fc.constantFrom('n1', 'n2')),
    gpuUuids: maybe(fc.array(fc.constantFrom('GPU-2', 'GPU-1', 'GPU-3'), { maxLength: 3 })),
    promptTokens: maybe(fc.nat(5_000)),
    completionTokens: maybe(fc.nat(3)),
    cachedTokens: maybe(fc.nat(100)),
    finishReason: maybe(fc.constantFrom('stop', 'length')),
    error: maybe(fc.record({ code: fc.constantFrom('oom', 'timeout') })),
  })
  .map(({ offsetMs, ...attrs }): RequestEventV1 => {
    const event: Record<string, unknown> = {
      requestId: 'r',
      time: new Date(Date.parse('2026-12-05T23:59:59.980Z') + offsetMs).toISOString(),
    };
    for (const [k, v] of Object.entries(attrs)) if (v !== undefined) event[k] = v;
    return event as unknown as RequestEventV1;
  });

describe('assemble against its definition', () => {
  it('gives the same record, key order included, for any set of events', () => {
    fc.assert(
      fc.property(fc.array(anyEvent, { minLength: 1, maxLength: 9 }), (events) => {
        const state = evolveAll(
          undefined,
          events.map((e, i) => ({ event: toAssemblyEvent(e), seenAtMs: i })),
        );
        if (state === undefined) throw new Error('no state');
        expect(JSON.stringify(assemble(state, directory))).toBe(JSON.stringify(referenceAssemble(state, directory)));
      }),
      { numRuns: 3_000 },
    );
  });
});
