import { createHash, createHmac } from 'node:crypto';
import { jakartaTimestamp } from '../../time/index.js';

/**
 * BCA's legacy request signature (bank-apis.md §1):
 *
 *   StringToSign    = METHOD ":" RelativeUrl ":" AccessToken ":" lowerhex(sha256(Canon(body))) ":" Timestamp
 *   X-BCA-Signature = lowerhex(HMAC-SHA256(API secret, StringToSign))
 *
 * Pure functions. The adapter, the simulator and `gerbang sign bca-legacy` all use them, so what
 * we sign, what the simulator verifies and what an integrator debugs with cannot drift apart.
 */

/** sha256 of the empty string: what a GET (or any call without a body) hashes. */
export const EMPTY_BODY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** The exact X-BCA-Timestamp format: `yyyy-MM-ddTHH:mm:ss.SSS+07:00`. */
export const BCA_TIMESTAMP_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+07:00$/;

/**
 * Canon(body): the body with EVERY whitespace character removed, spaces inside string values
 * included ("Transfer Test" is hashed as "TransferTest"). That is not JSON minification, but it
 * is the only reading under which BCA's own documented example reproduces. The body is still
 * *sent* unchanged, spaces and all; only the hash input is canonical.
 */
export function canonicalBody(body: string): string {
  return body.replace(/\s/g, '');
}

/** RFC 3986 percent-encoding (encodeURIComponent also escapes `,` as `%2C`, as BCA signs it). */
function encode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * The RelativeUrl that is signed AND sent: the path, with commas written `%2C` (the balance call
 * joins account numbers with commas), then the query with its parameters sorted by name (then by
 * value, so repeated names are deterministic) and percent-encoded. A query already on `path`
 * (`/x?b=2&a=1`) is merged with `query`, which lets the simulator canonicalise what it received.
 */
export function relativeUrl(path: string, query: Record<string, string> = {}): string {
  const at = path.indexOf('?');
  const rawPath = at < 0 ? path : path.slice(0, at);
  const params: [string, string][] = at < 0 ? [] : [...new URLSearchParams(path.slice(at + 1))];
  for (const [name, value] of Object.entries(query)) params.push([name, value]);
  params.sort(([a, av], [b, bv]) => compare(a, b) || compare(av, bv));
  const cleanPath = rawPath.replace(/,/g, '%2C');
  if (params.length === 0) return cleanPath;
  return `${cleanPath}?${params.map(([name, value]) => `${encode(name)}=${encode(value)}`).join('&')}`;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface StringToSignInput {
  /** HTTP method; upper-cased here. */
  method: string;
  /** From relativeUrl(): exactly the path and query that are sent. */
  relativeUrl: string;
  /** The bank access token, without "Bearer ". */
  accessToken: string;
  /** The exact body text that is sent; '' for none (hashes the empty string). */
  body: string;
  /** X-BCA-Timestamp, from bcaTimestamp(). */
  timestamp: string;
}

export interface SignInput extends StringToSignInput {
  /** The API secret BCA issued with the API key: the HMAC key. */
  apiSecret: string;
}

/** lowercase hex sha256 of Canon(body); the empty body hashes the empty string (EMPTY_BODY_SHA256). */
export function bodyHash(body: string): string {
  return createHash('sha256').update(canonicalBody(body), 'utf8').digest('hex');
}

/** `METHOD:RelativeUrl:AccessToken:bodyHash:Timestamp`. */
export function stringToSign(input: StringToSignInput): string {
  return [input.method.toUpperCase(), input.relativeUrl, input.accessToken, bodyHash(input.body), input.timestamp].join(':');
}

/**
 * Computes X-BCA-Signature (lowercase hex HMAC-SHA256 keyed with the API secret). Returns the
 * string that was signed as well, which is what to compare when the bank answers ESB-14-001.
 */
export function sign(input: SignInput): { stringToSign: string; signature: string } {
  const text = stringToSign(input);
  return { stringToSign: text, signature: createHmac('sha256', input.apiSecret).update(text, 'utf8').digest('hex') };
}


/**
 * X-BCA-Timestamp for an instant: `yyyy-MM-ddTHH:mm:ss.SSS+07:00` in UTC+7 whatever the
 * machine's TZ. Always `+07:00`, never `Z`: whether BCA accepts `Z` is unconfirmed.
 */
export function bcaTimestamp(date: Date | number): string {
  return jakartaTimestamp(date, true);
}

/**
 * Parses an X-BCA-Timestamp strictly: the exact format and a real calendar instant (no
 * `2016-02-30`); the epoch milliseconds, or null.
 */
export function parseBcaTimestamp(text: string): number | null {
  if (!BCA_TIMESTAMP_PATTERN.test(text)) return null;
  const instant = Date.parse(text);
  return Number.isFinite(instant) && bcaTimestamp(instant) === text ? instant : null;
}
