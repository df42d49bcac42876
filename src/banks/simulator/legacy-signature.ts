import { createHash, createHmac } from 'node:crypto';

/**
 * How BCA checks X-BCA-Signature, written from "BCA API OAuth & Signature" (the Signature section
 * and "Signature How to") and the developer pages' Authentication > Signature, for the simulator
 * alone: it shares nothing with the adapter's signer, so a misreading on either side fails the
 * published vector or the round trip instead of agreeing with itself.
 *
 *   StringToSign    = HTTPMethod ":" RelativeUrl ":" AccessToken ":" Lowercase(HexEncode(SHA-256(RequestBody))) ":" Timestamp
 *   X-BCA-Signature = Lowercase(HexEncode(HMAC-SHA256(apiSecret, StringToSign)))
 *
 * - RequestBody is hashed with every whitespace character removed ("remove all whitespace"), which
 *   is the only reading under which the published example reproduces; a GET hashes "".
 * - RelativeUrl is the path from the first `/` after the host, then `?` and the query parameters
 *   sorted by name, URL-encoded; a comma is `%2C` (the note on commas, page 7).
 */

/** What the signature covers, as received. */
export interface ReceivedLegacyCall {
  method: string;
  /** Path and query as received on the request line. */
  url: string;
  /** The bearer token, without "Bearer ". */
  accessToken: string;
  body: string;
  /** X-BCA-Timestamp as received. */
  timestamp: string;
}

/** The documented percent-encoding of a query name or value (upper-case hex, unreserved kept). */
function percentEncode(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-_.~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function percentDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

/** The RelativeUrl BCA recomputes from the request line: commas as `%2C`, the query sorted by name. */
export function legacyRelativeUrl(url: string): string {
  const [path, query = ''] = url.split(/\?(.*)/s, 2);
  const pairs = query
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair): [string, string] => {
      const at = pair.indexOf('=');
      return at < 0 ? [percentDecode(pair), ''] : [percentDecode(pair.slice(0, at)), percentDecode(pair.slice(at + 1))];
    })
    .sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0) : a[0] < b[0] ? -1 : 1));
  const signedPath = path.split(',').join('%2C');
  return pairs.length === 0 ? signedPath : `${signedPath}?${pairs.map(([name, value]) => `${percentEncode(name)}=${percentEncode(value)}`).join('&')}`;
}

/** The StringToSign of a received call. */
export function legacyStringToSign(call: ReceivedLegacyCall): string {
  const digest = createHash('sha256').update(call.body.replace(/\s/g, ''), 'utf8').digest('hex').toLowerCase();
  return `${call.method.toUpperCase()}:${legacyRelativeUrl(call.url)}:${call.accessToken}:${digest}:${call.timestamp}`;
}

/** The X-BCA-Signature BCA expects for a received call. */
export function expectedLegacySignature(call: ReceivedLegacyCall, apiSecret: string): string {
  return createHmac('sha256', apiSecret).update(legacyStringToSign(call), 'utf8').digest('hex');
}

const LEGACY_TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{3})\+07:00$/;

/**
 * X-BCA-Timestamp as documented, `yyyy-MM-ddTHH:mm:ss.SSS+07:00` (ISO 8601 with milliseconds and
 * the UTC+7 offset), and a real calendar instant: its epoch milliseconds, or null.
 */
export function parseLegacyTimestamp(text: string): number | null {
  const m = LEGACY_TIMESTAMP.exec(text);
  if (!m) return null;
  const [year, month, day, hour, minute, second, millis] = m.slice(1).map(Number);
  const instant = Date.UTC(year, month - 1, day, hour, minute, second, millis) - 7 * 3_600_000;
  const local = new Date(instant + 7 * 3_600_000);
  const same = local.getUTCFullYear() === year && local.getUTCMonth() === month - 1 && local.getUTCDate() === day && local.getUTCHours() === hour && local.getUTCMinutes() === minute && local.getUTCSeconds() === second;
  return same ? instant : null;
}
