import { AppError, type FieldError } from '../../errors/index.js';
import { hashSecret, invalidCidrs, invalidOrigins, newClientId, newClientSecret } from '../../security/index.js';
import type { ClientRecord, ClientRepository } from '../../store/types.js';

/** Each bad Origin pattern or CIDR, with `field` `origin` or `cidr` and the offending value quoted. */
export function allowlistProblems(origins: string[], cidrs: string[]): FieldError[] {
  return [...invalidOrigins(origins).map((message) => ({ field: 'origin', message })), ...invalidCidrs(cidrs).map((message) => ({ field: 'cidr', message }))];
}

function check(origins: string[], cidrs: string[]): void {
  const problems = allowlistProblems(origins, cidrs);
  if (problems.length > 0) throw new AppError('VALIDATION_FAILED', problems.map((p) => `${p.field} ${p.message}`).join('; '), { fields: problems });
}

/**
 * Creates an API client and returns it with its one-time secret (only the scrypt hash is kept).
 * Throws AppError('VALIDATION_FAILED') naming each bad origin or CIDR.
 */
export async function createClient(
  clients: ClientRepository,
  input: { name: string; origins: string[]; cidrs: string[] },
  now: number,
): Promise<{ client: ClientRecord; clientSecret: string }> {
  check(input.origins, input.cidrs);
  const clientSecret = newClientSecret();
  const client = await clients.create(
    { id: newClientId(), name: input.name, secretHash: await hashSecret(clientSecret), allowedOrigins: input.origins, allowedCidrs: input.cidrs },
    now,
  );
  return { client, clientSecret };
}

/** Gives a client a new secret (only its hash is kept); its earlier tokens stop working. Null when there is no such client. */
export async function rotateClientSecret(clients: ClientRepository, id: string, now: number): Promise<string | null> {
  const clientSecret = newClientSecret();
  return (await clients.rotateSecret(id, await hashSecret(clientSecret), now)) ? clientSecret : null;
}

/** Replaces a client's allowlists; false when there is no such client. Throws like createClient. */
export async function setClientAllowlists(clients: ClientRepository, id: string, origins: string[], cidrs: string[], now: number): Promise<boolean> {
  check(origins, cidrs);
  return clients.setAllowlists(id, { allowedOrigins: origins, allowedCidrs: cidrs }, now);
}
