/**
 * The ingest thread's entry (ingest-threads.ts starts it): a POST's body, as the bytes that came
 * over HTTP, parsed, normalised, packed and published to JetStream here, off the thread that runs
 * the assembly consumer. Answers only once JetStream stored every message, as the main thread's
 * ingest does. Nothing of Nest is loaded here.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import secureJson from 'secure-json-parse';
import { EventBus, MessagingError } from '@arcwatch/messaging';
import { directoryFromEntries, type KeyDirectory } from '@arcwatch/request-assembly';
import { createLogger } from '@arcwatch/runtime/src/logger';
import { prepareBatch } from './ingest-batch';
import {
  ownsBuffer,
  type IngestThreadData,
  type ToIngestThread,
  type FromIngestThread,
} from './ingest-thread.protocol';

const port = ((): MessagePort => {
  if (parentPort === null) throw new Error('ingest.thread.ts runs as a worker thread (ingest-threads.ts)');
  return parentPort;
})();
const data = workerData as IngestThreadData;
const logger = createLogger('tracing', data.logLevel).child({ component: 'ingest-thread', thread: data.index });
const post = (m: FromIngestThread): void => port.postMessage(m);

let directory: KeyDirectory = directoryFromEntries(data.keys);

async function main(): Promise<void> {
  const bus = await EventBus.connect({
    url: data.natsUrl,
    name: `tracing-ingest-${data.index}`,
    namespace: data.natsNamespace,
    ...(data.natsAuth ?? {}),
    logger: logger.child({ component: 'messaging' }),
  });
  port.on('message', (m: ToIngestThread) => {
    if (m.type === 'keys') directory = directoryFromEntries(m.entries);
    else if (m.type === 'batch') void handle(bus, m.id, m.body);
    else if (m.type === 'close') void bus.drain().finally(() => port.close());
  });
  post({ type: 'ready' });
}

async function handle(bus: EventBus, id: number, body: Uint8Array): Promise<void> {
  let parsed: unknown;
  try {
    // Fastify's own JSON parser with its settings (prototype poisoning refused): the main thread
    // words the error, from the same bytes, when this fails.
    parsed = secureJson.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength), undefined, {
      protoAction: 'error',
      constructorAction: 'error',
    });
  } catch {
    port.postMessage({ type: 'not-json', id, body } satisfies FromIngestThread, ownsBuffer(body) ? [body.buffer] : []);
    return;
  }
  try {
    const prepared = prepareBatch(parsed, {
      apiKeySalt: data.apiKeySalt,
      perMessage: data.perMessage,
      directory,
    });
    if ('refused' in prepared) {
      post({ type: 'refused', id, ...prepared.refused });
      return;
    }
    if (prepared.messages.length > 0) await bus.publishMany(prepared.messages);
    post({ type: 'done', id, accepted: prepared.accepted, rejected: prepared.rejected });
  } catch (err) {
    const code = err instanceof MessagingError ? err.code : undefined;
    const message = err instanceof Error ? err.message : String(err);
    // A MessagingError's message starts with its code; the main thread's error adds it again.
    post({
      type: 'failed',
      id,
      code,
      message: code && message.startsWith(`${code}: `) ? message.slice(code.length + 2) : message,
    });
  }
}

main().catch((err: unknown) => {
  logger.error({ err }, 'ingest thread failed to start');
  post({ type: 'start-failed', message: err instanceof Error ? err.message : String(err) });
});
