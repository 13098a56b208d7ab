import { defineErrorCodes } from '@arcwatch/runtime';

/**
 * The collector's error codes on top of the common ones (CONFIG_INVALID, …). The HTTP filters map
 * a code to its status; the scrape loop records the code as the reason a scrape failed.
 */
export const CollectorError = defineErrorCodes('CollectorError', {
  SCRAPE_FAILED: { status: 502, disposition: 'nak' },
  SCRAPE_TIMEOUT: { status: 504, disposition: 'nak' },
  SAMPLE_LIMIT_EXCEEDED: { status: 422, disposition: 'dead-letter' },
  BODY_INVALID: { status: 400, disposition: 'dead-letter' },
  QUERY_INVALID: { status: 400, disposition: 'dead-letter' },
  PUBLISH_FAILED: { status: 503, disposition: 'nak' },
});
export type CollectorError = InstanceType<typeof CollectorError>;
export type CollectorErrorCode = CollectorError['code'];
