import * as fs from 'node:fs';
import * as path from 'node:path';
import { encodeFrame, FRAME_HEADER, scanFrames } from './frame';

/**
 * An append-only disk spool of records (the agent's batches while NATS is away), read back in the
 * order written.
 *
 * - Segments `<seq>.seg` (12 digits) hold length+CRC frames (frame.ts); a new segment starts when
 *   the active one reaches `segmentBytes`.
 * - `cursor.json` says how far the records were delivered: {segment, offset}. It is replaced
 *   atomically (write + rename) after each acknowledgement, so a crash replays at most the records
 *   acknowledged since the last cursor write; the agent's deterministic message ids make JetStream
 *   drop those duplicates.
 * - Bounded by `maxBytes`: when the segments grow past it, whole segments are removed oldest first
 *   and the records in them that were not delivered are counted as dropped and reported through
 *   `onDrop`. Never silent.
 * - On open, every segment is scanned: a torn tail (half-written frame, CRC mismatch) is cut off,
 *   the intact frames before it are kept, and the damage is reported through `onTorn`.
 */
export interface SpoolOptions {
  dir: string;
  maxBytes: number;
  /** Default: a quarter of maxBytes, at most 8 MiB. */
  segmentBytes?: number;
  /** fdatasync after every append (default true): a batch in the spool survives a power cut. */
  sync?: boolean;
  onDrop?: (e: { records: number; bytes: number; segment: string; reason: 'full' | 'oversized' }) => void;
  onTorn?: (e: { segment: string; keptBytes: number; cutBytes: number; damage: string }) => void;
}

export interface SpoolRecord {
  segment: number;
  /** Offset just past this record: where the cursor goes once it is delivered. */
  end: number;
  payload: Buffer;
}

export interface SpoolStats {
  pendingRecords: number;
  pendingBytes: number;
  diskBytes: number;
  segments: number;
  droppedRecords: number;
  droppedBytes: number;
  tornBytes: number;
}

interface Segment {
  seq: number;
  size: number;
  /** End offsets of the records in the segment, in order. */
  ends: number[];
}

const SEGMENT_RE = /^(\d{12})\.seg$/;

function segName(seq: number): string {
  return `${String(seq).padStart(12, '0')}.seg`;
}

export class Spool {
  private readonly segments: Segment[] = [];
  private cursor = { segment: 0, offset: 0 };
  private fd: number | undefined;
  private readonly segmentBytes: number;
  private dropped = { records: 0, bytes: 0 };
  private torn = 0;
  /** The cursor moved back on open and could not be written (disk full): written before any append. */
  private cursorUnwritten = false;

  private constructor(private readonly opts: SpoolOptions) {
    this.segmentBytes = Math.max(
      FRAME_HEADER + 1,
      Math.min(opts.segmentBytes ?? Math.floor(opts.maxBytes / 4), 8 * 1024 * 1024),
    );
  }

  static open(opts: SpoolOptions): Spool {
    fs.mkdirSync(opts.dir, { recursive: true });
    const s = new Spool(opts);
    s.load();
    return s;
  }

  private file(seq: number): string {
    return path.join(this.opts.dir, segName(seq));
  }

