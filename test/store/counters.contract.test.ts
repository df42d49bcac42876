import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { forEachBackend } from '../support/databases.js';
import { runStoreWorkers } from '../support/store-workers.js';

const unique = (prefix: string) => `${prefix}:${randomBytes(6).toString('hex')}`;

forEachBackend('RateLimitRepository', (ctx) => {
  describe('increment', () => {
    it('counts hits within a window and starts a new window once it has ended', async () => {
      const { rateLimits } = ctx.store();
      const key = unique('ip');
      expect(await rateLimits.increment(key, 1_000, 10_000)).to.deep.equal({ hits: 1, resetAt: 11_000 });
      expect(await rateLimits.increment(key, 1_000, 10_500)).to.deep.equal({ hits: 2, resetAt: 11_000 });
      expect(await rateLimits.increment(key, 1_000, 10_999)).to.deep.equal({ hits: 3, resetAt: 11_000 });
      expect(await rateLimits.increment(key, 1_000, 11_000)).to.deep.equal({ hits: 1, resetAt: 12_000 });
    });

    it('reports the window end exactly for real clock values, and for windows of several months', async () => {
      const { rateLimits } = ctx.store();
      const now = Date.UTC(2026, 10, 26, 1, 2, 3, 456);
      const key = unique('clock');
      await rateLimits.increment(key, 60_000, now);
      expect(await rateLimits.increment(key, 60_000, now + 59_999)).to.deep.equal({ hits: 2, resetAt: now + 60_000 });
      const months = 2 ** 33;
      const long = unique('months');
      await rateLimits.increment(long, months, now);
      expect(await rateLimits.increment(long, months, now + 1)).to.deep.equal({ hits: 2, resetAt: now + months });
    });

    it('keeps keys apart, long ones included', async () => {
      const { rateLimits } = ctx.store();
      const long = `${unique('long')}${'x'.repeat(400)}`;
      await rateLimits.increment(long, 1_000, 1);
      expect((await rateLimits.increment(long, 1_000, 2)).hits).to.equal(2);
      expect((await rateLimits.increment(`${long}y`, 1_000, 2)).hits).to.equal(1);
    });

    describe('when 50 requests hit the same key at once', () => {
      it('counts every one of them exactly once', async () => {
        const { rateLimits } = ctx.store();
        const key = unique('burst');
        const results = await Promise.all(Array.from({ length: 50 }, () => rateLimits.increment(key, 60_000, 1)));
        expect(results.map((r) => r.hits).sort((a, b) => a - b)).to.deep.equal(Array.from({ length: 50 }, (_, i) => i + 1));
      });
    });

    describe('when several processes hit the same key at once', () => {
      it('counts every hit exactly once', async () => {
        const key = unique('procs');
        const results = await runStoreWorkers<number[]>(3, [ctx.url(), 'increment', key, '20']);
        expect(results.flat().sort((a, b) => a - b)).to.deep.equal(Array.from({ length: 60 }, (_, i) => i + 1));
      });
    });
  });

  describe('decrement and reset', () => {
    it('takes a hit back (never below zero) and forgets the key', async () => {
      const { rateLimits } = ctx.store();
      const key = unique('dec');
      await rateLimits.increment(key, 1_000, 1);
      await rateLimits.increment(key, 1_000, 2);
      await rateLimits.decrement(key);
      expect((await rateLimits.increment(key, 1_000, 3)).hits).to.equal(2);
      await rateLimits.reset(key);
      expect((await rateLimits.increment(key, 1_000, 4)).hits).to.equal(1);
      await rateLimits.decrement(key);
      await rateLimits.decrement(key);
      expect((await rateLimits.increment(key, 1_000, 5)).hits).to.equal(1);
    });
  });

  describe('purgeExpired', () => {
    it('deletes only the windows that have ended and returns how many', async () => {
      const { rateLimits } = ctx.store();
      const farFuture = 8_000_000_000_000;
      const ended = unique('ended');
      const live = unique('live');
      await rateLimits.increment(ended, 1_000, farFuture);
      await rateLimits.increment(live, 1_000_000, farFuture);
      expect(await rateLimits.purgeExpired(farFuture + 1_000)).to.be.at.least(1);
      expect((await rateLimits.increment(live, 1_000_000, farFuture + 1_000)).hits).to.equal(2);
      expect((await rateLimits.increment(ended, 1_000, farFuture + 1_000)).hits).to.equal(1);
    });
  });
});

