import type { SerializedEventItem } from '@arcwatch/messaging';
import { REQUEST_EVENT_BATCH_MAX, UNKNOWN_LABEL, type RequestEventV1 } from '@arcwatch/contracts';
import { normalizeEventInput, type KeyDirectory } from '@arcwatch/request-assembly';
import { eventMessages } from './event-messages';

export interface BatchResult {
  accepted: number;
  rejected: Array<{ index: number; error: string }>;
}

/** A body refused whole: the code and message of the TracingError the route answers with. */
export interface BatchRefusal {
  code: 'BATCH_INVALID' | 'BATCH_TOO_LARGE';
  message: string;
}

export interface IngestSettings {
  apiKeySalt: string | undefined;
  /** TRACING_INGEST_EVENTS_PER_MESSAGE */
  perMessage: number;
  directory: KeyDirectory;
}

/**
 * The work of one POST of lifecycle events before it reaches JetStream: each item validated and
 * normalised (raw API keys hashed), the accepted ones packed into the messages the ingest
 * publishes, each serialized once. Pure and free of Nest, so that the ingest thread
 * (ingest.thread.ts) runs exactly what the main thread runs without one.
 */
export function prepareBatch(
  body: unknown,
  settings: IngestSettings,
): { refused: BatchRefusal } | (BatchResult & { messages: SerializedEventItem[] }) {
  const items = (body as { events?: unknown } | null)?.events;
  if (!Array.isArray(items)) return { refused: { code: 'BATCH_INVALID', message: 'body must be {"events": [ … ]}' } };
  if (items.length > REQUEST_EVENT_BATCH_MAX)
    return {
      refused: {
        code: 'BATCH_TOO_LARGE',
        message: `${items.length} events in one batch; at most ${REQUEST_EVENT_BATCH_MAX}`,
      },
    };
  const rejected: BatchResult['rejected'] = [];
  const events: RequestEventV1[] = [];
  for (let index = 0; index < items.length; index++) {
    const r = normalizeEventInput(items[index], settings.apiKeySalt);
    if (r.ok) events.push(r.event);
    else rejected.push({ index, error: r.error });
  }
  return { accepted: events.length, rejected, messages: serializedEventMessages(events, settings) };
}

/** The messages of accepted events (see eventMessages), each CloudEvent serialized once. */
export function serializedEventMessages(
  events: readonly RequestEventV1[],
  settings: Pick<IngestSettings, 'perMessage' | 'directory'>,
): SerializedEventItem[] {
  if (events.length === 0) return [];
  const tenantOf = (e: RequestEventV1): string =>
    e.tenant ?? (e.apiKeyHash ? settings.directory(e.apiKeyHash)?.tenant : undefined) ?? UNKNOWN_LABEL;
  return eventMessages(events, settings.perMessage, tenantOf).map((m) => ({
    subject: m.subject,
    id: m.event.id,
    json: JSON.stringify(m.event),
  }));
}
