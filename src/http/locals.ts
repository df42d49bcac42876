import type { ClientRecord } from '../store/types.js';
import type { AuditTrail } from '../audit/index.js';
import type { RequestContext } from '../log/index.js';

/**
 * What the pipeline steps leave for the ones after them, on `res.locals`. Typed here once so
 * no step reaches into another's internals.
 */
declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      requestId: string;
      /** What every log line of the request carries (spread into the line's object). */
      requestContext: RequestContext;
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
