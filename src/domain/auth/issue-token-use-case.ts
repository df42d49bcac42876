import { AppError } from '../../errors/index.js';
import type { AccessTokens } from '../../pipeline/auth/access-tokens.js';
import { decoyHash, IpAllowlist, OriginAllowlist, verifySecret } from '../../security/index.js';
import type { ClientRepository, LoginLockoutRepository } from '../../store/types.js';

export interface TokenCredentials {
  clientId: string;
  clientSecret: string;
}

export interface Caller {
  ip: string | undefined;
  origin: string | undefined;
}

export interface IssueTokenDeps {
  clients: ClientRepository;
  lockouts: LoginLockoutRepository;
  tokens: AccessTokens;
  lockout: { maxFailures: number; windowMs: number; lockMs: number };
  clock: () => number;
}

export interface IssuedToken {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
}

/**
 * Client-credentials grant:
 *  1. a client id or IP that is locked out is refused before anything else is checked;
 *  2. the client must exist, be active, and be called from one of its addresses and origins
 *     (checked before the secret, so a caller from elsewhere cannot even try secrets);
 *  3. the secret is checked against its scrypt hash in constant time (a decoy hash when the
 *     client is unknown, so unknown and wrong take the same time);
 *  4. a failure counts towards the lockout of both the client id and the IP.
 * Throws INVALID_CLIENT (401), CLIENT_LOCKED (429), IP_NOT_ALLOWED / ORIGIN_NOT_ALLOWED (403).
 */
export async function issueToken(deps: IssueTokenDeps, credentials: TokenCredentials, caller: Caller): Promise<IssuedToken> {
  const now = deps.clock();
  const keys = [`client:${credentials.clientId}`, `ip:${caller.ip ?? 'unknown'}`];
  for (const key of keys) {
    const state = await deps.lockouts.get(key, now);
    if (state.lockedUntil > now) throw locked(state.lockedUntil - now);
  }

  const client = await deps.clients.findById(credentials.clientId);
  if (client && client.status === 'active') {
    if (!new IpAllowlist(client.allowedCidrs).allows(caller.ip)) {
      throw new AppError('IP_NOT_ALLOWED', 'This client may not request tokens from this address.');
    }
    if (caller.origin !== undefined && !new OriginAllowlist(client.allowedOrigins).allows(caller.origin)) {
      throw new AppError('ORIGIN_NOT_ALLOWED', `Origin ${JSON.stringify(caller.origin)} is not allowed for this client.`);
    }
  }

  const valid = await verifySecret(credentials.clientSecret, client?.secretHash ?? (await decoyHash()));
  if (!client || client.status !== 'active' || !valid) {
    let lockedFor = 0;
    for (const key of keys) {
      const state = await deps.lockouts.recordFailure(key, deps.lockout, now);
      if (state.lockedUntil > now) lockedFor = Math.max(lockedFor, state.lockedUntil - now);
    }
    if (lockedFor > 0) throw locked(lockedFor);
    throw new AppError('INVALID_CLIENT', 'Client authentication failed.', {
      headers: { 'WWW-Authenticate': 'Basic realm="gerbang"' },
      extensions: { error: 'invalid_client' },
    });
  }

  await deps.lockouts.clear(keys[0]);
  return {
    access_token: deps.tokens.issue(client.id, client.secretVersion),
    token_type: 'Bearer',
    expires_in: deps.tokens.ttlSeconds,
  };
}

function locked(remainingMs: number): AppError {
  const seconds = Math.max(1, Math.ceil(remainingMs / 1000));
  return new AppError('CLIENT_LOCKED', `Too many failed attempts; try again in ${seconds} seconds.`, {
    headers: { 'Retry-After': String(seconds) },
    extensions: { error: 'invalid_client' },
  });
}
