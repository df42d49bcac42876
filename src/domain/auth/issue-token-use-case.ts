import { AppError } from '../../errors/index.js';
import type { AccessTokens } from '../../pipeline/auth/access-tokens.js';
import { addressNetwork } from '../../pipeline/rate-limit/index.js';
import { decoyHash, IpAllowlist, OriginAllowlist, verifySecret } from '../../security/index.js';
import type { ClientRecord, ClientRepository, LoginLockoutRepository } from '../../store/types.js';

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
 *  2. the client must exist (its id matched exactly), be active, and be called from one of its
 *     addresses and origins; a caller from elsewhere never has its secret checked against the
 *     real hash (it cannot even try secrets);
 *  3. the secret is checked in constant time against the client's scrypt hash, or a decoy hash
 *     when the client is unknown, disabled or called from elsewhere: every refusal costs the same
 *     scrypt and gets the same 401 answer, so the answer does not tell an outsider which client
 *     ids exist (no 403/401 oracle);
 *  4. a failure counts towards the lockout of the caller's address, and of the client id unless
 *     the caller is outside the client's addresses (an outsider cannot lock the ERP out). The
 *     address is counted as the API's rate limit groups it (addressNetwork: an IPv6 address as
 *     its /56), so a host cannot walk around its lockout through the addresses of its prefix.
 * Throws INVALID_CLIENT (401) or CLIENT_LOCKED (429).
 */
export async function issueToken(deps: IssueTokenDeps, credentials: TokenCredentials, caller: Caller): Promise<IssuedToken> {
  const now = deps.clock();
  const clientKey = `client:${credentials.clientId}`;
  const ipKey = `ip:${addressNetwork(caller.ip ?? 'unknown')}`;
  for (const key of [clientKey, ipKey]) {
    const state = await deps.lockouts.get(key, now);
    if (state.lockedUntil > now) throw locked(state.lockedUntil - now);
  }

  const found = await deps.clients.findById(credentials.clientId);
  const client = found && found.status === 'active' ? found : null;
  const fromOutside = client !== null && !mayRequestFrom(client, caller);
  const eligible = client !== null && !fromOutside;
  const valid = await verifySecret(credentials.clientSecret, eligible ? client.secretHash : await decoyHash());
  if (!eligible || !valid) {
    let lockedFor = 0;
    for (const key of fromOutside ? [ipKey] : [clientKey, ipKey]) {
      const state = await deps.lockouts.recordFailure(key, deps.lockout, now);
      if (state.lockedUntil > now) lockedFor = Math.max(lockedFor, state.lockedUntil - now);
    }
    if (lockedFor > 0) throw locked(lockedFor);
    // The reason stays on the server (logs); the caller learns only that it failed.
    const reason = !found ? 'unknown client id' : !client ? 'client disabled' : fromOutside ? 'caller outside the client\'s addresses or origins' : 'wrong secret';
    throw new AppError('INVALID_CLIENT', 'Client authentication failed.', {
      headers: { 'WWW-Authenticate': 'Basic realm="gerbang"' },
      extensions: { error: 'invalid_client' },
      cause: new Error(reason),
    });
  }

  await deps.lockouts.clear(clientKey);
  return {
    access_token: deps.tokens.issue(client.id, client.secretVersion),
    token_type: 'Bearer',
    expires_in: deps.tokens.ttlSeconds,
  };
}

/** The client's IP/CIDR list holds the caller's address, and its Origin (when sent) is one of the client's. */
function mayRequestFrom(client: ClientRecord, caller: Caller): boolean {
  if (!new IpAllowlist(client.allowedCidrs).allows(caller.ip)) return false;
  return caller.origin === undefined || new OriginAllowlist(client.allowedOrigins).allows(caller.origin);
}

function locked(remainingMs: number): AppError {
  const seconds = Math.max(1, Math.ceil(remainingMs / 1000));
  return new AppError('CLIENT_LOCKED', `Too many failed attempts; try again in ${seconds} seconds.`, {
    headers: { 'Retry-After': String(seconds) },
    extensions: { error: 'invalid_client' },
  });
}
