import express, { type RequestHandler } from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AppError } from '../../errors/index.js';
import { fromBodyParser } from './body-errors.js';

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
 * refused with 415 instead of being silently ignored. The parsers' refusals are passed on as
 * AppErrors (fromBodyParser): INVALID_JSON, PAYLOAD_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE,
 * VALIDATION_FAILED; anything else they raise goes on as it is.
 */
export function bodyParserStep(options: BodyParserOptions): RequestHandler[] {
  const steps: RequestHandler[] = [
    translated(express.json({ strict: true, limit: options.limitBytes, type: ['application/json', 'application/*+json'], verify: keepRaw })),
  ];
  if (options.allowForm) {
    steps.push(translated(express.urlencoded({ extended: false, limit: options.limitBytes, parameterLimit: 20, verify: keepRaw })));
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

/** `parser`, its errors passed on as our codes where they are the caller's fault. */
function translated(parser: RequestHandler): RequestHandler {
  return (req, res, next) => parser(req, res, (error?: unknown) => next(error === undefined ? undefined : (fromBodyParser((error ?? {}) as Parameters<typeof fromBodyParser>[0]) ?? error)));
}
