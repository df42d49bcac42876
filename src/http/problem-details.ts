import Joi from 'joi';
import { ERROR_CODES, type ErrorCode, type FieldError } from '../errors/index.js';

/** RFC 9457 problem document, with Gerbang's stable `code` and the request id. */
export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  code: ErrorCode;
  requestId: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

const TITLES: Record<ErrorCode, string> = {
  VALIDATION_FAILED: 'Validation failed',
  INVALID_JSON: 'Malformed JSON body',
  UNSUPPORTED_MEDIA_TYPE: 'Unsupported media type',
  PAYLOAD_TOO_LARGE: 'Request body too large',
  INVALID_CLIENT: 'Client authentication failed',
  INVALID_TOKEN: 'Invalid access token',
  SIGNATURE_MISSING: 'Request signature missing',
  SIGNATURE_MALFORMED: 'Request signature malformed',
  SIGNATURE_STALE: 'Request signature outside the time window',
  SIGNATURE_INVALID: 'Request signature does not match',
  SIGNATURE_REPLAYED: 'Request signature already used',
  CLIENT_LOCKED: 'Temporarily locked out',
  ORIGIN_NOT_ALLOWED: 'Origin not allowed',
  IP_NOT_ALLOWED: 'Address not allowed',
  RATE_LIMITED: 'Too many requests',
  NOT_FOUND: 'Not found',
  METHOD_NOT_ALLOWED: 'Method not allowed',
  IDEMPOTENCY_IN_FLIGHT: 'Request already in progress',
  IDEMPOTENCY_MISMATCH: 'Transaction id reused with another payload',
  ROUTE_UNAVAILABLE: 'No route to the beneficiary bank',
  STORE_UNAVAILABLE: 'Service temporarily unavailable',
  BANK_UNAVAILABLE: 'Bank unavailable',
  BANK_REFUSED: 'The bank refused the request',
  AUTH_UNAVAILABLE: 'Identity provider unavailable',
  AUDIT_INTEGRITY: 'Stored record failed its integrity check',
  REVIEW_FORBIDDEN: 'Only an admin may resolve a transfer in review',
  REVIEW_CONFLICT: 'The transfer is not in the review queue',
  REVIEW_CONTRADICTED: "The paying account's statement contradicts the resolution",
  NOTIFICATION_REFUSED: 'Bank notification refused',
  INTERNAL_ERROR: 'Internal error',
};

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Builds the problem document; extensions never override the standard members. */
export function problemDocument(input: {
  code: ErrorCode;
  status: number;
  detail: string;
  instance: string;
  requestId: string;
  fields?: FieldError[];
  extensions?: Record<string, unknown>;
}): ProblemDocument {
  const doc: ProblemDocument = {
    ...(input.extensions ?? {}),
    type: `urn:gerbang:problem:${input.code.toLowerCase().replace(/_/g, '-')}`,
    title: TITLES[input.code],
    status: input.status,
    detail: input.detail,
    instance: input.instance,
    code: input.code,
    requestId: input.requestId,
  };
  if (input.fields && input.fields.length > 0) doc.errors = input.fields;
  return doc;
}

/** The problem document's schema, for the API documents (extensions such as `error` allowed). */
export const problemSchema = Joi.object({
  type: Joi.string().required().description('URN naming the problem, e.g. `urn:gerbang:problem:validation-failed`.'),
  title: Joi.string().required().description('Short summary of the problem type.'),
  status: Joi.number().integer().required().description('The HTTP status.'),
  detail: Joi.string().required().description('What went wrong in this request, in plain words.'),
  instance: Joi.string().required().description('The request path.'),
  code: Joi.string()
    .valid(...ERROR_CODES)
    .required()
    .description('Stable error code to match on (docs/errors.md).'),
  requestId: Joi.string().required().description('Id of this request (also in `X-Request-Id`); quote it when reporting a problem.'),
  errors: Joi.array()
    .items(
      Joi.object({
        field: Joi.string().required().description('Dotted path of the offending field, e.g. `amount`.'),
        message: Joi.string().required().description('What is wrong with it.'),
      }),
    )
    .description('For VALIDATION_FAILED: every invalid field at once.'),
})
  .unknown(true)
  .label('Problem');
