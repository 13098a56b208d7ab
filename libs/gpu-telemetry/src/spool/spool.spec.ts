import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { encodeFrame, scanFrames } from './frame';
import { Spool, type SpoolOptions } from './spool';

const dirs: string[] = [];
const tmp = (): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});
const rec = (i: number, size = 20): Buffer => Buffer.from(`r${i}:`.padEnd(size, 'x'));
const idOf = (b: Buffer): number => Number(/^r(\d+):/.exec(b.toString())![1]);

function drain(s: Spool, max = 1_000_000): number[] {
  const out: number[] = [];
  for (;;) {
    const batch = s.peek(7);
    if (batch.length === 0 || out.length >= max) return out;
    for (const r of batch) out.push(idOf(r.payload));
    s.ack(batch[batch.length - 1]!);
  }
}

describe('frames', () => {
  it('reads back what was framed and stops at damage', () => {
    const a = encodeFrame(Buffer.from('hello'));
    const b = encodeFrame(Buffer.from('world!'));
    const both = Buffer.concat([a, b]);
    expect(scanFrames(both).frames.map((f) => f.payload.toString())).toEqual(['hello', 'world!']);
    expect(scanFrames(both.subarray(0, both.length - 2))).toMatchObject({
      goodBytes: a.length,
      damage: 'short-payload',
    });
    const flipped = Buffer.from(both);
    flipped[flipped.length - 1] ^= 0xff;
    expect(scanFrames(flipped)).toMatchObject({ goodBytes: a.length, damage: 'bad-crc' });
    expect(scanFrames(Buffer.concat([a, Buffer.from([1, 2, 3])]))).toMatchObject({
      goodBytes: a.length,
      damage: 'short-header',
    });
  });
});

