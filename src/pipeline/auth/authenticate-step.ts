import type { RequestHandler } from 'express';
import type { ClientRepository } from '../../store/types.js';
import { assertClientMayCall } from '../caller-guard/index.js';
import { invalidToken, type AccessTokens } from './access-tokens.js';

export interface AuthenticateOptions {
  tokens: AccessTokens;
  clients: ClientRepository;
}

/**
 * Bearer authentication. The token must verify (algorithm, signature, iss, aud, exp), its client
 * must still be active and on the same secret version (a rotated secret or a disabled client
 * ends its tokens at once), and the caller must be within that client's own IP and origin lists.
 * Leaves the client on `res.locals.client` and in the audit record.
 */
export function authenticateStep({ tokens, clients }: AuthenticateOptions): RequestHandler {
  return async (req, res, next) => {
    const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(req.get('authorization') ?? '');
    if (!match) throw invalidToken('a Bearer access token is required');
    const claims = tokens.verify(match[1]);
    res.locals.audit.set({ clientId: claims.clientId });
    const client = await clients.findById(claims.clientId);
    if (!client || client.status !== 'active' || client.secretVersion !== claims.secretVersion) {
      throw invalidToken('the access token is no longer valid');
    }
    assertClientMayCall(client, req);
    res.locals.client = client;
    next();
  };
}
