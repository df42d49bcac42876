import type { Request, RequestHandler } from 'express';
import type { ClientCredentialRepository, ClientRecord, ClientRepository } from '../../store/types.js';
import { assertClientMayCall } from '../caller-guard/index.js';
import { invalidToken, type AccessTokens } from './access-tokens.js';
import { API_KEY_HEADER, type ApiKeys } from './api-keys.js';
import type { EntraTokens } from './entra-tokens.js';

export interface AuthenticateOptions {
  tokens: AccessTokens;
  /** The client rows, as fresh as GERBANG_CACHE_STALENESS_MS promises (RecentClients). */
  clients: Pick<ClientRepository, 'findById'>;
  clientCredentials: ClientCredentialRepository;
  apiKeys: ApiKeys;
  /** Null when no Entra ID tenant is configured: its tokens are then refused like any other. */
  entra: EntraTokens | null;
}

/**
 * Authentication, one of three ways:
 *  - a Bearer token from POST /v1/auth/token (HS256, iss, aud, exp; its client must be on the
 *    same secret version: a rotated secret ends its tokens on every node within GERBANG_CACHE_STALENESS_MS);
 *  - a Bearer access token from the configured Microsoft Entra ID tenant (see entra-tokens.ts)
 *    whose application the operator linked to a client (gerbang client link-entra-app);
 *  - an X-API-Key (gerbang client rotate-api-key), never together with Authorization.
 * Whichever way, the client must be active and the caller within that client's own IP and
 * origin lists, as the client row read at most GERBANG_CACHE_STALENESS_MS ago says. Leaves the client on `res.locals.client` and in the audit record.
 */
export function authenticateStep(options: AuthenticateOptions): RequestHandler {
  return async (req, res, next) => {
    const clientId = await authenticatedClientId(options, req);
    res.locals.audit.set({ clientId: clientId.id });
    const client = await options.clients.findById(clientId.id);
    if (!client || client.status !== 'active' || (clientId.secretVersion !== undefined && client.secretVersion !== clientId.secretVersion)) {
      throw invalidToken(`the ${clientId.proof} is no longer valid`);
    }
    assertClientMayCall(client, req);
    res.locals.client = client satisfies ClientRecord;
    next();
  };
}

interface Authenticated {
  id: string;
  /** Only for Gerbang's own tokens: the client's secret version they were issued under. */
  secretVersion?: number;
  proof: 'access token' | 'API key';
}

async function authenticatedClientId({ tokens, clientCredentials, apiKeys, entra }: AuthenticateOptions, req: Request): Promise<Authenticated> {
  const apiKey = req.get(API_KEY_HEADER);
  const authorization = req.get('authorization');
  if (apiKey !== undefined) {
    if (authorization !== undefined) throw invalidToken(`send either Authorization or ${API_KEY_HEADER}, not both`);
    return { id: await apiKeys.clientOf(apiKey), proof: 'API key' };
  }
  const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(authorization ?? '');
  if (!match) throw invalidToken(`a Bearer access token (or an ${API_KEY_HEADER}) is required`);
  const token = match[1];
  if (entra && !tokens.isOwnIssuer(token)) {
    const { appId } = await entra.verify(token);
    const credential = await clientCredentials.find('entra-app', appId);
    if (!credential) throw invalidToken(`Entra ID application ${appId} is not linked to a Gerbang client`);
    return { id: credential.clientId, proof: 'access token' };
  }
  const claims = tokens.verify(token);
  return { id: claims.clientId, secretVersion: claims.secretVersion, proof: 'access token' };
}
