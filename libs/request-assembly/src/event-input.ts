import {
  REQUEST_EVENT_V1,
  cloudEventSchema,
  fastRequestEventInput,
  formatZodError,
  hashApiKey,
  requestEventInputSchema,
  type RequestEventV1,
} from '@arcwatch/contracts';

export type NormalizeResult = { ok: true; event: RequestEventV1 } | { ok: false; error: string };

/**
 * The ingest boundary: an emitter's event (bare, or wrapped in a CloudEvent of type
 * io.arcwatch.requests.event.v1) becomes a published-shape event. A raw `apiKey` is replaced by
 * its salted hash here and nowhere else; without a salt a raw key is refused, never passed on.
 */
export function normalizeEventInput(raw: unknown, apiKeySalt: string | undefined): NormalizeResult {
  let body = raw;
  if (isCloudEventLike(raw)) {
    const env = cloudEventSchema.safeParse(raw);
    if (!env.success) return { ok: false, error: `not a CloudEvent: ${formatZodError(env.error)}` };
    if (env.data.type !== REQUEST_EVENT_V1)
      return { ok: false, error: `unexpected event type ${env.data.type} (want ${REQUEST_EVENT_V1})` };
    body = env.data.data;
  }
  // The plain cases without zod (same result, see request-event.fast.ts); zod decides the rest.
  let event = fastRequestEventInput(body);
  if (event === undefined) {
    const parsed = requestEventInputSchema.safeParse(body);
    if (!parsed.success) return { ok: false, error: formatZodError(parsed.error) };
    event = parsed.data;
  }
  // `event` is this call's own object (either parse builds a new one): it is changed in place
  // rather than copied without the key and copied again with the hash.
  const apiKey = event.apiKey;
  if (apiKey !== undefined) {
    if (apiKeySalt === undefined)
      return {
        ok: false,
        error: 'apiKey: a raw API key needs the API-key salt to be configured; send apiKeyHash instead',
      };
    event.apiKeyHash = hashApiKey(apiKey, apiKeySalt);
  }
  if ('apiKey' in event) delete event.apiKey;
  return { ok: true, event };
}

function isCloudEventLike(raw: unknown): raw is Record<string, unknown> {
  return typeof raw === 'object' && raw !== null && 'specversion' in raw;
}
