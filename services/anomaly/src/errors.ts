import { defineErrorCodes } from '@arcwatch/runtime';

/** Error codes of the anomaly service on top of the common ones; HTTP status and consumer disposition each. */
export const AnomalyError = defineErrorCodes('AnomalyError', {
  BATCH_INVALID: { status: 400, disposition: 'dead-letter' },
  RULES_INVALID: { status: 400, disposition: 'ack' },
  STATE_WRITE_FAILED: { status: 503, disposition: 'nak' },
});
export type AnomalyError = InstanceType<typeof AnomalyError>;
