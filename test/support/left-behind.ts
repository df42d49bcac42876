import { request } from 'undici';
import { requestHash } from '../../src/domain/transfers/request-hash.js';
import { transferRequestSchema, type TransferRequest } from '../../src/domain/transfers/transfer-schema.js';
import type { PaymentRecord } from '../../src/store/types.js';
import type { TestGateway } from './gateway-harness.js';

/**
 * A reservation of `body` left RECEIVED at `at` (a minute ago) by a gateway process that stopped
 * right after reserving it (before routing it): made through the store, as that process would have left it.
 */
export async function leaveBehind(gw: TestGateway, clientId: string, body: Record<string, unknown>, at = Date.now() - 60_000): Promise<PaymentRecord> {
  const validated = transferRequestSchema.validate(body).value as TransferRequest;
  return gw.store.payments.reserve(
    { clientId, transactionId: validated.transactionId, requestHash: requestHash(validated), amount: validated.amount, currency: validated.currency, sourceAccount: validated.sourceAccountNumber },
    at,
  );
}

/** Transfers of `transactionId` the gateway's simulator received, as its own admin endpoint lists them (over HTTP). */
export async function bankTransfers(gw: TestGateway, transactionId: string): Promise<number> {
  const res = await request(`${gw.gateway.banks.simulator!.url}/_simulator/calls`);
  const calls = (await res.body.json()) as { path: string; body: string }[];
  return calls.filter((call) => call.path.startsWith('/banking/corporates/transfers') && call.body.includes(transactionId)).length;
}
