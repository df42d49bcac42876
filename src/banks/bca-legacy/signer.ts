import { createHash, createHmac } from 'node:crypto';
import { jakartaTimestamp } from '../../time/index.js';

/**
 * BCA's legacy request signature (bank-apis.md §1):
 *
 *   StringToSign    = METHOD ":" RelativeUrl ":" AccessToken ":" lowerhex(sha256(Canon(body))) ":" Timestamp
 *   X-BCA-Signature = lowerhex(HMAC-SHA256(API secret, StringToSign))
 *
 * The adapter, the simulator and `gerbang sign bca-legacy` all use these functions, so what we
 * sign, what the simulator checks and what an integrator debugs with cannot drift apart.
 */

/** sha256 of the empty string: what a GET (no body) hashes. */
export const EMPTY_BODY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/**
 * BCA canonicalises the body by removing EVERY whitespace character, including spaces inside
 * string values ("Transfer Test" is hashed as "TransferTest"); its own documented example only
 * reproduces this way. The body is still sent with its spaces.
 */
export function canonicalBody(body: string): string {
  return body.replace(/\s+/g, '');
}

/** Percent-encodes the way BCA signs: RFC 3986, and a comma always as %2C. */
function encode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * The RelativeUrl that is signed and sent: the path (commas encoded as %2C) plus the query with
 * its parameters sorted by name. Accepts a path that already carries a query (`/x?b=2&a=1`).
 */
export function relativeUrl(path: string, query: Record<string, string> = {}): string {
  const [rawPath, rawQuery = ''] = path.split('?', 2);
  const params: [string, string][] = [];
  for (const [name, value] of new URLSearchParams(rawQuery)) params.push([name, value]);
  for (const [name, value] of Object.entries(query)) params.push([name, value]);
  params.sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  const cleanPath = rawPath.replace(/,/g, '%2C');
  return params.length === 0 ? cleanPath : `${cleanPath}?${params.map(([n, v]) => `${encode(n)}=${encode(v)}`).join('&')}`;
}

export interface SignInput {
  method: string;
  relativeUrl: string;
  /** The bank access token, without "Bearer ". */
  accessToken: string;
  /** The exact body text that is sent ('' for none). */
  body: string;
  timestamp: string;
}

export function stringToSign(input: SignInput): string {
  const bodyHash = input.body === '' ? EMPTY_BODY_SHA256 : createHash('sha256').update(canonicalBody(input.body), 'utf8').digest('hex');
  return [input.method.toUpperCase(), input.relativeUrl, input.accessToken, bodyHash, input.timestamp].join(':');
}

/** Computes X-BCA-Signature. Returns the string that was signed too, for debugging. */
export function signBcaLegacy(input: SignInput & { apiSecret: string }): { stringToSign: string; signature: string } {
  const text = stringToSign(input);
  return { stringToSign: text, signature: createHmac('sha256', input.apiSecret).update(text, 'utf8').digest('hex') };
}

/** X-BCA-Timestamp: `yyyy-MM-ddTHH:mm:ss.SSS+07:00` (BCA's acceptance of `Z` is unconfirmed). */
export function bcaTimestamp(instant: Date | number): string {
  return jakartaTimestamp(instant, true);
}

/** The exact X-BCA-Timestamp format, for the simulator's check. */
export const BCA_TIMESTAMP_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+07:00$/;
