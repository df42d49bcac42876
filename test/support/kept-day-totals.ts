import { expect } from 'chai';
import type { Store } from '../../src/store/types.js';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** A closed day whose totals a sweep counted and kept (migration 034), and a console clock after it. */
export interface KeptDay {
  /** Its Jakarta midnight, epoch ms. */
  start: number;
  /** yyyy-MM-dd. */
  day: string;
  /** reconciliation_seals.day of its kept totals. */
  dayNumber: number;
  /** 10:00 WIB two days after it. */
  now: number;
}

/**
 * A day of 2023 of this run's own (random) with 1,001 payments, more than the overview proves one
 * by one (PROVED_LIMIT), written through the store (each with its MAC and events: the sweep keeps
 * only totals of payments it proved): 1,000 RECEIVED of 1.00 and one FAILED of 2.50, then counted
 * and kept by a sweep as a console that ran before would have.
 */
export async function keptDayOf1001Payments(store: Store, clientId: string): Promise<KeptDay> {
  const start = Date.UTC(2023, 0, 1) - 7 * HOUR_MS + Math.floor(Math.random() * 300) * DAY_MS;
  const now = start + 2 * DAY_MS + 10 * HOUR_MS;
  for (let first = 0; first <= 1000; first += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, 1001 - first) }, async (_, k) => {
        const i = first + k;
        const p = await store.payments.reserve({ clientId, transactionId: `KEPT-${i}`, requestHash: 'a'.repeat(64), amount: i === 1000 ? '2.50' : '1.00', currency: 'IDR', sourceAccount: '0201245680' }, start + HOUR_MS + i);
        if (i === 1000) expect(await store.payments.update(p.id, { state: 'FAILED', bank: 'bca' }, start + 2 * HOUR_MS)).to.equal(true);
      }),
    );
  }
  expect((await store.paymentSearch.sealClosedDays(now)).daysCounted).to.be.at.least(1);
  return { start, day: new Date(start + 7 * HOUR_MS).toISOString().slice(0, 10), dayNumber: Math.floor((start + 7 * HOUR_MS) / DAY_MS), now };
}
