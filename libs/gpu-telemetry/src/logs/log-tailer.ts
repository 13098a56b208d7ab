import * as fs from 'node:fs';

/**
 * Follows a log file by polling: new complete lines since the last poll, each with its byte
 * offset and the file's inode (together they name a line for good, so a restart that reads a line
 * again yields the same event id). A rotated file (new inode) or a truncated one is read from its
 * start; a missing file is waited for.
 */
export interface TailedLine {
  text: string;
  offset: number;
  inode: number;
}

export interface TailPosition {
  inode: number;
  offset: number;
}

export class LogTailer {
  private pos: TailPosition | undefined;
  private partial = '';
  private partialOffset = 0;

  /**
   * @param fromStart read what the file already holds on the first poll (tests, or a position
   * restored from disk); by default the first poll starts at the end, so an agent that starts on a
   * node with a year of kern.log does not replay it.
   */
  constructor(
    readonly path: string,
    private readonly opts: { fromStart?: boolean; maxReadBytes?: number; position?: TailPosition } = {},
  ) {
    this.pos = opts.position;
  }

  position(): TailPosition | undefined {
    return this.pos ? { ...this.pos } : undefined;
  }

  poll(): TailedLine[] {
    let st: fs.Stats;
    try {
      st = fs.statSync(this.path);
    } catch {
      return [];
    }
    if (!this.pos || this.pos.inode !== st.ino || st.size < this.pos.offset) {
      const fresh = this.pos !== undefined || this.opts.fromStart === true;
      this.pos = { inode: st.ino, offset: fresh ? 0 : st.size };
      this.partial = '';
      this.partialOffset = this.pos.offset;
    }
    if (st.size <= this.pos.offset) return [];
    const len = Math.min(st.size - this.pos.offset, this.opts.maxReadBytes ?? 4 * 1024 * 1024);
    const buf = Buffer.alloc(len);
    const fd = fs.openSync(this.path, 'r');
    let n: number;
    try {
      n = fs.readSync(fd, buf, 0, len, this.pos.offset);
    } finally {
      fs.closeSync(fd);
    }
    const chunkStart = this.pos.offset;
    this.pos.offset += n;
    const text = buf.subarray(0, n).toString('utf8');
    const lines: TailedLine[] = [];
    let lineStart = this.partial === '' ? chunkStart : this.partialOffset;
    let acc = this.partial;
    let byteAt = chunkStart;
    let from = 0;
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', from)) {
      const piece = text.slice(from, i);
      acc += piece;
      lines.push({ text: acc.replace(/\r$/, ''), offset: lineStart, inode: st.ino });
      byteAt += Buffer.byteLength(piece) + 1;
      lineStart = byteAt;
      acc = '';
      from = i + 1;
    }
    this.partial = acc + text.slice(from);
    this.partialOffset = lineStart;
    return lines;
  }
}
