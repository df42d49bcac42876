import type { SequenceRepository } from '../../store/types.js';

/**
 * The id a bank sees for a call of ours, from the store's counter per partner, so it never
 * repeats across workers and nodes: BCA legacy's 8-digit TransactionID, SNAP's
 * partnerReferenceNo and X-EXTERNAL-ID (numeric, unique per day). It wraps after 10^8 calls.
 */
export async function nextBankTransactionId(sequences: SequenceRepository, partner: string): Promise<string> {
  return String((await sequences.next(`${partner}:transaction-id`)) % 100_000_000).padStart(8, '0');
}
