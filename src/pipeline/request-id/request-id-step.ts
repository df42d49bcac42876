import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';

/** A caller-supplied id is kept only when it is short and plain, so it cannot inject into logs. */
const ACCEPTABLE_ID = /^[A-Za-z0-9._:-]{8,64}$/;

/**
 * W3C Trace Context `traceparent` (version 00): `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`.
 * All-zero ids are invalid by the specification; anything else is ignored, never echoed.
 */
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;

export function parseTraceparent(header: string | undefined): { traceId: string; parentSpanId: string } | null {
  const match = header ? TRACEPARENT.exec(header.trim()) : null;
  if (!match || /^0+$/.test(match[1]) || /^0+$/.test(match[2])) return null;
  return { traceId: match[1], parentSpanId: match[2] };
}

/**
 * Gives every request an id (the caller's `X-Request-Id` when acceptable, else a UUID), echoes
 * it in the answer, and leaves on `res.locals.requestContext` what every log line of the request
 * carries (RequestContext in src/log): the id and, when the caller sent a valid W3C
 * `traceparent`, its trace. The steps after it hand it on, to the bank call's lines included.
 */
export function requestIdStep(): RequestHandler {
  return (req, res, next) => {
    const offered = req.get('x-request-id');
    const requestId = offered && ACCEPTABLE_ID.test(offered) ? offered : randomUUID();
    res.locals.requestId = requestId;
    res.setHeader('X-Request-Id', requestId);
    const trace = parseTraceparent(req.get('traceparent'));
    res.locals.requestContext = trace ? { requestId, traceId: trace.traceId, parentSpanId: trace.parentSpanId } : { requestId };
    next();
  };
}
