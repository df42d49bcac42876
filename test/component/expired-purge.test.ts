import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { EXPIRED_PURGE_MARGIN_MS } from '../../src/domain/expired-purge.js';
import { TestConsole } from '../support/console-harness.js';
import { forEachBackend } from '../support/databases.js';
import { eventually, TestGateway } from '../support/gateway-harness.js';

const MINUTE = 60_000;

/**
 * Rate-limit windows and sign-in lockout counters that ended count nothing; each process that
 * counts them purges them, at start and every minute: the gateway, and the console on its own (a
 * `gerbang console` process with no gateway beside it). What ended within the last
 * EXPIRED_PURGE_MARGIN_MS and what is still running stay.
 */
forEachBackend('The purge of ended counters', (db) => {
  /** Counters written as the sign-in and the rate limits write them: ended long ago, ended just now, running. */
  async function counters(prefix: string) {
    const { rateLimits, lockouts } = db.store();
    const now = Date.now();
    const tag = randomBytes(4).toString('hex');
    const keys = {
      endedWindow: `${prefix}:203.0.113.9-${tag}`,
      endedJustNow: `${prefix}:203.0.113.10-${tag}`,
      runningWindow: `${prefix}:2001:db8:1::/56-${tag}`,
      endedLock: `console-user:sari-${tag}|203.0.113.9`,
      runningLock: `console-user:sari-${tag}`,
    };
    await rateLimits.increment(keys.endedWindow, MINUTE, now - 10 * MINUTE);
    await rateLimits.increment(keys.endedJustNow, MINUTE, now - MINUTE - EXPIRED_PURGE_MARGIN_MS / 2);
    await rateLimits.increment(keys.runningWindow, MINUTE, now);
    const lockout = { maxFailures: 1, windowMs: MINUTE, lockMs: MINUTE };
    await lockouts.recordFailure(keys.endedLock, lockout, now - 10 * MINUTE);
    await lockouts.recordFailure(keys.runningLock, lockout, now);
    return keys;
  }

  const left = async (keys: Record<string, string>) => {
    const all = Object.values(keys);
    const marks = all.map(() => '?').join(', ');
    const rows = [
      ...(await db.store().db.query<{ k: string }>(`SELECT rl_key AS k FROM rate_limits WHERE rl_key IN (${marks})`, all)),
      ...(await db.store().db.query<{ k: string }>(`SELECT lock_key AS k FROM login_lockouts WHERE lock_key IN (${marks})`, all)),
    ];
    return Object.entries(keys).filter(([, key]) => rows.some((r) => r.k === key)).map(([name]) => name).sort();
  };
  const kept = ['endedJustNow', 'runningLock', 'runningWindow'];

  const processes = [
    { title: 'a console process on its own purges the ended sign-in throttle windows and lockouts at start', prefix: 'console-sign-in', start: () => TestConsole.start(db.url(), { GERBANG_LOG_LEVEL: 'silent' }) },
    { title: 'a gateway purges ended rate-limit windows too, not only lockouts', prefix: 'ip', start: () => TestGateway.start(db.url(), { GERBANG_LOG_LEVEL: 'silent' }) },
  ];
  for (const { title, prefix, start } of processes) {
    it(title, async function () {
      this.timeout(60_000);
      const keys = await counters(prefix);
      expect(await left(keys)).to.have.length(5);
      const running = await start();
      try {
        await eventually(async () => (await left(keys)).length === kept.length, 10_000).catch(() => undefined);
        expect(await left(keys)).to.deep.equal(kept);
      } finally {
        await running.close();
      }
    });
  }

  it('deletes ended windows a batch a statement, every one of them, and no running one', async function () {
    this.timeout(60_000);
    const { rateLimits } = db.store();
    const now = Date.now();
    const tag = randomBytes(4).toString('hex');
    for (let i = 0; i < 1_203; i += 1) await rateLimits.increment(`batch-${tag}-${i}`, MINUTE, now - 10 * MINUTE);
    await rateLimits.increment(`batch-${tag}-running`, MINUTE, now);
    expect(await rateLimits.purgeExpired(now - MINUTE)).to.be.at.least(1_203);
    const rows = await db.store().db.query<{ k: string }>("SELECT rl_key AS k FROM rate_limits WHERE rl_key LIKE ?", [`batch-${tag}-%`]);
    expect(rows.map((r) => r.k)).to.deep.equal([`batch-${tag}-running`]);
  });
});

