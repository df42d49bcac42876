import { createHash, createSecretKey, randomUUID, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { AppError } from '../../errors/index.js';

export interface AccessTokenOptions {
  /** Signs new tokens. */
  secret: string;
  /** Earlier secrets: tokens they signed stay valid until they expire. */
  previousSecrets?: string[];
  issuer: string;
  audience: string;
  ttlSeconds: number;
  /** Milliseconds since the epoch, for the expiry check (Date.now unless a test gives its own). */
  clock?: () => number;
}

export interface AccessTokenClaims {
  clientId: string;
  /** The client's secret version when the token was issued; a rotation makes older tokens invalid. */
  secretVersion: number;
  tokenId: string;
}

/** The only algorithm accepted: pinned, so `alg: none` or an RS/HS confusion can never pass. */
const ALGORITHM = 'HS256';
/** Seconds a token is still accepted after its `exp` (clocks of the nodes that issue and verify differ). */
const CLOCK_TOLERANCE_S = 5;
/**
 * Tokens remembered as verified, at most this many (the oldest forgotten first): a client sends
 * the same token with every request until it expires, and only a token that verified is kept,
 * so a caller cannot fill it with tokens of its own making.
 */
const VERIFIED_TOKENS = 1_000;

interface Verified {
  claims: AccessTokenClaims;
  /** The token's `exp`, in seconds. */
  exp: number;
}

interface SigningKey {
  /** Key id in the token header: a digest of the secret, which reveals nothing of it. */
  kid: string;
  key: KeyObject;
}

function signingKey(secret: string): SigningKey {
  return { kid: createHash('sha256').update(secret, 'utf8').digest('hex').slice(0, 16), key: createSecretKey(Buffer.from(secret, 'utf8')) };
}

/**
 * Issues and verifies Gerbang's access tokens (JWT, HS256). Tokens name their key (`kid`), so
 * the signing secret can be rotated: the new one signs, earlier ones still verify the tokens
 * they signed until those expire.
 *
 * Keys are KeyObjects, not strings: jsonwebtoken re-derives a key from a string secret on
 * every call, which costs ~30x more per verify. A token that verified is remembered by its exact
 * text until it expires (VERIFIED_TOKENS), so the next request with it costs a lookup and an
 * expiry check instead of two decodes and an HMAC: what a token says cannot change, its keys are
 * this object's for its whole life, and whether its client may still use it (revoked, secret
 * rotated) is the client row's to say on every request (authenticate-step.ts), as before.
 */
export class AccessTokens {
  private readonly current: SigningKey;
  private readonly keys: Map<string, KeyObject>;
  private readonly verified = new Map<string, Verified>();
  private readonly clock: () => number;

  constructor(private readonly options: AccessTokenOptions) {
    this.clock = options.clock ?? Date.now;
    this.current = signingKey(options.secret);
    const all = [this.current, ...(options.previousSecrets ?? []).map(signingKey)];
    this.keys = new Map(all.map((k) => [k.kid, k.key]));
  }

  get ttlSeconds(): number {
    return this.options.ttlSeconds;
  }

  issue(clientId: string, secretVersion: number): string {
    return jwt.sign({ sv: secretVersion }, this.current.key, {
      algorithm: ALGORITHM,
      keyid: this.current.kid,
      issuer: this.options.issuer,
      audience: this.options.audience,
      subject: clientId,
      jwtid: randomUUID(),
      expiresIn: this.options.ttlSeconds,
    });
  }

  /**
   * Whether the token claims to be one of ours (its unverified `iss`): only to choose the
   * verifier; verify() still checks everything.
   */
  isOwnIssuer(token: string): boolean {
    const payload = jwt.decode(token);
    return payload !== null && typeof payload === 'object' && payload.iss === this.options.issuer;
  }

  /** Throws AppError('INVALID_TOKEN') for any token that is not ours, current and well-formed. */
  verify(token: string): AccessTokenClaims {
    // jsonwebtoken's expiry rule, on whole seconds: expired from `exp` + the tolerance on.
    const now = Math.floor(this.clock() / 1000);
    const known = this.verified.get(token);
    if (known !== undefined) {
      if (now < known.exp + CLOCK_TOLERANCE_S) return known.claims;
      this.verified.delete(token);
      throw invalidToken('the access token has expired');
    }
    const { claims, exp } = this.verifyAnew(token, now);
    if (this.verified.size >= VERIFIED_TOKENS) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, { claims, exp });
    return claims;
  }

  private verifyAnew(token: string, now: number): Verified {
    const kid = jwt.decode(token, { complete: true })?.header.kid;
    const key = kid === undefined ? undefined : this.keys.get(kid);
    if (!key) throw invalidToken('the access token is invalid');
    let payload: jwt.JwtPayload | string;
    try {
      payload = jwt.verify(token, key, {
        algorithms: [ALGORITHM],
        issuer: this.options.issuer,
        audience: this.options.audience,
        clockTolerance: CLOCK_TOLERANCE_S,
        clockTimestamp: now,
      });
    } catch (error) {
      const reason = error instanceof jwt.TokenExpiredError ? 'the access token has expired' : 'the access token is invalid';
      throw invalidToken(reason);
    }
    if (typeof payload === 'string' || typeof payload.sub !== 'string' || typeof payload.sv !== 'number' || typeof payload.jti !== 'string') {
      throw invalidToken('the access token is invalid');
    }
    // jsonwebtoken accepts a token without `exp`: ours always have one, no longer than the
    // configured lifetime, so a token minted without (or with a far) expiry is not ours.
    if (typeof payload.exp !== 'number' || typeof payload.iat !== 'number' || payload.exp - payload.iat > this.options.ttlSeconds) {
      throw invalidToken('the access token is invalid');
    }
    return { claims: Object.freeze({ clientId: payload.sub, secretVersion: payload.sv, tokenId: payload.jti }), exp: payload.exp };
  }
}

export function invalidToken(detail: string): AppError {
  return new AppError('INVALID_TOKEN', detail, {
    headers: { 'WWW-Authenticate': `Bearer error="invalid_token", error_description="${detail}"` },
  });
}
