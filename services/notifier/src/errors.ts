import { defineErrorCodes } from '@arcwatch/runtime';

/** Error codes of the notifier; HTTP status and consumer disposition each. */
export const NotifierError = defineErrorCodes('NotifierError', {
  ALERTS_INVALID: { status: 400, disposition: 'dead-letter' },
  SILENCE_INVALID: { status: 400, disposition: 'dead-letter' },
  SILENCE_NOT_FOUND: { status: 404, disposition: 'ack' },
  ALERT_NOT_FOUND: { status: 404, disposition: 'ack' },
  GROUP_NOT_FOUND: { status: 404, disposition: 'ack' },
  ACK_INVALID: { status: 400, disposition: 'dead-letter' },
  ROUTING_CONFIG_INVALID: { status: 500, disposition: 'nak' },
});
export type NotifierError = InstanceType<typeof NotifierError>;
