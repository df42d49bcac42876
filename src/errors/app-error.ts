/**
 * The one error class of Gerbang. Callers match on `code` (stable, documented in
 * docs/errors.md), never on `message`. The central error middleware turns it into an
 * RFC 9457 problem document; anything that is not an AppError becomes INTERNAL_ERROR
 * and its details never reach the client.
 */
export interface FieldError {
  /** Dotted path of the offending field as the client sent it, e.g. `amount` or `items.0.name`. */
  field: string;
  message: string;
  /**
   * The rule broken, stable (`not-cidr`, `password-short`, …), and the offending value as typed
   * (never a secret): for a caller that words the error in its own language (the console);
   * `message` says it in English.
   */
  rule?: string;
  value?: string;
}

export type ErrorCode =
  | 'VALIDATION_FAILED'
  | 'INVALID_JSON'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'PAYLOAD_TOO_LARGE'
  | 'INVALID_CLIENT'
  | 'INVALID_TOKEN'
  | 'SIGNATURE_MISSING'
  | 'SIGNATURE_MALFORMED'
  | 'SIGNATURE_STALE'
  | 'SIGNATURE_INVALID'
  | 'SIGNATURE_REPLAYED'
  | 'CLIENT_LOCKED'
  | 'ORIGIN_NOT_ALLOWED'
  | 'IP_NOT_ALLOWED'
  | 'RATE_LIMITED'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'IDEMPOTENCY_IN_FLIGHT'
  | 'IDEMPOTENCY_MISMATCH'
  | 'ROUTE_UNAVAILABLE'
  | 'STORE_UNAVAILABLE'
  | 'BANK_UNAVAILABLE'
  | 'BANK_REFUSED'
  | 'AUTH_UNAVAILABLE'
  | 'AUDIT_INTEGRITY'
  | 'REVIEW_FORBIDDEN'
  | 'REVIEW_CONFLICT'
  | 'REVIEW_CONTRADICTED'
  | 'NOTIFICATION_REFUSED'
  | 'INTERNAL_ERROR';

const STATUS: Record<ErrorCode, number> = {
  VALIDATION_FAILED: 400,
  INVALID_JSON: 400,
  UNSUPPORTED_MEDIA_TYPE: 415,
  PAYLOAD_TOO_LARGE: 413,
  INVALID_CLIENT: 401,
  INVALID_TOKEN: 401,
  SIGNATURE_MISSING: 401,
  SIGNATURE_MALFORMED: 401,
  SIGNATURE_STALE: 401,
  SIGNATURE_INVALID: 401,
  SIGNATURE_REPLAYED: 401,
  CLIENT_LOCKED: 429,
  ORIGIN_NOT_ALLOWED: 403,
  IP_NOT_ALLOWED: 403,
  RATE_LIMITED: 429,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  IDEMPOTENCY_IN_FLIGHT: 409,
  IDEMPOTENCY_MISMATCH: 422,
  ROUTE_UNAVAILABLE: 422,
  STORE_UNAVAILABLE: 503,
  BANK_UNAVAILABLE: 503,
  BANK_REFUSED: 422,
  AUTH_UNAVAILABLE: 503,
  AUDIT_INTEGRITY: 500,
  REVIEW_FORBIDDEN: 403,
  REVIEW_CONFLICT: 409,
  REVIEW_CONTRADICTED: 409,
  NOTIFICATION_REFUSED: 401,
  INTERNAL_ERROR: 500,
};

/** The HTTP status an error code is answered with (the API documents list codes by status). */
export function statusOfCode(code: ErrorCode): number {
  return STATUS[code];
}

/** Every error code, in declaration order. */
export const ERROR_CODES = Object.keys(STATUS) as ErrorCode[];

export interface AppErrorOptions {
  fields?: FieldError[];
  /** Extra response headers, e.g. Retry-After or WWW-Authenticate. */
  headers?: Record<string, string>;
  /** Extra problem members that are safe to show the client (never internals). */
  extensions?: Record<string, unknown>;
  cause?: unknown;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly fields: FieldError[];
  readonly headers: Record<string, string>;
  readonly extensions: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = STATUS[code];
    this.fields = options.fields ?? [];
    this.headers = options.headers ?? {};
    this.extensions = options.extensions ?? {};
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}

/**
 * A stored value or record failed its integrity check (a sealed value that does not open where
 * it is, clear text where a sealed value belongs, a record whose MAC does not match): someone
 * changed the database behind the gateway's back. Answered 500 AUDIT_INTEGRITY; nothing is
 * reported from it. `where` names the table, column and row for the log and `audit verify`,
 * never for the client.
 */
export class IntegrityError extends AppError {
  constructor(readonly where: string) {
    super('AUDIT_INTEGRITY', 'A stored record failed its integrity check, so nothing is reported from it. The operator is alerted; quote the request id.');
    this.name = 'IntegrityError';
  }
}
