/** Error codes of the tracing service; each transport maps them (HTTP status, ack / term). */
export type TracingErrorCode =
  | 'CONFIG_INVALID'
  | 'BATCH_INVALID'
  | 'BATCH_TOO_LARGE'
  | 'OTLP_INVALID'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'REQUEST_NOT_FOUND'
  | 'QUERY_INVALID';

export class TracingError extends Error {
  constructor(
    readonly code: TracingErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'TracingError';
  }
}
