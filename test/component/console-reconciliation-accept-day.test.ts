import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StatementReader } from '../../src/console/statement-reader.js';
import { accountTag } from '../../src/store/repositories/payment-repository.js';
import { TEST_AUDIT_KEY, TEST_AUDIT_KEYS } from '../support/audit-keys.js';
import { runCli } from '../support/cli.js';
import { ConsoleClient } from '../support/console-client.js';
import { TestConsole } from '../support/console-harness.js';
import { forEachBackend } from '../support/databases.js';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/**
 * `gerbang audit accept-day` (#16): a day the reconciliation names in red (a sealed payment deleted
 * in SQL, or the day's seal deleted there) is named at every reading until an operator accepts it,
 * by the digest of what they looked at; then the page no longer names it, the acceptance is on the
 * access log, and a payment of the day deleted later is named again. The attacks are SQL without
 * a key; the page is the console's over HTTP, the command the real CLI.
 */
forEachBackend('gerbang audit accept-day: an operator accepts a day the reconciliation names, once, on the record (#16)', (db) => {
  let con: TestConsole;
  let client: ConsoleClient;
  let env: Record<string, string>;
  /** Midnight WIB of the n-th day of March 2024: each test its own day and account. */
  const dayStart = (n: number) => Date.UTC(2024, 2, n) - 7 * HOUR_MS;
  const dayOf = (n: number) => `2024-03-${String(n).padStart(2, '0')}`;
  const now = Date.UTC(2024, 3, 2);
  const statements: StatementReader = { read: async (accountNumber, from, to) => ({ accountNumber, currency: 'IDR', from, to, openingBalance: null, bank: 'bca', entries: [] }) };

  before(async () => {
    con = await TestConsole.start(db.url(), { GERBANG_LOG_LEVEL: 'silent' }, { clock: () => now, statements, sealSweep: false });
    const user = await con.createUser('recon-auditor', 'auditor');
    client = new ConsoleClient(con.origin);
    expect((await client.signIn(user.username, user.password)).status).to.equal(303);
    env = { GERBANG_DATABASE_URL: db.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_AUDIT_CHECKPOINT_FILE: join(mkdtempSync(join(tmpdir(), 'gerbang-accept-day-')), 'checkpoints.jsonl') };
  });
  after(() => con?.close());

  /** Three payments of `account` on day n, settled, and the day sealed by a first reading of the page. */
  async function sealedDay(account: string, n: number): Promise<number[]> {
    const ids: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      const p = await con.store.payments.reserve({ clientId: 'accept-day', transactionId: `ACC-${account}-${i}`, requestHash: 'a'.repeat(64), amount: `${1000 + i}.00`, currency: 'IDR', sourceAccount: account }, dayStart(n) + HOUR_MS + i);
      expect(await con.store.payments.update(p.id, { state: 'SUCCESS', bank: 'bca' }, dayStart(n) + 2 * HOUR_MS)).to.equal(true);
      ids.push(p.id);
    }
    await page(account, n);
    expect(await alerts(account, n)).to.deep.equal({ missing: false, deleted: null, sealBroken: false, unchecked: false });
    return ids;
  }

  async function page(account: string, n: number): Promise<string> {
    const answer = await client.get(`/console/reconciliation?account=${account}&from=${dayOf(n)}&to=${dayOf(n)}`);
    expect(answer.status).to.equal(200);
    return answer.text;
  }

  /** What the page says of day n: named in red (and the ids it names deleted, or its seal changed), or not checked. */
  async function alerts(account: string, n: number) {
    const html = await page(account, n);
    return {
      missing: html.includes(`data-missing-day="${dayOf(n)}"`),
      deleted: /data-deleted-ids="([^"]*)"/.exec(html)?.[1] ?? null,
      sealBroken: html.includes(`data-seal-broken="${dayOf(n)}"`),
      unchecked: /data-unchecked-days="[^"]*"/.test(html) && (/data-unchecked-days="([^"]*)"/.exec(html)![1].split(' ').includes(dayOf(n))),
    };
  }

  /** The key of day n's seal row of `account` (its tag, its day number), as an attack in SQL names it. */
  const sealKey = (account: string, n: number) => [accountTag(TEST_AUDIT_KEYS, account), Date.parse(`${dayOf(n)}T00:00:00Z`) / DAY_MS];

  /** Everything an acceptance would write: the seal rows, the change records and the acceptances on the console audit. */
  async function written(): Promise<string> {
    const seals = await db.store().db.query('SELECT account_tag, day, row_count, seal, sealed_at, payment_ids, mac FROM reconciliation_seals ORDER BY account_tag, day');
    const [changes] = await db.store().db.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM record_changes');
    const accepted = await con.store.consoleAudit.list({ action: 'reconciliation_day_accept' });
    return JSON.stringify([seals, Number(changes.n), accepted.length]);
  }

  const acceptDay = (account: string, n: number, expectDigest?: string) =>
    runCli(['audit', 'accept-day', '--account', account, '--day', dayOf(n), ...(expectDigest === undefined ? [] : ['--expect', expectDigest]), '--reason', 'bank statement checked, ticket FIN-42'], env);

  /** Runs accept-day without --expect: refused, exit 1, nothing written; the digest it printed. */
  async function digestOf(account: string, n: number): Promise<{ digest: string; stderr: string }> {
    const before = await written();
    const looked = await acceptDay(account, n);
    expect(looked.code, looked.stderr).to.equal(1);
    expect(looked.stderr).to.contain('NOT accepted, nothing written').and.to.contain(`day ${dayOf(n)} of account ******${account.slice(-4)}`);
    expect(await written()).to.equal(before);
    return { digest: /\(digest ([0-9a-f]{16})\)/.exec(looked.stderr)![1], stderr: looked.stderr };
  }

  it('(a) a sealed payment deleted in SQL: named until accepted by its digest; without it nothing is written; accepted, the page names it no more and the access log shows who accepted what and why', async () => {
    const account = '0201777001';
    const ids = await sealedDay(account, 3);
    await db.store().db.execute('DELETE FROM payments WHERE id = ?', [ids[1]]);
    expect(await alerts(account, 3)).to.include({ missing: true, deleted: String(ids[1]) });
    const { digest, stderr } = await digestOf(account, 3);
    expect(stderr).to.contain(`DELETED OUTSIDE GERBANG: the seal counted 3 payment(s), 2 still there or released through Gerbang, deleted: id ${ids[1]}`);
    expect(stderr).to.contain(`--expect ${digest}`).and.not.to.contain(account);
    // Not accepted: still named at every reading.
    expect(await alerts(account, 3)).to.include({ missing: true, deleted: String(ids[1]) });
    const accepted = await acceptDay(account, 3, digest);
    expect(accepted.code, accepted.stderr).to.equal(0);
    expect(accepted.stdout).to.contain(`Accepted day ${dayOf(3)} of account ******7001`).and.to.contain(`deleted: id ${ids[1]}`);
    expect(await alerts(account, 3)).to.deep.equal({ missing: false, deleted: null, sealBroken: false, unchecked: false });
    const log = (await client.get('/console/access-log?action=reconciliation_day_accept')).text;
    const rows = [...log.matchAll(/<tr data-action="reconciliation_day_accept"[^>]*>(?:<td[^>]*>.*?<\/td>)<td>([^<]*)<\/td><td><code>[^<]*<\/code><\/td><td>([^<]*)<\/td><td>([^<]*)<\/td>/g)].map((m) => m.slice(1));
    expect(rows).to.deep.include(['(cli)', `account:******7001 day:${dayOf(3)} tag:${accountTag(TEST_AUDIT_KEYS, account)}`, `digest ${digest}; reason: bank statement checked, ticket FIN-42; accepted: DELETED OUTSIDE GERBANG: the seal counted 3 payment(s), 2 still there or released through Gerbang, deleted: id ${ids[1]}`]);
    // Once: accepted again, there is nothing to accept and nothing is written.
    const before = await written();
    const again = await acceptDay(account, 3, digest);
    expect([again.code, again.stdout]).to.deep.equal([0, `Nothing to accept: the reconciliation names nothing on day ${dayOf(3)} of account ******7001 (no payment deleted, no seal changed outside Gerbang). Nothing written.\n`]);
    expect(await written()).to.equal(before);
  });

  it('(b) the day\'s seal row deleted in SQL (with a payment of it): named until accepted by its digest; accepted, the page names it no more, and the day is held to a new seal', async () => {
    const account = '0201777002';
    const ids = await sealedDay(account, 6);
    await db.store().db.execute('DELETE FROM payments WHERE id = ?', [ids[0]]);
    await db.store().db.execute('DELETE FROM reconciliation_seals WHERE account_tag = ? AND day = ?', sealKey(account, 6));
    expect(await alerts(account, 6)).to.include({ missing: true, sealBroken: true });
    const { digest, stderr } = await digestOf(account, 6);
    expect(stderr).to.contain('SEAL CHANGED OUTSIDE GERBANG: reconciliation_seals row of day').and.to.contain('was deleted');
    expect(await alerts(account, 6)).to.include({ missing: true, sealBroken: true });
    const accepted = await acceptDay(account, 6, digest);
    expect(accepted.code, accepted.stderr).to.equal(0);
    expect(await alerts(account, 6)).to.deep.equal({ missing: false, deleted: null, sealBroken: false, unchecked: false });
    const [entry] = await con.store.consoleAudit.list({ action: 'reconciliation_day_accept' });
    expect(entry).to.include({ username: '(cli)', target: `account:******7002 day:${dayOf(6)} tag:${accountTag(TEST_AUDIT_KEYS, account)}`, remoteIp: 'local' });
    expect(entry.detail).to.contain(`digest ${digest}; reason: bank statement checked, ticket FIN-42; accepted: SEAL CHANGED OUTSIDE GERBANG`);
  });

  it('(b) the day\'s seal row changed in SQL (its ids cleared; its count lowered with its MAC cleared): named until accepted by its digest; accepted, the page names it no more', async () => {
    for (const [n, account, attack] of [
      [24, '0201777008', 'UPDATE reconciliation_seals SET payment_ids = NULL WHERE account_tag = ? AND day = ?'],
      [27, '0201777009', 'UPDATE reconciliation_seals SET row_count = 1, payment_ids = NULL, mac = NULL, mac_key_id = NULL WHERE account_tag = ? AND day = ?'],
    ] as const) {
      const ids = await sealedDay(account, n);
      await db.store().db.execute('DELETE FROM payments WHERE id = ?', [ids[1]]);
      await db.store().db.execute(attack, sealKey(account, n));
      expect(await alerts(account, n), attack).to.include({ missing: true, sealBroken: true });
      const { digest } = await digestOf(account, n);
      expect(await alerts(account, n), attack).to.include({ missing: true, sealBroken: true });
      expect((await acceptDay(account, n, digest)).code, attack).to.equal(0);
      expect(await alerts(account, n), attack).to.deep.equal({ missing: false, deleted: null, sealBroken: false, unchecked: false });
    }
  });

  it('(c) a payment of an accepted day deleted in SQL later is named again, by its id', async () => {
    for (const [n, account, attack] of [
      [9, '0201777003', 'DELETE FROM payments WHERE id = ?'],
      [12, '0201777004', 'DELETE FROM reconciliation_seals WHERE account_tag = ? AND day = ?'],
    ] as const) {
      const ids = await sealedDay(account, n);
      await db.store().db.execute(attack, attack.includes('payments') ? [ids[0]] : sealKey(account, n));
      expect((await acceptDay(account, n, (await digestOf(account, n)).digest)).code, attack).to.equal(0);
      expect(await alerts(account, n), attack).to.include({ missing: false });
      await db.store().db.execute('DELETE FROM payments WHERE id = ?', [ids[2]]);
      expect(await alerts(account, n), attack).to.include({ missing: true, deleted: String(ids[2]), sealBroken: false });
    }
  });

  it('the accepted day carries a note naming the acceptance; another account ending in the same four digits (masked alike) gets none on that day', async () => {
    const account = '0201777010';
    const twin = '0991777010';
    const ids = await sealedDay(account, 28);
    await sealedDay(twin, 28);
    await db.store().db.execute('DELETE FROM payments WHERE id = ?', [ids[2]]);
    expect((await acceptDay(account, 28, (await digestOf(account, 28)).digest)).code).to.equal(0);
    const [entry] = await con.store.consoleAudit.list({ action: 'reconciliation_day_accept' });
    expect(await page(account, 28)).to.contain(`data-accepted-day="${dayOf(28)}" data-accept-entry="${entry.id}"`).and.to.contain(`data-accepted-deleted-ids="${ids[2]}"`);
    expect(await page(twin, 28)).not.to.contain('data-accepted-day');
  });

  it('(d) refuses a digest printed before another payment of the day was deleted, writing nothing; the day then names both, and is accepted by its new digest', async () => {
    const account = '0201777005';
    const ids = await sealedDay(account, 15);
    await db.store().db.execute('DELETE FROM payments WHERE id = ?', [ids[0]]);
    const { digest: stale } = await digestOf(account, 15);
    await db.store().db.execute('DELETE FROM payments WHERE id = ?', [ids[1]]);
    const before = await written();
    const refused = await acceptDay(account, 15, stale);
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.contain('NOT accepted, nothing written').and.to.contain(`(--expect ${stale}): it changed since`).and.to.contain(`deleted: id ${ids[0]}, ${ids[1]}`);
    expect(await written()).to.equal(before);
    expect(await alerts(account, 15)).to.include({ missing: true, deleted: `${ids[0]} ${ids[1]}` });
    const { digest } = await digestOf(account, 15);
    expect(digest).not.to.equal(stale);
    expect((await acceptDay(account, 15, digest)).code).to.equal(0);
    expect(await alerts(account, 15)).to.include({ missing: false });
  });

  it('a day all of whose sealed payments were deleted in SQL is accepted with none: sealed empty, and the day checked', async () => {
    const account = '0201777007';
    const ids = await sealedDay(account, 21);
    await db.store().db.execute(`DELETE FROM payments WHERE id IN (${ids.join(', ')})`);
    expect(await alerts(account, 21)).to.include({ missing: true, deleted: ids.join(' ') });
    expect((await acceptDay(account, 21, (await digestOf(account, 21)).digest)).code).to.equal(0);
    expect(await alerts(account, 21)).to.deep.equal({ missing: false, deleted: null, sealBroken: false, unchecked: false });
    const [seal] = await db.store().db.query<{ row_count: number | string; payment_ids: string | null }>('SELECT row_count, payment_ids FROM reconciliation_seals WHERE account_tag = ? AND day = ?', sealKey(account, 21));
    expect([Number(seal.row_count), seal.payment_ids]).to.deep.equal([0, '']);
  });

  it('refuses to seal a day one of whose payments was changed in SQL, writing nothing: the page still names the day', async () => {
    const account = '0201777006';
    const ids = await sealedDay(account, 18);
    await db.store().db.execute('DELETE FROM payments WHERE id = ?', [ids[0]]);
    await db.store().db.execute("UPDATE payments SET amount = '9000000.00', amount_minor = 900000000 WHERE id = ?", [ids[1]]);
    const before = await written();
    const refused = await acceptDay(account, 18, '0123456789abcdef');
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.contain('cannot be sealed anew: a payment of the day does not hold');
    expect(await written()).to.equal(before);
    expect(await alerts(account, 18)).to.include({ missing: true, deleted: String(ids[0]) });
  });
});
