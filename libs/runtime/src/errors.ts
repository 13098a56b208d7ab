/**
 * One coded-error base for every service. A code carries its HTTP status and what a message
 * consumer does with it: `ack` (done, nothing to retry), `nak` (retry later: a dependency is
 * away), `dead-letter` (the message itself is bad). The message is for operators and logs; what a
 * client sees is `publicMessage` — the message only when `expose` is set (4xx), a generic text for
 * internal failures.
 */
export type Disposition = 'ack' | 'nak' | 'dead-letter';

export interface ErrorCodeSpec {
  status: number;
  disposition: Disposition;
}

/** Codes every service may use; a service adds its own with `defineErrorCodes`. */
export const COMMON_ERROR_CODES = {
  CONFIG_INVALID: { status: 500, disposition: 'nak' },
  BAD_REQUEST: { status: 400, disposition: 'dead-letter' },
  VALIDATION_FAILED: { status: 400, disposition: 'dead-letter' },
  UNAUTHENTICATED: { status: 401, disposition: 'dead-letter' },
  FORBIDDEN: { status: 403, disposition: 'dead-letter' },
  NOT_FOUND: { status: 404, disposition: 'ack' },
  CONFLICT: { status: 409, disposition: 'ack' },
  PAYLOAD_TOO_LARGE: { status: 413, disposition: 'dead-letter' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, disposition: 'dead-letter' },
  UNPROCESSABLE: { status: 422, disposition: 'dead-letter' },
  RATE_LIMITED: { status: 429, disposition: 'nak' },
  DEPENDENCY_UNAVAILABLE: { status: 503, disposition: 'nak' },
  TIMEOUT: { status: 504, disposition: 'nak' },
  INTERNAL: { status: 500, disposition: 'nak' },
} as const satisfies Record<string, ErrorCodeSpec>;

export type CommonErrorCode = keyof typeof COMMON_ERROR_CODES;

export class ServiceError<C extends string = string> extends Error {
  readonly status: number;
  readonly disposition: Disposition;
  /** Whether `message` may be shown to the client; false for 5xx unless stated. */
  readonly expose: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    readonly code: C,
    message: string,
    opts: { spec?: ErrorCodeSpec; cause?: unknown; expose?: boolean; details?: Record<string, unknown> } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ServiceError';
    const spec =
      opts.spec ?? (COMMON_ERROR_CODES as Record<string, ErrorCodeSpec>)[code] ?? COMMON_ERROR_CODES.INTERNAL;
    this.status = spec.status;
    this.disposition = spec.disposition;
    this.expose = opts.expose ?? spec.status < 500;
    this.details = opts.details;
  }

  get publicMessage(): string {
    return this.expose ? this.message : 'internal error';
  }
}

/**
 * A service's error class with its own codes on top of the common ones:
 *   export const BillingError = defineErrorCodes('BillingError', { INVOICE_PERIOD_OVERLAP: { status: 409, disposition: 'ack' } });
 *   throw new BillingError('INVOICE_PERIOD_OVERLAP', '…');
 */
export function defineErrorCodes<const T extends Record<string, ErrorCodeSpec>>(name: string, codes: T) {
  const all: Record<string, ErrorCodeSpec> = { ...COMMON_ERROR_CODES, ...codes };
  type Code = CommonErrorCode | Extract<keyof T, string>;
  const cls = class extends ServiceError<Code> {
    constructor(
      code: Code,
      message: string,
      opts: { cause?: unknown; expose?: boolean; details?: Record<string, unknown> } = {},
    ) {
      super(code, message, { ...opts, spec: all[code] });
      this.name = name;
    }
  };
  Object.defineProperty(cls, 'name', { value: name });
  return cls;
}

/** How a consumer treats any thrown value: coded errors by their code, anything else is retried. */
export function dispositionOf(err: unknown): Disposition {
  return err instanceof ServiceError ? err.disposition : 'nak';
}