  private load(): void {
    const seqs = fs
      .readdirSync(this.opts.dir)
      .map((n) => SEGMENT_RE.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    for (const seq of seqs) {
      const buf = fs.readFileSync(this.file(seq));
      const scan = scanFrames(buf);
      if (scan.damage !== undefined) {
        fs.truncateSync(this.file(seq), scan.goodBytes);
        const cut = buf.length - scan.goodBytes;
        this.torn += cut;
        this.opts.onTorn?.({ segment: segName(seq), keptBytes: scan.goodBytes, cutBytes: cut, damage: scan.damage });
      }
      this.segments.push({ seq, size: scan.goodBytes, ends: scan.frames.map((f) => f.end) });
    }
    try {
      const c = JSON.parse(fs.readFileSync(path.join(this.opts.dir, 'cursor.json'), 'utf8')) as {
        segment?: unknown;
        offset?: unknown;
      };
      if (typeof c.segment === 'number' && typeof c.offset === 'number')
        this.cursor = { segment: c.segment, offset: c.offset };
    } catch {
      // No cursor yet (or an unreadable one): deliver from the oldest segment.
    }
    const before = JSON.stringify(this.cursor);
    this.normaliseCursor();
    // A cursor moved back by a cut tail is written at once: records appended later at those
    // offsets must not read as delivered after the next restart. On a full disk it is written
    // before the next append instead (which needs space anyway), so the spool still opens.
    if (JSON.stringify(this.cursor) !== before) {
      try {
        this.writeCursor();
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
        this.cursorUnwritten = true;
      }
    }
  }

  private writeCursor(): void {
    const tmp = path.join(this.opts.dir, 'cursor.json.tmp');
    fs.writeFileSync(tmp, JSON.stringify(this.cursor));
    fs.renameSync(tmp, path.join(this.opts.dir, 'cursor.json'));
  }

  /** Puts the cursor on a record boundary of an existing segment (or past everything). */
  private normaliseCursor(): void {
    const first = this.segments[0];
    if (!first) {
      this.cursor = { segment: this.cursor.segment, offset: 0 };
      return;
    }
    const seg = this.segments.find((s) => s.seq === this.cursor.segment);
    if (!seg) {
      if (this.cursor.segment < first.seq) this.cursor = { segment: first.seq, offset: 0 };
      else this.cursor = { segment: this.cursor.segment, offset: 0 };
      return;
    }
    // A cursor past a cut tail, or between frames, goes back to the last boundary at or before it.
    let off = 0;
    for (const e of seg.ends) if (e <= this.cursor.offset) off = e;
    this.cursor.offset = off;
  }

  private active(): Segment {
    let last = this.segments[this.segments.length - 1];
    if (!last || last.size >= this.segmentBytes) {
      this.closeFd();
      // Above the cursor's segment too: a reused number would read as already delivered.
      const seq = Math.max(last?.seq ?? 0, this.cursor.segment) + 1;
      last = { seq, size: 0, ends: [] };
      fs.writeFileSync(this.file(seq), Buffer.alloc(0));
      this.segments.push(last);
    }
    if (this.fd === undefined) this.fd = fs.openSync(this.file(last.seq), 'a');
    return last;
  }

  private closeFd(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }

  append(payload: Uint8Array): void {
    const frame = encodeFrame(payload);
    if (frame.length > this.opts.maxBytes) {
      this.dropped.records += 1;
      this.dropped.bytes += frame.length;
      this.opts.onDrop?.({ records: 1, bytes: frame.length, segment: '(not written)', reason: 'oversized' });
      return;
    }
    if (this.cursorUnwritten) {
      this.writeCursor();
      this.cursorUnwritten = false;
    }
    const seg = this.active();
    const n = fs.writeSync(this.fd!, frame);
    if (n < frame.length) {
      // A short write (the disk filled up mid-frame): cut it off so the record is refused, not torn.
      fs.ftruncateSync(this.fd!, seg.size);
      throw Object.assign(new Error(`ENOSPC: no space left on device, spool append (${n} of ${frame.length} bytes)`), {
        code: 'ENOSPC',
      });
    }
    if (this.opts.sync !== false) fs.fdatasyncSync(this.fd!);
    seg.size += frame.length;
    seg.ends.push(seg.size);
    this.enforceBound();
  }

  private diskBytes(): number {
    let n = 0;
    for (const s of this.segments) n += s.size;
    return n;
  }

  private enforceBound(): void {
    while (this.diskBytes() > this.opts.maxBytes && this.segments.length > 1) {
      const oldest = this.segments.shift()!;
      const pending = this.pendingIn(oldest);
      fs.rmSync(this.file(oldest.seq), { force: true });
      if (pending.records > 0) {
        this.dropped.records += pending.records;
        this.dropped.bytes += pending.bytes;
        this.opts.onDrop?.({
          records: pending.records,
          bytes: pending.bytes,
          segment: segName(oldest.seq),
          reason: 'full',
        });
      }
      if (this.cursor.segment <= oldest.seq) this.cursor = { segment: this.segments[0]!.seq, offset: 0 };
    }
  }

  private pendingIn(seg: Segment): { records: number; bytes: number } {
    if (seg.seq < this.cursor.segment) return { records: 0, bytes: 0 };
    const from = seg.seq === this.cursor.segment ? this.cursor.offset : 0;
    let records = 0;
    for (const e of seg.ends) if (e > from) records++;
    return { records, bytes: seg.size - from };
  }

  /** Up to `max` undelivered records, oldest first, from the cursor on. */
  peek(max: number): SpoolRecord[] {
    const out: SpoolRecord[] = [];
    for (const seg of this.segments) {
      if (out.length >= max) break;
      if (seg.seq < this.cursor.segment) continue;
      const from = seg.seq === this.cursor.segment ? this.cursor.offset : 0;
      if (from >= seg.size) continue;
      const buf = fs.readFileSync(this.file(seg.seq)).subarray(0, seg.size);
      for (const f of scanFrames(buf, from).frames) {
        out.push({ segment: seg.seq, end: f.end, payload: Buffer.from(f.payload) });
        if (out.length >= max) break;
      }
    }
    return out;
  }

  /** Marks everything up to and including `r` delivered; removes segments left with nothing pending. */
  ack(r: Pick<SpoolRecord, 'segment' | 'end'>): void {
    this.cursor = { segment: r.segment, offset: r.end };
    const last = this.segments[this.segments.length - 1];
    while (this.segments.length > 0) {
      const first = this.segments[0]!;
      const done =
        first.seq < this.cursor.segment || (first.seq === this.cursor.segment && this.cursor.offset >= first.size);
      // The active segment stays (it is appended to) unless it is full.
      if (!done || (first === last && first.size < this.segmentBytes)) break;
      if (first === last) this.closeFd();
      this.segments.shift();
      fs.rmSync(this.file(first.seq), { force: true });
    }
    this.writeCursor();
  }

  stats(): SpoolStats {
    let records = 0;
    let bytes = 0;
    for (const s of this.segments) {
      const p = this.pendingIn(s);
      records += p.records;
      bytes += p.bytes;
    }
    return {
      pendingRecords: records,
      pendingBytes: bytes,
      diskBytes: this.diskBytes(),
      segments: this.segments.length,
      droppedRecords: this.dropped.records,
      droppedBytes: this.dropped.bytes,
      tornBytes: this.torn,
    };
  }

  close(): void {
    this.closeFd();
  }
}
