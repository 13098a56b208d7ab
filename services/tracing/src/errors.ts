import { defineErrorCodes } from '@arcwatch/runtime';

/** Error codes of the tracing service on top of the common ones; HTTP status and consumer disposition each. */
export const TracingError = defineErrorCodes('TracingError', {
  BATCH_INVALID: { status: 400, disposition: 'dead-letter' },
  BATCH_TOO_LARGE: { status: 400, disposition: 'dead-letter' },
  OTLP_INVALID: { status: 400, disposition: 'dead-letter' },
  REQUEST_NOT_FOUND: { status: 404, disposition: 'ack' },
  QUERY_INVALID: { status: 400, disposition: 'dead-letter' },
});
export type TracingError = InstanceType<typeof TracingError>;
