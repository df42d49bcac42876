import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { AppError, IntegrityError, type ErrorCode } from '../../errors/index.js';
import { KeyRingError, signingKeyPlace, type KeyRing } from '../../security/index.js';
import type { RequestSignatureRepository } from '../../store/types.js';
import { parseSignature, parseTimestamp, requestSignature, SIGNATURE_HEADER, SIGNATURE_WINDOW_MS, TIMESTAMP_HEADER } from './request-signature.js';

/**
 * The replay cache keeps a signature this long after its timestamp: past the window (after which
 * the signature is refused as stale anyway) plus a margin for clocks that differ between nodes.
 */
export const REPLAY_MARGIN_MS = 60_000;

export interface RequestSignatureOptions {
  /** Opens the clients' sealed signing keys (the audit key ring, GERBANG_AUDIT_KEYS). */
  keys: KeyRing;
  /** Where accepted signatures are remembered, shared by every worker and node. */
  replays: RequestSignatureRepository;
  clock: () => number;
  /** Accepted distance between X-Gerbang-Timestamp and the clock, either way (default 5 minutes). */
  windowMs?: number;
}

function refusal(code: ErrorCode, header: string, detail: string): AppError {
  return new AppError(code, detail, {
    headers: { 'WWW-Authenticate': `Gerbang-HMAC-SHA256 error="${code.toLowerCase()}", headers="${TIMESTAMP_HEADER} ${SIGNATURE_HEADER}"` },
    extensions: { header },
  });
}

/**
 * Request signing, for a client that requires it (see request-signature.ts for the scheme). Sits
 * after authentication (the token says which client, and whether it must sign) and after the body
 * parser (the hash is over the raw body bytes it kept), before validation and any use case.
 * A client that does not require signing passes untouched; the token endpoint never gets here.
 *
 * Refusals, each 401 with a `header` member naming the header at fault: SIGNATURE_MISSING,
 * SIGNATURE_MALFORMED, SIGNATURE_STALE (outside ±window), SIGNATURE_INVALID (wrong key, or the
 * method, path, timestamp or body is not what was signed), SIGNATURE_REPLAYED (accepted once
 * already, by this process or any other on the store). A sealed key the ring cannot open is an
 * INTERNAL_ERROR (fail closed; the log names the key-ring setting).
 */
export function requestSignatureStep(options: RequestSignatureOptions): RequestHandler {
  const windowMs = options.windowMs ?? SIGNATURE_WINDOW_MS;
  return async (req, res, next) => {
    const client = res.locals.client;
    if (!client?.signing.required) return next();

    const timestamp = req.get(TIMESTAMP_HEADER);
    const signature = req.get(SIGNATURE_HEADER);
    if (signature === undefined || signature === '') throw refusal('SIGNATURE_MISSING', SIGNATURE_HEADER, `This client must sign its requests: the ${SIGNATURE_HEADER} header is missing.`);
    if (timestamp === undefined || timestamp === '') throw refusal('SIGNATURE_MISSING', TIMESTAMP_HEADER, `This client must sign its requests: the ${TIMESTAMP_HEADER} header is missing.`);
    const signedAt = parseTimestamp(timestamp);
    if (signedAt === null) {
      throw refusal('SIGNATURE_MALFORMED', TIMESTAMP_HEADER, `${TIMESTAMP_HEADER} must be an ISO-8601 date-time with seconds and an offset, e.g. 2026-11-26T09:15:00.123+07:00.`);
    }
    const given = parseSignature(signature);
    if (given === null) throw refusal('SIGNATURE_MALFORMED', SIGNATURE_HEADER, `${SIGNATURE_HEADER} must be the base64 of an HMAC-SHA256 (44 characters ending in =).`);
    const now = options.clock();
    if (Math.abs(now - signedAt) > windowMs) {
      throw refusal('SIGNATURE_STALE', TIMESTAMP_HEADER, `${TIMESTAMP_HEADER} is more than ${windowMs / 60_000} minutes away from Gerbang's clock (${new Date(now).toISOString()}); sign each request, retries included, when it is sent.`);
    }
    if (client.signing.sealedKey === null) throw new Error(`client ${client.id} requires signing but has no signing key`);
    const expected = Buffer.from(
      requestSignature(openSigningKey(options.keys, client.id, client.signing.sealedKey), {
        method: req.method,
        pathWithQuery: req.originalUrl,
        timestamp,
        body: res.locals.rawBody ?? Buffer.alloc(0),
      }).signature,
      'base64',
    );
    if (!timingSafeEqual(given, expected)) {
      throw refusal('SIGNATURE_INVALID', SIGNATURE_HEADER, `${SIGNATURE_HEADER} does not match the request: sign METHOD, path with query, ${TIMESTAMP_HEADER} and the SHA-256 of the body exactly as sent, with the current signing key.`);
    }
    const digest = createHash('sha256').update(given).digest('hex');
    if (!(await options.replays.remember(client.id, digest, signedAt + windowMs + REPLAY_MARGIN_MS))) {
      throw refusal('SIGNATURE_REPLAYED', SIGNATURE_HEADER, `This ${SIGNATURE_HEADER} was already used: every request, retries included, needs a new ${TIMESTAMP_HEADER} and signature.`);
    }
    next();
  };
}

/** The client's signing key; IntegrityError when the stored one is not the one sealed for this client (moved, altered, clear). */
function openSigningKey(keys: KeyRing, clientId: string, sealedKey: string): string {
  try {
    return keys.decrypt(sealedKey, signingKeyPlace(clientId));
  } catch (error) {
    if (error instanceof KeyRingError && error.reason === 'corrupt') throw new IntegrityError(`clients.signing_key of row ["${clientId}"] is not a value sealed for it`);
    throw error;
  }
}
