import type { PublicEvent } from '../catalog/public-event';
import { EVENT_TYPES } from '../subjects';
import { requestCompletedV1Schema } from './request-completed.v1';
import { REQUEST_COMPLETED_BATCH_V1, requestCompletedBatchV1Schema } from './request-completed-batch.v1';
import { requestEventV1Schema } from './request-event.v1';
import { REQUEST_EVENT_BATCH_V1, requestEventBatchV1Schema } from './request-event-batch.v1';

export const REQUEST_EVENTS: PublicEvent[] = [
  {
    type: EVENT_TYPES.requestEvent,
    title: 'Request lifecycle event',
    description:
      'One phase of an inference request as the gateway or engine saw it (received, queued, scheduled, first token, completed, failed, cancelled…).',
    stream: 'requests',
    subject: 'aw.requests.v1.events.{tenant}',
    subjectTokens: { tenant: 'tenant of the API key, or `unknown`' },
    schema: requestEventV1Schema,
    publishers: ['tracing (HTTP and OTLP ingest)', 'inference gateways'],
    consumers: ['tracing'],
    idPromise: 'derived from request id, event kind and time: a re-sent event is dropped as a duplicate',
    ordering: 'none needed: assembly accepts events out of order and duplicated',
  },
  {
    type: REQUEST_EVENT_BATCH_V1,
    title: 'Request lifecycle events, batched',
    description:
      'Several lifecycle events of one tenant in one message: what the tracing ingest publishes by default (up to 500 per message).',
    stream: 'requests',
    subject: 'aw.requests.v1.events.{tenant}',
    subjectTokens: { tenant: 'tenant of the API key, or `unknown`' },
    schema: requestEventBatchV1Schema,
    publishers: ['tracing (HTTP and OTLP ingest)'],
    consumers: ['tracing'],
    idPromise: 'derived from the ids of the events it carries',
    ordering: 'none needed',
  },
  {
    type: EVENT_TYPES.requestCompleted,
    title: 'Request completed',
    description:
      'One assembled request: phases, queue time, TTFT, TPOT, E2E, tokens, instance, node, GPUs and tenant labels.',
    stream: 'requests',
    subject: 'aw.requests.v1.completed.{tenant}',
    subjectTokens: { tenant: 'tenant of the request, or `unknown`' },
    schema: requestCompletedV1Schema,
    publishers: ['tracing'],
    consumers: ['billing', 'anomaly', 'console'],
    idPromise: 'derived from the request id alone: assembling a request twice publishes the same id',
    ordering: 'none: one event per request',
  },
  {
    type: REQUEST_COMPLETED_BATCH_V1,
    title: 'Requests completed, batched',
    description:
      'Several assembled requests of one tenant in one message, each record exactly a `io.arcwatch.requests.completed.v1` record: what the tracing service publishes by default (up to 500 per message; TRACING_COMPLETED_PER_MESSAGE=1 publishes the single form instead). A request is carried by one message only.',
    stream: 'requests',
    subject: 'aw.requests.v1.completed.{tenant}',
    subjectTokens: { tenant: 'tenant of the requests, or `unknown`' },
    schema: requestCompletedBatchV1Schema,
    publishers: ['tracing'],
    consumers: ['billing'],
    idPromise: 'derived from the request ids it carries: the same records queued again are one message',
    ordering: 'none: consumers key on requestId',
  },
];
