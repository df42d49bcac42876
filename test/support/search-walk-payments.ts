import type { Store } from '../../src/store/index.js';

/** The term of searchWalkPayments: its trigrams "731" and "312". */
export const WALK_TERM = '7312';

/**
 * Payments of `clientId` whose matches of WALK_TERM lie below many newer payments holding one of
 * its trigrams alone, as the million seeded payments of the perf run had it for "perf-4242" (the
 * trigram the walk started from had none of the matches among its newest 50,000 postings): the
 * oldest three hold "7312" (PO-7312-A, -B, -C), 30 newer ones "312" alone, the 40 newest "731"
 * alone. Walking either trigram alone passes 30 or 40 payments that do not match before the
 * first that does; a walk of steps of 10 that takes, each step, the trigram rarest there passes
 * 10. Each payment is 12.00, reserved at `at` and after.
 */
export async function searchWalkPayments(store: Store, clientId: string, at: number): Promise<void> {
  const reserve = (transactionId: string, when: number) => store.payments.reserve({ clientId, transactionId, requestHash: 'h'.repeat(64), amount: '12.00', currency: 'IDR' }, when);
  for (const tag of ['A', 'B', 'C']) await reserve(`PO-7312-${tag}`, at);
  for (let i = 0; i < 30; i += 1) await reserve(`PO-0312-${i}`, at + 1 + i);
  for (let i = 0; i < 40; i += 1) await reserve(`PO-7310-${i}`, at + 100 + i);
}
