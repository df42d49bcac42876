import Joi from 'joi';
import {
  accountInquiryAnswerSchema,
  accountInquiryRequestSchema,
  accountParamsSchema,
  balanceAnswerSchema,
  balanceQuerySchema,
  statementAnswerSchema,
  statementQuerySchema,
} from '../../domain/accounts/index.js';
import { tokenRequestSchema, tokenResponseSchema } from '../../domain/auth/index.js';
import { batchIdParamsSchema, batchLinesQuerySchema, batchRequestSchema, batchViewSchema } from '../../domain/batches/index.js';
import { SETTINGS } from '../../config/index.js';
import { transferIdParamsSchema, transferRequestSchema, transferResultSchema } from '../../domain/transfers/index.js';
import type { ErrorCode } from '../../errors/index.js';
import type { ApiRoute } from './api-route.js';

/** What every authenticated route may refuse with before its own checks. */
const AUTHENTICATED: ErrorCode[] = [
  'INVALID_TOKEN',
  // Only for a Microsoft Entra ID access token whose tenant cannot be reached.
  'AUTH_UNAVAILABLE',
  // Only for a client that must sign its requests (gerbang client enable-signing).
  'SIGNATURE_MISSING',
  'SIGNATURE_MALFORMED',
  'SIGNATURE_STALE',
  'SIGNATURE_INVALID',
  'SIGNATURE_REPLAYED',
  'IP_NOT_ALLOWED', 'ORIGIN_NOT_ALLOWED', 'RATE_LIMITED', 'STORE_UNAVAILABLE', 'INTERNAL_ERROR'];
/** What a route with a body may refuse with while reading it. */
const WITH_BODY: ErrorCode[] = ['INVALID_JSON', 'UNSUPPORTED_MEDIA_TYPE', 'PAYLOAD_TOO_LARGE', 'VALIDATION_FAILED'];

const replayedHeader = {
  'Idempotent-Replayed': {
    description: '`true` when this answer is the stored result of an earlier request with the same transactionId and payload (nothing was sent to the bank again).',
    schema: Joi.string().valid('true'),
  },
};

const healthSchema = Joi.object({ status: Joi.string().valid('ok').required() }).label('Health');
const readinessSchema = Joi.object({
  status: Joi.string().valid('ready', 'unready').required(),
  mode: Joi.string().valid('live', 'sandbox').required().description('`sandbox`: the built-in bank simulator plays the bank and no money moves (GERBANG_SANDBOX=true).'),
  warning: Joi.string().description('Present in sandbox mode, saying so.'),
  // Each check named (a `pattern()` would render as an object allowing no key at all).
  checks: Joi.object({
    store: Joi.string().description('`ok`, or `unreachable`.'),
    migrations: Joi.string().description('`ok`, or the pending migrations.'),
    checkpoints: Joi.string().description('`ok`, or what the database lacks that the audit checkpoints outside it vouched for (every request is then answered 503 until `gerbang audit accept-rollback`).'),
    keys: Joi.string().description('`ok`, or why the token or audit keys do not work.'),
  })
    .required()
    .description('Each check and its result (`ok` or what is wrong).'),
}).label('Readiness');

/** The configured limits a declaration depends on (the same in the validator and the documents). */
export interface ApiLimits {
  batchMaxLines: number;
}

/** The limits of a default configuration: what the committed documents in docs/api/ say. */
export const DEFAULT_API_LIMITS: ApiLimits = {
  batchMaxLines: SETTINGS.batchMaxLines.schema.validate(undefined).value as number,
};

/**
 * The public API, one declaration per route (see api-route.ts), for the given limits. The app
 * builds it once from its configuration and mounts every route from it; the documents are
 * written from the same object. Add a route here, then mount it.
 */
