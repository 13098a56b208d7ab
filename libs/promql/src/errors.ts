/**
 * Errors with the types the Prometheus HTTP API reports (`errorType`), so the query API can map
 * them to the same status codes: bad_data → 400, execution → 422, timeout → 503, canceled → 499.
 */
export type PromqlErrorType = 'bad_data' | 'execution' | 'timeout' | 'canceled';

export interface ErrorPosition {
  /** 0-based offset in the query text. */
  offset: number;
  /** 1-based line and column, as Prometheus prints them. */
  line: number;
  column: number;
}

export class PromqlError extends Error {
  override readonly name = 'PromqlError';

  constructor(
    readonly errorType: PromqlErrorType,
    /** The message without position prefix; `message` carries the prefix when there is one. */
    readonly detail: string,
    readonly position?: ErrorPosition,
  ) {
    super(
      position
        ? `${position.line}:${position.column}: parse error: ${detail}`
        : errorType === 'bad_data'
          ? `parse error: ${detail}`
          : detail,
    );
  }
}

/** Line and column (1-based) of a 0-based offset. */
export function positionOf(query: string, offset: number): ErrorPosition {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < query.length; i++) {
    if (query[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  return { offset, line, column: offset - lineStart + 1 };
}

export function parseError(query: string, offset: number, detail: string): PromqlError {
  return new PromqlError('bad_data', detail, positionOf(query, offset));
}

export function executionError(detail: string): PromqlError {
  return new PromqlError('execution', detail);
}
