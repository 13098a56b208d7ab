import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { MessagingError } from '@arcwatch/messaging';
import { InjectLogger, natsAuth, type Logger } from '@arcwatch/runtime';
import { TRACING_CONFIG, type TracingConfig } from '../config';
import { KeyDirectoryHolder } from '../assembly/key-directory.provider';
import {
  ownsBuffer,
  type FromIngestThread,
  type IngestThreadData,
  type ToIngestThread,
} from './ingest-thread.protocol';

type Answer = Exclude<FromIngestThread, { type: 'ready' } | { type: 'start-failed' }>;

interface Member {
  worker: Worker;
  pending: Map<number, (a: Answer) => void>;
}

/** How a thread is told a member died with a batch of its in flight: as if NATS had failed it. */
const lost = (id: number, why: string): Answer => ({ type: 'failed', id, code: 'PUBLISH_FAILED', message: why });

/**
 * The ingest threads (TRACING_INGEST_THREADS): worker threads that parse, normalise, pack and
 * publish the HTTP batches of lifecycle events (ingest.thread.ts), so that the service's main
 * thread, which runs the assembly consumer, spends nothing on them but receiving the bytes. Each
 * thread has its own NATS connection. Batches go round-robin. A thread that dies fails the batches
 * it held (503: the client sends them again, and JetStream drops what was already stored) and is
 * started again.
 */
@Injectable()
export class IngestThreads implements OnModuleInit, OnApplicationShutdown {
  /** By thread index; a thread that ended is absent until it is ready again. */
  private readonly members: Array<Member | undefined> = [];
  private next = 0;
  private nextId = 1;
  private closing = false;

  constructor(
    @Inject(TRACING_CONFIG) private readonly config: TracingConfig,
    private readonly keys: KeyDirectoryHolder,
    @InjectLogger() private readonly logger: Logger,
  ) {}

  get enabled(): boolean {
    return this.config.ingestThreads > 0;
  }

  async onModuleInit(): Promise<void> {
    if (!this.enabled) return;
    this.keys.onReplace((entries) => {
      for (const m of this.members) m?.worker.postMessage({ type: 'keys', entries } satisfies ToIngestThread);
    });
    await Promise.all(Array.from({ length: this.config.ingestThreads }, (_, i) => this.start(i)));
  }

  async onApplicationShutdown(): Promise<void> {
    this.closing = true;
    await Promise.all(
      this.members.flatMap((m) =>
        m === undefined
          ? []
          : new Promise<void>((resolve) => {
              m.worker.once('exit', () => resolve());
              m.worker.postMessage({ type: 'close' } satisfies ToIngestThread);
            }),
      ),
    );
  }

  /**
   * One POST's body through a thread; resolves with the thread's answer once it is final. A body
   * over an ArrayBuffer of its own (what Fastify collects a body into, past a few KB) is moved to
   * the thread, not copied: the caller must not read it afterwards (a `not-json` answer gives it
   * back).
   */
  submit(body: Uint8Array): Promise<Answer> {
    const id = this.nextId++;
    let member: Member | undefined;
    for (let tries = 0; member === undefined && tries < this.members.length; tries++)
      member = this.members[this.next++ % this.members.length];
    if (member === undefined) return Promise.resolve(lost(id, 'no ingest thread is running'));
    return new Promise((resolve) => {
      member.pending.set(id, resolve);
      member.worker.postMessage(
        { type: 'batch', id, body } satisfies ToIngestThread,
        ownsBuffer(body) ? [body.buffer] : [],
      );
    });
  }

  private start(index: number): Promise<void> {
    const data: IngestThreadData = {
      index,
      logLevel: this.config.logLevel,
      natsUrl: this.config.natsUrl,
      natsNamespace: this.config.natsNamespace,
      natsAuth: natsAuth(this.config),
      apiKeySalt: this.config.apiKeySalt,
      perMessage: this.config.ingestEventsPerMessage,
      keys: this.keys.entries,
    };
    const worker = new Worker(threadSource(), { eval: true, workerData: data, name: `tracing-ingest-${index}` });
    const member: Member = { worker, pending: new Map() };
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      worker.on('message', (m: FromIngestThread) => {
        if (m.type === 'ready') {
          ready = true;
          this.members[index] = member;
          resolve();
        } else if (m.type === 'start-failed')
          reject(new MessagingError('CONNECT_FAILED', `ingest thread: ${m.message}`));
        else {
          const answer = member.pending.get(m.id);
          member.pending.delete(m.id);
          answer?.(m);
        }
      });
      worker.on('error', (err) => this.logger.error({ err, thread: index }, 'ingest thread failed'));
      worker.on('exit', (code) => {
        if (this.members[index] === member) this.members[index] = undefined;
        for (const [id, answer] of member.pending) answer(lost(id, `the ingest thread ended (exit code ${code})`));
        member.pending.clear();
        if (!ready) reject(new Error(`ingest thread ${index} ended before it was ready (exit code ${code})`));
        else if (!this.closing) {
          this.logger.error({ thread: index, code }, 'ingest thread ended; starting it again');
          this.start(index).catch((err: unknown) =>
            this.logger.error({ err, thread: index }, 'ingest thread did not start again'),
          );
        }
      });
    });
  }
}

/**
 * The thread's code: ingest.thread.ts, compiled on load by the project's require hook when the
 * service runs from its TypeScript sources (as every service does, tools/register.js).
 */
function threadSource(): string {
  const compiled = join(__dirname, 'ingest.thread.js');
  if (existsSync(compiled)) return `require(${JSON.stringify(compiled)});`;
  const register = join(__dirname, '..', '..', '..', '..', 'tools', 'register.js');
  return `require(${JSON.stringify(register)}); require(${JSON.stringify(join(__dirname, 'ingest.thread.ts'))});`;
}
