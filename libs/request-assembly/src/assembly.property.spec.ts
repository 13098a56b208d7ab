import fc from 'fast-check';
import type { RequestCompletedV1, RequestEventKind, RequestEventV1 } from '@arcwatch/contracts';
import { DEFAULT_POLICY } from './assembly.decider';
import { InMemoryAssembler } from './assembler';
import { evolve, evolveAll, toAssemblyEvent, type RequestState } from './request-state';
import { EMPTY_DIRECTORY } from './tenant-directory';

const T0 = Date.parse('2025-06-01T00:00:00.000Z');

interface GeneratedRequest {
  requestId: string;
  events: RequestEventV1[];
  /** What the record must say, computed from the generator's own numbers. */
  expected: Pick<RequestCompletedV1, 'status' | 'queueMs' | 'ttftMs' | 'e2eMs' | 'tpotMs' | 'completionTokens'>;
}

const terminalKind = fc.constantFrom<RequestEventKind>('completed', 'completed', 'completed', 'failed', 'cancelled');

const generatedRequest = (index: number): fc.Arbitrary<GeneratedRequest> =>
  fc
    .record({
      startMs: fc.integer({ min: 0, max: 3_600_000 }),
      queue: fc.integer({ min: 0, max: 5_000 }),
      prefill: fc.integer({ min: 1, max: 2_000 }),
      decode: fc.integer({ min: 0, max: 60_000 }),
      completionTokens: fc.integer({ min: 1, max: 4_000 }),
      promptTokens: fc.integer({ min: 1, max: 32_000 }),
      terminal: terminalKind,
      tenant: fc.constantFrom('acme', 'globex', 'initech'),
      model: fc.constantFrom('llama-3-8b', 'qwen2.5-0.5b'),
    })
    .map((g) => {
      const requestId = `req-${index}`;
      const t = (ms: number) => new Date(T0 + g.startMs + ms).toISOString();
      const ft = g.queue + g.prefill;
      const end = ft + g.decode;
      const events: RequestEventV1[] = [
        { requestId, kind: 'received', time: t(0), tenant: g.tenant, model: g.model, modelVersion: 'v1' },
        { requestId, kind: 'queued', time: t(0) },
        { requestId, kind: 'scheduled', time: t(g.queue), instance: 'vllm-0', gpuUuids: ['GPU-1'] },
        { requestId, kind: 'first_token', time: t(ft), completionTokens: 1 },
        {
          requestId,
          kind: g.terminal,
          time: t(end),
          promptTokens: g.promptTokens,
          completionTokens: g.completionTokens,
          ...(g.terminal === 'failed' ? { error: { code: 'engine_error' } } : { finishReason: 'stop' }),
        },
      ];
      const completed = g.terminal === 'completed';
      return {
        requestId,
        events,
        expected: {
          status: g.terminal as RequestCompletedV1['status'],
          queueMs: g.queue,
          ttftMs: ft,
          e2eMs: end,
          tpotMs:
            completed && g.completionTokens > 1
              ? Math.round((g.decode / (g.completionTokens - 1)) * 1000) / 1000
              : null,
          completionTokens: g.completionTokens,
        },
      };
    });

const requests = fc
  .integer({ min: 1, max: 12 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => generatedRequest(i))));

function assembleAll(events: RequestEventV1[]): RequestCompletedV1[] {
  const a = new InMemoryAssembler(DEFAULT_POLICY, EMPTY_DIRECTORY);
  for (const e of events) a.ingest(toAssemblyEvent(e), Date.parse(e.time));
  return a.tick(Number.POSITIVE_INFINITY);
}

/** Shuffles a list with duplicates: every element at least once, some several times. */
const shuffledWithDuplicates = <T>(items: T[]) =>
  fc
    .array(fc.integer({ min: 0, max: items.length - 1 }), { maxLength: items.length * 2 })
    .chain((dups) =>
      fc.shuffledSubarray([...items, ...dups.map((i) => items[i])], { minLength: items.length + dups.length }),
    );

