import { createSecretKey, randomUUID, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { AppError } from '../../errors/index.js';

export interface AccessTokenOptions {
  secret: string;
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

/**
 * Issues and verifies Gerbang's access tokens (JWT, HS256).
 *
 * The key is a KeyObject, not a string: jsonwebtoken re-derives a key from a string secret on
 * every call, which costs ~30x more per verify.
 */
export class AccessTokens {
  private readonly key: KeyObject;

  constructor(private readonly options: AccessTokenOptions) {
    this.key = createSecretKey(Buffer.from(options.secret, 'utf8'));
  }

  get ttlSeconds(): number {
    return this.options.ttlSeconds;
  }

  issue(clientId: string, secretVersion: number): string {
    return jwt.sign({ sv: secretVersion }, this.key, {
      algorithm: ALGORITHM,
      issuer: this.options.issuer,
      audience: this.options.audience,
      subject: clientId,
      jwtid: randomUUID(),
      expiresIn: this.options.ttlSeconds,
    });
  }

  /** Throws AppError('INVALID_TOKEN') for any token that is not ours, current and well-formed. */
  verify(token: string): AccessTokenClaims {
    let payload: jwt.JwtPayload | string;
    try {
      payload = jwt.verify(token, this.key, {
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
    return { clientId: payload.sub, secretVersion: payload.sv, tokenId: payload.jti };
  }
}

export function invalidToken(detail: string): AppError {
  return new AppError('INVALID_TOKEN', detail, {
    headers: { 'WWW-Authenticate': `Bearer error="invalid_token", error_description="${detail}"` },
  });
}
