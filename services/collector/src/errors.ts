/**
 * Errors with codes. The HTTP filter maps codes to status codes; the scrape loop records the code
 * as the reason a scrape failed.
 */
export const COLLECTOR_ERROR_CODES = {
  CONFIG_INVALID: 500,
  SCRAPE_FAILED: 502,
  SCRAPE_TIMEOUT: 504,
  SAMPLE_LIMIT_EXCEEDED: 422,
  BODY_INVALID: 400,
  QUERY_INVALID: 400,
  PUBLISH_FAILED: 503,
} as const;

export type CollectorErrorCode = keyof typeof COLLECTOR_ERROR_CODES;

export class CollectorError extends Error {
  constructor(
    readonly code: CollectorErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CollectorError';
  }

  get httpStatus(): number {
    return COLLECTOR_ERROR_CODES[this.code];
  }
}
