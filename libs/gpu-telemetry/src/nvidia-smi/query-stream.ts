import { spawn, type ChildProcess } from 'node:child_process';
import { classifyFailure, NvidiaSmiError } from './nvidia-smi.runner';

/**
 * One long-lived `nvidia-smi --query-gpu=timestamp,… --format=csv,noheader,nounits -lms <period>`
 * instead of a process per interval: nvidia-smi keeps NVML open and prints one line per GPU every
 * period, so the agent neither forks nor re-initialises NVML each second. Lines of one round share
 * their `timestamp`; a round is complete when it has as many lines as the GPUs last seen, or when
 * a line of the next round arrives.
 *
 * The caller asks for the latest complete round; a stream that printed nothing for longer than its
 * deadline is killed (process group) and reported as a timeout, and one that exited is reported
 * with nvidia-smi's own message. Either is restarted by the next `start()`.
 */
export interface StreamRound {
  /** The round's lines without the leading timestamp column. */
  lines: string[];
  /** When the round completed (the caller's clock). */
  atMs: number;
}

export interface QueryStreamOptions {
  binary: string;
  /** The fields after `timestamp`. */
  fields: readonly string[];
  periodMs: number;
  gpuCount: number;
  env?: NodeJS.ProcessEnv;
  now?: () => number;
}

export class QueryStream {
  private child: ChildProcess | undefined;
  private partial = '';
  private roundTs: string | undefined;
  private round: string[] = [];
  private last: StreamRound | undefined;
  private lastOutputAtMs = 0;
  private failure: NvidiaSmiError | undefined;
  private stderr = '';
  private readonly now: () => number;

  constructor(private readonly opts: QueryStreamOptions) {
    this.now = opts.now ?? Date.now;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** Whether a complete round has been read since the last start. */
  get hasRound(): boolean {
    return this.last !== undefined;
  }

  start(): void {
    if (this.child) return;
    this.failure = undefined;
    this.last = undefined;
    this.partial = '';
    this.round = [];
    this.roundTs = undefined;
    this.stderr = '';
    this.lastOutputAtMs = this.now();
    const args = [
      `--query-gpu=timestamp,${this.opts.fields.join(',')}`,
      '--format=csv,noheader,nounits',
      `-lms`,
      String(this.opts.periodMs),
    ];
    const child = spawn(this.opts.binary, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      env: this.opts.env ?? process.env,
    });
    this.child = child;
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => this.take(chunk));
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      if (this.stderr.length < 4096) this.stderr += chunk;
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      this.failure =
        e.code === 'ENOENT'
          ? new NvidiaSmiError('NVSMI_NOT_FOUND', `${this.opts.binary} not found`)
          : new NvidiaSmiError('NVSMI_FAILED', e.message);
      this.child = undefined;
    });
    child.on('exit', (code) => {
      if (this.child !== child) return;
      this.child = undefined;
      this.failure ??= classifyFailure(code, `${this.partial}\n${this.stderr}`);
    });
  }

  private take(chunk: string): void {
    this.lastOutputAtMs = this.now();
    const text = this.partial + chunk;
    const lines = text.split('\n');
    this.partial = lines.pop()!;
    for (const raw of lines) {
      const line = raw.replace(/\r$/, '');
      if (line.trim() === '') continue;
      const comma = line.indexOf(',');
      const ts = comma === -1 ? line : line.slice(0, comma);
      const rest = comma === -1 ? '' : line.slice(comma + 1).trimStart();
      // Not a data line (an error message printed in the loop): kept for the failure report.
      if (!/^\d{4}\/\d{2}\/\d{2} /.test(ts)) {
        this.partial = `${line}\n${this.partial}`;
        continue;
      }
      if (this.roundTs !== undefined && ts !== this.roundTs) this.complete();
      this.roundTs = ts;
      this.round.push(rest);
      if (this.round.length >= this.opts.gpuCount) this.complete();
    }
  }

  private complete(): void {
    if (this.round.length > 0) this.last = { lines: this.round, atMs: this.now() };
    this.round = [];
    this.roundTs = undefined;
  }

  /**
   * The latest complete round, or the reason there is none: the stream exited, or printed nothing
   * for `deadlineMs` (then it is killed).
   */
  latest(deadlineMs: number): StreamRound {
    if (this.failure) {
      const f = this.failure;
      this.failure = undefined;
      throw f;
    }
    if (this.now() - this.lastOutputAtMs > deadlineMs) {
      this.stop();
      throw new NvidiaSmiError('NVSMI_TIMEOUT', `nvidia-smi -lms printed nothing for ${deadlineMs} ms`);
    }
    if (!this.last) throw new NvidiaSmiError('NVSMI_FAILED', 'no complete reading from nvidia-smi -lms yet');
    return this.last;
  }

  stop(): void {
    const child = this.child;
    this.child = undefined;
    if (child?.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    child?.stdout?.destroy();
    child?.stderr?.destroy();
  }
}
