/**
 * Where the simulated gateway's events go: the tracing service's HTTP batch endpoint, or a JSONL
 * file for the offline CLI. The HTTP sink keeps what it could not deliver and retries it with the
 * next batch, up to a bound, so a tracing restart loses nothing short of that bound.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { REQUEST_EVENT_BATCH_MAX } from '@arcwatch/contracts';
import type { SimRequestEvent } from './request-events';

export interface EventSink {
  push(events: readonly SimRequestEvent[]): void;
  flush(): Promise<void>;
  close(): Promise<void>;
}

export const REQUEST_EVENTS_PATH = '/api/v1/requests/events';

export interface HttpSinkStats {
  sent: number;
  dropped: number;
  failures: number;
  lastError?: string;
}

export class HttpEventSink implements EventSink {
  readonly stats: HttpSinkStats = { sent: 0, dropped: 0, failures: 0 };
  private buffer: SimRequestEvent[] = [];
  private flushing: Promise<void> | null = null;

  constructor(
    private readonly baseUrl: string,
    private readonly maxBuffered = 200_000,
    private readonly post: typeof fetch = fetch,
    /** Bearer token for the tracing API (an ingest token); none sends no Authorization header. */
    private readonly token?: string,
  ) {}

  push(events: readonly SimRequestEvent[]): void {
    for (const e of events) this.buffer.push(e);
    const over = this.buffer.length - this.maxBuffered;
    if (over > 0) {
      this.buffer.splice(0, over);
      this.stats.dropped += over;
    }
  }

  flush(): Promise<void> {
    this.flushing ??= this.sendAll().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  async close(): Promise<void> {
    await this.flush();
  }

  private async sendAll(): Promise<void> {
    const url = new URL(REQUEST_EVENTS_PATH, this.baseUrl).toString();
    while (this.buffer.length > 0) {
      const batch = this.buffer.slice(0, REQUEST_EVENT_BATCH_MAX);
      try {
        const res = await this.post(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
          },
          // The tracing ingest takes `{ "events": [...] }`, at most REQUEST_EVENT_BATCH_MAX per call.
          body: JSON.stringify({ events: batch }),
          signal: AbortSignal.timeout(10_000),
        });
        // A 4xx is the batch's fault: retrying it would block every later event.
        if (res.status >= 500) throw new Error(`HTTP ${res.status}`);
        if (res.status >= 400) {
          this.stats.dropped += batch.length;
          this.stats.lastError = `HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`;
        } else {
          this.stats.sent += batch.length;
          await res.arrayBuffer();
        }
        this.buffer.splice(0, batch.length);
      } catch (err) {
        this.stats.failures += 1;
        this.stats.lastError = err instanceof Error ? err.message : String(err);
        return;
      }
    }
  }
}

export class JsonlEventSink implements EventSink {
  private readonly out: WriteStream;
  written = 0;

  constructor(file: string) {
    this.out = createWriteStream(file, { flags: 'a' });
  }

  push(events: readonly SimRequestEvent[]): void {
    if (events.length === 0) return;
    this.out.write(events.map((e) => JSON.stringify(e)).join('\n') + '\n');
    this.written += events.length;
  }

  async flush(): Promise<void> {
    // Resolves once everything queued so far has reached the file.
    await new Promise<void>((resolve, reject) => this.out.write('', (err) => (err ? reject(err) : resolve())));
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => this.out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }
}
