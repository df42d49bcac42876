import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { esbError, type SimAnswer } from './esb-answers.js';
import { expectedLegacySignature, parseLegacyTimestamp } from './legacy-signature.js';
import type { SimPartner } from './simulator-state.js';

/** Access tokens the simulated bank has issued. */
export class TokenSessions {
  private readonly sessions = new Map<string, { partner: SimPartner; expiresAt: number }>();

  constructor(private readonly ttlSeconds: number) {}

  issue(partner: SimPartner, now: number): { access_token: string; token_type: 'Bearer'; expires_in: string; scope: string } {
    // 54 characters from [A-Za-z0-9_-], the length of BCA's sample token.
    const token = randomBytes(40).toString('base64url').slice(0, 54);
    this.sessions.set(token, { partner, expiresAt: now + this.ttlSeconds * 1000 });
    // expires_in is a string, as BCA sends it.
    return { access_token: token, token_type: 'Bearer', expires_in: String(this.ttlSeconds), scope: 'resource.WRITE resource.READ' };
  }

  find(token: string, now: number): SimPartner | null {
    const session = this.sessions.get(token);
    return session && session.expiresAt > now ? session.partner : null;
  }

  /** Expires every token now (tests of the re-authentication path). */
  expireAll(): void {
    for (const session of this.sessions.values()) session.expiresAt = 0;
  }
}

/**
 * POST /api/oauth/token: HTTP Basic client credentials, a form body, grant_type=client_credentials.
 * Any defect answers ESB-14-008, as BCA does, without saying which.
 */
export function checkTokenRequest(headers: IncomingHttpHeaders, body: string, partners: readonly SimPartner[]): { partner: SimPartner } | SimAnswer {
  const refused = esbError('ESB-14-008');
  const match = /^Basic ([A-Za-z0-9+/]+=*)$/.exec(headers.authorization ?? '');
  if (!match) return refused;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return refused;
  const partner = partners.find((p) => safeEqual(p.clientId, decoded.slice(0, colon)));
  if (!partner || !safeEqual(partner.clientSecret, decoded.slice(colon + 1))) return refused;
  const contentType = (headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (contentType !== 'application/x-www-form-urlencoded' || new URLSearchParams(body).get('grant_type') !== 'client_credentials') return refused;
  return { partner };
}

export interface SignedCall {
  method: string;
  /** Path and query as received. */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * The checks of every service call, in BCA's order: a live Bearer token (ESB-14-009); an X-BCA-Key
 * BCA issued (ESB-14-021 API key invalid) that belongs to the token's client (ESB-14-022 API key
 * and secret do not match); an exact and fresh X-BCA-Timestamp (ESB-14-003); a registered Origin
 * (ESB-14-019); the signature recomputed by the simulator's own reading of BCA's signature document
 * over the bytes received (ESB-14-001); and `application/json` on calls with a body (ESB-14-015).
 */
export function checkSignedCall(call: SignedCall, sessions: TokenSessions, partners: readonly SimPartner[], now: number, toleranceSeconds: number): { partner: SimPartner } | SimAnswer {
  const token = /^Bearer (\S+)$/.exec(header(call.headers, 'authorization'))?.[1];
  const partner = token ? sessions.find(token, now) : null;
  if (!token || !partner) return esbError('ESB-14-009');
  const apiKey = header(call.headers, 'x-bca-key');
  if (!partners.some((p) => safeEqual(p.apiKey, apiKey))) return esbError('ESB-14-021');
  if (!safeEqual(partner.apiKey, apiKey)) return esbError('ESB-14-022');

  const timestamp = header(call.headers, 'x-bca-timestamp');
  const instant = parseLegacyTimestamp(timestamp);
  if (instant === null) return esbError('ESB-14-003', 'Invalid timestamp: expected yyyy-MM-ddTHH:mm:ss.SSS+07:00');
  if (Math.abs(instant - now) > toleranceSeconds * 1000) return esbError('ESB-14-003', 'Invalid timestamp: outside the allowed window');

  if (partner.origins && partner.origins.length > 0 && !partner.origins.includes(header(call.headers, 'origin'))) {
    return esbError('ESB-14-019', 'Connection not allowed: Origin not registered');
  }

  const expected = expectedLegacySignature({ method: call.method, url: call.url, accessToken: token, body: call.body, timestamp }, partner.apiSecret);
  if (!safeEqual(expected, header(call.headers, 'x-bca-signature'))) return esbError('ESB-14-001');

  const contentType = header(call.headers, 'content-type').split(';')[0].trim().toLowerCase();
  if (call.body !== '' && contentType !== 'application/json') return esbError('ESB-14-015');
  return { partner };
}

/** A request header as one string ('' when absent). */
export function header(headers: IncomingHttpHeaders, name: string): string {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : (value ?? '');
}

/** Constant-time comparison, so the simulator does not teach timing attacks by example. */
export function safeEqual(expected: string, given: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(given, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
