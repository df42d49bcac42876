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
  /** `maxFailures` per source and per (client, source); `clientMaxFailures` per client from all sources. */
  lockout: { maxFailures: number; windowMs: number; lockMs: number; clientMaxFailures: number };
  clock: () => number;
}

export interface IssuedToken {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
}

/**
 * Client-credentials grant:
 *  1. a source, a client id at this source or a client id everywhere that is locked out is
 *     refused before anything else is checked (so the lock cannot be probed for the secret);
 *  2. the client must exist (its id matched exactly), be active, and be called from one of its
 *     addresses and origins; a caller from elsewhere never has its secret checked against the
 *     real hash (it cannot even try secrets);
 *  3. the secret is checked in constant time against the client's scrypt hash, or a decoy hash
 *     when the client is unknown, disabled or called from elsewhere: every refusal costs the same
 *     scrypt and gets the same 401 answer, so the answer does not tell an outsider which client
 *     ids exist (no 403/401 oracle);
 *  4. a failure counts towards the lockout of the caller's source, and, unless the caller is
 *     outside the client's addresses (an outsider cannot lock the ERP out), of the client id at
 *     this source (GERBANG_LOGIN_MAX_FAILURES) and of the client id everywhere
 *     (`clientMaxFailures`), as the console's sign-in does: a failure counts towards the
 *     client-wide lock only while its source is within its own allowance, so one source inside a
 *     shared range (another tenant of a cloud's outbound addresses) locks the client out at that
 *     source only, never for the ERP at its other addresses (loadConfig refuses a
 *     `clientMaxFailures` one source could reach); many sources together still lock the client,
 *     so guessing across addresses stays bounded. A source is the address as the API's rate
 *     limit groups it (addressNetwork: an IPv6 address as its /56), so a host cannot walk around
 *     its lockout through the addresses of its prefix.
 * Throws INVALID_CLIENT (401) or CLIENT_LOCKED (429).
 */
export async function issueToken(deps: IssueTokenDeps, credentials: TokenCredentials, caller: Caller): Promise<IssuedToken> {
  const now = deps.clock();
  const source = addressNetwork(caller.ip ?? 'unknown');
  const clientKey = `client:${credentials.clientId}`;
  const ipKey = `ip:${source}`;
  // The client id at this source: `|` after the id, so no client id spells another's key with a source.
  const clientSourceKey = `client-source:${encodeURIComponent(credentials.clientId)}|${source}`;
  for (const key of [ipKey, clientSourceKey, clientKey]) {
    const state = await deps.lockouts.get(key, now);
    if (state.lockedUntil > now) throw locked(state.lockedUntil - now);
  }

  const found = await deps.clients.findById(credentials.clientId);
  const client = found && found.status === 'active' ? found : null;
  const fromOutside = client !== null && !mayRequestFrom(client, caller);
  const eligible = client !== null && !fromOutside;
  const valid = await verifySecret(credentials.clientSecret, eligible ? client.secretHash : await decoyHash());
  if (!eligible || !valid) {
    const states = [await deps.lockouts.recordFailure(ipKey, deps.lockout, now)];
    if (!fromOutside) {
      const fromHere = await deps.lockouts.recordFailure(clientSourceKey, deps.lockout, now);
      states.push(fromHere);
      if (fromHere.failures <= deps.lockout.maxFailures) {
        states.push(await deps.lockouts.recordFailure(clientKey, { ...deps.lockout, maxFailures: deps.lockout.clientMaxFailures }, now));
      }
    }
    const lockedFor = Math.max(0, ...states.map((state) => state.lockedUntil - now));
    if (lockedFor > 0) throw locked(lockedFor);
    // The reason stays on the server (logs); the caller learns only that it failed.
    const reason = !found ? 'unknown client id' : !client ? 'client disabled' : fromOutside ? 'caller outside the client\'s addresses or origins' : 'wrong secret';
    throw new AppError('INVALID_CLIENT', 'Client authentication failed.', {
      headers: { 'WWW-Authenticate': 'Basic realm="gerbang"' },
      extensions: { error: 'invalid_client' },
      cause: new Error(reason),
    });
  }

  await deps.lockouts.clear(clientSourceKey);
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
