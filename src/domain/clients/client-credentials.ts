import { AppError } from '../../errors/index.js';
import { hashSecret, newApiKey } from '../../security/index.js';
import { UniqueViolationError, type ClientCredentialRepository, type ClientRepository } from '../../store/types.js';

/** An Entra ID application (client) id: a GUID, compared lower-case. */
const APP_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface CredentialStores {
  clients: ClientRepository;
  clientCredentials: ClientCredentialRepository;
}

/**
 * Gives a client a new API key, replacing its earlier one (which stops working at once), and
 * returns it: the only time it is shown (only the scrypt hash of its secret is kept). Null when
 * there is no such client.
 */
export async function rotateApiKey(stores: CredentialStores, clientId: string, now: number): Promise<string | null> {
  if (!(await stores.clients.findById(clientId))) return null;
  const { key, keyId, secret } = newApiKey();
  await stores.clientCredentials.replace({ kind: 'api-key', lookup: keyId, clientId, secretHash: await hashSecret(secret), createdAt: now });
  return key;
}

/** Deletes a client's API key; false when it had none. */
export async function revokeApiKey(stores: CredentialStores, clientId: string): Promise<boolean> {
  return (await stores.clientCredentials.remove(clientId, 'api-key')) > 0;
}

/**
 * Lets the access tokens Microsoft Entra ID issues to application `appId` (an app registration
 * or a managed identity: the token's `azp`/`appid`) act as this client. Throws
 * AppError('VALIDATION_FAILED') naming `app-id` when it is not a GUID or already belongs to a
 * client. False when there is no such client.
 */
export async function linkEntraApp(stores: CredentialStores, clientId: string, appId: string, now: number): Promise<boolean> {
  const lookup = appId.trim().toLowerCase();
  if (!APP_ID.test(lookup)) throw appIdProblem(`"${appId}" is not an application (client) id: a GUID such as 00000000-0000-0000-0000-000000000000`);
  if (!(await stores.clients.findById(clientId))) return false;
  try {
    await stores.clientCredentials.add({ kind: 'entra-app', lookup, clientId, secretHash: null, createdAt: now });
  } catch (error) {
    if (!(error instanceof UniqueViolationError)) throw error;
    const owner = await stores.clientCredentials.find('entra-app', lookup);
    throw appIdProblem(`application ${lookup} already acts as client ${owner?.clientId ?? '(another)'}; unlink it there first`);
  }
  return true;
}

/** Stops application `appId` acting as this client; false when it did not. */
export async function unlinkEntraApp(stores: CredentialStores, clientId: string, appId: string): Promise<boolean> {
  return (await stores.clientCredentials.remove(clientId, 'entra-app', appId.trim().toLowerCase())) > 0;
}

function appIdProblem(message: string): AppError {
  return new AppError('VALIDATION_FAILED', `app-id ${message}`, { fields: [{ field: 'app-id', message }] });
}
