import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StatementReader } from '../../src/console/statement-reader.js';
import { jakartaTimestamp } from '../../src/time/index.js';
import { ChainLanes } from '../../src/store/repositories/audit-chain.js';
import { accountTag } from '../../src/store/repositories/payment-repository.js';
import { changeRows } from '../../src/store/repositories/record-changes.js';
import type { MacedRow } from '../../src/store/repositories/record-macs.js';
import { RECONCILIATION_SEALS } from '../../src/store/repositories/reconciliation-seals.js';
import { ValueSealer } from '../../src/store/repositories/sealed-values.js';
import { TEST_AUDIT_KEY, TEST_AUDIT_KEYS } from '../support/audit-keys.js';
import { acceptAsVerified, auditVerify, runCli } from '../support/cli.js';
import { ConsoleClient } from '../support/console-client.js';
import { TestConsole } from '../support/console-harness.js';
import { forEachBackend } from '../support/databases.js';
import { copyRow, insertRow, writeBack } from '../support/sql-rows.js';

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

  /** `count` payments (three) of `account` on day n, settled, and the day sealed by a first reading of the page. */
  async function sealedDay(account: string, n: number, count = 3): Promise<number[]> {
    const ids: number[] = [];
    for (let i = 0; i < count; i += 1) {
      const p = await con.store.payments.reserve({ clientId: 'accept-day', transactionId: `ACC-${account}-${i}`, requestHash: 'a'.repeat(64), amount: `${1000 + i}.00`, currency: 'IDR', sourceAccount: account }, dayStart(n) + HOUR_MS + i);
      expect(await con.store.payments.update(p.id, { state: 'SUCCESS', bank: 'bca' }, dayStart(n) + 2 * HOUR_MS)).to.equal(true);
      ids.push(p.id);
    }
    await page(account, n);
    expect(await alerts(account, n)).to.deep.equal({ missing: false, deleted: null, moved: null, sealBroken: false, unchecked: false });
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
      moved: /data-moved-ids="([^"]*)"/.exec(html)?.[1] ?? null,
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

  const acceptDay = (account: string, n: number | string, expectDigest?: string, reason = 'bank statement checked, ticket FIN-42') =>
    runCli(['audit', 'accept-day', '--account', account, '--day', typeof n === 'string' ? n : dayOf(n), ...(expectDigest === undefined ? [] : ['--expect', expectDigest]), '--reason', reason], env);

  /** A sealed day of `account` (sealedDay) with its payment `i` deleted in SQL, looked at: its ids and the digest printed. */
  async function lookedAtDeletion(account: string, n: number, i: number): Promise<{ ids: number[]; digest: string }> {
    const ids = await sealedDay(account, n);
    await db.store().db.execute('DELETE FROM payments WHERE id = ?', [ids[i]]);
    return { ids, digest: (await digestOf(account, n)).digest };
  }

  /** Runs accept-day (as acceptDay) expecting it refused, exit `code`, with nothing written; what it printed. */
  async function refusedDay(account: string, n: number | string, expectDigest?: string, reason?: string, code = 1): Promise<{ stdout: string; stderr: string }> {
    const before = await written();
    const refused = await acceptDay(account, n, expectDigest, reason);
    expect(refused.code, refused.stdout + refused.stderr).to.equal(code);
    expect(await written()).to.equal(before);
    return refused;
  }

  /** Runs accept-day without --expect: refused, exit 1, nothing written; the digest it printed. */
  async function digestOf(account: string, n: number): Promise<{ digest: string; stderr: string }> {
    const before = await written();
    const looked = await acceptDay(account, n);
    expect(looked.code, looked.stderr).to.equal(1);
    expect(looked.stderr).to.contain('NOT accepted, nothing written').and.to.contain(`day ${dayOf(n)} of account ******${account.slice(-4)}`);
    expect(await written()).to.equal(before);
    return { digest: /\(digest ([0-9a-f]{16})\)/.exec(looked.stderr)![1], stderr: looked.stderr };
  }

  // First in this database: verify walks everything, so the attacks of the tests after it (payments deleted, not accepted) would be its breaks.
  it('audit verify lists each day accepted (who, when in WIB, the masked account, the day, the ids named deleted, the reason), not as a break; an acceptance row inserted in SQL is not listed, and is a break naming it', async () => {
    const account = '0201777040';
    const { ids, digest } = await lookedAtDeletion(account, 22, 1);
    expect((await acceptDay(account, 22, digest, 'statement read, ticket FIN-77')).code).to.equal(0);
    // The payment deleted in SQL is verify's break until accepted with accept-rollback; the day's acceptance is not one.
    const rolledBack = await acceptAsVerified(env, 'payment deleted in SQL, investigated in FIN-77');
    expect(rolledBack.code, rolledBack.stderr).to.equal(0);
    const [entry] = (await con.store.consoleAudit.list({ action: 'reconciliation_day_accept' })).filter((e) => e.target?.includes(` day:${dayOf(22)} `));
    const line = `  - ACCEPTED DAY ${dayOf(22)} of account ******7040 by (cli) on ${jakartaTimestamp(entry.at, false)} (entry ${entry.id}): deleted: id ${ids[1]}; reason: statement read, ticket FIN-77`;
    const intact = await auditVerify(env);
    expect(intact.code, intact.text).to.equal(0);
    expect(intact.text.split('\n')).to.include('  1 reconciliation day(s) an operator accepted (gerbang audit accept-day), not breaks:').and.to.include(line);
    expect(intact.report.acceptedDays).to.deep.equal([{ account: '******7040', day: dayOf(22), entryId: entry.id, at: entry.at, username: '(cli)', reason: 'statement read, ticket FIN-77', deletedIds: [ids[1]], sealChanged: false, cut: false }]);
    // Forged: another day of the account accepted by a row written in SQL, without the chain key.
    const tag = accountTag(TEST_AUDIT_KEYS, account);
    await db.store().db.execute('INSERT INTO console_audit (at, username, action, target, detail, remote_ip) VALUES (?, ?, ?, ?, ?, ?)', [
      now,
      'cfo',
      'reconciliation_day_accept',
      `account:******7040 day:${dayOf(23)} tag:${tag}`,
      `digest 0123456789abcdef; account tag ${tag}; accepted: DELETED OUTSIDE GERBANG: the seal counted 2 payment(s), 1 still there or released through Gerbang, deleted: id 999; reason: forged in SQL`,
      'local',
    ]);
    const [forged] = await db.store().db.query<{ id: number | string }>("SELECT MAX(id) AS id FROM console_audit WHERE username = 'cfo'");
    const broken = await auditVerify(env);
    expect(broken.code, broken.text).to.equal(1);
    expect(broken.text).to.contain(`  - UNCHAINED: 1 console audit entries without a link (inserted directly), first ids: ${Number(forged.id)}`).and.not.to.contain('forged in SQL').and.not.to.contain(dayOf(23));
    expect(broken.text.split('\n')).to.include(line);
    expect(broken.report.acceptedDays?.map((d) => d.day)).to.deep.equal([dayOf(22)]);
    expect(broken.report.breaks.map((b) => [b.problem, b.recordId])).to.deep.include(['unchained', Number(forged.id)]);
    await db.store().db.execute('DELETE FROM console_audit WHERE id = ?', [forged.id]);
  });

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
    expect(await alerts(account, 3)).to.deep.equal({ missing: false, deleted: null, moved: null, sealBroken: false, unchecked: false });
    const log = (await client.get('/console/access-log?action=reconciliation_day_accept')).text;
    const rows = [...log.matchAll(/<tr data-action="reconciliation_day_accept"[^>]*>(?:<td[^>]*>.*?<\/td>)<td>([^<]*)<\/td><td><code>[^<]*<\/code><\/td><td>([^<]*)<\/td><td>([^<]*)<\/td>/g)].map((m) => m.slice(1));
    const tag = accountTag(TEST_AUDIT_KEYS, account);
    expect(rows).to.deep.include(['(cli)', `account:******7001 day:${dayOf(3)} tag:${tag}`, `digest ${digest}; account tag ${tag}; accepted: DELETED OUTSIDE GERBANG: the seal counted 3 payment(s), 2 still there or released through Gerbang, deleted: id ${ids[1]}; reason: bank statement checked, ticket FIN-42`]);
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
    expect(await alerts(account, 6)).to.deep.equal({ missing: false, deleted: null, moved: null, sealBroken: false, unchecked: false });
    const [entry] = await con.store.consoleAudit.list({ action: 'reconciliation_day_accept' });
    expect(entry).to.include({ username: '(cli)', target: `account:******7002 day:${dayOf(6)} tag:${accountTag(TEST_AUDIT_KEYS, account)}`, remoteIp: 'local' });
    expect(entry.detail).to.contain(`digest ${digest}; account tag ${accountTag(TEST_AUDIT_KEYS, account)}; accepted: SEAL CHANGED OUTSIDE GERBANG`).and.to.match(/; reason: bank statement checked, ticket FIN-42$/);
    // The look named what accepting seals: the two payments left, by id.
    expect(stderr).to.contain(`Accepting seals the day anew with these payments of it (each tag of the account):\n  - 2 payment(s): id ${ids[1]}, ${ids[2]}`);
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
      expect(await alerts(account, n), attack).to.deep.equal({ missing: false, deleted: null, moved: null, sealBroken: false, unchecked: false });
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
    const account = '0201777031';
    const twin = '0991777031';
    const ids = await sealedDay(account, 28);
    await sealedDay(twin, 28);
    await db.store().db.execute('DELETE FROM payments WHERE id = ?', [ids[2]]);
    expect((await acceptDay(account, 28, (await digestOf(account, 28)).digest)).code).to.equal(0);
    const entry = (await con.store.consoleAudit.list({ action: 'reconciliation_day_accept' })).find((e) => e.target?.includes(` day:${dayOf(28)} `))!;
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
    expect(refused.stderr).to.contain(`NOT accepted, nothing written: --expect ${stale} is not the digest that was printed for what day ${dayOf(15)}`).and.to.contain(`deleted: id ${ids[0]}, ${ids[1]}`);
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
    expect(await alerts(account, 21)).to.deep.equal({ missing: false, deleted: null, moved: null, sealBroken: false, unchecked: false });
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
  /** A tag no account has (what an attacker without the key can write). */
  const FORGED_TAG = 'deadbeefdeadbeefdeadbeefdeadbeef';

  it('a sealed payment whose account tag is cleared or forged in SQL is named as changed, not deleted; the day is never accepted without it, and nothing is written', async () => {
    for (const [n, account, tag] of [
      [4, '0201777010', null],
      [5, '0201777011', FORGED_TAG],
    ] as const) {
      const ids = await sealedDay(account, n);
      await db.store().db.execute('UPDATE payments SET source_account_tag = ? WHERE id = ?', [tag, ids[1]]);
      expect(await alerts(account, n), String(tag)).to.include({ missing: true, deleted: null, moved: String(ids[1]) });
      const looked = await refusedDay(account, n);
      expect(looked.stderr).to.contain(`CHANGED OUTSIDE GERBANG: the seal counted 3 payment(s), 2 still there or released through Gerbang, still in the database but not under the account on the day (changed in SQL): id ${ids[1]}`);
      expect(looked.stderr).to.contain(`cannot be sealed anew: payment id ${ids[1]} is still in the database but not under the account's tag`).and.not.to.contain('--expect ');
      expect(await alerts(account, n), String(tag)).to.include({ missing: true, moved: String(ids[1]) });
    }
  });

  it('a day whose seal row was deleted is not accepted while a payment of the account is read there without its tag (cleared in SQL)', async () => {
    const account = '0201777012';
    const ids = await sealedDay(account, 7);
    await db.store().db.execute('DELETE FROM reconciliation_seals WHERE account_tag = ? AND day = ?', sealKey(account, 7));
    await db.store().db.execute('UPDATE payments SET source_account_tag = NULL WHERE id = ?', [ids[0]]);
    expect((await refusedDay(account, 7)).stderr).to.contain(`cannot be sealed anew: payment id ${ids[0]} is still in the database but not under the account's tag`);
  });

  it('refuses a digest when the payments to seal were swapped in SQL after the look (the seal row deleted, so the count alone stays the same), writing nothing', async () => {
    const account = '0201777013';
    const ids = await sealedDay(account, 8);
    await db.store().db.execute('DELETE FROM reconciliation_seals WHERE account_tag = ? AND day = ?', sealKey(account, 8));
    const [own] = await db.store().db.query<{ tag: string }>('SELECT source_account_tag AS tag FROM payments WHERE id = ?', [ids[0]]);
    await db.store().db.execute('UPDATE payments SET source_account_tag = ? WHERE id = ?', [FORGED_TAG, ids[0]]);
    const { digest, stderr } = await digestOf(account, 8);
    expect(stderr).to.contain(`  - 2 payment(s): id ${ids[1]}, ${ids[2]}`);
    // After the look: the first back, the second out; as many payments read as when looked at.
    await db.store().db.execute('UPDATE payments SET source_account_tag = ? WHERE id = ?', [own.tag, ids[0]]);
    await db.store().db.execute('UPDATE payments SET source_account_tag = ? WHERE id = ?', [FORGED_TAG, ids[1]]);
    const refused = await refusedDay(account, 8, digest);
    expect(refused.stderr).to.contain(`--expect ${digest} is not the digest that was printed`).and.to.contain(`  - 2 payment(s): id ${ids[0]}, ${ids[2]}`);
  });

  it('refuses a day when a payment of it was rolled back in SQL after the look (its last event and that event\'s link deleted, its row set back to the event before), naming the gap in the chains, writing nothing', async () => {
    const account = '0201777020';
    const { ids, digest } = await lookedAtDeletion(account, 17, 0);
    const events = await db.store().db.query<{ id: number | string; state: string; bank: string | null; operation: string | null; http_status: number | null }>(
      'SELECT id, state, bank, operation, http_status FROM payment_events WHERE payment_id = ? ORDER BY seq',
      [ids[2]],
    );
    const [previous, last] = events.slice(-2);
    const [event, link, row] = [
      await copyRow(db.store().db, 'payment_events', 'id = ?', [last.id]),
      await copyRow(db.store().db, 'audit_chain', "kind = 'payment_event' AND record_id = ?", [last.id]),
      await copyRow(db.store().db, 'payments', 'id = ?', [ids[2]]),
    ];
    await db.store().db.execute("DELETE FROM audit_chain WHERE kind = 'payment_event' AND record_id = ?", [last.id]);
    await db.store().db.execute('DELETE FROM payment_events WHERE id = ?', [last.id]);
    await db.store().db.execute('UPDATE payments SET state = ?, bank = ?, operation = ?, http_status = ? WHERE id = ?', [previous.state, previous.bank, previous.operation, previous.http_status, ids[2]]);
    try {
      // The day the look named is refused before its digest is compared: its histories prove nothing while the chains have a gap.
      expect((await refusedDay(account, 17, digest)).stderr).to.contain('the audit chains do not hold as a whole').and.to.contain(`chain ${String(link.writer_id)}`);
    } finally {
      await insertRow(db.store().db, 'payment_events', event);
      await insertRow(db.store().db, 'audit_chain', link);
      await writeBack(db.store().db, 'payments', row, 'id = ?', [ids[2]]);
    }
  });

  it('refuses the digest printed for another account ending in the same four digits (seals from before they named their payments: the same count short); the record names the account by its tag', async () => {
    const [a, b] = ['0201777014', '0999997014'];
    const [idsA, idsB] = [await sealedDay(a, 10), await sealedDay(b, 10)];
    // Written back as a console of before migration 041 wrote them: a count and a seal, under their MAC and change record.
    const old = new ChainLanes(db.store().db, `old-console-${randomBytes(3).toString('hex')}`, 1, () => TEST_AUDIT_KEYS);
    const seals = await db.store().db.query<MacedRow>('SELECT * FROM reconciliation_seals WHERE account_tag IN (?, ?) AND day = ?', [sealKey(a, 10)[0], ...sealKey(b, 10)]);
    await changeRows(old, new ValueSealer(TEST_AUDIT_KEYS), now, async (rows) => {
      for (const seal of seals) expect(await rows.update(RECONCILIATION_SEALS, seal, { payment_ids: null })).to.equal(true);
    });
    await db.store().db.execute('DELETE FROM payments WHERE id IN (?, ?)', [idsA[0], idsB[0]]);
    const { digest, stderr } = await digestOf(a, 10);
    expect(stderr).to.contain('DELETED OUTSIDE GERBANG: the seal counted 3 payment(s), 2 still there or released through Gerbang\n');
    expect((await refusedDay(b, 10, digest)).stderr).to.contain(`--expect ${digest} is not the digest that was printed for what day ${dayOf(10)} of account ******7014`);
    expect((await acceptDay(a, 10, digest)).code).to.equal(0);
    const entry = (await con.store.consoleAudit.list({ action: 'reconciliation_day_accept' })).find((e) => e.target?.startsWith(`account:******7014 day:${dayOf(10)} tag:`))!;
    expect(entry.detail).to.contain(`; account tag ${accountTag(TEST_AUDIT_KEYS, a)}; `).and.not.to.contain(a);
    expect(await alerts(b, 10)).to.include({ missing: true, deleted: null });
  });

  it('accepts the digest typed in capitals; refuses a mistyped one as not a digest (exit 2, naming --expect), writing nothing', async () => {
    const account = '0201777015';
    const { digest } = await lookedAtDeletion(account, 11, 2);
    for (const typo of [digest.slice(1), `${digest.slice(0, 15)}g`]) {
      const refused = await refusedDay(account, 11, typo, undefined, 2);
      expect(refused.stderr.split('\n')[0]).to.equal(`gerbang audit: --expect must be the digest accept-day printed (16 hex digits, as 9c41d7e02ab35f60), got ${JSON.stringify(typo)}`);
    }
    const accepted = await acceptDay(account, 11, digest.toUpperCase());
    expect(accepted.code, accepted.stderr).to.equal(0);
    expect(await alerts(account, 11)).to.include({ missing: false });
  });

  it('keeps the whole record or none: a reason past 300 characters is refused (exit 2), and a record past what the console audit keeps is refused, naming its length; accepted, every id is in it, the reason last', async () => {
    const account = '0201777016';
    const ids = await sealedDay(account, 13, 130);
    const gone = ids.slice(0, 125);
    await db.store().db.execute(`DELETE FROM payments WHERE id IN (${gone.join(', ')})`);
    const { digest } = await digestOf(account, 13);
    const before = await written();
    const long = await acceptDay(account, 13, digest, `ticket FIN-42 ${'x'.repeat(300)}`);
    expect([long.code, long.stderr.split('\n')[0]]).to.deep.equal([2, 'gerbang audit: --reason is 314 characters long; at most 300 are kept (name the ticket that holds the rest)']);
    const big = await acceptDay(account, 13, digest, `ticket FIN-42 ${'x'.repeat(280)}`);
    expect(big.code, big.stdout).to.equal(1);
    expect(big.stderr).to.match(/cannot be accepted: its record would be \d{4} characters, the console audit keeps 1024: shorten --reason/);
    expect(await written()).to.equal(before);
    expect((await acceptDay(account, 13, digest, 'FIN-42')).code).to.equal(0);
    const entry = (await con.store.consoleAudit.list({ action: 'reconciliation_day_accept' })).find((e) => e.target?.includes(` day:${dayOf(13)} `))!;
    expect(entry.detail).to.contain(`deleted: id ${gone.join(', ')}; reason: FIN-42`).and.to.match(/; reason: FIN-42$/);
  });

  it('refuses a reason with control or direction characters, a day not written yyyy-MM-dd or not real, an account not digits, with accept-day\'s usage alone (exit 2), writing nothing', async () => {
    const before = await written();
    for (const [account, day, reason, error] of [
      ['0201777001', '2024-03-03', 'ok\u001b[2K\rACCEPTED BY CFO', '--reason must be plain text on one line'],
      ['0201777001', '2024-03-03', 'ok \u202Egnp.exe', '--reason must be plain text on one line'],
      ['0201777001', '2024-03-03', 'first line\nsecond line', '--reason must be plain text on one line'],
      ['0201777001', '2024-03-03', '   ', '--reason is required'],
      ['0201777001', '2024-02-30', 'r', '--day must be a day as yyyy-MM-dd (2026-11-12), got "2024-02-30"'],
      ['0201777001', '2024-03-01T00:00', 'r', '--day must be a day as yyyy-MM-dd'],
      ['abc', '2024-03-03', 'r', '--account must be a company account number (6 to 20 digits), got "abc"'],
    ]) {
      const refused = await acceptDay(account, day, '0123456789abcdef', reason);
      expect(refused.code, error).to.equal(2);
      expect(refused.stderr, error).to.contain(`gerbang audit: ${error}`).and.to.contain('\ngerbang audit accept-day --account ACCOUNT').and.not.to.contain('gerbang audit export');
    }
    expect(await written()).to.equal(before);
  });

  it('refuses a day not closed yet (today, with a seal row inserted in SQL; a day to come), naming when it can be accepted, writing nothing', async () => {
    const account = '0201777017';
    const t = Date.now();
    const today = new Date(t + 7 * HOUR_MS).toISOString().slice(0, 10);
    const p = await con.store.payments.reserve({ clientId: 'accept-day', transactionId: `ACC-${account}-today`, requestHash: 'a'.repeat(64), amount: '5.00', currency: 'IDR', sourceAccount: account }, t - 60_000);
    await con.store.payments.update(p.id, { state: 'SUCCESS', bank: 'bca' }, t - 30_000);
    await db.store().db.execute('INSERT INTO reconciliation_seals (account_tag, day, row_count, seal, sealed_at) VALUES (?, ?, 5, ?, ?)', [accountTag(TEST_AUDIT_KEYS, account), Date.parse(`${today}T00:00:00Z`) / DAY_MS, 'x', t]);
    const next = (day: string) => new Date(Date.parse(`${day}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10);
    for (const [day, after] of [[today, next(today)], ['2999-01-01', '2999-01-02'], ['9999-12-31', '10000-01-01']]) {
      const refused = await refusedDay(account, day, '0123456789abcdef');
      expect(refused.stderr).to.equal(`NOT accepted, nothing written: day ${day} of account ******7017 is not closed yet: accept it after ${after} 01:00 WIB, when it is sealed.\n`);
    }
  });

  /** Runs `run` while a trigger refuses every `write` (INSERT, UPDATE) on `table`, as a DBA could. */
  async function whileRefused<T>(table: string, write: string, run: () => Promise<T>): Promise<T> {
    const name = `refuse_${table}`;
    await db.store().db.execute(
      db.backend === 'sqlite'
        ? `CREATE TRIGGER ${name} BEFORE ${write} ON ${table} BEGIN SELECT RAISE(ABORT, 'refused by a trigger'); END`
        : `CREATE TRIGGER ${name} BEFORE ${write} ON ${table} FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused by a trigger'`,
    );
    try {
      return await run();
    } finally {
      await db.store().db.execute(`DROP TRIGGER ${name}`);
    }
  }

  it('the record refused by the database (a trigger): NOT accepted, nothing written, the cause said without a stack; the day still named', async () => {
    const account = '0201777018';
    const { ids, digest } = await lookedAtDeletion(account, 14, 1);
    const refused = await whileRefused('console_audit', 'INSERT', () => refusedDay(account, 14, digest));
    expect(refused.stderr).to.match(new RegExp(`^NOT accepted, nothing written: the acceptance of day ${dayOf(14)} of account \\*{6}7018 could not be written to the console audit: [^\\n]*refused by a trigger[^\\n]*\\n$`));
    expect(await alerts(account, 14)).to.include({ missing: true, deleted: String(ids[1]) });
  });

  it('the seal refused by the database after the record was written: NOT sealed, said without a stack with the record kept; the day still named, and accepted by the same digest once run again', async () => {
    const account = '0201777021';
    const { ids, digest } = await lookedAtDeletion(account, 19, 1);
    const run = await whileRefused('reconciliation_seals', 'UPDATE', () => acceptDay(account, 19, digest));
    expect(run.code).to.equal(1);
    expect(run.stderr).to.match(new RegExp(`^NOT sealed: the acceptance of day ${dayOf(19)} of account \\*{6}7021 is in the console audit \\(digest ${digest}\\), but the day was not sealed \\(the page still names it\\): [^\\n]*refused by a trigger[^\\n]*\\. Run the command again\\.\\n$`));
    expect((await con.store.consoleAudit.list({ action: 'reconciliation_day_accept' })).filter((e) => e.target?.includes(` day:${dayOf(19)} `))).to.have.length(1);
    expect(await alerts(account, 19)).to.include({ missing: true, deleted: String(ids[1]) });
    expect((await acceptDay(account, 19, digest)).code).to.equal(0);
    expect(await alerts(account, 19)).to.include({ missing: false });
  });
});
