import { AppError, type FieldError } from '../../errors/index.js';
import { cidrProblems, hashSecret, newClientId, newClientSecret, originProblems } from '../../security/index.js';
import type { AccountGrantRepository, ClientRecord, ClientRepository } from '../../store/types.js';

/** Each bad Origin pattern or CIDR, with `field` `origin` or `cidr`, the offending value quoted, and the rule it breaks. */
export function allowlistProblems(origins: string[], cidrs: string[]): FieldError[] {
  return [
    ...originProblems(origins).map(({ entry, message }) => ({ field: 'origin', message, rule: 'not-origin', value: entry })),
    ...cidrProblems(cidrs).map(({ entry, rule, message }) => ({ field: 'cidr', message, rule, value: entry })),
  ];
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

/** A company account number as the partners file and the API write it (5 to 34 digits; each bank's own length is checked by the partners file). */
export const ACCOUNT_NUMBER = /^\d{5,34}$/;

/**
 * Grants (or, with `grant` false, revokes) a client the use of a company account: its balance,
 * its statement, paying from it. `no-client` when there is no such client, `unchanged` when it
 * was granted (revoked) already. Throws AppError('VALIDATION_FAILED') for a malformed account.
 */
export async function setAccountGrant(
  store: { clients: ClientRepository; accountGrants: AccountGrantRepository },
  input: { clientId: string; accountNumber: string; grant: boolean },
  now: number,
): Promise<'no-client' | 'changed' | 'unchanged'> {
  if (!ACCOUNT_NUMBER.test(input.accountNumber)) {
    throw new AppError('VALIDATION_FAILED', 'An account number is 5 to 34 digits.', { fields: [{ field: 'account', message: 'must be 5 to 34 digits' }] });
  }
  if (!(await store.clients.findById(input.clientId))) return 'no-client';
  const changed = input.grant ? await store.accountGrants.grant(input.clientId, input.accountNumber, now) : await store.accountGrants.revoke(input.clientId, input.accountNumber);
  return changed ? 'changed' : 'unchanged';
}

/**
 * Grants a client the use of the accounts in `grant` and withdraws those in `revoke` (the
 * console's form). False when there is no such client; throws AppError('VALIDATION_FAILED')
 * naming each malformed account, changing nothing.
 */
export async function changeAccountGrants(
  store: { clients: ClientRepository; accountGrants: AccountGrantRepository },
  clientId: string,
  change: { grant: string[]; revoke: string[] },
  now: number,
): Promise<boolean> {
  const bad = [...change.grant, ...change.revoke].filter((number) => !ACCOUNT_NUMBER.test(number));
  if (bad.length > 0) throw new AppError('VALIDATION_FAILED', 'An account number is 5 to 34 digits.', { fields: bad.map((number) => ({ field: 'accounts', message: `${number} is not an account number of 5 to 34 digits`, rule: 'not-account', value: number })) });
  if (!(await store.clients.findById(clientId))) return false;
  for (const number of change.revoke) await store.accountGrants.revoke(clientId, number);
  for (const number of change.grant) await store.accountGrants.grant(clientId, number, now);
  return true;
}
