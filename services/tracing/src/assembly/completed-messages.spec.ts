import {
  REQUEST_COMPLETED_BATCH_V1,
  SUBJECTS,
  requestCompletedBatchId,
  type RequestCompletedV1,
} from '@arcwatch/contracts';
import { completedBatchEntries, serializedBatchEntries } from './completed-messages';

const record = (requestId: string, tenant: string, endedAt: string): RequestCompletedV1 =>
  ({ requestId, tenant, endedAt }) as RequestCompletedV1;

describe('completedBatchEntries', () => {
  const records = [
    record('a', 'acme', '2025-06-01T12:00:01.000Z'),
    record('b', 'globex', '2025-06-01T12:00:02.000Z'),
    record('c', 'acme', '2025-06-01T12:00:03.000+01:00'), // 11:00:03Z: earlier than a
    record('d', 'acme', '2025-06-01T12:00:05.000Z'),
    record('e', 'acme', '2025-06-01T12:00:05.000Z'),
  ];

  it('packs each tenant’s records in the order given, N per message, id from the request ids, time the latest end', () => {
    const entries = completedBatchEntries(records, 2, 'arcwatch/tracing');
    expect(
      entries.map((e) => [e.subject, e.event.type, e.event.source, e.event.time, e.event.id, e.event.data]),
    ).toEqual([
      [
        SUBJECTS.requestCompleted('acme'),
        REQUEST_COMPLETED_BATCH_V1,
        'arcwatch/tracing',
        '2025-06-01T12:00:01.000Z',
        requestCompletedBatchId([{ requestId: 'a' }, { requestId: 'c' }]),
        { records: [records[0], records[2]] },
      ],
      [
        SUBJECTS.requestCompleted('acme'),
        REQUEST_COMPLETED_BATCH_V1,
        'arcwatch/tracing',
        '2025-06-01T12:00:05.000Z',
        requestCompletedBatchId([{ requestId: 'd' }, { requestId: 'e' }]),
        { records: [records[3], records[4]] },
      ],
      [
        SUBJECTS.requestCompleted('globex'),
        REQUEST_COMPLETED_BATCH_V1,
        'arcwatch/tracing',
        '2025-06-01T12:00:02.000Z',
        requestCompletedBatchId([{ requestId: 'b' }]),
        { records: [records[1]] },
      ],
    ]);
  });

  it('makes the same messages from the same records, and another id for other records', () => {
    const again = completedBatchEntries([...records], 2, 'arcwatch/tracing');
    expect(again).toEqual(completedBatchEntries(records, 2, 'arcwatch/tracing'));
    expect(requestCompletedBatchId([{ requestId: 'a' }, { requestId: 'c' }])).not.toBe(
      requestCompletedBatchId([{ requestId: 'a' }, { requestId: 'd' }]),
    );
    expect(completedBatchEntries([], 2, 'arcwatch/tracing')).toEqual([]);
  });

  it('serialized from the records’ own bytes, gives the bytes of the events serialized whole', () => {
    const entries = completedBatchEntries(records, 2, 'arcwatch/tracing');
    const asked: string[] = [];
    const serialized = serializedBatchEntries(entries, (r) => {
      asked.push(r.requestId);
      return Buffer.from(JSON.stringify(r));
    });
    expect(serialized.map((s) => ({ ...s, json: Buffer.from(s.json).toString('utf8') }))).toEqual(
      entries.map((e) => ({ subject: e.subject, id: e.event.id, json: JSON.stringify(e.event) })),
    );
    expect(asked).toEqual(['a', 'c', 'd', 'e', 'b']); // every record's JSON came from the caller
  });

  it('keeps non-ASCII text, quotes and backslashes byte for byte', () => {
    const odd = [
      record('req-ü-😀', 'tenant-ß', '2026-01-01T00:00:05.000Z'),
      record('a"b\\c\n', 'tenant-ß', '2026-01-01T00:00:06.000Z'),
    ];
    const [entry] = completedBatchEntries(odd, 2, 'arcwatch/tracing');
    const [bytes] = serializedBatchEntries([entry], (r) => Buffer.from(JSON.stringify(r)));
    expect(Buffer.from(bytes.json).equals(Buffer.from(JSON.stringify(entry.event), 'utf8'))).toBe(true);
    expect(
      JSON.parse(Buffer.from(bytes.json).toString('utf8')).data.records.map((r: RequestCompletedV1) => r.requestId),
    ).toEqual(['req-ü-😀', 'a"b\\c\n']);
  });
});
