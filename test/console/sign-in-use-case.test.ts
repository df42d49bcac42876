import { expect } from 'chai';
import { randomBytes, scryptSync } from 'node:crypto';
import { createRequire } from 'node:module';
import { unlockConsoleUser } from '../../src/console/index.js';
import { signIn, type SignInDeps, type SignInResult } from '../../src/console/sign-in-use-case.js';
import { forEachBackend } from '../support/databases.js';

/**
 * The console sign-in use case against the real store, with a clock the test moves: the per-address
 * throttle, the lock per address and per user, what each attempt leaves in the console audit, and
 * the admin's unlock. (test/component/console-sign-in.test.ts drives the same through the pages.)
 * Each test has its own users and loopback addresses, so the shared counters never mix. The users'
 * stored hashes have a low scrypt cost (the hash names its cost), so a guess costs milliseconds;
 * a name that is no user still costs the full decoy hash, so those attempts are few.
 */
forEachBackend('Console sign-in lockout', (db) => {
  const START = Date.UTC(2026, 11, 4, 9, 0, 0);
  const LOCK_MS = 15 * 60_000;
  const WINDOW_MS = 10 * 60_000;
  let now = START;

  /** 3 failures from one address lock it, 5 from all addresses lock the user, 6 attempts a minute per address. */
  const deps = (throttle = { perIpPerMinute: 6, userMaxFailures: 5 }): SignInDeps => {
    const store = db.store();
    return {
      users: store.consoleUsers,
      lockouts: store.lockouts,
      attempts: store.rateLimits,
      audit: store.consoleAudit,
      lockout: { maxFailures: 3, windowMs: WINDOW_MS, lockMs: LOCK_MS },
      throttle,
      clock: () => now,
    };
  };
  const attempt = (username: string, password: string, remoteIp: string): Promise<SignInResult> => signIn(deps(), { username, password, remoteIp });
  const outcome = (r: SignInResult) => (r.ok ? 'ok' : r.reason);
  const details = async (username: string) => (await db.store().consoleAudit.list({ username })).reverse().map((e) => [e.action, e.detail, e.remoteIp]);

  /** The stored form of a password (src/security/password-hash.ts), at scrypt cost N=1024. */
  function cheapHash(password: string): string {
    const salt = randomBytes(16);
    return ['scrypt', 1024, 8, 1, salt.toString('base64url'), scryptSync(password, salt, 32, { N: 1024, r: 8, p: 1 }).toString('base64url')].join('$');
  }

  /**
   * Counts the scrypt derivations of this process (node:crypto's scrypt, which verifySecret calls
   * for every password it checks, wrapped and called through) until `stop`.
   */
  function countScrypt(): { count: () => number; stop: () => void } {
    const crypto = createRequire(__filename)('node:crypto') as { scrypt: (...args: unknown[]) => void };
    const real = crypto.scrypt;
    let count = 0;
    crypto.scrypt = (...args: unknown[]) => {
      count += 1;
      real.apply(crypto, args);
    };
    return { count: () => count, stop: () => void (crypto.scrypt = real) };
  }

  let serial = 0;
  /** A new active user (its own name per test, or `username`) and its password. */
  async function user(username = `user${(serial += 1)}.${db.backend}`): Promise<{ username: string; password: string }> {
    const password = `pw-${username}-0123456789`;
    await db.store().consoleUsers.create({ username, passwordHash: cheapHash(password), role: 'viewer' }, now);
    return { username, password };
  }

  beforeEach(() => {
    // A fresh minute and a fresh lock period for every test.
    now = START + serial * 24 * 3_600_000;
  });

  it('signs in with the right password, and writes the sign-in to the console audit', async () => {
    const u = await user();
    const result = await attempt(u.username, u.password, '127.0.1.1');
    expect(result.ok).to.equal(true);
    expect(result.ok && result.user.username).to.equal(u.username);
    expect(await details(u.username)).to.deep.equal([['sign_in', null, '127.0.1.1']]);
  });

  it('reads the name trimmed, and keeps at most 64 characters of what was typed', async () => {
    const u = await user();
    expect(outcome(await attempt(`  ${u.username}\t`, u.password, '127.0.1.2'))).to.equal('ok');
    const long = `x${'y'.repeat(99)}`;
    expect(outcome(await attempt(long, 'guess-guess-guess', '127.0.1.2'))).to.equal('invalid');
    expect(await details(long.slice(0, 64))).to.deep.equal([['sign_in_failed', 'unknown user', '127.0.1.2']]);
    expect(outcome(await attempt('   ', 'guess-guess-guess', '127.0.1.2'))).to.equal('invalid');
    expect(await details('(empty)')).to.deep.include(['sign_in_failed', 'unknown user', '127.0.1.2']);
  });

  it('refuses a wrong password, an unknown user and a disabled user alike, saying which in the audit only', async () => {
    const u = await user();
    const off = await user();
    const stored = (await db.store().consoleUsers.findByUsername(off.username))!;
    await db.store().consoleUsers.update(stored.id, { status: 'disabled' }, now);
    expect(outcome(await attempt(u.username, 'not-the-password', '127.0.1.3'))).to.equal('invalid');
    expect(outcome(await attempt(off.username, off.password, '127.0.1.3'))).to.equal('invalid');
    expect(outcome(await attempt(`nobody${serial}`, u.password, '127.0.1.3'))).to.equal('invalid');
    expect(await details(u.username)).to.deep.equal([['sign_in_failed', 'wrong password', '127.0.1.3']]);
    expect(await details(off.username)).to.deep.equal([['sign_in_failed', 'disabled', '127.0.1.3']]);
    expect(await details(`nobody${serial}`)).to.deep.equal([['sign_in_failed', 'unknown user', '127.0.1.3']]);
  });

  describe('the throttle per address', () => {
    it('computes no password hash for an attempt it refuses: one scrypt derivation per attempt of the allowance, none after it', async () => {
      const u = await user();
      const others = [await user(), await user(), await user()];
      const derivations = countScrypt();
      try {
        for (let i = 0; i < 6; i += 1) expect(outcome(await attempt(others[i % 3].username, `guess-${i}-guess`, '127.0.2.3'))).to.equal('invalid');
        expect(derivations.count(), 'each attempt of the allowance is checked').to.equal(6);
        // The right password, a wrong one, a name that is no user (the decoy hash): all refused unchecked.
        for (const [name, password] of [[u.username, u.password], [u.username, 'guess-guess'], [`nobody${serial}`, 'guess-guess']]) {
          expect(outcome(await attempt(name, password, '127.0.2.3'))).to.equal('throttled');
        }
        expect(derivations.count(), 'no hash for a throttled attempt').to.equal(6);
      } finally {
        derivations.stop();
      }
    });

    it('lets the allowance through and refuses the next attempt unchecked, the right password too, until the minute ends', async () => {
      const u = await user();
      const others = [await user(), await user(), await user()];
      const results: string[] = [];
      for (let i = 0; i < 6; i += 1) results.push(outcome(await attempt(others[i % 3].username, `guess-${i}-guess`, '127.0.2.1')));
      expect(results).to.deep.equal(['invalid', 'invalid', 'invalid', 'invalid', 'invalid', 'invalid']);
      now += 20_000;
      const refused = await attempt(u.username, u.password, '127.0.2.1');
      expect(refused).to.deep.equal({ ok: false, reason: 'throttled', retryAfterMs: 40_000 });
      expect(await details(u.username)).to.deep.equal([['sign_in_failed', 'throttled: too many attempts from this address', '127.0.2.1']]);
      // Another address is not throttled.
      expect(outcome(await attempt(u.username, u.password, '127.0.2.2'))).to.equal('ok');
      // Near the end of the minute the client is still told to wait at least a second.
      now += 39_990;
      expect(await attempt(u.username, u.password, '127.0.2.1')).to.deep.equal({ ok: false, reason: 'throttled', retryAfterMs: 1000 });
      now += 10;
      expect(outcome(await attempt(u.username, u.password, '127.0.2.1'))).to.equal('ok');
    });
  });

  describe('the lock per address', () => {
    it('locks at the third failure from one address, refuses the right password there until the lock ends, and not a moment longer', async () => {
      const u = await user();
      const results: string[] = [];
      for (let i = 0; i < 3; i += 1) results.push(outcome(await attempt(u.username, `wrong-${i}-password`, '127.0.3.1')));
      expect(results).to.deep.equal(['invalid', 'invalid', 'locked']);
      const lockedAt = now;
      now += 1000;
      expect(await attempt(u.username, u.password, '127.0.3.1')).to.deep.equal({ ok: false, reason: 'locked', retryAfterMs: LOCK_MS - 1000 });
      // The user still signs in from their own address.
      expect(outcome(await attempt(u.username, u.password, '127.0.3.2'))).to.equal('ok');
      now = lockedAt + LOCK_MS - 1;
      expect(outcome(await attempt(u.username, u.password, '127.0.3.1'))).to.equal('locked');
      now = lockedAt + LOCK_MS;
      expect(outcome(await attempt(u.username, u.password, '127.0.3.1'))).to.equal('ok');
      expect((await details(u.username)).map(([action, detail]) => `${action}: ${detail}`)).to.deep.equal([
        'sign_in_failed: wrong password',
        'sign_in_failed: wrong password',
        'sign_in_failed: wrong password; now locked',
        'sign_in_failed: locked for this address',
        'sign_in: null',
        'sign_in_failed: locked for this address',
        'sign_in: null',
      ]);
    });

    it('a success clears the count of failures from that address', async () => {
      const u = await user();
      await attempt(u.username, 'wrong-1-password', '127.0.3.3');
      await attempt(u.username, 'wrong-2-password', '127.0.3.3');
      expect(outcome(await attempt(u.username, u.password, '127.0.3.3'))).to.equal('ok');
      expect(outcome(await attempt(u.username, 'wrong-3-password', '127.0.3.3'))).to.equal('invalid');
      expect(outcome(await attempt(u.username, 'wrong-4-password', '127.0.3.3'))).to.equal('invalid');
      expect(outcome(await attempt(u.username, u.password, '127.0.3.3'))).to.equal('ok');
    });

    it('locks a name per user: failures for one user do not lock another at the same address', async () => {
      const victim = await user();
      const other = await user();
      for (let i = 0; i < 3; i += 1) await attempt(victim.username, `wrong-${i}-password`, '127.0.3.4');
      expect(outcome(await attempt(other.username, other.password, '127.0.3.4'))).to.equal('ok');
    });

    it('no typed name reaches another user\'s counter: "NAME|ADDRESS" failures do not lock NAME at ADDRESS', async () => {
      const u = await user();
      const forged = `${u.username}|127.0.3.6`;
      // With one failure locking a name overall, the forged name is locked at once.
      const strict = { perIpPerMinute: 6, userMaxFailures: 1 };
      expect(outcome(await signIn(deps(strict), { username: forged, password: 'guess-guess-guess', remoteIp: '127.0.3.10' }))).to.equal('locked');
      expect(outcome(await signIn(deps(strict), { username: u.username, password: u.password, remoteIp: '127.0.3.6' }))).to.equal('ok');
    });
  });

  describe('the lock per user', () => {
    it('locks the user everywhere after five failures from all addresses together, and a success from one address clears it', async () => {
      const u = await user();
      const results: string[] = [];
      for (let i = 0; i < 5; i += 1) results.push(outcome(await attempt(u.username, `wrong-${i}-password`, `127.0.4.${i + 1}`)));
      expect(results).to.deep.equal(['invalid', 'invalid', 'invalid', 'invalid', 'locked']);
      now += 2000;
      expect(await attempt(u.username, u.password, '127.0.4.9')).to.deep.equal({ ok: false, reason: 'locked', retryAfterMs: LOCK_MS - 2000 });
      expect((await details(u.username)).at(-1)).to.deep.equal(['sign_in_failed', 'locked', '127.0.4.9']);
    });

    it('a success clears the count of failures from all addresses', async () => {
      const u = await user();
      for (let i = 0; i < 4; i += 1) await attempt(u.username, `wrong-${i}-password`, `127.0.4.${20 + i}`);
      expect(outcome(await attempt(u.username, u.password, '127.0.4.30'))).to.equal('ok');
      expect(outcome(await attempt(u.username, 'wrong-5-password', '127.0.4.31'))).to.equal('invalid');
    });
  });

  describe('an IPv6 network', () => {
    it('is one source: twelve addresses of one /64 are throttled after the allowance and never lock the user for everyone', async () => {
      const u = await user();
      const results: string[] = [];
      for (let i = 1; i <= 12; i += 1) results.push(outcome(await attempt(u.username, `wrong-${i}-password`, `2001:db8:1:1::${i.toString(16)}`)));
      // Three failures lock the network out of the user, the allowance of six a minute throttles the rest.
      expect(results).to.deep.equal(['invalid', 'invalid', 'locked', 'locked', 'locked', 'locked', ...Array(6).fill('throttled')]);
      // Another address of the same /56 is the same source.
      expect(outcome(await attempt(u.username, u.password, '2001:db8:1:ff::7'))).to.equal('throttled');
      now += 60_000;
      expect(outcome(await attempt(u.username, u.password, '2001:db8:1:ff::7'))).to.equal('locked');
      // The user signs in from their own IPv4 address and from another /56.
      expect(outcome(await attempt(u.username, u.password, '192.0.2.7'))).to.equal('ok');
      expect(outcome(await attempt(u.username, u.password, '2001:db8:1:100::1'))).to.equal('ok');
      // The audit keeps each full address.
      expect((await details(u.username)).slice(0, 2).map(([, , ip]) => ip)).to.deep.equal(['2001:db8:1:1::1', '2001:db8:1:1::2']);
    });

    it('cannot lock the user for everyone, however long it tries, when the lock is shorter than the window', async () => {
      const u = await user();
      // 3 failures lock a source for one minute; the window is ten; 7 failures lock the user.
      const short: SignInDeps = { ...deps({ perIpPerMinute: 6, userMaxFailures: 7 }), lockout: { maxFailures: 3, windowMs: WINDOW_MS, lockMs: 60_000 } };
      const userWide = `console-user:${encodeURIComponent(u.username)}`;
      const results: string[] = [];
      const lockedForEveryone: number[] = [];
      // Three windows: in each, three failures and then one each time the network's lock has ended.
      for (let minute = 0; minute < 30; minute += 1) {
        const tries = minute % 10 === 0 ? 3 : 1;
        for (let i = 0; i < tries; i += 1) results.push(outcome(await signIn(short, { username: u.username, password: `wrong-${minute}-${i}`, remoteIp: `2001:db8:2:2::${minute.toString(16)}:${i}` })));
        if ((await db.store().lockouts.get(userWide, now)).lockedUntil > now) lockedForEveryone.push(minute);
        now += 61_000;
      }
      expect(lockedForEveryone).to.deep.equal([]);
      // Every attempt after the first lock of a window relocked the network only.
      expect(results.filter((r) => r === 'invalid')).to.have.length(6);
      expect(outcome(await signIn(short, { username: u.username, password: u.password, remoteIp: '192.0.2.8' }))).to.equal('ok');
    });
  });

  describe('unlockConsoleUser', () => {
    it('lifts the user\'s locks at every address and overall, and no other user\'s', async () => {
      const u = await user();
      const { username: longer, password: longerPassword } = await user(`${u.username}x`);
      for (let i = 0; i < 3; i += 1) await attempt(u.username, `wrong-${i}-password`, '127.0.5.1');
      for (let i = 0; i < 2; i += 1) await attempt(u.username, `wrong-${i}-password`, '127.0.5.2');
      for (let i = 0; i < 3; i += 1) await attempt(longer, `wrong-${i}-password`, '127.0.5.3');
      expect(outcome(await attempt(u.username, u.password, '127.0.5.4'))).to.equal('locked');
      // Three counters: two addresses and the user overall.
      expect(await unlockConsoleUser(db.store().lockouts, u.username)).to.equal(3);
      expect(outcome(await attempt(u.username, u.password, '127.0.5.1'))).to.equal('ok');
      expect(outcome(await attempt(longer, longerPassword, '127.0.5.3'))).to.equal('locked');
      expect(await unlockConsoleUser(db.store().lockouts, u.username)).to.equal(0);
    });
  });
});
