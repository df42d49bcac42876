import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { issueToken, type IssueTokenDeps } from '../../../src/domain/auth/index.js';
import { AppError } from '../../../src/errors/index.js';
import { forEachBackend } from '../../support/databases.js';

/**
 * The token endpoint's lockout of a source address, against the real store with a clock the test
 * moves: every attempt names a client id that does not exist (each its own, so only the address's
 * counter grows), and each still costs the decoy hash, so the attempts are few. Each test has its
 * own addresses, so the shared counters never mix.
 */
forEachBackend('Token endpoint lockout of a source address', (db) => {
  const START = Date.UTC(2026, 11, 6, 9, 0, 0);
  let now = START;
  const deps = (): IssueTokenDeps => {
    const store = db.store();
    return {
      clients: store.clients,
      lockouts: store.lockouts,
      // No attempt here succeeds, so no token is ever issued.
      tokens: undefined as unknown as IssueTokenDeps['tokens'],
      lockout: { maxFailures: 3, windowMs: 15 * 60_000, lockMs: 15 * 60_000, clientMaxFailures: 7 },
      clock: () => now,
    };
  };
  /** One attempt with a client id nobody has, from `ip`: the error code it ends with. */
  async function attempt(ip: string): Promise<string> {
    try {
      await issueToken(deps(), { clientId: `gbc_${randomBytes(8).toString('hex')}`, clientSecret: 'a-guessed-secret-0123456789' }, { ip, origin: undefined });
      return 'issued';
    } catch (error) {
      if (error instanceof AppError) return error.code;
      throw error;
    }
  }

  let day = 0;
  beforeEach(() => {
    // A fresh window and lock period for every test.
    now = START + (day += 1) * 24 * 3_600_000;
  });

  it('counts failures from many addresses of one IPv6 /56 together, and locks them all', async () => {
    // Three /64s and three host parts, all inside 2001:db8:14:0::/56.
    const results = [await attempt('2001:db8:14:1::1'), await attempt('2001:db8:14:2::abcd'), await attempt('2001:db8:14:ff:1:2:3:4')];
    expect(results).to.deep.equal(['INVALID_CLIENT', 'INVALID_CLIENT', 'CLIENT_LOCKED']);
    expect(await attempt('2001:db8:14:80::9'), 'another address of the /56').to.equal('CLIENT_LOCKED');
  });

  it('does not count addresses of different /56 networks together', async () => {
    const results = [await attempt('2001:db8:15:0::1'), await attempt('2001:db8:15:100::1'), await attempt('2001:db8:15:200::1'), await attempt('2001:db8:15:300::1')];
    expect(results).to.deep.equal(['INVALID_CLIENT', 'INVALID_CLIENT', 'INVALID_CLIENT', 'INVALID_CLIENT']);
  });

  it('counts an IPv4 address as itself, as before: its neighbours are not locked with it', async () => {
    const results = [await attempt('192.0.2.14'), await attempt('192.0.2.14'), await attempt('192.0.2.14')];
    expect(results).to.deep.equal(['INVALID_CLIENT', 'INVALID_CLIENT', 'CLIENT_LOCKED']);
    expect(await attempt('192.0.2.15'), 'the next address').to.equal('INVALID_CLIENT');
    expect(await attempt('::ffff:192.0.2.14'), 'the same address, IPv4-mapped').to.equal('CLIENT_LOCKED');
  });
});
