import { PromqlError } from '@arcwatch/promql';
import type { PrometheusErrorType } from '../http/prometheus-response';

/**
 * Errors of the query API in Prometheus's own terms. Prometheus's status codes are not a
 * function of the error type alone (a parse error and a bad step are both bad_data/400, an
 * execution error is 422, a timeout is 503), so each error carries both.
 */
export const QUERY_ERROR_STATUS = {
  bad_data: 400,
  execution: 422,
  timeout: 503,
  canceled: 503,
  internal: 500,
  not_found: 404,
  unavailable: 503,
} as const satisfies Record<PrometheusErrorType, number>;

export class QueryApiError extends Error {
  override readonly name = 'QueryApiError';

  constructor(
    readonly errorType: PrometheusErrorType,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  get httpStatus(): number {
    return QUERY_ERROR_STATUS[this.errorType];
  }
}

/** `invalid parameter "step": cannot parse …`, the wording of Prometheus's invalidParamError. */
export function invalidParam(parameter: string, detail: string): QueryApiError {
  return new QueryApiError('bad_data', `invalid parameter ${JSON.stringify(parameter)}: ${detail}`);
}

/**
 * Maps what evaluating a query threw. Parse and type errors name the `query` parameter (with
 * line:column, as Prometheus prints them); engine failures keep their type; anything else is a
 * storage problem, which Prometheus reports as internal.
 */
export function fromEngineError(err: unknown): QueryApiError {
  if (err instanceof QueryApiError) return err;
  if (err instanceof PromqlError) {
    if (err.errorType === 'bad_data') return invalidParam('query', err.position ? err.message : err.detail);
    return new QueryApiError(err.errorType, err.message, { cause: err });
  }
  return new QueryApiError('internal', err instanceof Error ? err.message : String(err), { cause: err });
}
