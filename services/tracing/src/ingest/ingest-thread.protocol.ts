import type { MessagingErrorCode } from '@arcwatch/messaging';
import type { ApiKeyEntry } from '@arcwatch/request-assembly';
import type { LogLevel } from '@arcwatch/runtime/src/config';
import type { BatchRefusal, BatchResult } from './ingest-batch';

/** What an ingest thread starts with (plain data: it is copied into the thread). */
export interface IngestThreadData {
  index: number;
  logLevel: LogLevel;
  natsUrl: string;
  natsNamespace: string | undefined;
  natsAuth: { user: string; pass: string } | undefined;
  apiKeySalt: string | undefined;
  perMessage: number;
  keys: ApiKeyEntry[];
}

export type ToIngestThread =
  | { type: 'batch'; id: number; body: Uint8Array }
  /** The API-key mapping in force from now on (an applied API-key file). */
  | { type: 'keys'; entries: ApiKeyEntry[] }
  /** Drain the thread's NATS connection and end. */
  | { type: 'close' };

export type FromIngestThread =
  | { type: 'ready' }
  | { type: 'start-failed'; message: string }
  | ({ type: 'done'; id: number } & BatchResult)
  | ({ type: 'refused'; id: number } & BatchRefusal)
  /**
   * The body is not JSON Fastify would accept; the main thread answers as Fastify does, from the
   * bytes given back (they were moved to the thread).
   */
  | { type: 'not-json'; id: number; body: Uint8Array }
  | { type: 'failed'; id: number; code: MessagingErrorCode | undefined; message: string };

/** A view over the whole of an ArrayBuffer of its own, which can be moved to another thread. */
export function ownsBuffer(bytes: Uint8Array): bytes is Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
}
