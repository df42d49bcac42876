/**
 * The one list of what must never be stored or logged in clear: credentials, tokens and
 * signatures, wherever they appear (HTTP headers, JSON bodies, form bodies, log objects).
 * The audit writer and the logger both use it, so a new secret field is added once, here.
 */
export const REDACTED = '[REDACTED]';

/** Lower-case header names whose values are secrets. */
export const SECRET_HEADERS: ReadonlySet<string> = new Set([
  'authorization',
  'proxy-authorization',
  // A Power Platform connector action carries the access token here (see CONNECTOR_TOKEN_HEADER).
  'access-token',
  'cookie',
  'set-cookie',
  'x-bca-key',
  'x-bca-signature',
  'x-signature',
  'x-client-key',
  // SNAP: BNI puts its API key in X-PARTNER-ID, so it is treated as a secret at every bank.
  'x-partner-id',
  'x-gerbang-signature',
  // A client's API key (src/pipeline/auth/api-keys.ts).
  'x-api-key',
]);

/** Lower-case JSON / form keys whose values are secrets, wherever they are nested. */
export const SECRET_KEYS: ReadonlySet<string> = new Set([
  'client_secret',
  'clientsecret',
  'secret',
  'password',
  'access_token',
  'accesstoken',
  'refresh_token',
  'token',
  'api_secret',
  'apisecret',
  'api_key',
  'apikey',
  'private_key',
  'privatekey',
  'privatekeypem',
  'signature',
  // The ERP's request-signing key (gerbang client enable-signing --json prints it as signingKey).
  'signingkey',
  'signing_key',
]);

export function redactHeaders(headers: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const text = Array.isArray(value) ? value.join(', ') : String(value);
    out[name] = SECRET_HEADERS.has(name.toLowerCase()) ? REDACTED : text;
  }
  return out;
}

/** Deep copy of a JSON value with every secret key's value replaced. */
export function redactValue(value: unknown, depth = 0): unknown {
  if (depth > 64) return REDACTED;
  if (Array.isArray(value)) return value.map((item) => redactValue(item, depth + 1));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      out[key] = SECRET_KEYS.has(key.toLowerCase()) ? REDACTED : redactValue(item, depth + 1);
    }
    return out;
  }
  return value;
}

/**
 * Redacts a body given as text: JSON is parsed and redacted key by key, a form body
 * (`a=b&c=d`) parameter by parameter; anything else is kept (it holds no known secret key),
 * truncated to `maxLength` characters so a hostile payload cannot bloat the audit.
 */
export function redactBodyText(text: string | null | undefined, maxLength = 65_536): string | null {
  if (text === null || text === undefined || text === '') return text === '' ? '' : null;
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return truncate(JSON.stringify(redactValue(JSON.parse(text))), maxLength);
    } catch {
      // Not valid JSON: fall through and treat it as opaque text.
    }
  }
  if (/^[\w.%+-]+=[^&]*(&[\w.%+-]+=[^&]*)*$/.test(trimmed)) {
    const params = new URLSearchParams(text);
    for (const key of [...params.keys()]) {
      if (SECRET_KEYS.has(key.toLowerCase())) params.set(key, REDACTED);
    }
    return truncate(params.toString(), maxLength);
  }
  return truncate(text, maxLength);
}

/** A JWT (`xxx.yyy.zzz`, base64url) or a long run of key material (32+ base64/base64url characters, e.g. a client secret). */
const SECRET_LOOKING = /^(?:[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*|[A-Za-z0-9+/_-]{32,}={0,2})$/;

/**
 * A URL as it may be stored or logged: the path is kept, and in the query every parameter named
 * like a secret (SECRET_KEYS: `access_token`, `client_secret`…) or whose value looks like one
 * (a JWT, 32+ characters of key material) has its value replaced, whatever its name. A caller
 * who puts a token in the URL must not leave it in clear in the audit.
 */
export function redactUrl(url: string): string {
  const mark = url.indexOf('?');
  if (mark < 0) return url;
  const [query, fragment = null] = url.slice(mark + 1).split(/#(.*)/s);
  const parts = query.split('&').map((part) => {
    const eq = part.indexOf('=');
    const rawKey = eq < 0 ? part : part.slice(0, eq);
    const rawValue = eq < 0 ? '' : part.slice(eq + 1);
    const key = decodeLenient(rawKey).toLowerCase();
    const value = decodeLenient(rawValue);
    const secret = SECRET_KEYS.has(key) || SECRET_KEYS.has(key.replace(/[^a-z_]/g, '')) || SECRET_LOOKING.test(value) || (eq < 0 && SECRET_LOOKING.test(key));
    if (!secret) return part;
    return eq < 0 ? REDACTED : `${rawKey}=${REDACTED}`;
  });
  return `${url.slice(0, mark)}?${parts.join('&')}${fragment === null ? '' : `#${REDACTED}`}`;
}

/** `+` as space and %XX decoded, or the text itself when it is not valid percent-encoding. */
function decodeLenient(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

/** `text` cut at `maxLength` characters, saying how many were left out. */
export function truncate(text: string, maxLength: number): string {
  return text.length > maxLength ? `${text.slice(0, maxLength)}…[truncated ${text.length - maxLength} chars]` : text;
}
