import { createHash, createHmac, createVerify, type KeyObject } from 'node:crypto';

/**
 * How a SNAP bank checks X-SIGNATURE, written from Bank Indonesia's SNAP standard as BCA publishes
 * it (bank-apis.md §2), for the simulator alone: nothing is shared with the adapter's signer.
 *
 *   B2B token:    RSA-SHA256 (PKCS#1 v1.5) over  X-CLIENT-KEY "|" X-TIMESTAMP, base64
 *   service call: base64 HMAC-SHA512(secret, METHOD ":" RelativeUrl ":" AccessToken ":"
 *                   Lowercase(HexEncode(SHA-256(minify(RequestBody)))) ":" X-TIMESTAMP)
 *
 * The bank minifies what it received as JSON (whitespace between tokens dropped, spaces inside
 * values kept) by reading and re-writing it; a body that is not JSON is hashed as received.
 */

/** Whether a token request's X-SIGNATURE is the registered key's signature of `clientId|timestamp`. */
export function verifyB2bSignature(clientId: string, timestamp: string, signature: string, publicKey: KeyObject): boolean {
  try {
    return createVerify('RSA-SHA256').update(`${clientId}|${timestamp}`, 'utf8').verify(publicKey, signature, 'base64');
  } catch {
    return false;
  }
}

function minified(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body));
  } catch {
    return body;
  }
}

const UNRESERVED = /[A-Za-z0-9\-_.~]/;

function encode(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += UNRESERVED.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** RelativeUrl of the received request line: segments and query RFC 3986-encoded, the query sorted in byte order. */
export function snapRelativeUrl(url: string): string {
  const at = url.indexOf('?');
  const path = (at < 0 ? url : url.slice(0, at)).split('/').map((segment) => encode(decode(segment))).join('/');
  if (at < 0) return path;
  const pairs = url
    .slice(at + 1)
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const eq = pair.indexOf('=');
      return [encode(decode(eq < 0 ? pair : pair.slice(0, eq))), encode(decode(eq < 0 ? '' : pair.slice(eq + 1)))] as const;
    })
    .sort((a, b) => Buffer.compare(Buffer.from(a[0]), Buffer.from(b[0])) || Buffer.compare(Buffer.from(a[1]), Buffer.from(b[1])));
  return pairs.length === 0 ? path : `${path}?${pairs.map(([name, value]) => `${name}=${value}`).join('&')}`;
}

/** The X-SIGNATURE the bank expects for a received service call. */
export function expectedServiceSignature(call: { method: string; url: string; accessToken: string; body: string; timestamp: string }, secret: string): string {
  const digest = createHash('sha256').update(minified(call.body), 'utf8').digest('hex');
  const text = `${call.method.toUpperCase()}:${snapRelativeUrl(call.url)}:${call.accessToken}:${digest}:${call.timestamp}`;
  return createHmac('sha512', secret).update(text, 'utf8').digest('base64');
}

/** X-TIMESTAMP in the dialect's form (`…:ss+07:00`, or `…:ss.SSS+07:00`) and a real instant: epoch ms, or null. */
export function parseXTimestamp(text: string, millis: boolean): number | null {
  const m = (millis ? /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{3})\+07:00$/ : /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\+07:00$/).exec(text);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  const local = Date.UTC(year, month - 1, day, hour, minute, second, m[7] ? Number(m[7]) : 0);
  const back = new Date(local);
  const real = back.getUTCFullYear() === year && back.getUTCMonth() === month - 1 && back.getUTCDate() === day && back.getUTCHours() === hour && back.getUTCMinutes() === minute && back.getUTCSeconds() === second;
  return real ? local - 7 * 3_600_000 : null;
}
