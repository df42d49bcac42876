import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChainGuard, readCheckpoints, storeAgainstCheckpoints } from '../../src/audit/index.js';
import type { StatementReader } from '../../src/console/statement-reader.js';
import { answerProblem } from '../../src/store/index.js';
import { accountTag } from '../../src/store/repositories/payment-repository.js';
import { TEST_AUDIT_KEY, TEST_AUDIT_KEYS } from '../support/audit-keys.js';
import { acceptAsVerified, runCli } from '../support/cli.js';
import { ConsoleClient } from '../support/console-client.js';
import { TestConsole } from '../support/console-harness.js';
import { forEachBackend } from '../support/databases.js';
import { copyRow, insertRow, writeBack, type Row } from '../support/sql-rows.js';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/**
 * The attacker of docs/security/threat-model.md (a database writer without keys) against the
 * reconciliation's day seals through the audit chains (#16, F5 and F6): a payment's newest event
 * deleted with its chain link and its row set back to the event before, or a sealed day's payment
 * deleted whole with the day's seal row, its change records and all their links. Each link left
 * holds by itself; only the gap says what is missing. The payments and seals are written by the
 * store and the console; the attacks in SQL only.
 */
forEachBackend('An attacker without keys who deletes records with their chain links under the reconciliation (#16)', (ctx) => {
  const checkpoints = join(mkdtempSync(join(tmpdir(), 'gerbang-recon-gap-')), 'audit-checkpoints.jsonl');
  let con: TestConsole;
  let client: ConsoleClient;
  // Days of 2024-03 long closed; the console's clock on 2024-03-20.
  const dayStart = (n: number) => Date.UTC(2024, 2, n) - 7 * HOUR_MS;
  const label = (n: number) => `2024-03-${String(n).padStart(2, '0')}`;
  const now = dayStart(20) + 10 * HOUR_MS;
  const statements: StatementReader = { read: async (account, from, to) => ({ accountNumber: account, currency: 'IDR', from, to, openingBalance: null, bank: 'bca', entries: [] }) };
  const db = () => con.store.db;

  before(async () => {
    con = await TestConsole.start(ctx.url(), { GERBANG_LOG_LEVEL: 'silent', GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints }, { clock: () => now, statements, sealSweep: false });
    const user = await con.createUser('recon-gap', 'viewer');
    client = new ConsoleClient(con.origin);
    expect((await client.signIn(user.username, user.password)).status).to.equal(303);
  });
  after(() => con?.close());

  /** Payments of `account` made on day `n` as the gateway makes them: reserved, then settled SUCCESS (two events each). */
  async function paid(account: string, n: number, txs: string[]): Promise<number[]> {
    const ids: number[] = [];
    for (const [i, tx] of txs.entries()) {
      const p = await con.store.payments.reserve({ clientId: 'recon-gap', transactionId: tx, requestHash: 'a'.repeat(64), amount: `${1000 + i}.00`, currency: 'IDR', sourceAccount: account }, dayStart(n) + HOUR_MS + i);
      expect(await con.store.payments.update(p.id, { state: 'SUCCESS', bank: 'bca', bankTransactionId: `BT-${tx}` }, dayStart(n) + 2 * HOUR_MS + i)).to.equal(true);
      ids.push(p.id);
    }
    return ids;
  }

  /** The reconciliation page of `account` for day `n`, in the clerk's language (Indonesian unless `lang`). */
  const page = async (account: string, n: number, lang: 'id' | 'en' = 'id') => {
    await client.get(`/console/lang?to=${lang}`);
    const read = await client.get(`/console/reconciliation?account=${account}&from=${label(n)}&to=${label(n)}`);
    expect(read.status, read.text).to.equal(200);
    return read.text;
  };
  /** The seal row of `account`'s day `n` (its Jakarta day number), if any. */
  const sealOf = async (account: string, n: number) => db().query<Row>('SELECT * FROM reconciliation_seals WHERE account_tag = ? AND day = ?', [accountTag(TEST_AUDIT_KEYS, account), Date.UTC(2024, 2, n) / DAY_MS]);

  /** A payment's newest event and its chain link, as they stand (to delete, then put back). */
  async function newestEvent(id: number): Promise<{ event: Row; link: Row }> {
    const event = await copyRow(db(), 'payment_events', 'payment_id = ? AND seq = (SELECT MAX(seq) FROM payment_events WHERE payment_id = ?)', [id, id]);
    const link = await copyRow(db(), 'audit_chain', "kind = 'payment_event' AND record_id = ?", [event.id]);
    return { event, link };
  }

  it('F5: a payment\'s newest event deleted with its link and its row set back to the event before: the day is not sealed and the page says why (id, en); put back, it is sealed, and after audit verify checkpointed it with a CLI chain at link 0 too', async function () {
    this.timeout(60_000);
    const account = '0201777001';
    const n = 5;
    const [first] = await paid(account, n, ['GAP-1']);
    const reserved = await con.store.payments.reserve({ clientId: 'recon-gap', transactionId: 'GAP-2', requestHash: 'a'.repeat(64), amount: '1001.00', currency: 'IDR', sourceAccount: account }, dayStart(n) + 3 * HOUR_MS);
    // Its row as its first event left it, with the MAC it had then (which covers what never changes).
    const before = await copyRow(db(), 'payments', 'id = ?', [reserved.id]);
    expect(await con.store.payments.update(reserved.id, { state: 'SUCCESS', bank: 'bca', bankTransactionId: 'BT-GAP-2' }, dayStart(n) + 4 * HOUR_MS)).to.equal(true);
    const ids = [first, reserved.id];
    const settled = await copyRow(db(), 'payments', 'id = ?', [ids[1]]);
    const { event, link } = await newestEvent(ids[1]);
    await db().execute('DELETE FROM audit_chain WHERE writer_id = ? AND seq = ?', [link.writer_id, link.seq]);
    await db().execute('DELETE FROM payment_events WHERE id = ?', [event.id]);
    await writeBack(db(), 'payments', before, 'id = ?', [ids[1]]);
    try {
      const id = await page(account, n);
      expect(id).to.contain(`data-unprovable-days="${label(n)}"`).and.to.contain('TIDAK DAPAT DIBUKTIKAN: rantai audit tidak utuh');
      expect(id).to.contain(`link ${String(link.seq)} of chain ${String(link.writer_id)} is missing`).and.to.contain('a record and its link were deleted');
      expect(id).not.to.contain('recon-all-matched').and.not.to.contain('recon-lines-matched');
      expect(id).to.contain(`data-unchecked-days="${label(n)}"`);
      const en = await page(account, n, 'en');
      expect(en).to.contain('NOT PROVABLE: the audit chains do not hold as a whole');
      expect(await sealOf(account, n), 'not sealed with the rolled-back payment').to.deep.equal([]);
    } finally {
      await insertRow(db(), 'payment_events', event);
      await insertRow(db(), 'audit_chain', link);
      await writeBack(db(), 'payments', settled, 'id = ?', [ids[1]]);
    }
    // Put back as the gateway left it: proved and sealed, nothing named.
    let text = await page(account, n);
    expect(text).not.to.contain('recon-unprovable');
    expect((await sealOf(account, n)).map((s) => Number(s.row_count))).to.deep.equal([2]);

    // No false alarm once audit verify checkpointed the chains, nor with a CLI process's chain at link 0 (its first append refused).
    const verified = await runCli(['audit', 'verify'], { GERBANG_DATABASE_URL: ctx.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints });
    expect(verified.code, verified.stdout + verified.stderr).to.equal(0);
    expect(existsSync(checkpoints) && readFileSync(checkpoints, 'utf8')).to.contain('"by":"verify"');
    await insertRow(db(), 'audit_writers', { writer_id: 'cli-host-4242-0badf00d', host: 'cli-host', pid: 4242, started_at: now, last_seq: 0, last_hash: '0'.repeat(64), updated_at: now });
    const later = '0201777002';
    await paid(later, n + 1, ['GAP-3']);
    text = await page(later, n + 1);
    expect(text).not.to.contain('recon-unprovable');
    expect((await sealOf(later, n + 1)).map((s) => Number(s.row_count))).to.deep.equal([1]);
  });

  it('a checkpoint file that is there but cannot be read is a problem (fail closed), one not written yet vouches for nothing', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'gerbang-recon-gap-unreadable-'));
    // A folder where the file should be: opened, it cannot be read.
    const unreadable = new ChainGuard(con.store.audit, TEST_AUDIT_KEYS, folder, con.store.db.description);
    expect(await unreadable.problem()).to.contain(`the audit checkpoint file ${folder} cannot be read`);
    const none = new ChainGuard(con.store.audit, TEST_AUDIT_KEYS, join(folder, 'not-yet.jsonl'), con.store.db.description);
    expect(await none.problem()).to.equal(null);
  });

  /** A payment of `account` reserved then settled on day `n`: its id, its row as reserved (with the MAC it had then) and as settled, its settle event and that event's link. */
  async function settledOnce(account: string, n: number, tx: string): Promise<{ id: number; reserved: Row; settled: Row; event: Row; link: Row }> {
    const p = await con.store.payments.reserve({ clientId: 'recon-gap', transactionId: tx, requestHash: 'a'.repeat(64), amount: '1001.00', currency: 'IDR', sourceAccount: account }, dayStart(n) + 3 * HOUR_MS);
    const reserved = await copyRow(db(), 'payments', 'id = ?', [p.id]);
    expect(await con.store.payments.update(p.id, { state: 'SUCCESS', bank: 'bca', bankTransactionId: `BT-${tx}` }, dayStart(n) + 4 * HOUR_MS)).to.equal(true);
    const settled = await copyRow(db(), 'payments', 'id = ?', [p.id]);
    return { id: p.id, reserved, settled, ...(await newestEvent(p.id)) };
  }
  /** Link `row` put in the place of chain link `at` (its writer and seq); with `head`, the chain's head row set to it as well. */
  async function putInPlace(at: Row, row: Row, head = false): Promise<void> {
    await db().execute('DELETE FROM audit_chain WHERE writer_id = ? AND seq = ?', [at.writer_id, at.seq]);
    await insertRow(db(), 'audit_chain', row);
    if (head) await db().execute('UPDATE audit_writers SET last_hash = ? WHERE writer_id = ?', [row.hash, at.writer_id]);
  }
  /** A payment settled after the one attacked, so that its link is not its chain's head. */
  const later = (account: string, n: number, tx: string) => paid(account, n, [tx]);

  it('a payment\'s settle event deleted while its link stays (the count of links unchanged), its row set back as reserved: the day is not sealed and the page names the record deleted; put back, it is sealed', async function () {
    this.timeout(60_000);
    const account = '0201777011';
    const n = 9;
    const { id, reserved, settled, event } = await settledOnce(account, n, 'KEEP-1');
    await later(account, n, 'KEEP-2');
    await db().execute('DELETE FROM payment_events WHERE id = ?', [event.id]);
    await writeBack(db(), 'payments', reserved, 'id = ?', [id]);
    try {
      const text = await page(account, n, 'en');
      expect(text).to.contain(`data-unprovable-days="${label(n)}"`).and.to.contain('NOT PROVABLE: the audit chains do not hold as a whole');
      expect(text).to.contain(`payment_events id ${String(event.id)}`).and.to.contain('was deleted');
      expect(await sealOf(account, n), 'not sealed over the rolled-back payment').to.deep.equal([]);
    } finally {
      await insertRow(db(), 'payment_events', event);
      await writeBack(db(), 'payments', settled, 'id = ?', [id]);
    }
    expect(await page(account, n)).not.to.contain('recon-unprovable');
    expect((await sealOf(account, n)).map((s) => Number(s.row_count))).to.deep.equal([2]);
  });

  it('a payment\'s settle event deleted with its link and a made-up link put in its place (the count unchanged), its row set back as reserved: the day is not sealed; put back, it is sealed', async function () {
    this.timeout(60_000);
    const account = '0201777012';
    const n = 10;
    const { id, reserved, settled, event, link } = await settledOnce(account, n, 'JUNK-1');
    await later(account, n, 'JUNK-2');
    await db().execute('DELETE FROM payment_events WHERE id = ?', [event.id]);
    await putInPlace(link, { ...link, kind: 'record_change', record_id: 999999999, hash: 'f'.repeat(64) });
    await writeBack(db(), 'payments', reserved, 'id = ?', [id]);
    try {
      const text = await page(account, n, 'en');
      expect(text).to.contain(`data-unprovable-days="${label(n)}"`).and.to.contain(`seq ${String(link.seq)}`);
      expect(await sealOf(account, n), 'not sealed over the rolled-back payment').to.deep.equal([]);
    } finally {
      await putInPlace(link, link);
      await insertRow(db(), 'payment_events', event);
      await writeBack(db(), 'payments', settled, 'id = ?', [id]);
    }
    expect(await page(account, n)).not.to.contain('recon-unprovable');
    expect((await sealOf(account, n)).map((s) => Number(s.row_count))).to.deep.equal([2]);
  });

  it('a chain\'s head link replaced by a made-up one (the head row set to it): refused under the ring\'s key id, and under a key id the ring lacks not provable, naming the key; its settle event then deleted and the row set back: the day is not sealed; put back, it is sealed', async function () {
    this.timeout(60_000);
    const account = '0201777013';
    const n = 11;
    const { id, reserved, settled, event, link } = await settledOnce(account, n, 'HEAD-1');
    const [head] = await db().query<Row>('SELECT last_seq, last_hash FROM audit_writers WHERE writer_id = ?', [link.writer_id]);
    expect(Number(head.last_seq), 'the settle event is its chain\'s head').to.equal(Number(link.seq));
    const guard = new ChainGuard(con.store.audit, TEST_AUDIT_KEYS, checkpoints, con.store.db.description);
    const replace = (row: Row) => putInPlace(link, row, true);
    try {
      await replace({ ...link, hash: 'd'.repeat(64) });
      expect(await guard.problem(dayStart(n)), 'under the ring\'s key id').to.contain(`payment_events id ${String(event.id)}`);
      await replace({ ...link, key_id: 'k-not-in-ring', hash: 'd'.repeat(64) });
      expect(await guard.problem(dayStart(n))).to.contain('"k-not-in-ring"').and.to.contain('give the console the key');
      await db().execute('DELETE FROM payment_events WHERE id = ?', [event.id]);
      await writeBack(db(), 'payments', reserved, 'id = ?', [id]);
      expect(await guard.problem(dayStart(n))).to.be.a('string');
      // Read as the page reads it, without the page's own audit record (its link would follow the made-up one, and stay).
      const read = await con.store.paymentSearch.fromAccount(account, dayStart(n), dayStart(n + 1));
      expect(read.unprovable?.days).to.deep.equal([label(n)]);
      expect(await sealOf(account, n), 'not sealed over the rolled-back payment').to.deep.equal([]);
    } finally {
      await replace(link);
      if ((await db().query('SELECT id FROM payment_events WHERE id = ?', [event.id])).length === 0) await insertRow(db(), 'payment_events', event);
      await writeBack(db(), 'payments', settled, 'id = ?', [id]);
    }
    expect(await guard.problem(dayStart(n))).to.equal(null);
    expect(await page(account, n)).not.to.contain('recon-unprovable');
    expect((await sealOf(account, n)).map((s) => Number(s.row_count))).to.deep.equal([1]);
  });

  it('a checkpointed head link replaced by a made-up one under a key id the ring lacks (the head row set to it): the checkpoints name the chain rewritten, not taken for a key rotation; put back, nothing named', async function () {
    this.timeout(60_000);
    const account = '0201777014';
    const n = 12;
    const { link } = await settledOnce(account, n, 'CKPT-1');
    const verified = await runCli(['audit', 'verify'], { GERBANG_DATABASE_URL: ctx.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints });
    expect(verified.code, verified.stdout + verified.stderr).to.equal(0);
    const against = async () => (await storeAgainstCheckpoints(con.store.audit, readCheckpoints(checkpoints, TEST_AUDIT_KEYS, con.store.db.description), checkpoints)).breaks;
    expect(readCheckpoints(checkpoints, TEST_AUDIT_KEYS, con.store.db.description).heads.get(String(link.writer_id))?.seq, 'its head checkpointed').to.equal(Number(link.seq));
    expect(await against()).to.deep.equal([]);
    const replace = (row: Row) => putInPlace(link, row, true);
    await replace({ ...link, key_id: 'k-not-in-ring', hash: 'd'.repeat(64) });
    try {
      expect((await against()).map((b) => [b.writerId, b.problem])).to.deep.equal([[link.writer_id, 'altered']]);
    } finally {
      await replace(link);
    }
    expect(await against()).to.deep.equal([]);
  });

  it('a gap an operator accepted (audit accept-rollback, after audit verify named it) is left out of the walk: another account\'s payments of that day are sealed', async function () {
    this.timeout(120_000);
    const n = 13;
    const { id, reserved, event, link } = await settledOnce('0201777015', n, 'ACC-1');
    await later('0201777015', n, 'ACC-2');
    await db().execute('DELETE FROM payment_events WHERE id = ?', [event.id]);
    await db().execute('DELETE FROM audit_chain WHERE writer_id = ? AND seq = ?', [link.writer_id, link.seq]);
    await writeBack(db(), 'payments', reserved, 'id = ?', [id]);
    const other = '0201777016';
    await paid(other, n, ['ACC-3']);
    expect(await page(other, n), 'the gap not yet accepted').to.contain(`data-unprovable-days="${label(n)}"`);
    const accepted = await acceptAsVerified({ GERBANG_DATABASE_URL: ctx.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints }, 'investigated in FIN-16');
    expect(accepted.code, accepted.stdout + accepted.stderr).to.equal(0);
    expect(await page(other, n)).not.to.contain('recon-unprovable');
    expect((await sealOf(other, n)).map((s) => Number(s.row_count))).to.deep.equal([1]);
  });

  // Last: the gap it leaves stays.
  it('while the chains do not hold, one run of the seal sweep walks them once, however many days it counts and accounts it would seal; put back, the next run seals them', async function () {
    this.timeout(120_000);
    const accounts = ['0201777021', '0201777022'];
    const n = 14;
    const { id, reserved, settled, event } = await settledOnce(accounts[0], n, 'SWEEP-1');
    await later(accounts[0], n, 'SWEEP-2');
    await paid(accounts[1], n, ['SWEEP-3']);
    // The console's guard, asked through a count of its walks.
    const guard = new ChainGuard(con.store.audit, TEST_AUDIT_KEYS, checkpoints, con.store.db.description);
    let walks = 0;
    // Walked in the seal's snapshot, as the console's guard is (guardSeals).
    con.store.paymentSearch.guardSeals(() => {
      const vouched = guard.vouched();
      return (since, _maxLinks, q) => {
        walks += 1;
        return vouched(since, undefined, con.store.audit.readingOn(q)).then(answerProblem);
      };
    });
    try {
      await db().execute('DELETE FROM payment_events WHERE id = ?', [event.id]);
      await writeBack(db(), 'payments', reserved, 'id = ?', [id]);
      try {
        const swept = await con.store.paymentSearch.sealClosedDays(now);
        expect(walks, 'walks of the chains in one run').to.equal(1);
        expect(swept.sealed).to.equal(0);
        for (const account of accounts) expect(await sealOf(account, n), account).to.deep.equal([]);
      } finally {
        await insertRow(db(), 'payment_events', event);
        await writeBack(db(), 'payments', settled, 'id = ?', [id]);
      }
      walks = 0;
      await con.store.paymentSearch.sealClosedDays(now);
      expect(walks, 'the next run asks again').to.be.greaterThan(0);
      expect((await sealOf(accounts[0], n)).map((s) => Number(s.row_count))).to.deep.equal([2]);
      expect((await sealOf(accounts[1], n)).map((s) => Number(s.row_count))).to.deep.equal([1]);
    } finally {
      con.store.paymentSearch.guardSeals(() => {
        const vouched = guard.vouched();
        return (since, maxLinks, q) => vouched(since, maxLinks, con.store.audit.readingOn(q));
      });
    }
  });

  it('F6: a sealed day\'s payment deleted whole (its row, events and their links) with the day\'s seal row, its change records and their links: not sealed anew as clean, and the page says why', async function () {
    this.timeout(60_000);
    const account = '0201777003';
    const n = 8;
    const ids = await paid(account, n, ['GONE-1', 'GONE-2']);
    expect(await page(account, n)).not.to.contain('recon-unprovable');
    const [seal] = await sealOf(account, n);
    expect(Number(seal.row_count)).to.equal(2);
    const key = JSON.stringify([String(seal.account_tag), String(Number(seal.day))]);
    const changes = await db().query<{ id: number | string }>("SELECT id FROM record_changes WHERE table_name = 'reconciliation_seals' AND row_key = ?", [key]);
    expect(changes.length, 'the seal\'s change records').to.be.greaterThan(0);
    const events = await db().query<{ id: number | string }>('SELECT id FROM payment_events WHERE payment_id = ?', [ids[1]]);
    for (const { id } of changes) {
      await db().execute("DELETE FROM audit_chain WHERE kind = 'record_change' AND record_id = ?", [Number(id)]);
      await db().execute('DELETE FROM record_changes WHERE id = ?', [Number(id)]);
    }
    for (const { id } of events) {
      await db().execute("DELETE FROM audit_chain WHERE kind = 'payment_event' AND record_id = ?", [Number(id)]);
      await db().execute('DELETE FROM payment_events WHERE id = ?', [Number(id)]);
    }
    await db().execute('DELETE FROM payment_search_grams WHERE payment_id = ?', [ids[1]]);
    await db().execute('DELETE FROM payments WHERE id = ?', [ids[1]]);
    await db().execute('DELETE FROM reconciliation_seals WHERE account_tag = ? AND day = ?', [seal.account_tag, seal.day]);

    const text = await page(account, n);
    expect(text).to.contain(`data-unprovable-days="${label(n)}"`).and.to.contain('rantai audit tidak utuh');
    expect(await sealOf(account, n), 'not sealed anew with one payment').to.deep.equal([]);
    // Read again (the sweep's reading too): still not sealed.
    expect(await page(account, n)).to.contain('recon-unprovable');
    expect(await sealOf(account, n)).to.deep.equal([]);
  });
});
