import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';
import { AppError } from '../../errors/index.js';
import { invalidToken } from './access-tokens.js';

export interface EntraTokenOptions {
  /** The tenant's OpenID metadata (`…/v2.0/.well-known/openid-configuration`): issuer and JWKS address. */
  metadataUrl: string;
  /** Accepted `aud` values: the Application ID URI of Gerbang's app registration and/or its client id. */
  audiences: string[];
  /** Least time between two JWKS fetches that a token with an unknown `kid` may cause. */
  keysCooldownMs: number;
}

/** Who an Entra ID access token speaks for: the application (`azp` in v2 tokens, `appid` in v1). */
export interface EntraClaims {
  appId: string;
}

/** The only algorithm accepted: Entra ID signs access tokens with RS256. */
const ALGORITHM = 'RS256';
/** How long the tenant's metadata is kept (it names the issuer and JWKS address; both are stable). */
const METADATA_TTL_MS = 24 * 60 * 60 * 1000;
/** Bound on each metadata or JWKS fetch: a caller waits at most this for a verdict. */
const FETCH_TIMEOUT_MS = 5_000;
/** How long the JWKS is trusted before it is fetched again although every `kid` is known. */
const KEYS_MAX_AGE_MS = 10 * 60 * 1000;

interface Discovered {
  issuer: string;
  keys: ReturnType<typeof createRemoteJWKSet>;
  fetchedAt: number;
}

/**
 * Verifies Microsoft Entra ID access tokens, so that a Power Platform connector (OAuth 2.0,
 * Entra ID), a managed identity or an app registration of Dynamics 365 can call Gerbang
 * without a client secret of Gerbang's.
 *
 * The issuer and the signing keys come from the tenant's OpenID metadata and its JWKS (jose's
 * remote key set: cached, and a token signed with a `kid` it does not know refetches the JWKS,
 * at most once per `keysCooldownMs`, which is how Entra's key rotation is followed without
 * letting a flood of made-up `kid`s hammer the tenant). RS256 only; `iss`, `aud`, `exp` and
 * `nbf` are required and checked (5 s of clock tolerance).
 *
 * Throws INVALID_TOKEN for a token that does not verify, AUTH_UNAVAILABLE (503) when the
 * metadata or the keys cannot be fetched: the token is then neither accepted nor called bad.
 */
export class EntraTokens {
  private current: Discovered | null = null;
  private loading: Promise<Discovered> | null = null;
  private lastFailure = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly options: EntraTokenOptions,
    private readonly clock: () => number = Date.now,
  ) {}

  async verify(token: string): Promise<EntraClaims> {
    const { issuer, keys } = await this.discover();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        algorithms: [ALGORITHM],
        issuer,
        audience: this.options.audiences,
        requiredClaims: ['exp', 'nbf'],
        clockTolerance: 5,
      }));
    } catch (error) {
      throw verificationError(error);
    }
    const appId = typeof payload.azp === 'string' ? payload.azp : typeof payload.appid === 'string' ? payload.appid : undefined;
    if (!appId) throw invalidToken('the Entra ID access token names no application (azp/appid)');
    return { appId: appId.toLowerCase() };
  }

  /**
   * The tenant's issuer and key set, fetched once and kept for a day (a failed refresh keeps
   * the last good one); after a failed first fetch, callers are refused until the cooldown.
   */
  private async discover(): Promise<Discovered> {
    const now = this.clock();
    if (this.current && now - this.current.fetchedAt < METADATA_TTL_MS) return this.current;
    if (!this.loading) {
      if (!this.current && now - this.lastFailure < this.options.keysCooldownMs) throw unavailable('the Entra ID metadata could not be fetched a moment ago');
      this.loading = this.fetchMetadata(now)
        .then(
          (found) => (this.current = found),
          (error: unknown) => {
            this.lastFailure = this.clock();
            if (this.current) return this.current;
            throw error;
          },
        )
        .finally(() => (this.loading = null));
    }
    return this.loading;
  }

  private async fetchMetadata(now: number): Promise<Discovered> {
    let metadata: { issuer?: unknown; jwks_uri?: unknown };
    try {
      const res = await fetch(this.options.metadataUrl, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'error' });
      if (!res.ok) {
        await res.body?.cancel();
        throw new Error(`HTTP ${res.status}`);
      }
      metadata = (await res.json()) as typeof metadata;
    } catch (error) {
      throw unavailable(`the Entra ID metadata at ${this.options.metadataUrl} could not be read (${(error as Error).message})`);
    }
    if (typeof metadata.issuer !== 'string' || typeof metadata.jwks_uri !== 'string') {
      throw unavailable(`the Entra ID metadata at ${this.options.metadataUrl} names no issuer or jwks_uri`);
    }
    const keys = createRemoteJWKSet(new URL(metadata.jwks_uri), {
      cooldownDuration: this.options.keysCooldownMs,
      cacheMaxAge: KEYS_MAX_AGE_MS,
      timeoutDuration: FETCH_TIMEOUT_MS,
    });
    return { issuer: metadata.issuer, keys, fetchedAt: now };
  }
}

function verificationError(error: unknown): AppError {
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid || (error instanceof Error && !(error instanceof errors.JOSEError))) {
    return unavailable("the Entra ID signing keys could not be fetched");
  }
  if (error instanceof errors.JWTExpired) return invalidToken('the access token has expired');
  if (error instanceof errors.JWKSNoMatchingKey) return invalidToken('the access token is signed with a key Entra ID does not publish');
  return invalidToken('the access token is invalid');
}

function unavailable(detail: string): AppError {
  return new AppError('AUTH_UNAVAILABLE', detail, { headers: { 'Retry-After': '5' } });
}
