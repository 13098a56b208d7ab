import { defineErrorCodes } from '@arcwatch/runtime';

/** Error codes of the console on top of the common ones. */
export const ConsoleError = defineErrorCodes('ConsoleError', {
  /** Another ArcWatch service did not answer in time or answered 5xx; `details.service` names it. */
  UPSTREAM_UNAVAILABLE: { status: 503, disposition: 'nak' },
  /** Another service refused the request (4xx); its code and message are passed on. */
  UPSTREAM_REJECTED: { status: 400, disposition: 'dead-letter' },
  QUERY_INVALID: { status: 400, disposition: 'dead-letter' },
  /** A configuration file the owning service refused; `details.errors` lists file, line, column, field. */
  CONFIG_REJECTED: { status: 422, disposition: 'dead-letter' },
});
export type ConsoleError = InstanceType<typeof ConsoleError>;