forEachBackend('LoginLockoutRepository', (ctx) => {
  const opts = { maxFailures: 3, windowMs: 60_000, lockMs: 30_000 };

  describe('recordFailure', () => {
    it('locks the key when failures reach maxFailures within the window', async () => {
      const { lockouts } = ctx.store();
      const key = unique('client');
      expect(await lockouts.recordFailure(key, opts, 1_000)).to.deep.equal({ failures: 1, lockedUntil: 0 });
      expect(await lockouts.recordFailure(key, opts, 2_000)).to.deep.equal({ failures: 2, lockedUntil: 0 });
      expect(await lockouts.recordFailure(key, opts, 3_000)).to.deep.equal({ failures: 3, lockedUntil: 33_000 });
      expect(await lockouts.get(key, 4_000)).to.deep.equal({ failures: 3, lockedUntil: 33_000 });
    });

    it('does not extend a running lock with further failures', async () => {
      const { lockouts } = ctx.store();
      const key = unique('client');
      for (const now of [1_000, 2_000, 3_000]) await lockouts.recordFailure(key, opts, now);
      expect((await lockouts.recordFailure(key, opts, 10_000)).lockedUntil).to.equal(33_000);
    });

    it('forgets failures older than the window', async () => {
      const { lockouts } = ctx.store();
      const key = unique('ip');
      const short = { maxFailures: 2, windowMs: 1_000, lockMs: 30_000 };
      await lockouts.recordFailure(key, short, 1_000);
      expect(await lockouts.recordFailure(key, short, 5_000)).to.deep.equal({ failures: 1, lockedUntil: 0 });
      expect(await lockouts.get(key, 7_000)).to.deep.equal({ failures: 0, lockedUntil: 0 });
    });

    describe('when 20 failures arrive at once', () => {
      it('counts them all', async () => {
        const { lockouts } = ctx.store();
        const key = unique('burst');
        await Promise.all(Array.from({ length: 20 }, () => lockouts.recordFailure(key, { maxFailures: 100, windowMs: 60_000, lockMs: 1 }, 1)));
        expect((await lockouts.get(key, 2)).failures).to.equal(20);
      });
    });
  });

  describe('get and clear', () => {
    it('reads an unknown key as no failures and no lock, and clear forgets a lock', async () => {
      const { lockouts } = ctx.store();
      const key = unique('client');
      expect(await lockouts.get(key, 1)).to.deep.equal({ failures: 0, lockedUntil: 0 });
      for (const now of [1, 2, 3]) await lockouts.recordFailure(key, opts, now);
      await lockouts.clear(key);
      expect(await lockouts.get(key, 4)).to.deep.equal({ failures: 0, lockedUntil: 0 });
    });

    it('keeps a key padded with spaces apart from the key itself (no PAD SPACE match on MariaDB)', async () => {
      const { lockouts } = ctx.store();
      const key = unique('client');
      for (const now of [1, 2]) await lockouts.recordFailure(key, opts, now);
      await lockouts.recordFailure(`${key}  `, opts, 3);
      expect((await lockouts.get(key, 4)).failures, 'the padded failure is not the key\'s').to.equal(2);
      expect(await lockouts.clear(`${key} `)).to.equal(0);
      expect((await lockouts.get(key, 4)).failures, 'clearing a padded key leaves the key').to.equal(2);
    });
  });

  describe('clearPrefix', () => {
    it('removes exactly the keys that start with the prefix, wildcards and case taken literally', async () => {
      const { lockouts } = ctx.store();
      const base = unique('console-user:a_b%');
      for (const key of [`${base}|10.0.0.1`, `${base}|10.0.0.2`, `${base}X|10.0.0.1`, `${base.toUpperCase()}|10.0.0.1`, base]) await lockouts.recordFailure(key, opts, 1);
      expect(await lockouts.clearPrefix(`${base}|`)).to.equal(2);
      expect((await lockouts.get(`${base}X|10.0.0.1`, 2)).failures).to.equal(1);
      expect((await lockouts.get(`${base.toUpperCase()}|10.0.0.1`, 2)).failures).to.equal(1);
      expect((await lockouts.get(base, 2)).failures).to.equal(1);
    });
  });

  describe('purgeExpired', () => {
    it('deletes the rows whose window and lock have both ended, and keeps running ones', async () => {
      const { lockouts, db } = ctx.store();
      const ended = unique('purge-ended');
      const lockedLong = unique('purge-locked');
      await lockouts.recordFailure(ended, opts, 1_000);
      for (const now of [1_000, 2_000, 3_000]) await lockouts.recordFailure(lockedLong, { ...opts, lockMs: 10_000_000 }, now);
      expect(await lockouts.purgeExpired(100_000)).to.be.at.least(1);
      const left = await db.query<{ lock_key: string }>('SELECT lock_key FROM login_lockouts WHERE lock_key IN (?, ?)', [ended, lockedLong]);
      expect(left.map((r) => r.lock_key)).to.deep.equal([lockedLong]);
    });
  });
});

