import { hashApiKey, type RequestEventKind, type RequestEventV1 } from '@arcwatch/contracts';
import { assemble, assemblyDeadline, decide, DEFAULT_POLICY } from './assembly.decider';
import { InMemoryAssembler } from './assembler';
import { evolve, evolveAll, sameEvent, toAssemblyEvent, type RequestState } from './request-state';
import { directoryFromEntries, EMPTY_DIRECTORY } from './tenant-directory';

const T0 = Date.parse('2025-06-01T12:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();

function ev(kind: RequestEventKind, ms: number, extra: Partial<RequestEventV1> = {}): RequestEventV1 {
  return { requestId: 'req-1', kind, time: at(ms), ...extra };
}

function stateOf(events: RequestEventV1[], seenAtMs = T0): RequestState {
  let s: RequestState | undefined;
  for (const e of events) s = evolve(s, toAssemblyEvent(e), seenAtMs);
  if (!s) throw new Error('no events');
  return s;
}

const happyPath = [
  ev('received', 0, { tenant: 'acme', model: 'llama-3-8b', modelVersion: 'v1' }),
  ev('queued', 5),
  ev('scheduled', 105, { instance: 'vllm-0', node: 'gpu-node-1', gpuUuids: ['GPU-b', 'GPU-a'] }),
  ev('first_token', 305),
  ev('completed', 1305, { promptTokens: 100, completionTokens: 11, cachedTokens: 40, finishReason: 'stop' }),
];

describe('assembly decider', () => {
  it('names the deadline a decision waits for: none when complete, the grace period after the terminal event, abandonment after the first', () => {
    const policy = { completionGraceMs: 5_000, abandonAfterMs: 600_000 };
    expect(assemblyDeadline(stateOf(happyPath), policy)).toBeUndefined();
    const withoutQueued = happyPath.filter((e) => e.kind !== 'queued');
    let s = stateOf(withoutQueued.slice(0, -1), T0 + 100);
    expect(assemblyDeadline(s, policy)).toBe(T0 + 100 + 600_000);
    s = evolve(s, toAssemblyEvent(withoutQueued[withoutQueued.length - 1]), T0 + 2_000);
    expect(assemblyDeadline(s, policy)).toBe(T0 + 2_000 + 5_000);
    // decide waits exactly until that deadline.
    expect(decide(s, T0 + 6_999, policy, EMPTY_DIRECTORY)).toEqual({ type: 'wait', untilMs: T0 + 7_000 });
    expect(decide(s, T0 + 7_000, policy, EMPTY_DIRECTORY).type).toBe('assemble');
  });

  it('given every phase, when the terminal event arrives, then the request is assembled at once with its timings', () => {
    const d = decide(stateOf(happyPath), T0, DEFAULT_POLICY, EMPTY_DIRECTORY);
    expect(d.type).toBe('assemble');
    if (d.type !== 'assemble') return;
    expect(d.record).toMatchObject({
      requestId: 'req-1',
      status: 'completed',
      startedAt: at(0),
      endedAt: at(1305),
      tenant: 'acme',
      team: 'unknown',
      project: 'unknown',
      model: 'llama-3-8b',
      modelVersion: 'v1',
      instance: 'vllm-0',
      node: 'gpu-node-1',
      gpuUuids: ['GPU-a', 'GPU-b'],
      promptTokens: 100,
      completionTokens: 11,
      cachedTokens: 40,
      finishReason: 'stop',
      queueMs: 100,
      prefillMs: 200,
      ttftMs: 305,
      tpotMs: 100,
      e2eMs: 1305,
      missingPhases: [],
    });
    expect(d.record.timeline.map((t) => t.kind)).toEqual([
      'received',
      'queued',
      'scheduled',
      'first_token',
      'completed',
    ]);
  });

  it('given a terminal event without first_token, waits for the grace period, then assembles what it has', () => {
    const s = stateOf([happyPath[0], happyPath[4]]);
    const waiting = decide(s, T0 + 1_000, DEFAULT_POLICY, EMPTY_DIRECTORY);
    expect(waiting).toEqual({ type: 'wait', untilMs: T0 + DEFAULT_POLICY.completionGraceMs });
    const done = decide(s, T0 + DEFAULT_POLICY.completionGraceMs, DEFAULT_POLICY, EMPTY_DIRECTORY);
    expect(done.type).toBe('assemble');
    if (done.type !== 'assemble') return;
    expect(done.record.missingPhases).toEqual(['queued', 'scheduled', 'first_token']);
    expect(done.record.ttftMs).toBeNull();
    expect(done.record.tpotMs).toBeNull();
    expect(done.record.e2eMs).toBe(1305);
  });

  it('given no terminal event, abandons the request once the timeout since its first event passed, however late its last one came', () => {
    // A request that keeps trickling events (a stuck stream re-sending `first_token`) is still
    // abandoned on time: the deadline does not move with each new event.
    const s: RequestState = { ...stateOf(happyPath.slice(0, 3)), lastSeenAtMs: T0 + 59_000 };
    const policy = { ...DEFAULT_POLICY, abandonAfterMs: 60_000 };
    expect(decide(s, T0 + 59_999, policy, EMPTY_DIRECTORY)).toEqual({ type: 'wait', untilMs: T0 + 60_000 });
    const d = decide(s, T0 + 60_000, policy, EMPTY_DIRECTORY);
    expect(d.type === 'assemble' && d.record.status).toBe('abandoned');
    if (d.type !== 'assemble') return;
    expect(d.record.endedAt).toBe(at(105));
    expect(d.record.e2eMs).toBeNull();
    expect(d.record.queueMs).toBe(100);
    expect(d.record.missingPhases).toEqual(['first_token']);
  });

  it('given a request that failed before it was scheduled, waits out the grace period, then keeps the error', () => {
    const s = stateOf([ev('received', 0), ev('failed', 40, { error: { code: 'oom', message: 'CUDA out of memory' } })]);
    expect(decide(s, T0, DEFAULT_POLICY, EMPTY_DIRECTORY).type).toBe('wait');
    const d = decide(s, T0 + DEFAULT_POLICY.completionGraceMs, DEFAULT_POLICY, EMPTY_DIRECTORY);
    expect(d.type).toBe('assemble');
    if (d.type !== 'assemble') return;
    expect(d.record).toMatchObject({
      status: 'failed',
      e2eMs: 40,
      error: { code: 'oom' },
      missingPhases: [],
      tpotMs: null,
    });
  });

  it('takes the earliest of repeated phases and ignores negative durations from skewed clocks', () => {
    const r = assemble(
      stateOf([ev('received', 10), ev('received', 0), ev('first_token', -5), ev('completed', 100)]),
      EMPTY_DIRECTORY,
    );
    expect(r.startedAt).toBe(at(0));
    expect(r.ttftMs).toBeNull();
    expect(r.e2eMs).toBe(100);
  });

  it('resolves tenant, team and project from the API key hash, and counts unknown keys as unknown', () => {
    const salt = 'a-test-salt-of-16+chars';
    const known = hashApiKey('sk-known', salt);
    const dir = directoryFromEntries([{ keyHash: known, tenant: 'acme', team: 'search', project: 'ranker' }]);
    const r1 = assemble(stateOf([ev('received', 0, { apiKeyHash: known }), ev('completed', 9)]), dir);
    expect([r1.tenant, r1.team, r1.project, r1.apiKeyHash]).toEqual(['acme', 'search', 'ranker', known]);
    const r2 = assemble(
      stateOf([ev('received', 0, { apiKeyHash: hashApiKey('sk-other', salt) }), ev('completed', 9)]),
      dir,
    );
    expect([r2.tenant, r2.team, r2.project]).toEqual(['unknown', 'unknown', 'unknown']);
    // A known key decides the tenant: one stated on the event cannot bill or read as someone else.
    const r3 = assemble(
      stateOf([ev('received', 0, { apiKeyHash: known, tenant: 'globex', team: 'ads' }), ev('completed', 9)]),
      dir,
    );
    expect([r3.tenant, r3.team, r3.project]).toEqual(['acme', 'search', 'ranker']);
    // Where the key's owner fixes no team or project, the event's refine it within that tenant.
    const tenantKey = hashApiKey('sk-tenant-wide', salt);
    const wide = directoryFromEntries([{ keyHash: tenantKey, tenant: 'acme' }]);
    const r4 = assemble(
      stateOf([
        ev('received', 0, { apiKeyHash: tenantKey, tenant: 'globex', team: 'ads', project: 'ctr' }),
        ev('completed', 9),
      ]),
      wide,
    );
    expect([r4.tenant, r4.team, r4.project]).toEqual(['acme', 'ads', 'ctr']);
    // Without a known key the event's labels stand.
    const r5 = assemble(stateOf([ev('received', 0, { tenant: 'globex', team: 'ads' }), ev('completed', 9)]), dir);
    expect([r5.tenant, r5.team, r5.project]).toEqual(['globex', 'ads', 'unknown']);
  });

  it('reports a phase of an already assembled request as late and does not assemble it twice', () => {
    const a = new InMemoryAssembler(DEFAULT_POLICY, EMPTY_DIRECTORY);
    for (const e of happyPath) a.ingest(toAssemblyEvent(e), T0);
    expect(a.tick(T0).map((r) => r.requestId)).toEqual(['req-1']);
    expect(a.ingest(toAssemblyEvent(happyPath[2]), T0 + 1)).toBe('late');
    expect(a.tick(Number.POSITIVE_INFINITY)).toEqual([]);
  });

  it("refuses to evolve a state with another request's event", () => {
    expect(() => evolve(stateOf(happyPath), toAssemblyEvent({ ...happyPath[0], requestId: 'req-2' }), T0)).toThrow(
      /req-2/,
    );
  });
});

describe('folding redelivered events (evolveAll)', () => {
  const received = toAssemblyEvent(ev('received', 0));
  const completed = toAssemblyEvent(ev('completed', 1305, { completionTokens: 11 }));

  it('given a stored state, when the same events are delivered again without arrival times, then the state is the same object', () => {
    const stored = evolveAll(undefined, [
      { event: received, seenAtMs: T0 },
      { event: completed, seenAtMs: T0 + 10 },
    ]);
    expect(
      evolveAll(stored, [
        { event: received, seenAtMs: null },
        { event: completed, seenAtMs: null },
      ]),
    ).toBe(stored);
  });

  it('given a stored state, when a redelivered event carries a canonically smaller payload, then it is kept but no arrival time moves', () => {
    const stored = evolveAll(undefined, [
      { event: received, seenAtMs: T0 },
      { event: completed, seenAtMs: T0 + 10 },
    ]);
    // Same id (request, kind, instant); "finishReason" sorts before "kind", so this one is smaller.
    const richer = toAssemblyEvent(ev('completed', 1305, { completionTokens: 11, finishReason: 'stop' }));
    const after = evolveAll(stored, [{ event: richer, seenAtMs: null }]);
    expect(after).not.toBe(stored);
    expect(after?.events.find((e) => sameEvent(e, completed))).toBe(richer); // as evolve would choose
    expect(evolve(stored, richer, T0 + 99).events.find((e) => sameEvent(e, completed))).toBe(richer);
    expect([after?.firstSeenAtMs, after?.lastSeenAtMs, after?.terminalSeenAtMs]).toEqual([T0, T0 + 10, T0 + 10]);
  });

  it('refuses an event of another request', () => {
    expect(() =>
      evolveAll(undefined, [
        { event: received, seenAtMs: T0 },
        { event: toAssemblyEvent({ ...ev('queued', 5), requestId: 'req-2' }), seenAtMs: T0 },
      ]),
    ).toThrow(/req-2/);
  });
});
