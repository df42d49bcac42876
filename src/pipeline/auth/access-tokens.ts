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
}

export interface AccessTokenClaims {
  clientId: string;
  /** The client's secret version when the token was issued; a rotation makes older tokens invalid. */
  secretVersion: number;
  tokenId: string;
}

/** The only algorithm accepted: pinned, so `alg: none` or an RS/HS confusion can never pass. */
const ALGORITHM = 'HS256';

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
 * every call, which costs ~30x more per verify.
 */
export class AccessTokens {
  private readonly current: SigningKey;
  private readonly keys: Map<string, KeyObject>;

  constructor(private readonly options: AccessTokenOptions) {
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
    const kid = jwt.decode(token, { complete: true })?.header.kid;
    const key = kid === undefined ? undefined : this.keys.get(kid);
    if (!key) throw invalidToken('the access token is invalid');
    let payload: jwt.JwtPayload | string;
    try {
      payload = jwt.verify(token, key, {
        algorithms: [ALGORITHM],
        issuer: this.options.issuer,
        audience: this.options.audience,
        clockTolerance: 5,
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
    return { clientId: payload.sub, secretVersion: payload.sv, tokenId: payload.jti };
  }
}

export function invalidToken(detail: string): AppError {
  return new AppError('INVALID_TOKEN', detail, {
    headers: { 'WWW-Authenticate': `Bearer error="invalid_token", error_description="${detail}"` },
  });
}
