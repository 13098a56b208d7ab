import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';

/** CloudEvents 1.0, structured JSON mode. `data` is validated by the event's own schema. */
export const cloudEventSchema = z.object({
  specversion: z.literal('1.0'),
  id: z.string().min(1),
  source: z.string().min(1),
  type: z.string().min(1),
  time: z.string().datetime({ offset: true }),
  subject: z.string().optional(),
  datacontenttype: z.literal('application/json'),
  data: z.unknown(),
});

export type CloudEvent<T> = Omit<z.infer<typeof cloudEventSchema>, 'data'> & { data: T };

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
  const h = createHash('sha256');
  for (const p of parts) {
    h.update(String(p));
    h.update('\u0000');
  }
  return h.digest('hex').slice(0, 32);
}

export type ParseResult<T> = { ok: true; event: CloudEvent<T> } | { ok: false; reason: string };

/** Parse a message body as a CloudEvent of the expected type, then its data with `schema`. */
export function parseCloudEvent<S extends z.ZodType>(
  body: Uint8Array | string,
  expectedType: string | readonly string[],
  schema: S,
): ParseResult<z.infer<S>> {
  let json: unknown;
  try {
    json = JSON.parse(typeof body === 'string' ? body : Buffer.from(body).toString('utf8'));
  } catch (err) {
    return { ok: false, reason: `body is not JSON: ${(err as Error).message}` };
  }
  const env = cloudEventSchema.safeParse(json);
  if (!env.success) return { ok: false, reason: `not a CloudEvent: ${formatZodError(env.error)}` };
  const types = typeof expectedType === 'string' ? [expectedType] : expectedType;
  if (!types.includes(env.data.type)) {
    return { ok: false, reason: `unexpected event type ${env.data.type} (want ${types.join(' or ')})` };
  }
  const data = schema.safeParse(env.data.data);
  if (!data.success) return { ok: false, reason: `invalid ${env.data.type} data: ${formatZodError(data.error)}` };
  return { ok: true, event: { ...env.data, data: data.data } };
}

export function formatZodError(err: z.ZodError): string {
  return err.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}
