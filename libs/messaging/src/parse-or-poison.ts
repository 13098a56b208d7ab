import { parseCloudEvent, type CloudEvent } from '@arcwatch/contracts';
import type { z } from 'zod';
import { PoisonMessageError } from './errors';

/**
 * Parses an inbound message as a CloudEvent of `type` with `schema` for its data. A body that
 * does not parse throws PoisonMessageError naming the problem and the subject/seq, so the
 * consumer dead-letters it with that reason and moves on.
 */
export function parseOrPoison<S extends z.ZodType>(
  msg: { data: Uint8Array; subject: string; seq: number },
  type: string | readonly string[],
  schema: S,
): CloudEvent<z.infer<S>> {
  const parsed = parseCloudEvent(msg.data, type, schema);
  if (!parsed.ok) throw new PoisonMessageError(`${msg.subject}#${msg.seq}: ${parsed.reason}`);
  return parsed.event;
}

/**
 * parseOrPoison over a batch: the messages that parse, with their events, in order, and a
 * `failed` map (seq → PoisonMessageError) ready to return as the batch outcome.
 */
export function parseEach<S extends z.ZodType, M extends { data: Uint8Array; subject: string; seq: number }>(
  msgs: readonly M[],
  type: string | readonly string[],
  schema: S,
): { parsed: Array<{ msg: M; event: CloudEvent<z.infer<S>> }>; failed: Map<number, PoisonMessageError> } {
  const parsed: Array<{ msg: M; event: CloudEvent<z.infer<S>> }> = [];
  const failed = new Map<number, PoisonMessageError>();
  for (const msg of msgs) {
    try {
      parsed.push({ msg, event: parseOrPoison(msg, type, schema) });
    } catch (err) {
      if (!(err instanceof PoisonMessageError)) throw err;
      failed.set(msg.seq, err);
    }
  }
  return { parsed, failed };
}