describe('spool', () => {
  it('replays in the order written, across segments and a restart', () => {
    const dir = tmp();
    const s = Spool.open({ dir, maxBytes: 1 << 20, segmentBytes: 100, sync: false });
    for (let i = 0; i < 30; i++) s.append(rec(i));
    expect(s.stats()).toMatchObject({ pendingRecords: 30, droppedRecords: 0 });
    expect(s.stats().segments).toBeGreaterThan(5);
    const first = s.peek(10);
    s.ack(first[9]!);
    s.close();
    const again = Spool.open({ dir, maxBytes: 1 << 20, segmentBytes: 100, sync: false });
    expect(drain(again)).toEqual(Array.from({ length: 20 }, (_, i) => i + 10));
    expect(again.stats()).toMatchObject({ pendingRecords: 0, pendingBytes: 0 });
    again.append(rec(99));
    again.close();
    expect(drain(Spool.open({ dir, maxBytes: 1 << 20, segmentBytes: 100, sync: false }))).toEqual([99]);
  });

  it('keeps the good part of a torn segment after a crash and goes on appending', () => {
    const dir = tmp();
    const torn: unknown[] = [];
    const opts: SpoolOptions = { dir, maxBytes: 1 << 20, sync: false, onTorn: (e) => torn.push(e) };
    const s = Spool.open(opts);
    for (let i = 0; i < 5; i++) s.append(rec(i));
    s.close();
    const [seg] = fs.readdirSync(dir).filter((n) => n.endsWith('.seg'));
    const file = path.join(dir, seg!);
    const whole = fs.statSync(file).size;
    // A crash in the middle of the sixth write: header complete, payload cut short.
    const half = encodeFrame(rec(5)).subarray(0, 13);
    fs.appendFileSync(file, half);
    const reopened = Spool.open(opts);
    expect(torn).toEqual([{ segment: seg, keptBytes: whole, cutBytes: 13, damage: 'short-payload' }]);
    expect(fs.statSync(file).size).toBe(whole);
    expect(reopened.stats()).toMatchObject({ pendingRecords: 5, tornBytes: 13 });
    reopened.append(rec(6));
    expect(drain(reopened)).toEqual([0, 1, 2, 3, 4, 6]);
  });

  it('cuts a last record whose bytes were corrupted (CRC) and keeps the ones before it', () => {
    const dir = tmp();
    const s = Spool.open({ dir, maxBytes: 1 << 20, sync: false });
    for (let i = 0; i < 4; i++) s.append(rec(i));
    s.close();
    const file = path.join(
      dir,
      fs.readdirSync(dir).find((n) => n.endsWith('.seg'))!,
    );
    const buf = fs.readFileSync(file);
    buf[buf.length - 3] ^= 0x55;
    fs.writeFileSync(file, buf);
    expect(drain(Spool.open({ dir, maxBytes: 1 << 20, sync: false }))).toEqual([0, 1, 2]);
  });

  it('drops the oldest records when full, counts them and says so', () => {
    const dir = tmp();
    const drops: Array<{ records: number; reason: string }> = [];
    const s = Spool.open({ dir, maxBytes: 1000, segmentBytes: 200, sync: false, onDrop: (e) => drops.push(e) });
    for (let i = 0; i < 100; i++) s.append(rec(i));
    const st = s.stats();
    expect(st.diskBytes).toBeLessThanOrEqual(1000);
    expect(st.droppedRecords).toBeGreaterThan(0);
    expect(drops.reduce((n, d) => n + d.records, 0)).toBe(st.droppedRecords);
    expect(drops.every((d) => d.reason === 'full')).toBe(true);
    const left = drain(s);
    expect(left.length + st.droppedRecords).toBe(100);
    // What is left is the newest run, in order.
    expect(left).toEqual(Array.from({ length: left.length }, (_, i) => 100 - left.length + i));
  });

  it('refuses a record larger than the whole spool, counted', () => {
    const s = Spool.open({ dir: tmp(), maxBytes: 100, sync: false });
    s.append(Buffer.alloc(500));
    expect(s.stats()).toMatchObject({ droppedRecords: 1, pendingRecords: 0 });
  });

  type Op = { k: 'append'; n: number } | { k: 'deliver'; n: number } | { k: 'reopen' } | { k: 'crash'; cut: number };

  it('never reorders, duplicates or silently loses a record (property)', () => {
    const op = fc.oneof(
      fc.record({ k: fc.constant('append' as const), n: fc.integer({ min: 1, max: 6 }) }),
      fc.record({ k: fc.constant('deliver' as const), n: fc.integer({ min: 1, max: 9 }) }),
      fc.record({ k: fc.constant('reopen' as const) }),
      fc.record({ k: fc.constant('crash' as const), cut: fc.integer({ min: 1, max: 27 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), fc.integer({ min: 300, max: 3000 }), (ops: Op[], maxBytes) => {
        const dir = tmp();
        const opts: SpoolOptions = { dir, maxBytes, segmentBytes: Math.floor(maxBytes / 3), sync: false };
        let s = Spool.open(opts);
        let next = 0;
        const written: number[] = [];
        const delivered: number[] = [];
        let lostToCrash = 0;
        let dropped = 0;
        for (const o of ops) {
          if (o.k === 'append') {
            for (let i = 0; i < o.n; i++) {
              s.append(rec(next));
              written.push(next++);
            }
          } else if (o.k === 'deliver') {
            const b = s.peek(o.n);
            for (const r of b) delivered.push(idOf(r.payload));
            if (b.length > 0) s.ack(b[b.length - 1]!);
          } else {
            dropped += s.stats().droppedRecords;
            s.close();
            if (o.k === 'crash') {
              // Tear the newest segment's last frame, as a crash during the write would.
              const segs = fs
                .readdirSync(dir)
                .filter((n) => n.endsWith('.seg'))
                .sort();
              const last = segs[segs.length - 1];
              if (last) {
                const f = path.join(dir, last);
                const size = fs.statSync(f).size;
                const pendingBefore = Spool.open({ ...opts }).stats().pendingRecords;
                if (size > 0) fs.truncateSync(f, size - Math.min(o.cut, size));
                const after = Spool.open({ ...opts });
                lostToCrash += pendingBefore - after.stats().pendingRecords;
                after.close();
              }
            }
            s = Spool.open(opts);
          }
        }
        const rest = drain(s);
        dropped += s.stats().droppedRecords;
        const all = [...delivered, ...rest];
        // In order, no duplicates.
        for (let i = 1; i < all.length; i++) expect(all[i]!).toBeGreaterThan(all[i - 1]!);
        // Every record is delivered, dropped (counted) or lost to a simulated torn write (detected).
        expect(all.length + dropped + lostToCrash).toBe(written.length);
      }),
      { numRuns: 150 },
    );
  });
});
