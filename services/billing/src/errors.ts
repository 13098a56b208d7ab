import { defineErrorCodes } from '@arcwatch/runtime';

/** Error codes of the billing service on top of the common ones; HTTP status and consumer disposition each. */
export const BillingError = defineErrorCodes('BillingError', {
  PRICES_INVALID: { status: 400, disposition: 'dead-letter' },
  INVOICE_INVALID: { status: 400, disposition: 'dead-letter' },
  IMPORT_NOT_FOUND: { status: 404, disposition: 'ack' },
  REQUEST_NOT_FOUND: { status: 404, disposition: 'ack' },
  QUERY_INVALID: { status: 400, disposition: 'dead-letter' },
  PRICE_MISSING: { status: 500, disposition: 'nak' },
  COLLECTOR_UNAVAILABLE: { status: 502, disposition: 'nak' },
});
export type BillingError = InstanceType<typeof BillingError>;
