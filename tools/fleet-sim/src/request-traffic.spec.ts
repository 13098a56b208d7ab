import { type RequestEventKind, requestEventInputSchema } from '@arcwatch/contracts';
import { FleetModel } from './fleet-model';
import type { SimRequestEvent } from './request-events';

const START = Date.parse('2026-11-23T15:00:00.000Z');
const ORDER: Record<RequestEventKind, number> = {
  received: 0,
  queued: 1,
  scheduled: 2,
  first_token: 3,
  completed: 4,
  failed: 4,
  cancelled: 4,
};
const TERMINAL = new Set<RequestEventKind>(['completed', 'failed', 'cancelled']);

function run(seconds: number, outage = true): { model: FleetModel; events: SimRequestEvent[] } {
  const model = new FleetModel({
    nodes: 4,
    seed: 3,
    startMs: START,
    outage: outage
      ? { node: 1, firstAtMs: 30_000, durationMs: 20_000, everyMs: 0 }
      : { node: -1, firstAtMs: 0, durationMs: 0, everyMs: 0 },
    warmupMs: 10_000,
  });
  const events: SimRequestEvent[] = [];
  for (let t = 1_000; t <= seconds * 1000; t += 1_000) {
    model.advanceTo(START + t);
    events.push(...model.drainEvents());
  }
  return { model, events };
}

function byRequest(events: readonly SimRequestEvent[]): Map<string, SimRequestEvent[]> {
  const m = new Map<string, SimRequestEvent[]>();
  for (const e of events) {
    const list = m.get(e.requestId) ?? [];
    list.push(e);
    m.set(e.requestId, list);
  }
  return m;
}

describe('simulated request traffic', () => {
  const { events } = run(90);
  const requests = byRequest(events);

  it('emits events the tracing service accepts', () => {
    expect(events.length).toBeGreaterThan(2000);
    const bad = events.map((e) => requestEventInputSchema.safeParse(e)).filter((r) => !r.success);
    expect(bad).toEqual([]);
  });

  it('orders each request: received ≤ queued ≤ scheduled ≤ first_token ≤ terminal, each phase once', () => {
    for (const [id, list] of requests) {
      const kinds = list.map((e) => e.kind);
      expect({ id, kinds: new Set(kinds).size }).toEqual({ id, kinds: kinds.length });
      expect(list[0].kind).toBe('received');
      for (let i = 1; i < list.length; i++) {
        expect(ORDER[list[i].kind]).toBeGreaterThan(ORDER[list[i - 1].kind]);
        expect(Date.parse(list[i].time)).toBeGreaterThanOrEqual(Date.parse(list[i - 1].time));
      }
      expect(kinds.filter((k) => TERMINAL.has(k)).length).toBeLessThanOrEqual(1);
    }
  });

  it('carries positive token counts and the serving instance, node and GPUs', () => {
    const completed = events.filter((e) => e.kind === 'completed');
    expect(completed.length).toBeGreaterThan(500);
    for (const e of completed) {
      expect(e.promptTokens).toBeGreaterThan(0);
      expect(e.completionTokens).toBeGreaterThan(0);
      expect(e.finishReason === 'stop' || e.finishReason === 'length').toBe(true);
      expect(e.instance).toMatch(/^127\.0\.0\.1:194\d\d$/);
      expect(e.node).toMatch(/^gpu-node-00[1-4]$/);
      expect(e.gpuUuids).toHaveLength(8);
    }
  });

  it('spreads over several tenants, teams, projects and API keys', () => {
    const received = events.filter((e) => e.kind === 'received');
    expect(new Set(received.map((e) => e.tenant)).size).toBeGreaterThanOrEqual(4);
    expect(new Set(received.map((e) => e.team)).size).toBeGreaterThanOrEqual(6);
    expect(new Set(received.map((e) => e.project)).size).toBeGreaterThanOrEqual(6);
    expect(new Set(received.map((e) => e.apiKey)).size).toBeGreaterThanOrEqual(8);
  });

  it('includes failures, cancellations and requests that never end', () => {
    expect(events.some((e) => e.kind === 'failed' && e.error?.code)).toBe(true);
    expect(events.some((e) => e.kind === 'cancelled' && e.finishReason === 'abort')).toBe(true);
    // Lost with the dead node, without a terminal event, long before the run ended.
    const abandoned = [...requests.values()].filter(
      (list) => list.every((e) => !TERMINAL.has(e.kind)) && Date.parse(list[0].time) < START + 30_000,
    );
    expect(abandoned.length).toBeGreaterThan(0);
  });
});

describe('traffic and metrics agree', () => {
  it('has as many requests in flight per instance as vllm:num_requests_running says', () => {
    const { model, events } = run(60, false);
    for (let node = 0; node < 4; node++) {
      const engine = model.engine(node);
      if (!engine) throw new Error('engine missing');
      const open = new Set<string>();
      for (const e of events) {
        if (e.node !== model.nodes[node].hostname) continue;
        if (e.kind === 'scheduled') open.add(e.requestId);
        if (TERMINAL.has(e.kind)) open.delete(e.requestId);
      }
      const preempted = engine.waiting.filter((r) => r.scheduledAt !== undefined).length;
      const running = engine.running.length + preempted;
      const gauge = Number(/vllm:num_requests_running\{[^}]*\} (\S+)/.exec(model.vllmExposition(node) ?? '')?.[1]);
      expect(gauge).toBe(engine.running.length);
      expect(running).toBeGreaterThan(5);
      // Only the few requests whose terminal event the gateway lost stay open in the events.
      expect(open.size - running).toBeGreaterThanOrEqual(0);
      expect(open.size - running).toBeLessThanOrEqual(Math.max(3, running * 0.1));
    }
  });
});