describe('assembly properties', () => {
  it('shuffled and duplicated events give the same records as the events in order', () => {
    fc.assert(
      fc.property(
        requests.chain((reqs) => {
          const inOrder = reqs.flatMap((r) => r.events);
          return fc.tuple(fc.constant(reqs), fc.constant(inOrder), shuffledWithDuplicates(inOrder));
        }),
        ([reqs, inOrder, shuffled]) => {
          const reference = assembleAll(inOrder);
          expect(assembleAll(shuffled)).toEqual(reference);
          expect(reference).toHaveLength(reqs.length);
          for (const r of reqs) {
            const rec = reference.find((x) => x.requestId === r.requestId);
            expect(rec).toMatchObject(r.expected);
            expect(rec?.missingPhases).toEqual([]);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('dropping phases never loses the request: it is assembled once, with the missing phases listed', () => {
    fc.assert(
      fc.property(
        generatedRequest(0).chain((r) => fc.tuple(fc.constant(r), fc.subarray(r.events, { minLength: 1 }))),
        ([r, kept]) => {
          const records = assembleAll(kept);
          expect(records).toHaveLength(1);
          const kinds = new Set(kept.map((e) => e.kind));
          for (const phase of records[0].missingPhases) expect(kinds.has(phase)).toBe(false);
          if (!kinds.has(r.events[4].kind)) expect(records[0].status).toBe('abandoned');
        },
      ),
      { numRuns: 200 },
    );
  });

  it('assembling as events stream in, with the grace period, gives the same records as all at once', () => {
    fc.assert(
      fc.property(
        requests.chain((reqs) => shuffledWithDuplicates(reqs.flatMap((r) => r.events))),
        (arrivals) => {
          // Every event arrives within one grace period of the first one, so none is late.
          const a = new InMemoryAssembler(DEFAULT_POLICY, EMPTY_DIRECTORY);
          const out: RequestCompletedV1[] = [];
          arrivals.forEach((e, i) => {
            a.ingest(toAssemblyEvent(e), T0 + i);
            out.push(...a.tick(T0 + i));
          });
          out.push(...a.tick(Number.POSITIVE_INFINITY));
          const byId = (x: RequestCompletedV1, y: RequestCompletedV1) => (x.requestId < y.requestId ? -1 : 1);
          expect(out.sort(byId)).toEqual(assembleAll(arrivals).sort(byId));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('folding a group at once (evolveAll, as the service does) gives the state evolve gives one event at a time', () => {
    fc.assert(
      fc.property(
        generatedRequest(0).chain((r) => fc.tuple(shuffledWithDuplicates(r.events), fc.integer({ min: 0, max: 12 }))),
        ([arrivals, split]) => {
          const timed = arrivals.map((e, i) => ({ event: toAssemblyEvent(e), seenAtMs: T0 + i }));
          let oneByOne: RequestState | undefined;
          for (const x of timed) oneByOne = evolve(oneByOne, x.event, x.seenAtMs);
          // The group may also arrive in two parts, the first already stored.
          const cut = Math.min(split, timed.length);
          expect(evolveAll(evolveAll(undefined, timed.slice(0, cut)), timed.slice(cut))).toEqual(oneByOne);
          expect(evolveAll(oneByOne, [])).toBe(oneByOne);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('folds a request sent many events (past the lookup by key) as evolve does, one at a time', () => {
    const event = fc.record({
      kind: fc.constantFrom<RequestEventKind>('received', 'queued', 'scheduled', 'first_token', 'completed', 'failed'),
      at: fc.integer({ min: 0, max: 12 }),
      promptTokens: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.array(event, { minLength: 17, maxLength: 60 }), fc.nat(60), (generated, split) => {
        const timed = generated.map((g, i) => ({
          event: toAssemblyEvent({
            requestId: 'req-many',
            kind: g.kind,
            time: new Date(T0 + g.at).toISOString(),
            ...(g.promptTokens === undefined ? {} : { promptTokens: g.promptTokens }),
          }),
          seenAtMs: T0 + i,
        }));
        let oneByOne: RequestState | undefined;
        for (const x of timed) oneByOne = evolve(oneByOne, x.event, x.seenAtMs);
        expect(evolveAll(undefined, timed)).toEqual(oneByOne);
        const cut = Math.min(split, timed.length);
        expect(evolveAll(evolveAll(undefined, timed.slice(0, cut)), timed.slice(cut))).toEqual(oneByOne);
      }),
      { numRuns: 200 },
    );
  });
});
