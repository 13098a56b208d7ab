import { hash, randomUUID } from 'node:crypto';
import type { CloudEvent } from './envelope';

/*
 * Building an event, apart from its schema (envelope.ts): a producer that only publishes (the node
 * agent) loads this without zod (docs/decisions/0006-agent-runtime.md).
 */

export interface NewEvent<T> {
  type: string;
  source: string;
  data: T;
  /** Deterministic where the fact is: same input, same id (it becomes the Nats-Msg-Id). */
  id?: string;
  subject?: string;
  time?: Date | string;
}

export function cloudEvent<T>(e: NewEvent<T>): CloudEvent<T> {
  return {
    specversion: '1.0',
    id: e.id ?? randomUUID(),
    source: e.source,
    type: e.type,
    time: typeof e.time === 'string' ? e.time : (e.time ?? new Date()).toISOString(),
    ...(e.subject === undefined ? {} : { subject: e.subject }),
    datacontenttype: 'application/json',
    data: e.data,
  };
}

/** A stable id from the parts that make a fact unique (sha-256, hex, 32 chars). */
export function deterministicId(...parts: Array<string | number>): string {
  // The joined parts, each followed by NUL, hashed in one call: the same bytes as one update per
  // part, and the one-shot `hash` skips the Hash object (a third of createHash's time for ids
  // this short, and the request path makes one per event).
  return hash('sha256', parts.length === 0 ? '' : `${parts.join('\u0000')}\u0000`, 'hex').slice(0, 32);
}
