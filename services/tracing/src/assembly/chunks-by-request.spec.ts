import fc from 'fast-check';
import type { RequestEventV1 } from '@arcwatch/contracts';
import { chunksByRequest, type StoredEvent } from './assembly.service';

const item = (requestId: string, i: number): StoredEvent => ({
  event: { requestId, kind: 'queued', time: new Date(1_750_000_000_000 + i).toISOString() } as RequestEventV1,
  storedAtMs: 1_750_000_000_000 + i,
});

describe('chunksByRequest', () => {
  it('keeps every event of a request in one chunk, each event once, in stream order, chunks up to the size', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 400 }),
        fc.integer({ min: 1, max: 50 }),
        (reqs, size) => {
          const items = reqs.map((r, i) => item(`r${r}`, i));
          const chunks = chunksByRequest(items, size);
          expect(chunks.flat().sort((a, b) => a - b)).toEqual(items.map((_, i) => i));
          const chunkOf = new Map<string, number>();
          chunks.forEach((chunk, c) => {
            expect(chunk).toEqual([...chunk].sort((a, b) => a - b));
            const requests = new Set(chunk.map((i) => items[i].event.requestId));
            for (const r of requests) {
              expect(chunkOf.has(r)).toBe(false);
              chunkOf.set(r, c);
            }
            // over the size only when it is one request's events alone
            if (chunk.length > size) expect(requests.size).toBe(1);
          });
        },
      ),
    );
  });

  it('fills chunks up to the size before starting another', () => {
    // 6 requests of 2 events, interleaved: a-b-c-a-b-c-d-e-f-d-e-f
    const order = ['a', 'b', 'c', 'a', 'b', 'c', 'd', 'e', 'f', 'd', 'e', 'f'];
    const items = order.map((r, i) => item(r, i));
    expect(chunksByRequest(items, 4)).toEqual([
      [0, 1, 3, 4],
      [2, 5, 6, 9],
      [7, 8, 10, 11],
    ]);
    expect(chunksByRequest(items, 3)).toEqual([
      [0, 3],
      [1, 4],
      [2, 5],
      [6, 9],
      [7, 10],
      [8, 11],
    ]);
    expect(chunksByRequest([], 4)).toEqual([]);
  });
});
