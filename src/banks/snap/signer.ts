import { createHash, createHmac, createSign, createVerify, type KeyObject } from 'node:crypto';
import { jakartaTimestamp } from '../../time/index.js';

/**
 * SNAP BI signatures (bank-apis.md §2), pure functions shared by the adapter, the simulator and
 * `gerbang sign snap|snap-token`, so what we sign, what the simulator verifies and what an
 * integrator debugs with cannot drift apart.
 *
 *   B2B token:    X-SIGNATURE = base64(RSA-SHA256(private key, clientId "|" X-TIMESTAMP))
 *   service call: X-SIGNATURE = base64(HMAC-SHA512(secret,
 *                   METHOD ":" RelativeUrl ":" AccessToken ":" lowerhex(sha256(minify(body))) ":" X-TIMESTAMP))
 */

/** sha256 of the empty string: what a call without a body hashes (BCA's rule). */
export const EMPTY_BODY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+07:00$/;
const TIMESTAMP_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+07:00$/;

/**
 * Minified JSON: whitespace OUTSIDE string values removed, every byte inside strings (spaces,
 * escapes) kept — compact JSON, the opposite of the legacy API's rule. Done on the text rather than
 * by JSON.parse/stringify so a body is never rewritten (number spelling, escapes, key order): the
 * adapter serialises once and sends exactly the bytes it signs; this is the identity on them.
 */
export function minify(body: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < body.length; i += 1) {
    const c = body[i];
    if (inString) {
      out += c;
      if (c === '\\' && i + 1 < body.length) out += body[++i];
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c !== ' ' && c !== '\t' && c !== '\n' && c !== '\r') {
      out += c;
    }
  }
  return out;
}

/** lowercase hex sha256 of the minified body; the empty body hashes the empty string (EMPTY_BODY_SHA256). */
export function bodyHash(body: string): string {
  return createHash('sha256').update(minify(body), 'utf8').digest('hex');
}