export function apiRoutes(limits: ApiLimits) {
  return {
    issueToken: {
      operationId: 'IssueToken',
      method: 'post',
      path: '/v1/auth/token',
      summary: 'Get an access token',
      description:
        'Client-credentials grant. Send `client_id` and `client_secret` as JSON, as an OAuth2 form with `grant_type=client_credentials`, or in HTTP Basic. The token is valid for `expires_in` seconds; send it as `Authorization: Bearer <access_token>`.',
      tags: ['Authentication'],
      security: 'client-credentials',
      request: { body: tokenRequestSchema, bodyTypes: ['application/json', 'application/x-www-form-urlencoded'] },
      answers: {
        200: {
          description: 'A new access token (never cached: `Cache-Control: no-store`).',
          schema: tokenResponseSchema,
        },
      },
      problems: [...WITH_BODY, 'INVALID_CLIENT', 'CLIENT_LOCKED', 'IP_NOT_ALLOWED', 'ORIGIN_NOT_ALLOWED', 'RATE_LIMITED', 'STORE_UNAVAILABLE', 'INTERNAL_ERROR'],
    },
    createTransfer: {
      operationId: 'CreateTransfer',
      method: 'post',
      path: '/v1/transfers',
      summary: 'Pay a vendor',
      description:
        'Sends a payment to the bank of the beneficiary. `transactionId` is the idempotency key: resending the same request returns the stored result with `Idempotent-Replayed: true` and never pays twice; the same id with a different payload is refused (422), and a resend while the first is still in progress answers 409. A 202 (PENDING or UNKNOWN) is not final: read the status with GetTransfer.',
      tags: ['Transfers'],
      security: 'bearer',
      request: { body: transferRequestSchema },
      answers: {
        201: { description: 'Paid (status SUCCESS).', schema: transferResultSchema, headers: replayedHeader },
        202: { description: 'Accepted, outcome not final (status PENDING or UNKNOWN): ask GetTransfer later.', schema: transferResultSchema, headers: replayedHeader },
        422: {
          description: 'Refused by the bank (status FAILED, with `bankResponseCode` and `bankMessage`): nothing was paid. A transfer result, not a problem document.',
          schema: transferResultSchema,
          headers: replayedHeader,
        },
      },
      problems: [...AUTHENTICATED, ...WITH_BODY, 'IDEMPOTENCY_IN_FLIGHT', 'IDEMPOTENCY_MISMATCH', 'ROUTE_UNAVAILABLE', 'BANK_UNAVAILABLE'],
    },
    getTransfer: {
      operationId: 'GetTransfer',
      method: 'get',
      path: '/v1/transfers/{transactionId}',
      summary: 'Read a transfer',
      description: "The transfer's latest state. A PENDING or UNKNOWN transfer is first checked with the bank's status inquiry.",
      tags: ['Transfers'],
      security: 'bearer',
      request: { params: transferIdParamsSchema },
      answers: { 200: { description: 'The transfer (any status; FAILED carries the bank code).', schema: transferResultSchema } },
      problems: [...AUTHENTICATED, 'VALIDATION_FAILED', 'NOT_FOUND'],
    },
    createBatch: {
      operationId: 'CreateTransferBatch',
      method: 'post',
      path: '/v1/transfer-batches',
      summary: 'Submit a payment run',
      description: `Up to ${limits.batchMaxLines} transfers in one request, each exactly as CreateTransfer takes it and with its own transactionId. Every line is validated before anything is stored (errors name the line); the run is stored, answered 202 at once and paid in the background, each line under its own idempotency. \`batchId\` is the run's idempotency key: the same run again answers its state (\`Idempotent-Replayed: true\`), another run under the same id 422.`,
      tags: ['Transfer batches'],
      security: 'bearer',
      request: { body: batchRequestSchema(limits.batchMaxLines) },
      answers: {
        202: {
          description: 'Stored; being paid. Follow `Location` (GetTransferBatch) for progress and per-line results.',
          schema: batchViewSchema,
          headers: { ...replayedHeader, Location: { description: 'Where the run is read: `/v1/transfer-batches/{batchId}`.', schema: Joi.string() } },
        },
      },
      problems: [...AUTHENTICATED, ...WITH_BODY, 'IDEMPOTENCY_IN_FLIGHT', 'IDEMPOTENCY_MISMATCH'],
    },
    getBatch: {
      operationId: 'GetTransferBatch',
      method: 'get',
      path: '/v1/transfer-batches/{batchId}',
      summary: 'Read a payment run',
      description: "The run's state, its progress, and a page of its lines with each line's transfer result (paid lines) or problem (rejected lines).",
      tags: ['Transfer batches'],
      security: 'bearer',
      request: { params: batchIdParamsSchema, query: batchLinesQuerySchema },
      answers: { 200: { description: 'The run and a page of its lines.', schema: batchViewSchema } },
      problems: [...AUTHENTICATED, 'VALIDATION_FAILED', 'NOT_FOUND'],
    },
    inquireAccount: {
      operationId: 'InquireAccount',
      method: 'post',
      path: '/v1/account-inquiries',
      summary: "Check a vendor's account",
      description: "The account holder's name at the vendor's bank, to compare with the vendor master data before paying. Asked at the partner that is the vendor's bank, else through the partners by priority.",
      tags: ['Accounts'],
      security: 'bearer',
      request: { body: accountInquiryRequestSchema },
      answers: { 200: { description: 'The account and its holder.', schema: accountInquiryAnswerSchema } },
      problems: [...AUTHENTICATED, ...WITH_BODY, 'BANK_REFUSED', 'ROUTE_UNAVAILABLE', 'BANK_UNAVAILABLE'],
    },
    getBalance: {
      operationId: 'GetBalance',
      method: 'get',
      path: '/v1/accounts/{accountNumber}/balance',
      summary: 'Read a company account balance',
      description: 'The balance of a company account at a partner bank. An account the client was not granted answers 404, as an unknown one does.',
      tags: ['Accounts'],
      security: 'bearer',
      request: { params: accountParamsSchema, query: balanceQuerySchema },
      answers: { 200: { description: 'The balance.', schema: balanceAnswerSchema } },
      problems: [...AUTHENTICATED, 'VALIDATION_FAILED', 'NOT_FOUND', 'BANK_REFUSED', 'ROUTE_UNAVAILABLE', 'BANK_UNAVAILABLE'],
    },
    getStatement: {
      operationId: 'GetStatement',
      method: 'get',
      path: '/v1/accounts/{accountNumber}/statements',
      summary: 'Read a company account statement',
      description: 'The entries of a company account between two days (at most 31 days, not in the future).',
      tags: ['Accounts'],
      security: 'bearer',
      request: { params: accountParamsSchema, query: statementQuerySchema },
      answers: { 200: { description: 'The statement.', schema: statementAnswerSchema } },
      problems: [...AUTHENTICATED, 'VALIDATION_FAILED', 'NOT_FOUND', 'BANK_REFUSED', 'ROUTE_UNAVAILABLE', 'BANK_UNAVAILABLE'],
    },
    callbackPublicKey: {
      operationId: 'GetCallbackPublicKey',
      method: 'get',
      path: '/v1/callbacks/public-key',
      summary: 'Get the key that signs callbacks',
      description:
        "When a transfer becomes final (SUCCESS or FAILED) Gerbang POSTs `{\"event\":\"transfer.final\",\"transfer\":{…}}` to the client's registered callback URL with `Gerbang-Signature: t=<unix seconds>,kid=<keyId>,sig=<base64>`: an RSASSA-PKCS1-v1_5 SHA-256 signature of `<t>.<body>` by this key. Verify it, and that `t` is recent, before trusting a notification.",
      tags: ['Callbacks'],
      security: 'bearer',
      answers: {
        200: {
          description: 'The public key.',
          schema: Joi.object({
            keyId: Joi.string().required().description('The `kid` of the signature header.'),
            algorithm: Joi.string().valid('RSASSA-PKCS1-v1_5-SHA256').required(),
            publicKeyPem: Joi.string().required().description('SubjectPublicKeyInfo, PEM.'),
          }).label('CallbackPublicKey'),
        },
      },
      problems: [...AUTHENTICATED],
    },
    health: {
      operationId: 'Health',
      visibility: 'internal',
      method: 'get',
      path: '/healthz',
      summary: 'Liveness',
      description: 'The process is up (for PM2 and load balancers).',
      tags: ['Health'],
      security: 'none',
      answers: { 200: { description: 'Alive.', schema: healthSchema } },
      problems: [],
    },
    readiness: {
      operationId: 'Readiness',
      visibility: 'internal',
      method: 'get',
      path: '/readyz',
      summary: 'Readiness',
      description: 'Ready to serve payments: the store answers, every migration is applied and the keys work (an access token signs and verifies, an audit value seals and opens). 503 with the failing check otherwise.',
      tags: ['Health'],
      security: 'none',
      answers: {
        200: { description: 'Ready.', schema: readinessSchema },
        503: { description: 'Not ready; `checks` says why.', schema: readinessSchema },
      },
      problems: [],
    },
  } satisfies Record<string, ApiRoute>;
}

export type ApiRoutes = ReturnType<typeof apiRoutes>;

/** Every declared route, in document order. */
export function routeList(routes: ApiRoutes): ApiRoute[] {
  return Object.values(routes);
}
