import type { PublicEvent } from '../catalog/public-event';
import { deadLetterV1Schema } from '../messaging/dead-letter.v1';
import { EVENT_TYPES } from '../subjects';
import { metricsBatchV1Schema } from './metrics-batch.v1';
import { metricsBatchV2Schema } from './metrics-batch.v2';

const samplesTokens = {
  cluster: 'the cluster of the target (scrape config `arcwatch.cluster`)',
  node: 'the node or host of the target',
};

export const METRICS_EVENTS: PublicEvent[] = [
  {
    type: EVENT_TYPES.metricsBatch,
    title: 'Metrics batch (v1)',
    description:
      'One scrape or push of one target: its samples with labels and values, metadata, exemplars, the end of staleness.',
    stream: 'metrics',
    subject: 'aw.metrics.v1.samples.{cluster}.{node}',
    subjectTokens: samplesTokens,
    schema: metricsBatchV1Schema,
    publishers: [
      'collector (when COLLECTOR_BATCH_FORMAT=v1)',
      'tracing (request statistics)',
      'anomaly (ALERTS series)',
    ],
    consumers: ['collector writer', 'anomaly'],
    idPromise: 'derived from target and scrape time (or the pushed content): a re-sent scrape is one batch',
    ordering: 'per subject, in scrape order',
  },
  {
    type: EVENT_TYPES.metricsBatchV2,
    title: 'Metrics batch (v2, packed)',
    description:
      'The same batch with labels once per series and values packed as base64 float64 arrays; metadata and exemplars as in v1.',
    stream: 'metrics',
    subject: 'aw.metrics.v1.samples.{cluster}.{node}',
    subjectTokens: samplesTokens,
    schema: metricsBatchV2Schema,
    publishers: ['collector', 'agent'],
    consumers: ['collector writer', 'anomaly'],
    idPromise: 'derived from target and scrape time (or the pushed content)',
    ordering: 'per subject, in scrape order',
  },
  {
    type: EVENT_TYPES.deadLetter,
    title: 'Dead letter',
    description: 'A message a consumer could not process, with the reason and where it came from.',
    stream: 'deadLetter',
    subject: 'aw.dlq.{subject}',
    subjectTokens: { subject: 'the original subject' },
    schema: deadLetterV1Schema,
    publishers: ['every consumer'],
    consumers: ['operators'],
    idPromise: 'derived from the original stream sequence and consumer',
    ordering: 'none',
  },
];