/** RFC 3986 percent-encoding of one component: unreserved characters kept, upper-case hex (`%20`, `%2C`). */
export function encodeComponent(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Decodes a received component; text that is not valid percent-encoding is taken literally. */
function decodeComponent(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** Byte order of the UTF-8 encodings (what "sorted in byte order" means; JS `<` compares UTF-16 units). */
function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * The RelativeUrl that is signed AND sent: each path segment RFC 3986-encoded (`/` kept), then the
 * query sorted by name, then value, in byte order, each name and value encoded, joined with `=` and
 * `&`. Idempotent: a path or query already encoded (what a server receives) is decoded and
 * re-encoded, so the simulator canonicalises the URL it received with this same function.
 * `query` adds parameters to any already on `path`.
 */
export function relativeUrl(path: string, query: Record<string, string> = {}): string {
  const at = path.indexOf('?');
  const rawPath = at < 0 ? path : path.slice(0, at);
  const params: [string, string][] = [];
  if (at >= 0) {
    for (const pair of path.slice(at + 1).split('&')) {
      if (pair === '') continue;
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      const value = eq < 0 ? '' : pair.slice(eq + 1);
      // A `+` in a received query is a space only in form encoding; RFC 3986 keeps it literal.
      params.push([decodeComponent(name), decodeComponent(value)]);
    }
  }
  for (const [name, value] of Object.entries(query)) params.push([name, value]);
  params.sort(([a, av], [b, bv]) => compareBytes(a, b) || compareBytes(av, bv));
  const cleanPath = rawPath.split('/').map((segment) => encodeComponent(decodeComponent(segment))).join('/');
  if (params.length === 0) return cleanPath;
  return `${cleanPath}?${params.map(([name, value]) => `${encodeComponent(name)}=${encodeComponent(value)}`).join('&')}`;
}

export interface ServiceStringToSignInput {
  /** HTTP method; upper-cased here. */
  method: string;
  /** From relativeUrl(): exactly the path and query that are sent. */
  relativeUrl: string;
  /** The B2B access token, without "Bearer ". */
  accessToken: string;
  /** The exact body text that is sent; '' for none. */
  body: string;
  /** X-TIMESTAMP, the same string as the header. */
  timestamp: string;
}

/** `METHOD:RelativeUrl:AccessToken:bodyHash:X-TIMESTAMP`. */
export function serviceStringToSign(input: ServiceStringToSignInput): string {
  return [input.method.toUpperCase(), input.relativeUrl, input.accessToken, bodyHash(input.body), input.timestamp].join(':');
}

/**
 * X-SIGNATURE of a service call: base64 HMAC-SHA512 keyed with `secret` (the client secret at BCA;
 * the profile says which secret a bank uses). Returns the signed text too, which is what to
 * compare when the bank answers 401xx00.
 */
export function signService(input: ServiceStringToSignInput & { secret: string }): { stringToSign: string; signature: string } {
  const text = serviceStringToSign(input);
  return { stringToSign: text, signature: createHmac('sha512', input.secret).update(text, 'utf8').digest('base64') };
}

/** `clientId|X-TIMESTAMP`: what the B2B token request signs. */
export function tokenStringToSign(clientId: string, timestamp: string): string {
  return `${clientId}|${timestamp}`;
}

/** X-SIGNATURE of the B2B token request: base64 RSA-SHA256 (PKCS#1 v1.5) with the partner's private key. */
export function signToken(input: { clientId: string; timestamp: string; privateKey: KeyObject | string }): { stringToSign: string; signature: string } {
  const text = tokenStringToSign(input.clientId, input.timestamp);
  return { stringToSign: text, signature: createSign('RSA-SHA256').update(text, 'utf8').sign(input.privateKey, 'base64') };
}

/** Verifies a token request's X-SIGNATURE with the public key the partner registered (the bank's side). */
export function verifyTokenSignature(input: { clientId: string; timestamp: string; signature: string; publicKey: KeyObject | string }): boolean {
  try {
    return createVerify('RSA-SHA256').update(tokenStringToSign(input.clientId, input.timestamp), 'utf8').verify(input.publicKey, input.signature, 'base64');
  } catch {
    return false;
  }
}

/**
 * `METHOD:RelativeUrl:bodyHash:X-TIMESTAMP`: what a bank signs, SHA256withRSA with its private key,
 * when it notifies the partner (SNAP's asymmetric signature; BCA's transfer-rtgs/notify and
 * transfer-skn/notify, bank-apis.md §6). The body is hashed minified, as for service calls.
 */
export function notificationStringToSign(input: { method: string; relativeUrl: string; body: string; timestamp: string }): string {
  return [input.method.toUpperCase(), input.relativeUrl, bodyHash(input.body), input.timestamp].join(':');
}

/** Verifies a bank notification's X-SIGNATURE with the bank's public key (the partner's side). */
export function verifyNotificationSignature(input: { method: string; relativeUrl: string; body: string; timestamp: string; signature: string; publicKey: KeyObject }): boolean {
  try {
    return createVerify('RSA-SHA256').update(notificationStringToSign(input), 'utf8').verify(input.publicKey, input.signature, 'base64');
  } catch {
    return false;
  }
}

/** X-TIMESTAMP for an instant in UTC+7: `yyyy-MM-ddTHH:mm:ss+07:00`, with `.SSS` when the bank wants milliseconds. */
export function snapTimestamp(instant: Date | number, millis: boolean): string {
  return jakartaTimestamp(instant, millis);
}

/**
 * Parses an X-TIMESTAMP strictly in the given format (with or without milliseconds) and as a real
 * calendar instant: the epoch milliseconds, or null.
 */
export function parseSnapTimestamp(text: string, millis: boolean): number | null {
  if (!(millis ? TIMESTAMP_MS : TIMESTAMP).test(text)) return null;
  const instant = Date.parse(text);
  return Number.isFinite(instant) && snapTimestamp(instant, millis) === text ? instant : null;
}
