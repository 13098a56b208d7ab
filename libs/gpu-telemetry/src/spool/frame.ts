import { crc32 } from 'node:zlib';

/**
 * One spool record on disk: u32 little-endian payload length, u32 little-endian CRC-32 of the
 * payload, the payload. A crash can leave the last frame of a segment half-written; the CRC (and
 * a length that runs past the end) tells where the good part stops.
 */
export const FRAME_HEADER = 8;
/** A length above this is read as damage, not as a real record. */
export const MAX_RECORD_BYTES = 64 * 1024 * 1024;

export function encodeFrame(payload: Uint8Array): Buffer {
  const buf = Buffer.allocUnsafe(FRAME_HEADER + payload.length);
  buf.writeUInt32LE(payload.length, 0);
  buf.writeUInt32LE(crc32(payload), 4);
  buf.set(payload, FRAME_HEADER);
  return buf;
}

export interface ScannedFrame {
  /** Offset of the frame's header in the buffer. */
  offset: number;
  /** Offset just past the frame. */
  end: number;
  payload: Buffer;
}

export interface ScanResult {
  frames: ScannedFrame[];
  /** Bytes from the start that hold whole, intact frames. */
  goodBytes: number;
  /** Why scanning stopped before the end, if it did. */
  damage?: 'short-header' | 'short-payload' | 'bad-length' | 'bad-crc';
}

/** Reads frames from `start` until the end or the first damaged frame. */
export function scanFrames(buf: Buffer, start = 0): ScanResult {
  const frames: ScannedFrame[] = [];
  let at = start;
  while (at < buf.length) {
    if (buf.length - at < FRAME_HEADER) return { frames, goodBytes: at, damage: 'short-header' };
    const len = buf.readUInt32LE(at);
    if (len > MAX_RECORD_BYTES) return { frames, goodBytes: at, damage: 'bad-length' };
    const end = at + FRAME_HEADER + len;
    if (end > buf.length) return { frames, goodBytes: at, damage: 'short-payload' };
    const payload = buf.subarray(at + FRAME_HEADER, end);
    if (crc32(payload) !== buf.readUInt32LE(at + 4)) return { frames, goodBytes: at, damage: 'bad-crc' };
    frames.push({ offset: at, end, payload });
    at = end;
  }
  return { frames, goodBytes: at };
}
