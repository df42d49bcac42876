import express, { type RequestHandler } from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AppError } from '../../errors/index.js';

export interface BodyParserOptions {
  limitBytes: number;
  /** Also accept `application/x-www-form-urlencoded` (the OAuth2 token endpoint). */
  allowForm?: boolean;
}

/** Keeps the raw bytes so a body that fails to parse is still recorded by the audit step. */
function keepRaw(_req: IncomingMessage, res: ServerResponse, buf: Buffer): void {
  (res as unknown as { locals: { rawBody?: Buffer } }).locals.rawBody = buf;
}

/**
 * Strict JSON bodies (objects and arrays only) up to `limitBytes`; a body of any other type is
 * refused with 415 instead of being silently ignored. Parse failures become INVALID_JSON and
 * PAYLOAD_TOO_LARGE in the error handler.
 */
export function bodyParserStep(options: BodyParserOptions): RequestHandler[] {
  const steps: RequestHandler[] = [
    express.json({ strict: true, limit: options.limitBytes, type: ['application/json', 'application/*+json'], verify: keepRaw }),
  ];
  if (options.allowForm) {
    steps.push(express.urlencoded({ extended: false, limit: options.limitBytes, parameterLimit: 20, verify: keepRaw }));
  }
  steps.push((req, _res, next) => {
    if (req.body === undefined && hasBody(req)) {
      const accepted = options.allowForm ? 'application/json or application/x-www-form-urlencoded' : 'application/json';
      throw new AppError('UNSUPPORTED_MEDIA_TYPE', `The request body must be ${accepted}.`);
    }
    next();
  });
  return steps;
}

function hasBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}