forEachBackend('BankTokenRepository', (ctx) => {
  it('stores a token and replaces it with a newer one', async () => {
    const { bankTokens } = ctx.store();
    const partner = unique('bca');
    expect(await bankTokens.get(partner)).to.equal(null);
    await bankTokens.put({ partner, token: 't1', expiresAt: 10, fetchedAt: 1 });
    await bankTokens.put({ partner, token: 't2', expiresAt: 20, fetchedAt: 2 });
    expect(await bankTokens.get(partner)).to.deep.equal({ partner, token: 't2', expiresAt: 20, fetchedAt: 2 });
  });

  it('keeps the stored token when the one put expires earlier (a fetch answered after a newer one was stored)', async () => {
    const { bankTokens } = ctx.store();
    const partner = unique('bca');
    await bankTokens.put({ partner, token: 'newer', expiresAt: 20, fetchedAt: 5 });
    await bankTokens.put({ partner, token: 'older', expiresAt: 15, fetchedAt: 6 });
    expect(await bankTokens.get(partner)).to.deep.equal({ partner, token: 'newer', expiresAt: 20, fetchedAt: 5 });
  });

  describe('invalidate', () => {
    describe('when another worker has already stored a fresh token', () => {
      it('keeps the fresh token', async () => {
        const { bankTokens } = ctx.store();
        const partner = unique('bca');
        await bankTokens.put({ partner, token: 'fresh', expiresAt: 20, fetchedAt: 2 });
        await bankTokens.invalidate(partner, 'stale');
        expect((await bankTokens.get(partner))!.token).to.equal('fresh');
      });
    });

    it('deletes the token when it is still the one refused', async () => {
      const { bankTokens } = ctx.store();
      const partner = unique('bca');
      await bankTokens.put({ partner, token: 'refused', expiresAt: 20, fetchedAt: 2 });
      await bankTokens.invalidate(partner, 'refused');
      expect(await bankTokens.get(partner)).to.equal(null);
    });
  });

  describe('claimRefresh', () => {
    it('gives the claim to one owner at a time, to another after the lease, and back after release', async () => {
      const { bankTokens } = ctx.store();
      const partner = unique('claim');
      expect(await bankTokens.claimRefresh(partner, 'w1', 1_000, 500)).to.equal(true);
      expect(await bankTokens.claimRefresh(partner, 'w2', 1_200, 500)).to.equal(false);
      expect(await bankTokens.claimRefresh(partner, 'w2', 1_500, 500)).to.equal(true);
      await bankTokens.releaseRefresh(partner, 'w1');
      expect(await bankTokens.claimRefresh(partner, 'w3', 1_600, 500)).to.equal(false);
      await bankTokens.releaseRefresh(partner, 'w2');
      expect(await bankTokens.claimRefresh(partner, 'w3', 1_600, 500)).to.equal(true);
      expect(await bankTokens.get(partner)).to.equal(null);
    });

    it('renews the lease of the holder that claims again, so no one else takes it while the holder lives', async () => {
      const { bankTokens } = ctx.store();
      const partner = unique('renew');
      expect(await bankTokens.claimRefresh(partner, 'w1', 1_000, 500)).to.equal(true);
      expect(await bankTokens.claimRefresh(partner, 'w1', 1_400, 500), 'renewed until 1,900').to.equal(true);
      expect(await bankTokens.claimRefresh(partner, 'w2', 1_600, 500)).to.equal(false);
      expect(await bankTokens.claimRefresh(partner, 'w2', 1_900, 500)).to.equal(true);
      expect(await bankTokens.claimRefresh(partner, 'w1', 2_000, 500), 'w1 lost it once its lease ran out').to.equal(false);
    });

    it('gives it to exactly one of many concurrent claimants', async () => {
      const { bankTokens } = ctx.store();
      const partner = unique('race');
      const won = await Promise.all(Array.from({ length: 20 }, (_, i) => bankTokens.claimRefresh(partner, `w${i}`, 5_000, 10_000)));
      expect(won.filter(Boolean)).to.have.length(1);
    });
  });
});

