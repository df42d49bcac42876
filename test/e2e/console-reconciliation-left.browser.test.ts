import { expect } from 'chai';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { StatementReader } from '../../src/console/statement-reader.js';
import { migrate, openStore, type Store } from '../../src/store/index.js';
import { accountTag } from '../../src/store/repositories/payment-repository.js';
import { TEST_AUDIT_KEYS } from '../support/audit-keys.js';
import { axeViolations, computedBackground, launchBrowser, requireChromium } from '../support/browser.js';
import { TestConsole } from '../support/console-harness.js';
import { createMariaDbDatabase } from '../support/databases.js';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** docs/console (the finance guide's pictures) when GERBANG_UPDATE_SCREENSHOTS=1, else a temp folder. */
const SHOTS = process.env.GERBANG_UPDATE_SCREENSHOTS === '1' ? join(__dirname, '..', '..', '..', 'docs', 'console') : mkdtempSync(join(tmpdir(), 'gerbang-shots-'));
const ACCOUNT = '0201245690';

/** Payments of ACCOUNT made as the gateway makes them: reserved at `at` (plus its place), then settled SUCCESS an hour later. */
async function paid(store: Store, payments: readonly { tx: string; amount: string }[], at: number, account = ACCOUNT): Promise<void> {
  for (const [i, p] of payments.entries()) {
    const reserved = await store.payments.reserve({ clientId: 'left', transactionId: p.tx, requestHash: 'a'.repeat(64), amount: p.amount, currency: 'IDR', sourceAccount: account }, at + i);
    expect(await store.payments.update(reserved.id, { state: 'SUCCESS', bank: 'bca', bankTransactionId: `BT-${p.tx}` }, at + HOUR_MS + i)).to.equal(true);
  }
}

/** What a test of this file works with once its console is up (reconciliationConsole). */
interface ReconciliationConsole {
  store: Store;
  con: TestConsole;
  page: Page;
  /** The reconciliation page of ACCOUNT from `from` (dd/mm/yyyy) to the day, in `lang`. */
  open(lang: 'id' | 'en', from?: string): Promise<void>;
  /** The row counts of ACCOUNT's day seals. */
  sealRows(): Promise<number[]>;
}

/**
 * Registers the hooks of a describe: a console over a new database whose store reads with
 * `readLimits` (the default bound when none), `prepare` run on the store before the console starts,
 * the statement debiting `payments` (debiting), and a clerk signed in a browser. The object
 * returned is filled in before the tests run.
 */
function reconciliationConsole(
  payments: readonly { tx: string; amount: string; day: string }[],
  typed: string,
  prepare: (store: Store) => Promise<void>,
  readLimits?: { readingChainLinks: number },
): ReconciliationConsole {
  const r = {} as ReconciliationConsole;
  let close: () => Promise<void> = async () => undefined;
  before(async function () {
    requireChromium(this);
    const database = await createMariaDbDatabase(this);
    const store = await openStore(database.url, { auditKeys: TEST_AUDIT_KEYS, ...(readLimits === undefined ? {} : { readLimits }) });
    await migrate(store.db);
    await prepare(store);
    const checkpoints = join(mkdtempSync(join(tmpdir(), 'gerbang-recon-left-')), 'audit-checkpoints.jsonl');
    const con = await TestConsole.start(database.url, { GERBANG_LOG_LEVEL: 'silent', GERBANG_CONSOLE_SIGN_IN_PER_IP: '1000', GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints }, { store, statements: debiting(payments), sealSweep: false });
    const user = await con.createUser('sari.rekon', 'viewer');
    mkdirSync(SHOTS, { recursive: true });
    const browser = await launchBrowser();
    const page = await browser.context.newPage();
    close = async () => {
      await browser.close();
      await con.close();
      await store.close();
      await database.drop();
    };
    await page.goto(`${con.url}/sign-in`);
    await page.fill('input[name=username]', user.username);
    await page.fill('input[name=password]', user.password);
    await Promise.all([page.waitForURL(/\/console\/payments/), page.click('form.sign-in button[type=submit]')]);
    Object.assign(r, {
      store,
      con,
      page,
      open: async (lang: 'id' | 'en', from = typed) => {
        await page.goto(`${con.url}/lang?to=${lang}&back=/console/payments`);
        const answer = await page.goto(`${con.url}/reconciliation?account=${ACCOUNT}&from=${encodeURIComponent(from)}&to=${encodeURIComponent(typed)}`);
        expect(answer?.status()).to.equal(200);
      },
      sealRows: async () => (await store.db.query<{ row_count: number | string }>('SELECT row_count FROM reconciliation_seals WHERE account_tag = ?', [accountTag(TEST_AUDIT_KEYS, ACCOUNT)])).map((row) => Number(row.row_count)),
    });
  });
  after(() => close());
  return r;
}

/**
 * Every line of the page is of `kind` (data-kind and class, its name in `words.line`), none matched
 * nor counted so (`words.matched`), each saying `said`, drawn `background`, and so when printed too.
 */
async function expectAllOfKind(page: Page, kind: string, words: { line: string; matched: string }, said: string[], background: string): Promise<void> {
  const rows = page.locator('#reconciliation tbody tr');
  const count = await rows.count();
  expect(count).to.be.above(0);
  // Their own kind, class and words: nothing keyed on `matched` (styles, counts, the clerk's eye) takes them.
  for (const tr of await rows.all()) expect([await tr.getAttribute('data-kind'), await tr.getAttribute('class')]).to.deep.equal([kind, `recon-${kind}`]);
  expect(await page.locator('tr[data-kind=matched], tr.recon-matched').count()).to.equal(0);
  const names = Array.from({ length: count }, () => words.line);
  expect(await page.locator('#reconciliation tbody tr td:last-child strong').allTextContents()).to.deep.equal(names);
  for (const text of await rows.allTextContents()) {
    for (const phrase of said) expect(text).to.contain(phrase);
    expect(text).not.to.contain(words.matched);
  }
  expect(await page.textContent('[data-count=matched]')).to.equal('0');
  expect(await page.textContent(`[data-count=${kind}]`)).to.equal(String(count));
  // Drawn as the day's notice above, not as a matched line (no background).
  expect(await computedBackground(page, '#reconciliation tbody tr td')).to.equal(background);
  // Printed, the lines still read so, never matched.
  await page.emulateMedia({ media: 'print' });
  try {
    expect(await page.locator('#reconciliation tbody tr td:last-child strong').allInnerTexts()).to.deep.equal(names);
    expect(await page.innerText('#recon-summary')).to.contain(`${words.line} ${count}`).and.to.contain(`${words.matched} 0`);
  } finally {
    await page.emulateMedia({ media: 'screen' });
  }
}

/** A closed Jakarta day `back` days before today: its start (epoch ms), yyyy-MM-dd and as typed (dd/mm/yyyy). */
function closedDay(back: number): { dayStart: number; day: string; typed: string } {
  const dayStart = Math.floor((Date.now() + 7 * HOUR_MS) / DAY_MS) * DAY_MS - 7 * HOUR_MS - back * DAY_MS;
  const day = new Date(dayStart + 7 * HOUR_MS).toISOString().slice(0, 10);
  return { dayStart, day, typed: `${day.slice(8, 10)}/${day.slice(5, 7)}/${day.slice(0, 4)}` };
}

/** A statement that debits each of `payments` on its day, within the period asked. */
function debiting(payments: readonly { tx: string; amount: string; day: string }[]): StatementReader {
  return {
    read: async (account, from, to) => ({
      accountNumber: account,
      currency: 'IDR',
      from,
      to,
      openingBalance: null,
      bank: 'bca',
      entries: payments.filter((p) => p.day >= from && p.day <= to).map((p) => ({ date: p.day, type: 'DEBIT' as const, amount: p.amount, description: `TRSF E-BANKING DB ${p.tx}` })),
    }),
  };
}

/**
 * A reading whose audit chain walk would pass its bound (#16): the console's store reads with a
 * bound of one link, so its first reading of a closed day cannot prove the chains since then. The
 * page shows those days as not proved yet (amber, both languages), never as matched; the seal
 * sweep proves and seals them, and the page then shows them matched.
 */
describe('Finance console: a reconciliation day left to the seal sweep, in a browser (#16)', function () {
  this.timeout(120_000);

  // A closed day two days back (Jakarta), its payments, and the statement debiting each (the last test adds some of the day before).
  const { dayStart, day, typed } = closedDay(2);
  const payments = [
    { tx: `LEFT-${Date.now()}-1`, amount: '1500000.00', day },
    { tx: `LEFT-${Date.now()}-2`, amount: '2750000.00', day },
  ];
  // The console's store, its reading's chain walk bounded to one link.
  const r = reconciliationConsole(payments, typed, (store) => paid(store, payments, dayStart + 3 * HOUR_MS), { readingChainLinks: 1 });

  for (const lang of ['id', 'en'] as const) {
    const words =
      lang === 'id'
        ? { left: 'BELUM DIBUKTIKAN', sweep: 'Sapuan segel membuktikannya', line: 'Belum dibuktikan', matched: 'Cocok', notReconciled: 'jangan dianggap sudah direkonsiliasi', ask: 'tanyakan ke operator' }
        : { left: 'NOT PROVED YET', sweep: 'The seal sweep proves it', line: 'Not proved yet', matched: 'Matched', notReconciled: 'do not treat it as reconciled', ask: 'ask the operator' };

    it(`shows a day whose chain walk was left to the seal sweep as not proved yet, in amber, its lines of their own kind, none matched nor counted as matched, nothing sealed (${lang})`, async () => {
      await r.open(lang);
      const left = r.page.locator('#recon-left-to-sweep');
      expect(await left.getAttribute('data-left-days')).to.equal(day);
      expect(await left.getAttribute('role')).to.equal('status');
      expect(await left.textContent()).to.contain(words.left).and.to.contain(words.sweep).and.to.contain('left to the seal sweep, which proves them on its next run');
      // Amber as the page's other warnings, not the red of a chain that does not hold.
      expect(await computedBackground(r.page, '#recon-left-to-sweep')).to.equal('rgb(255, 245, 214)');
      expect(await r.page.locator('#recon-unprovable').count()).to.equal(0);
      expect(await r.page.locator('#recon-all-matched').count()).to.equal(0);
      expect(await r.page.locator('#recon-lines-matched').count()).to.equal(0);
      expect(await r.page.getAttribute('#recon-unchecked', 'data-unchecked-days')).to.contain(day);
      expect(await r.page.locator('#reconciliation tbody tr').count()).to.equal(2);
      // Amber as the day's notice.
      await expectAllOfKind(r.page, 'not-proved', words, [words.notReconciled, words.ask], 'rgb(255, 245, 214)');
      expect(await axeViolations(r.page)).to.deep.equal([]);
      expect(await r.sealRows(), 'a reading left to the sweep seals nothing').to.deep.equal([]);
    });
  }

  it('once the seal sweep has run (not before: the readings sealed nothing), the same day shows matched in both languages', async () => {
    expect(await r.sealRows()).to.deep.equal([]);
    const swept = await r.store.paymentSearch.sealClosedDays(Date.now());
    expect(swept.sealed).to.be.at.least(1);
    expect(await r.sealRows()).to.deep.equal([2]);
    for (const lang of ['id', 'en'] as const) {
      await r.open(lang);
      expect(await r.page.locator('#recon-left-to-sweep').count()).to.equal(0);
      expect(await r.page.locator('tr[data-kind=not-proved]').count()).to.equal(0);
      expect(await r.page.locator('tr[data-kind=matched]').count()).to.equal(2);
      expect(await r.page.textContent('[data-count=matched]')).to.equal('2');
      expect(await r.page.locator('[data-count=not-proved]').count()).to.equal(0);
      expect(await r.page.locator('#recon-all-matched').count()).to.equal(1);
      expect(await axeViolations(r.page)).to.deep.equal([]);
    }
  });

  it('a period of a day proved beside a day not proved: only the proved lines are matched and counted so, the others their own kind, in both languages', async () => {
    // Payments of the day before, after the sweep sealed `day`: this reading must prove the chains since then, past its bound.
    const before = new Date(dayStart - DAY_MS + 7 * HOUR_MS).toISOString().slice(0, 10);
    const earlier = [
      { tx: `LEFT-${Date.now()}-3`, amount: '3250000.00', day: before },
      { tx: `LEFT-${Date.now()}-4`, amount: '4125000.00', day: before },
      { tx: `LEFT-${Date.now()}-5`, amount: '980000.00', day: before },
    ];
    await paid(r.store, earlier, dayStart - DAY_MS + 3 * HOUR_MS);
    payments.push(...earlier);
    const from = `${before.slice(8, 10)}/${before.slice(5, 7)}/${before.slice(0, 4)}`;
    for (const lang of ['id', 'en'] as const) {
      const words = lang === 'id' ? { line: 'Belum dibuktikan', matched: 'Cocok' } : { line: 'Not proved yet', matched: 'Matched' };
      await r.open(lang, from);
      expect(await r.page.getAttribute('#recon-left-to-sweep', 'data-left-days')).to.equal(before);
      const kinds: Record<string, string | null> = {};
      for (const tr of await r.page.locator('#reconciliation tbody tr').all()) kinds[(await tr.locator('td:nth-child(4) a').textContent()) ?? ''] = await tr.getAttribute('data-kind');
      expect(kinds).to.deep.equal(Object.fromEntries(payments.map((p) => [p.tx, p.day === day ? 'matched' : 'not-proved'])));
      expect(await r.page.locator('tr.recon-matched td:last-child strong').allTextContents()).to.deep.equal([words.matched, words.matched]);
      expect(await r.page.locator('tr.recon-not-proved td:last-child strong').allTextContents()).to.deep.equal([words.line, words.line, words.line]);
      expect(await r.page.textContent('[data-count=matched]')).to.equal('2');
      expect(await r.page.textContent('[data-count=not-proved]')).to.equal('3');
      expect(await r.page.locator('#recon-all-matched').count()).to.equal(0);
      // Drawn apart from the matched lines, not only in words.
      expect(await computedBackground(r.page, 'tr.recon-not-proved td')).to.equal('rgb(255, 245, 214)').and.not.to.equal(await computedBackground(r.page, 'tr.recon-matched td'));
      expect(await axeViolations(r.page)).to.deep.equal([]);
      await r.page.screenshot({ path: join(SHOTS, `reconciliation-not-proved-${lang}.png`), fullPage: true });
    }
  });
});

/**
 * A reading whose audit chains do not hold (#16): a link of another account's payment deleted in
 * SQL, as an attacker without keys would, under the day. The page names the day in red, NOT
 * PROVABLE, and its lines, though each debit agrees with its payment, are not provable, never
 * matched nor counted so, drawn red as the day's alert, saying what to do, in both languages.
 */
describe('Finance console: a reconciliation day whose audit chains are broken, in a browser (#16)', function () {
  this.timeout(120_000);

  const { dayStart, day, typed } = closedDay(2);
  const payments = [
    { tx: `BROKEN-${Date.now()}-1`, amount: '1600000.00', day },
    { tx: `BROKEN-${Date.now()}-2`, amount: '2850000.00', day },
  ];
  const r = reconciliationConsole(payments, typed, async (store) => {
    // Another account's payment first, the day's payments after it, then its newest event's link deleted: a gap inside the chain.
    const other = `BROKEN-${Date.now()}-other`;
    await paid(store, [{ tx: other, amount: '1000.00' }], dayStart + HOUR_MS, '0201245691');
    await paid(store, payments, dayStart + 3 * HOUR_MS);
    const [link] = await store.db.query<{ writer_id: string; seq: number }>(
      "SELECT c.writer_id, c.seq FROM audit_chain c JOIN payment_events e ON c.kind = 'payment_event' AND c.record_id = e.id JOIN payments p ON p.id = e.payment_id WHERE p.transaction_id = ? ORDER BY e.seq DESC LIMIT 1",
      [other],
    );
    await store.db.execute('DELETE FROM audit_chain WHERE writer_id = ? AND seq = ?', [link.writer_id, link.seq]);
  });

  for (const lang of ['id', 'en'] as const) {
    const words =
      lang === 'id'
        ? { alert: 'TIDAK DAPAT DIBUKTIKAN', line: 'Tidak dapat dibuktikan', matched: 'Cocok', notReconciled: 'jangan dianggap sudah direkonsiliasi', tell: 'Beri tahu operator; ia menjalankan gerbang audit verify' }
        : { alert: 'NOT PROVABLE', line: 'Not provable', matched: 'Matched', notReconciled: 'do not treat it as reconciled', tell: 'Tell the operator, who runs gerbang audit verify' };

    it(`shows the lines of a day whose chains are broken as not provable, in red as the day's alert, none matched nor counted as matched, nothing sealed (${lang})`, async () => {
      await r.open(lang);
      expect(await r.page.getAttribute('#recon-unprovable', 'data-unprovable-days')).to.equal(day);
      expect(await r.page.textContent('#recon-unprovable')).to.contain(words.alert).and.to.contain('is missing');
      expect(await r.page.locator('#recon-left-to-sweep').count()).to.equal(0);
      expect(await r.page.locator('#recon-all-matched, #recon-lines-matched').count()).to.equal(0);
      expect(await r.page.locator('#reconciliation tbody tr').count()).to.equal(2);
      // Red as the day's alert, not amber.
      await expectAllOfKind(r.page, 'not-provable', words, [words.notReconciled, words.tell], 'rgb(253, 231, 231)');
      expect(await axeViolations(r.page)).to.deep.equal([]);
      await r.page.screenshot({ path: join(SHOTS, `reconciliation-not-provable-${lang}.png`), fullPage: true });
      expect(await r.sealRows(), 'a day whose chains are broken is not sealed').to.deep.equal([]);
    });
  }
});
