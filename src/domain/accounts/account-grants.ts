import { AppError } from '../../errors/index.js';
import type { AccountGrantRepository } from '../../store/types.js';

/**
 * Lets a client use a company account only when it was granted (`gerbang client
 * grant-account`, or the console's client page). Throws NOT_FOUND (404), the same answer as for
 * an account that does not exist, so a client learns nothing about the accounts it may not use;
 * the exchange's audit row keeps the refusal.
 */
export async function checkAccountGranted(grants: Pick<AccountGrantRepository, 'isGranted'>, clientId: string, accountNumber: string, field: string): Promise<void> {
  if (await grants.isGranted(clientId, accountNumber)) return;
  throw new AppError('NOT_FOUND', 'No such account.', { fields: [{ field, message: `no account ${accountNumber} is known to this client` }] });
}