forEachBackend('SequenceRepository', (ctx) => {
  describe('next', () => {
    it('returns 1 on the first call, then 2, 3…, per name', async () => {
      const { sequences } = ctx.store();
      const a = unique('seq');
      const b = unique('seq');
      expect([await sequences.next(a), await sequences.next(a), await sequences.next(b), await sequences.next(a)]).to.deep.equal([1, 2, 1, 3]);
    });

    describe('with a floor', () => {
      it('never answers less than the floor, and keeps counting above it', async () => {
        const { sequences } = ctx.store();
        const name = unique('seq');
        expect([await sequences.next(name, 500), await sequences.next(name, 500), await sequences.next(name, 400), await sequences.next(name, 900)]).to.deep.equal([500, 501, 502, 900]);
      });
    });

    describe('when 100 callers ask at once', () => {
      it('gives each a different value, 1 to 100', async () => {
        const { sequences } = ctx.store();
        const name = unique('seq');
        const values = await Promise.all(Array.from({ length: 100 }, () => sequences.next(name)));
        expect(values.sort((x, y) => x - y)).to.deep.equal(Array.from({ length: 100 }, (_, i) => i + 1));
      });
    });

    describe('nextBlock', () => {
      it('takes consecutive values at once, from the floor, and the next block or value continues after it', async () => {
        const { sequences } = ctx.store();
        const name = unique('seq');
        expect(await sequences.nextBlock(name, 16, 500)).to.equal(500);
        expect(await sequences.nextBlock(name, 16, 500)).to.equal(516);
        expect(await sequences.next(name)).to.equal(532);
        expect(await sequences.nextBlock(name, 4, 1000)).to.equal(1000);
        expect(await sequences.next(name, 900)).to.equal(1004);
      });

      it('refuses an empty block', async () => {
        let error: unknown = null;
        await ctx.store().sequences.nextBlock(unique('seq'), 0).catch((e: unknown) => (error = e));
        expect(String(error)).to.contain('at least one value');
      });
    });

    describe('when several processes ask at once', () => {
      it('never hands out the same bank id twice when each takes its ids in blocks', async () => {
        const name = unique('seq');
        const values = (await runStoreWorkers<number[]>(3, [ctx.url(), 'bank-ids', name, '40'])).flat();
        expect(new Set(values).size).to.equal(120);
        // Three processes, each its own blocks of 16: 120 ids use 8 blocks (3 of them partly).
        expect(Math.max(...values)).to.be.at.most(9 * 16);
      });

      it('never hands out the same value twice', async () => {
        const name = unique('seq');
        const values = (await runStoreWorkers<number[]>(3, [ctx.url(), 'sequence', name, '30'])).flat();
        expect(values.sort((x, y) => x - y)).to.deep.equal(Array.from({ length: 90 }, (_, i) => i + 1));
      });
    });
  });
});
