import { paymentMac } from '../../src/store/repositories/payment-repository.js';
import type { SqlValue, Store } from '../../src/store/types.js';
import { TEST_AUDIT_KEYS } from './audit-keys.js';

/**
 * Moves a payment's reception back to `createdAt` (a test of what happens days later), with other
 * columns set alongside (`also`, names from the test, never input). The payment's MAC covers when
 * it was received, so the row is signed again with the test's own key, as the gateway would have
 * signed it then.
 */
export async function receivedAt(store: Store, clientId: string, transactionId: string, createdAt: number, also: Record<string, SqlValue> = {}): Promise<void> {
  const row = await store.payments.find(clientId, transactionId);
  if (!row) throw new Error(`no payment ${clientId} / ${transactionId}`);
  const { keyId, mac } = paymentMac(TEST_AUDIT_KEYS, { clientId, transactionId, requestHash: row.requestHash, amount: row.amount, currency: row.currency, createdAt });
  const columns = Object.keys(also);
  await store.db.execute(`UPDATE payments SET created_at = ?, mac_key_id = ?, mac = ?${columns.map((c) => `, ${c} = ?`).join('')} WHERE id = ?`, [
    createdAt,
    keyId,
    mac,
    ...columns.map((c) => also[c]),
    row.id,
  ]);
}
