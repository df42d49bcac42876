import type { ClientRecord } from '../store/types.js';
import type { AuditTrail } from '../audit/index.js';

/**
 * What the pipeline steps leave for the ones after them, on `res.locals`. Typed here once so
 * no step reaches into another's internals.
 */
declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      requestId: string;
      /** The W3C trace id of the caller's `traceparent`, when it sent a valid one. */
      traceId?: string;
      audit: AuditTrail;
      /** The authenticated client, set by the auth step. */
      client?: ClientRecord;
      /** Stable error code of the answer, set by the error handler, read by the audit step. */
      errorCode?: string;
      /** The raw request body, kept by the body parser so a malformed one is still audited. */
      rawBody?: Buffer;
    }
  }
}

export {};
