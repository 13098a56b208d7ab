import { z } from 'zod';

export { cloudEvent, deterministicId, type NewEvent } from './new-event';

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
