import { createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { SimAnswer } from '../esb-answers.js';
import { header, safeEqual } from '../request-auth.js';
import { snapAnswer } from './snap-answers.js';
import type { SnapBankDialect } from './snap-dialect.js';
import { expectedServiceSignature, parseXTimestamp, verifyB2bSignature } from './snap-signature.js';

/** A SNAP partner as the bank registered it. */
export interface SnapSimPartner {
  /** X-CLIENT-KEY. */
  clientId: string;
  /** The partner's registered public key (PEM, SPKI or X.509 certificate). */
  publicKeyPem: string;
  clientSecret: string;
  /** The HMAC key when the bank's profile says `apiSecret` (BNI). */
  apiSecret?: string;
  /** The X-PARTNER-ID it must send. */
  partnerId: string;
  /** The CHANNEL-ID it must send; the profile's when omitted. */
  channelId?: string;
  /** Registered domains; when given, ORIGIN must be one of them. */
  origins?: string[];
  /**
   * Where the partner receives notifications (its origin, e.g. `http://127.0.0.1:8080`): the bank
   * POSTs RTGS/SKN final outcomes to `{notifyUrl}/openapi/v1.0/transfer-rtgs/notify` (or
   * `…/transfer-skn/notify`), signed with the bank's private key. None: no notifications.
   */
  notifyUrl?: string;
}

const TOKEN_SERVICE = '73';

/** B2B access tokens the simulated bank issued. */
export class SnapTokenSessions {
  private readonly sessions = new Map<string, { partner: SnapSimPartner; expiresAt: number }>();

  constructor(private readonly ttlSeconds: number) {}

  issue(partner: SnapSimPartner, now: number): Record<string, string> {
    const token = randomBytes(36).toString('base64url');
    this.sessions.set(token, { partner, expiresAt: now + this.ttlSeconds * 1000 });
    return { responseCode: '2007300', responseMessage: 'Successful', accessToken: token, tokenType: 'Bearer', expiresIn: String(this.ttlSeconds) };
  }

  find(token: string, now: number): SnapSimPartner | null {
    const session = this.sessions.get(token);
    return session && session.expiresAt > now ? session.partner : null;
  }

  /** Expires every token now: the next service call answers 401xx01. */
  expireAll(): void {
    for (const session of this.sessions.values()) session.expiresAt = 0;
  }
}

export interface ReceivedCall {
  method: string;
  /** Path and query as received. */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

interface Clock {
  now: number;
  toleranceSeconds: number;
  profile: SnapBankDialect;
}

/** X-TIMESTAMP in the profile's exact format and within tolerance; the refusal otherwise. */
function checkTimestamp(text: string, serviceCode: string, clock: Clock): SimAnswer | null {
  const instant = parseXTimestamp(text, clock.profile.timestampMillis);
  const format = clock.profile.timestampMillis ? 'yyyy-MM-ddTHH:mm:ss.SSS+07:00' : 'yyyy-MM-ddTHH:mm:ss+07:00';
  if (instant === null) return snapAnswer('400', serviceCode, '01', `X-TIMESTAMP must be ${format}`);
  if (Math.abs(instant - clock.now) > clock.toleranceSeconds * 1000) return snapAnswer('400', serviceCode, '01', 'X-TIMESTAMP outside the allowed window');
  return null;
}

function missingHeader(call: ReceivedCall, names: string[], serviceCode: string): SimAnswer | null {
  const missing = names.find((name) => header(call.headers, name) === '');
  return missing ? snapAnswer('400', serviceCode, '02', missing.toUpperCase()) : null;
}

const publicKeys = new WeakMap<SnapSimPartner, KeyObject | null>();

function publicKeyOf(partner: SnapSimPartner): KeyObject | null {
  if (!publicKeys.has(partner)) {
    let key: KeyObject | null = null;
    try {
      key = createPublicKey(partner.publicKeyPem);
    } catch {
      key = null;
    }
    publicKeys.set(partner, key);
  }
  return publicKeys.get(partner) ?? null;
}

/**
 * POST …/access-token/b2b, checked as the bank does: X-CLIENT-KEY, X-TIMESTAMP, X-SIGNATURE present
 * (4007302), the timestamp's format and window (4007301), a registered client (4017300), the RSA
 * signature over `clientId|X-TIMESTAMP` — the header's very string — verified with the registered
 * public key (4017300), and a JSON body `{"grantType":"client_credentials"}`.
 */
export function checkTokenRequest(call: ReceivedCall, partners: readonly SnapSimPartner[], clock: Clock): { partner: SnapSimPartner } | SimAnswer {
  const missing = missingHeader(call, ['x-client-key', 'x-timestamp', 'x-signature'], TOKEN_SERVICE);
  if (missing) return missing;
  const timestamp = header(call.headers, 'x-timestamp');
  const late = checkTimestamp(timestamp, TOKEN_SERVICE, clock);
  if (late) return late;
  const clientId = header(call.headers, 'x-client-key');
  const partner = partners.find((p) => safeEqual(p.clientId, clientId));
  if (!partner) return snapAnswer('401', TOKEN_SERVICE, '00', 'Unknown client');
  const publicKey = publicKeyOf(partner);
  if (!publicKey || !verifyB2bSignature(clientId, timestamp, header(call.headers, 'x-signature'), publicKey)) {
    return snapAnswer('401', TOKEN_SERVICE, '00', 'Signature');
  }
  const body = parseObject(call.body);
  if (!body || body.grantType === undefined) return snapAnswer('400', TOKEN_SERVICE, '02', 'grantType');
  if (body.grantType !== 'client_credentials') return snapAnswer('400', TOKEN_SERVICE, '01', 'grantType');
  const absent = (clock.profile.tokenBodyFields ?? []).find((name) => body[name] === undefined);
  if (absent) return snapAnswer('400', TOKEN_SERVICE, '02', absent);
  return { partner };
}

/**
 * A service call, checked as the bank does: a live B2B token (401xx01); the mandatory headers
 * (400xx02); X-TIMESTAMP's format and window (400xx01); the partner's X-PARTNER-ID, CHANNEL-ID and
 * registered ORIGIN (401xx00); the HMAC-SHA512 recomputed with the registered secret over the
 * exact bytes received and the URL received, canonicalised (401xx00); a numeric X-EXTERNAL-ID of
 * at most 36 digits and a JSON body (400xx01).
 */
export function checkServiceCall(
  call: ReceivedCall,
  serviceCode: string,
  sessions: SnapTokenSessions,
  clock: Clock,
): { partner: SnapSimPartner; token: string; body: Record<string, unknown>; externalId: string } | SimAnswer {
  const token = /^Bearer (\S+)$/.exec(header(call.headers, 'authorization'))?.[1];
  const partner = token ? sessions.find(token, clock.now) : null;
  if (!token || !partner) return snapAnswer('401', serviceCode, '01');
  const missing = missingHeader(call, ['x-timestamp', 'x-signature', 'x-partner-id', 'x-external-id', 'channel-id', ...(clock.profile.requiredHeaders ?? []).map((h) => h.toLowerCase())], serviceCode);
  if (missing) return missing;
  const timestamp = header(call.headers, 'x-timestamp');
  const late = checkTimestamp(timestamp, serviceCode, clock);
  if (late) return late;
  if (!safeEqual(partner.partnerId, header(call.headers, 'x-partner-id'))) return snapAnswer('401', serviceCode, '00', 'Unknown X-PARTNER-ID');
  if (header(call.headers, 'channel-id') !== (partner.channelId ?? clock.profile.channelId)) return snapAnswer('401', serviceCode, '00', 'Unknown CHANNEL-ID');
  if (partner.origins && partner.origins.length > 0 && !partner.origins.includes(header(call.headers, 'origin'))) {
    return snapAnswer('401', serviceCode, '00', 'Connection not allowed');
  }
  const secret = clock.profile.hmacKey === 'apiSecret' ? partner.apiSecret : partner.clientSecret;
  const expected = secret ? expectedServiceSignature({ method: call.method, url: call.url, accessToken: token, body: call.body, timestamp }, secret) : null;
  if (!expected || !safeEqual(expected, header(call.headers, 'x-signature'))) return snapAnswer('401', serviceCode, '00', 'Signature');
  const externalId = header(call.headers, 'x-external-id');
  if (!/^\d{1,36}$/.test(externalId)) return snapAnswer('400', serviceCode, '01', 'X-EXTERNAL-ID');
  const contentType = header(call.headers, 'content-type').split(';')[0].trim().toLowerCase();
  const body = parseObject(call.body);
  if (contentType !== 'application/json' || !body) return snapAnswer('400', serviceCode, '01', 'body must be a JSON object');
  return { partner, token, body, externalId };
}

export function parseObject(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
