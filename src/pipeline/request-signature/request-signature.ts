import { createHash, createHmac } from 'node:crypto';

/*
 * Gerbang's request signature, for clients that must sign (gerbang client enable-signing):
 *
 *   X-Gerbang-Timestamp: 2026-11-26T09:15:00.123+07:00        (ISO-8601 with its offset)
 *   X-Gerbang-Signature: base64( HMAC-SHA256( signingKey, stringToSign ) )
 *
 *   stringToSign = METHOD + "\n" + pathWithQuery + "\n" + timestamp + "\n" + hex(SHA-256(body))
 *
 * - METHOD upper-case; pathWithQuery exactly as sent on the request line (`/v1/transfers`,
 *   `/v1/transfer-batches/RUN-1?afterLine=0&limit=50`), nothing re-encoded or sorted, so the
 *   ERP signs the bytes it sends and nobody has to agree on a canonical form;
 * - timestamp exactly as in X-Gerbang-Timestamp;
 * - the body hash lower-case hex over the raw body bytes (the hash of nothing,
 *   e3b0c442…b855, for a GET), so a re-serialised JSON could never pass for the signed one;
 * - the key is the UTF-8 text of the signing key as `gerbang client enable-signing` prints it.
 *
 * ISO-8601 rather than epoch seconds: Power Automate's utcNow(), AL's Format(CurrentDateTime, 0, 9)
 * and .NET's DateTimeOffset.UtcNow.ToString("o") all write it natively, the same format the SNAP
 * banks use for X-TIMESTAMP, and its fraction of a second lets two identical requests within
 * one second carry different signatures (the second would otherwise be refused as a replay).
 */

export const TIMESTAMP_HEADER = 'X-Gerbang-Timestamp';
export const SIGNATURE_HEADER = 'X-Gerbang-Signature';

/** A signed request is accepted this far from Gerbang's clock, either way. */
export const SIGNATURE_WINDOW_MS = 5 * 60_000;

/** `2026-11-26T09:15:00+07:00`, `2026-11-26T02:15:00.1234567Z`: seconds required, fraction optional, offset required. */
const ISO_TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/** A base64 HMAC-SHA256: 32 bytes are 43 characters and one `=`. */
const BASE64_SHA256 = /^[A-Za-z0-9+/]{43}=$/;

export interface SignedParts {
  method: string;
  /** The request target as sent: path and query. */
  pathWithQuery: string;
  /** X-Gerbang-Timestamp as sent. */
  timestamp: string;
  body: Buffer | string;
}

/** SHA-256 of the raw body bytes, lower-case hex. */
export function bodyHash(body: Buffer | string): string {
  return createHash('sha256').update(body).digest('hex');
}

export function stringToSign(parts: SignedParts): string {
  return [parts.method.toUpperCase(), parts.pathWithQuery, parts.timestamp, bodyHash(parts.body)].join('\n');
}

/** The X-Gerbang-Signature value for these parts under `signingKey`. */
export function requestSignature(signingKey: string, parts: SignedParts): { stringToSign: string; signature: string } {
  const text = stringToSign(parts);
  return { stringToSign: text, signature: createHmac('sha256', Buffer.from(signingKey, 'utf8')).update(text, 'utf8').digest('base64') };
}

/**
 * The epoch milliseconds of an X-Gerbang-Timestamp, or null when it is not an ISO-8601 date-time
 * with seconds and an offset, or names a day or time that does not exist (Feb 30, 24:00).
 */
export function parseTimestamp(text: string): number | null {
  const match = ISO_TIMESTAMP.exec(text);
  if (!match) return null;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number);
  const fraction = match[7] ?? '';
  const zone = match[8];
  const utc = Date.UTC(year, month - 1, day, hour, minute, second);
  const date = new Date(utc);
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day || date.getUTCHours() !== hour || date.getUTCMinutes() !== minute || date.getUTCSeconds() !== second) {
    return null;
  }
  let offsetMinutes = 0;
  if (zone !== 'Z') {
    const hours = Number(zone.slice(1, 3));
    const minutes = Number(zone.slice(4, 6));
    if (hours > 23 || minutes > 59) return null;
    offsetMinutes = (zone.startsWith('-') ? -1 : 1) * (hours * 60 + minutes);
  }
  return utc + Number(fraction.padEnd(3, '0').slice(0, 3)) - offsetMinutes * 60_000;
}

/**
 * The 32 signature bytes of an X-Gerbang-Signature, or null when it is not the canonical base64
 * of 32 bytes. Canonical matters: base64 of 32 bytes has two spare bits, and a re-encoding with
 * them set decodes to the same bytes; refusing it keeps one signature one header value.
 */
export function parseSignature(text: string): Buffer | null {
  if (!BASE64_SHA256.test(text)) return null;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : null;
}
