import fc from 'fast-check';
import { fastRequestEventInput, fastRequestEventV1 } from './request-event.fast';
import { REQUEST_EVENT_KINDS, requestEventInputSchema, requestEventV1Schema } from './request-event.v1';

/**
 * The fast path may decline anything, but whatever it accepts, zod must accept with the same
 * result, key order included (the event's JSON is what is published and stored).
 */
const text = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ minLength: 60, maxLength: 300 }),
  fc.string({ unit: 'grapheme', maxLength: 8 }),
  fc.string({ unit: 'binary', maxLength: 8 }),
  fc.constantFrom('', 'acme', 'vllm-0:8000', 'x'.repeat(64), 'x'.repeat(65), 'x'.repeat(128), 'x'.repeat(129)),
);
const count = fc.oneof(
  fc.integer({ min: -5, max: 100_000 }),
  fc.double(),
  fc.constantFrom(0, -0, 2 ** 53 - 1, 2 ** 53, 1.5, -1, Number.MAX_VALUE),
);
const time = fc.oneof(
  fc
    .date({ min: new Date('1970-01-01'), max: new Date('2200-01-01'), noInvalidDate: true })
    .map((d) => d.toISOString()),
  fc.constantFrom(
    '2024-02-29T00:00:00Z',
    '2025-02-29T00:00:00Z',
    '2025-06-01T12:00:00.123456+05:30',
    '2025-06-01T12:00:00',
    '2025-06-01 12:00:00Z',
    '2025-13-01T00:00:00Z',
    '2025-06-01T24:00:00Z',
  ),
  fc.string({ maxLength: 30 }),
);
const anything = fc.oneof(text, count, fc.boolean(), fc.constant(null), fc.array(text, { maxLength: 3 }));
/** Mostly a valid value, sometimes anything: so that a good share of events reach the fast path's end. */
const mostly = <T>(valid: fc.Arbitrary<T>, other: fc.Arbitrary<unknown>) =>
  fc.oneof({ arbitrary: valid, weight: 12 }, { arbitrary: other, weight: 1 });
const ascii = (max: number) => fc.string({ minLength: 1, maxLength: max });
const validCount = fc.integer({ min: 0, max: 1_000_000 });
const common = fc.record(
  {
    requestId: mostly(ascii(40), fc.oneof(text, count)),
    kind: mostly(fc.constantFrom(...REQUEST_EVENT_KINDS), text),
    time: mostly(time, text),
    tenant: mostly(ascii(20), anything),
    team: mostly(ascii(20), text),
    project: mostly(ascii(20), text),
    model: mostly(ascii(30), text),
    modelVersion: mostly(ascii(10), text),
    instance: mostly(ascii(30), text),
    node: mostly(ascii(30), text),
    gpuUuids: mostly(fc.array(ascii(40), { maxLength: 8 }), fc.oneof(fc.array(text, { maxLength: 70 }), anything)),
    promptTokens: mostly(validCount, count),
    completionTokens: mostly(validCount, count),
    cachedTokens: mostly(validCount, fc.oneof(count, anything)),
    finishReason: mostly(ascii(10), text),
    error: mostly(
      fc.record({ code: ascii(20), message: fc.string({ maxLength: 40 }) }, { requiredKeys: ['code'] }),
      fc.oneof(
        fc.record({ code: text, message: fc.oneof(text, fc.string({ minLength: 1990, maxLength: 2010 })) }),
        fc.record({ code: text, other: text }),
        anything,
      ),
    ),
  },
  { requiredKeys: [] },
);
/** Rarer parts: a raw key or its hash (or both, which zod refuses), and an unknown key. */
const rarer = fc.record(
  {
    apiKey: mostly(ascii(60), fc.oneof(text, fc.string({ minLength: 510, maxLength: 515 }))),
    apiKeyHash: mostly(fc.stringMatching(/^[0-9a-f]{64}$/), fc.oneof(fc.stringMatching(/^[0-9a-fA-F]{63,65}$/), text)),
    extra: anything,
  },
  { requiredKeys: [] },
);
const event = fc
  .tuple(common, fc.option(rarer, { freq: 3 }))
  .map(([e, more]) => ({ ...e, ...(more ?? {}) }) as Record<string, unknown>);

describe('the fast path of the request event schemas', () => {
  const accepted = { input: 0, v1: 0 };

  it('accepts only what zod accepts, with the same result (input form, raw API keys allowed)', () => {
    fc.assert(
      fc.property(event, (e) => {
        const fast = fastRequestEventInput(e);
        if (fast === undefined) return;
        accepted.input++;
        const slow = requestEventInputSchema.safeParse(e);
        expect(slow.success).toBe(true);
        expect(JSON.stringify(fast)).toBe(JSON.stringify(slow.data));
        expect(fast).toStrictEqual(slow.data);
      }),
      { numRuns: 3_000 },
    );
    // Not vacuous: a good share of the generated events went all the way through. Over 40 seeds
    // 113–159 of the 3,000 did (published form 109–157, about 11 apart from run to run); 60 sits
    // far enough below that a random seed does not fail it.
    expect(accepted.input).toBeGreaterThan(60);
  });

  it('accepts only what zod accepts, with the same result (published form, no raw API key)', () => {
    fc.assert(
      fc.property(event, (e) => {
        const fast = fastRequestEventV1(e);
        if (fast === undefined) return;
        accepted.v1++;
        const slow = requestEventV1Schema.safeParse(e);
        expect(slow.success).toBe(true);
        expect(JSON.stringify(fast)).toBe(JSON.stringify(slow.data));
        expect(fast).toStrictEqual(slow.data);
      }),
      { numRuns: 3_000 },
    );
    expect(accepted.v1).toBeGreaterThan(60);
  });

  it('takes the plain events a gateway sends, and leaves the rest to zod', () => {
    const plain = [
      { requestId: 'r1', kind: 'received', time: '2025-06-01T12:00:00.000Z', tenant: 'acme', apiKey: 'sk-1' },
      {
        requestId: 'r1',
        kind: 'scheduled',
        time: '2025-06-01T12:00:00.100+02:00',
        instance: 'vllm-0',
        gpuUuids: ['GPU-1'],
      },
      {
        requestId: 'r1',
        kind: 'failed',
        time: '2025-06-01T12:00:01Z',
        promptTokens: 0,
        completionTokens: 3,
        error: { code: 'oom', message: 'CUDA out of memory' },
        apiKeyHash: 'a'.repeat(64),
      },
    ];
    expect(plain.map((e) => fastRequestEventInput(e) !== undefined)).toEqual([true, true, true]);
    expect(plain.map((e) => fastRequestEventV1(e) !== undefined)).toEqual([false, true, true]);
    const declined = [
      { requestId: 'r1', kind: 'received', time: '2025-06-01T12:00:00Z', tenant: 'Zürich' }, // not ASCII
      { requestId: 'r1', kind: 'received', time: '2025-06-01T12:00:00Z', unknown: 1 }, // zod would strip
      { requestId: 'r1', kind: 'received', time: '2025-06-01T12:00:00Z', apiKey: 'k', apiKeyHash: 'a'.repeat(64) },
      { requestId: 'r1', kind: 'started', time: '2025-06-01T12:00:00Z' },
      { requestId: 'r1', kind: 'received', time: 'yesterday' },
      { requestId: 'r1', kind: 'received', time: '2025-06-01T12:00:00Z', promptTokens: 1.5 },
    ];
    expect(declined.map((e) => fastRequestEventInput(e))).toEqual(declined.map(() => undefined));
  });
});
