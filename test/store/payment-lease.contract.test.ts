import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { RESOLVER_LEASE_MS } from '../../src/domain/transfers/in-doubt-resolver.js';
import { forEachBackend } from '../support/databases.js';

/**
 * The in-doubt resolver's claim on a payment is a lease in the payment row: short, renewed by
 * its holder while it lives, and free for any other process once its holder stops renewing it
 * (killed), so the payment (and the ERP's resend waiting on it) is blocked for seconds.
 */
forEachBackend('Resolver lease on a payment', (ctx) => {
  const far = 9_000_000_000_000;

  async function unknownPayment(now: number): Promise<number> {
    const { payments } = ctx.store();
    const reserved = await payments.reserve(
      { clientId: 'gbc_lease', transactionId: `INV-${randomBytes(6).toString('hex')}`, requestHash: 'a'.repeat(64), amount: '10.00', currency: 'IDR' },
      now,
    );
    await payments.update(reserved.id, { state: 'UNKNOWN', bank: 'bca', operation: 'transfer', bankTransactionId: '00000001', bankTransactionDate: '2026-12-04' }, now);
    return reserved.id;
  }

  const claim = (owner: string, now: number) => ctx.store().payments.claimDue({ owner, now, leaseMs: RESOLVER_LEASE_MS, sendingStaleBefore: 0, limit: 500 });

  it('is short: a killed holder’s claim is free for another process after RESOLVER_LEASE_MS, not minutes', async () => {
    const now = far + 1_000_000;
    const id = await unknownPayment(now - 1);
    expect(RESOLVER_LEASE_MS).to.be.at.most(15_000);
    expect((await claim('killed-holder', now)).map((p) => p.id)).to.include(id);
    // The holder is killed now: it never renews. Until its lease runs out nobody else checks it ...
    expect((await claim('survivor', now + RESOLVER_LEASE_MS - 1)).map((p) => p.id)).to.not.include(id);
    // ... and right after, the survivor takes it over.
    expect((await claim('survivor', now + RESOLVER_LEASE_MS)).map((p) => p.id)).to.include(id);
  });

  it('is renewed by its living holder, and only by it', async () => {
    const { payments } = ctx.store();
    const now = far + 2_000_000;
    const id = await unknownPayment(now - 1);
    expect((await claim('holder', now)).map((p) => p.id)).to.include(id);
    // The holder renews a third of the way in; the lease now runs a full period from there.
    const renewedAt = now + RESOLVER_LEASE_MS / 3;
    expect(await payments.renewLease(id, 'holder', renewedAt, RESOLVER_LEASE_MS)).to.equal(true);
    expect(await payments.renewLease(id, 'someone-else', renewedAt, RESOLVER_LEASE_MS)).to.equal(false);
    expect((await claim('other', now + RESOLVER_LEASE_MS)).map((p) => p.id), 'still held after the first period').to.not.include(id);
    expect((await claim('other', renewedAt + RESOLVER_LEASE_MS)).map((p) => p.id)).to.include(id);
    expect(await payments.renewLease(id, 'holder', renewedAt + RESOLVER_LEASE_MS, RESOLVER_LEASE_MS), 'a lost lease is not renewed').to.equal(false);
  });
});
