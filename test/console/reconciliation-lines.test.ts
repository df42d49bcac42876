import { expect } from 'chai';
import type { StatementEntry } from '../../src/banks/types.js';
import { translator } from '../../src/console/i18n.js';
import { matchPeriod, StatementMatches, type PeriodPayments } from '../../src/console/reconcile-period.js';
import { reconciliationPage, resultsDrawn, SHOWN_LINES } from '../../src/console/views/reconciliation-page.js';
import { reconcileStatement } from '../../src/domain/transfers/statement-reconciliation.js';
import type { MissingPayments, PaymentRecord, PaymentState } from '../../src/store/types.js';
import { paymentRecord } from '../support/payment-records.js';

function payment(id: number, state: PaymentState): PaymentRecord {
  return paymentRecord(id, `INV-${100000 + id}`, `${1000 + id}.00`, state, '2026-11-20');
}

const debitOf = (p: PaymentRecord): StatementEntry => ({ date: '2026-11-20', type: 'DEBIT', amount: p.amount, description: `TRSF E-BANKING DB ${p.transactionId}` });

/** The page for `matched` debits booking successful payments, plus a few lines that need a look. */
function page(matched: number, lang: 'id' | 'en' = 'en', focus?: number): string {
  const paid = Array.from({ length: matched }, (_, i) => payment(i + 1, 'SUCCESS'));
  const failedButDebited = payment(matched + 1, 'FAILED');
  const neverBooked = payment(matched + 2, 'SUCCESS');
  const entries = [...paid, failedButDebited].map(debitOf);
  entries.push({ date: '2026-11-20', type: 'DEBIT', amount: '777.00', description: 'KLIKBCA MANUAL' });
  const reconciliation = reconcileStatement(entries, [...paid, failedButDebited, neverBooked]);
  return reconciliationPage(
    { t: translator(lang), lang, here: '/console/reconciliation' },
    { form: { account: '0201245680', from: '2026-11-20', to: '2026-11-20' }, errors: [], result: { bank: 'bca', reconciliation, truncated: false }, focus },
  );
}

const rows = (html: string, kind: string) => html.split(`data-kind="${kind}"`).length - 1;

describe('the reconciliation page over a long period', () => {
  it('lists every line while the period holds up to SHOWN_LINES of them', () => {
    const html = page(SHOWN_LINES - 3);
    expect(rows(html, 'matched')).to.equal(SHOWN_LINES - 2);
    expect(rows(html, 'statement-only') + rows(html, 'gerbang-only')).to.equal(2);
    expect(html).not.to.contain('recon-lines-hidden');
  });

  it('beyond that, lists only the lines that need a look, the counts still covering every line, and says so in the clerk’s language', () => {
    const html = page(5_000);
    // The failed payment the bank debited (an alarm), the manual debit and the unbooked payment.
    expect(rows(html, 'matched')).to.equal(1);
    expect(html).to.contain('recon-alarm');
    expect(rows(html, 'statement-only')).to.equal(1);
    expect(rows(html, 'gerbang-only')).to.equal(1);
    expect(html).to.contain('<strong data-count="matched">5001</strong>');
    expect(html).to.match(/id="recon-lines-hidden">5,000 matched lines are not listed \(the period holds 5,003 lines\)/);
    expect(page(5_000, 'id')).to.match(/id="recon-lines-hidden">5\.000 baris yang cocok tidak ditampilkan \(periode ini berisi 5\.003 baris\)/);
    // Far smaller than the whole list would be.
    expect(html.length).to.be.below(page(SHOWN_LINES - 3).length / 10);
  });

  // A day left to the seal sweep (not proved yet) and a day whose chains do not hold (not provable): each its own kind, never matched.
  const unproved: { kind: 'not-proved' | 'not-provable'; day: string; named: Pick<PeriodPayments, 'leftToSweep' | 'unprovable'>; said: Record<'en' | 'id', string> }[] = [
    {
      kind: 'not-proved',
      day: 'a day not proved (left to the seal sweep)',
      named: { leftToSweep: { days: ['2026-11-21'], detail: 'left to the seal sweep' } },
      said: { en: 'so this line is not matched: do not treat it as reconciled', id: 'jadi baris ini belum cocok: jangan dianggap sudah direkonsiliasi' },
    },
    {
      kind: 'not-provable',
      day: 'a day whose audit chains do not hold (not provable)',
      named: { unprovable: { days: ['2026-11-21'], problem: 'link 7 of chain w-1 is missing' } },
      said: {
        en: 'this line is not matched: do not treat it as reconciled. Tell the operator, who runs gerbang audit verify.',
        id: 'baris ini tidak cocok: jangan dianggap sudah direkonsiliasi. Beri tahu operator; ia menjalankan gerbang audit verify.',
      },
    },
  ];
  for (const { kind, day, named, said } of unproved) {
    it(`lists every line of ${day} among those that need a look, of its own kind, none counted nor hidden as matched, in the clerk's language`, () => {
      const paid = Array.from({ length: 5_000 }, (_, i) => payment(i + 1, 'SUCCESS'));
      const apart = Array.from({ length: 3 }, (_, i) => paymentRecord(6_001 + i, `INV-${106_001 + i}`, `${7001 + i}.00`, 'SUCCESS', '2026-11-21'));
      const entries = [...paid, ...apart].map((p) => ({ ...debitOf(p), date: p.bankTransactionDate! }));
      const period = { rows: [...paid, ...apart], truncated: false, missing: [], unchecked: ['2026-11-21'], ...named };
      const matched = matchPeriod(period, '2026-11-20', '2026-11-21', entries);
      expect(matched.reconciliation.counts).to.deep.include({ matched: 5_000, 'not-proved': kind === 'not-proved' ? 3 : 0, 'not-provable': kind === 'not-provable' ? 3 : 0 });
      for (const lang of ['en', 'id'] as const) {
        const html = reconciliationPage({ t: translator(lang), lang, here: '/console/reconciliation' }, { form: { account: '0201245680', from: '2026-11-20', to: '2026-11-21' }, errors: [], result: { bank: 'bca', ...matched } });
        expect(rows(html, kind)).to.equal(3);
        expect(rows(html, 'matched')).to.equal(0);
        for (const p of apart) expect(html).to.match(new RegExp(`<tr class="recon-${kind}" data-kind="${kind}" data-payment-id="${p.id}"`));
        expect(html).to.contain('<strong data-count="matched">5000</strong>').and.to.contain(`<strong data-count="${kind}">3</strong>`);
        expect(html).not.to.contain('id="recon-all-matched"').and.not.to.contain('id="recon-lines-matched"');
        expect(html).to.match(lang === 'en' ? /id="recon-lines-hidden">5,000 matched lines are not listed/ : /id="recon-lines-hidden">5\.000 baris yang cocok tidak ditampilkan/);
        expect(html).to.contain(said[lang]);
      }
    });
  }

  it('marks the debits no payment read books, from the first day a period cut at its bound did not read whole, as not read (not on the statement only), names that day, and gives no all-clear, in the clerk\'s language', () => {
    const read = [payment(1, 'SUCCESS'), paymentRecord(2, 'INV-100002', '1002.00', 'SUCCESS', '2026-11-21')];
    const entries: StatementEntry[] = [
      ...read.map((p) => ({ ...debitOf(p), date: p.bankTransactionDate! })),
      { date: '2026-11-20', type: 'DEBIT', amount: '555.00', description: 'KLIKBCA MANUAL' },
      { date: '2026-11-21', type: 'DEBIT', amount: '666.00', description: 'TRSF E-BANKING DB INV-100003' },
      { date: '2026-11-22', type: 'DEBIT', amount: '777.00', description: 'TRSF E-BANKING DB INV-100004' },
    ];
    const period: PeriodPayments = { rows: read, truncated: true, notReadFrom: '2026-11-21', missing: [], unchecked: [] };
    const matched = matchPeriod(period, '2026-11-20', '2026-11-22', entries);
    expect(matched.reconciliation.lines.map((line) => [line.kind, 'entry' in line ? line.entry.amount : null])).to.deep.equal([
      ['matched', '1001.00'],
      ['statement-only', '555.00'],
      ['matched', '1002.00'],
      ['not-read', '666.00'],
      ['not-read', '777.00'],
    ]);
    const said = {
      en: ['Payments from 21/11/2026 on were not all read', 'Not read', 'its payment may be among those left out'],
      id: ['Pembayaran sejak 21/11/2026 tidak terbaca semuanya', 'Tidak terbaca', 'pembayarannya mungkin di antara yang tidak terbaca'],
    };
    for (const lang of ['en', 'id'] as const) {
      const html = reconciliationPage({ t: translator(lang), lang, here: '/console/reconciliation' }, { form: { account: '0201245680', from: '2026-11-20', to: '2026-11-22' }, errors: [], result: { bank: 'bca', ...matched } });
      expect(rows(html, 'not-read')).to.equal(2);
      expect(rows(html, 'statement-only')).to.equal(1);
      expect(html).to.contain('<strong data-count="not-read">2</strong>').and.to.contain('data-not-read-from="2026-11-21"');
      expect(html).not.to.contain('id="recon-all-matched"').and.not.to.contain('id="recon-lines-matched"');
      for (const words of said[lang]) expect(html).to.contain(words);
    }
    // Read whole: the same debits are on the statement only.
    const whole = matchPeriod({ ...period, truncated: false, notReadFrom: undefined }, '2026-11-20', '2026-11-22', entries);
    expect(whole.reconciliation.counts).to.deep.include({ 'not-read': 0, 'statement-only': 3 });
  });

  it('keeps the payment the page was opened for (from the review queue) among the lines listed', () => {
    const html = page(5_000, 'en', 4_242);
    expect(html).to.contain('data-payment-id="4242"');
    expect(rows(html, 'matched')).to.equal(2);
  });
});

describe('a payment changed in the database, in a reconciliation', () => {
  it('books no debit and is not counted as paid or unbooked: its line is marked with what was found', () => {
    const kept = payment(1, 'SUCCESS');
    const altered = { ...payment(2, 'SUCCESS'), integrityProblem: 'payments id 2 (c / INV-100002) was altered' };
    const reconciliation = reconcileStatement([kept, altered].map(debitOf), [kept, altered]);
    expect(reconciliation.lines.map((line) => [line.kind, 'payment' in line ? line.payment.id : null])).to.deep.equal([
      ['matched', 1],
      ['statement-only', null],
      ['forged', 2],
    ]);
    expect(reconciliation.counts).to.deep.equal({ matched: 1, 'not-proved': 0, 'not-provable': 0, 'statement-only': 1, 'not-read': 0, 'gerbang-only': 0, credit: 0, forged: 1 });
    const html = reconciliationPage(
      { t: translator('id'), lang: 'id', here: '/console/reconciliation' },
      { form: { account: '0201245680', from: '2026-11-20', to: '2026-11-20' }, errors: [], result: { bank: 'bca', reconciliation, truncated: false } },
    );
    expect(html).to.contain('<strong data-count="forged">1</strong>').and.to.contain('DIUBAH DI LUAR GERBANG').and.to.contain('payments id 2 (c / INV-100002) was altered');
    expect(html).not.to.contain('Semua baris cocok');
  });
  /** The page in `lang` of one payment its statement line matches, on 2026-11-20 and `to`, with what the read says of deleted payments (`checks`). */
  const oneMatched = (lang: 'id' | 'en', to: string, checks: { missing: MissingPayments[]; unchecked?: string[] }) => {
    const kept = payment(1, 'SUCCESS');
    const reconciliation = reconcileStatement([kept].map(debitOf), [kept]);
    return reconciliationPage({ t: translator(lang), lang, here: '/console/reconciliation' }, { form: { account: '0201245680', from: '2026-11-20', to }, errors: [], result: { bank: 'bca', reconciliation, truncated: false, ...checks } });
  };
  it('names each day whose payments were deleted in the database (no line to mark) in the clerk\'s language, and says not that every line matched', () => {
    const shown = (lang: 'id' | 'en') => oneMatched(lang, '2026-11-20', { missing: [{ day: '2026-11-20', sealed: 2, found: 1, deleted: [7] }] });
    expect(shown('en')).to.contain('data-missing-day="2026-11-20"').and.to.contain("DELETED OUTSIDE GERBANG: payments of").and.to.contain('seal counted 2 payments; only 1 are still there');
    expect(shown('en')).to.contain('data-deleted-ids="7"').and.to.contain('not released through Gerbang: id 7.');
    expect(shown('id')).to.contain('DIHAPUS DI LUAR GERBANG: pembayaran tanggal').and.not.to.contain('Semua baris cocok');
    // What to do once investigated: the operator's acceptance.
    expect(shown('en')).to.contain('an operator can accept the day with gerbang audit accept-day');
    expect(shown('id')).to.contain('operator dapat menerima hari itu dengan gerbang audit accept-day');
  });
  it('names a sealed payment still in the database but no longer under the account on its day as changed, not deleted, in the clerk\'s language, and says it cannot be accepted until restored', () => {
    const shown = (lang: 'id' | 'en') => oneMatched(lang, '2026-11-20', { missing: [{ day: '2026-11-20', sealed: 2, found: 1, moved: [8] }] });
    expect(shown('en')).to.contain('data-missing-day="2026-11-20"').and.to.contain('CHANGED OUTSIDE GERBANG: payments sealed on 20/11/2026 are still in the database').and.to.contain('data-moved-ids="8"');
    expect(shown('en')).to.contain('no longer under this account on that day: id 8.').and.to.contain('the day cannot be accepted with gerbang audit accept-day until then');
    expect(shown('en')).not.to.contain('DELETED OUTSIDE GERBANG').and.not.to.contain('data-deleted-ids');
    expect(shown('id')).to.contain('DIUBAH DI LUAR GERBANG: pembayaran tanggal 20/11/2026 yang disegel masih ada di database').and.to.contain('tidak lagi pada rekening ini di hari itu: id 8.');
    expect(shown('id')).not.to.contain('DIHAPUS DI LUAR GERBANG').and.not.to.contain('Semua baris cocok');
  });
  it('names the days not checked for payments deleted in the database (no day seal held them), and then says not that every line matches, only that every statement line does, in the clerk\'s language', () => {
    const shown = (lang: 'id' | 'en') => oneMatched(lang, '2026-11-21', { missing: [], unchecked: ['2026-11-21'] });
    expect(shown('en')).not.to.contain('Every line matches.').and.not.to.contain('id="recon-all-matched"');
    expect(shown('en')).to.contain('Every statement line matches, but not every day was checked').and.to.contain('data-unchecked-days="2026-11-21"').and.to.contain('Not checked for payments deleted from the database').and.to.contain('21/11/2026');
    expect(shown('id')).to.contain('Tidak diperiksa terhadap pembayaran yang dihapus di database').and.not.to.contain('Semua baris cocok');
    expect(oneMatched('en', '2026-11-21', { missing: [], unchecked: [] })).to.contain('id="recon-all-matched"');
  });
  it('names a day whose seal was deleted or changed in the database as an alert, with what was found, in the clerk\'s language, and says not that every line matched', () => {
    const missing = [{ day: '2026-11-20', sealed: 1, found: 1, sealProblem: 'reconciliation_seals row of day 20412 of tag 0123abcd… was deleted' }];
    const shown = (lang: 'id' | 'en') => oneMatched(lang, '2026-11-20', { missing, unchecked: ['2026-11-20'] });
    expect(shown('en')).to.contain('role="alert" data-missing-day="2026-11-20" data-seal-broken="2026-11-20"').and.to.contain('SEAL CHANGED OUTSIDE GERBANG: the seal of 20/11/2026').and.to.contain('was deleted');
    expect(shown('en')).not.to.contain('Every line matches').and.not.to.contain('Every statement line matches');
    expect(shown('id')).to.contain('SEGEL DIUBAH DI LUAR GERBANG').and.to.contain('menerimanya dengan gerbang audit accept-day');
    expect(shown('en')).to.contain('until an operator, after investigating, accepts it with gerbang audit accept-day');
  });
});

describe('a page opened again with the same statement and payments (StatementMatches)', () => {
  const paid = Array.from({ length: 50 }, (_, i) => Object.freeze(payment(i + 1, i % 7 === 0 ? 'FAILED' : 'SUCCESS')));
  // The statement as the API's reader gives it: new objects at every reading.
  const statement = (): StatementEntry[] => [...paid.slice(0, 40).map(debitOf), { date: '2026-11-20', type: 'DEBIT', amount: '777.00', description: 'KLIKBCA MANUAL' }];
  const period = (rows: readonly PaymentRecord[]): PeriodPayments => ({ rows: [...rows], truncated: false, missing: [], unchecked: [] });

  it('is not matched again: the last matching is given back for a statement read anew with the very same lines', () => {
    const matches = new StatementMatches();
    const first = matchPeriod(period(paid), '2026-11-20', '2026-11-20', statement(), matches).reconciliation;
    expect(matchPeriod(period(paid), '2026-11-20', '2026-11-20', statement(), matches).reconciliation).to.equal(first);
    expect(first).to.deep.equal(reconcileStatement(statement(), paid));
  });

  it('is matched anew when a statement line, a payment, the days not proved or the first day not read differ, and gives what a fresh matching gives', () => {
    const matches = new StatementMatches();
    const first = matchPeriod(period(paid), '2026-11-20', '2026-11-20', statement(), matches).reconciliation;
    const fresh = (got: ReturnType<typeof matchPeriod>, entries: StatementEntry[], rows: readonly PaymentRecord[], unproved = new Map<string, 'not-proved' | 'not-provable'>(), notReadFrom?: string) => {
      expect(got.reconciliation).not.to.equal(first);
      expect(got.reconciliation).to.deep.equal(reconcileStatement(entries, rows, unproved, notReadFrom));
    };
    // A line's amount, reference or pending mark changed at the bank.
    for (const change of [{ amount: '1.00' }, { reference: 'INV-100003' }, { pending: true }, { description: 'TRSF E-BANKING DB' }]) {
      const entries = statement();
      entries[3] = { ...entries[3], ...change };
      fresh(matchPeriod(period(paid), '2026-11-20', '2026-11-20', entries, matches), entries, paid);
      matchPeriod(period(paid), '2026-11-20', '2026-11-20', statement(), matches);
    }
    // A payment the store read anew (its state changed): another object.
    const moved = [...paid];
    moved[5] = Object.freeze(payment(6, 'UNKNOWN'));
    fresh(matchPeriod(period(moved), '2026-11-20', '2026-11-20', statement(), matches), statement(), moved);
    // The same objects, one not frozen (it could have been changed since): matched anew, and not kept.
    const loose = [...paid];
    loose[7] = payment(8, 'SUCCESS');
    matchPeriod(period(paid), '2026-11-20', '2026-11-20', statement(), matches);
    const once = matchPeriod(period(loose), '2026-11-20', '2026-11-20', statement(), matches).reconciliation;
    expect(matchPeriod(period(loose), '2026-11-20', '2026-11-20', statement(), matches).reconciliation).not.to.equal(once);
    // Its day left to the seal sweep, or the period cut at the bound.
    matchPeriod(period(paid), '2026-11-20', '2026-11-20', statement(), matches);
    fresh(matchPeriod({ ...period(paid), leftToSweep: { days: ['2026-11-20'], detail: 'left' } }, '2026-11-20', '2026-11-20', statement(), matches), statement(), paid, new Map([['2026-11-20', 'not-proved']]));
    matchPeriod(period(paid), '2026-11-20', '2026-11-20', statement(), matches);
    fresh(matchPeriod({ ...period(paid), truncated: true, notReadFrom: '2026-11-20' }, '2026-11-20', '2026-11-20', statement(), matches), statement(), paid, new Map(), '2026-11-20');
  });
});

describe('the results of a matching drawn again (resultsDrawn)', () => {
  const paid = Array.from({ length: 30 }, (_, i) => Object.freeze(payment(i + 1, 'SUCCESS')));
  const reconciliation = reconcileStatement(paid.slice(0, 25).map(debitOf), paid);
  const ctx = (lang: 'id' | 'en') => ({ t: translator(lang), lang, here: '/console/reconciliation' });
  const result = { bank: 'bca', reconciliation, truncated: false };

  it('are drawn once for the same matching, language, reader, line in focus and notes, and drawn anew when any of these differ', () => {
    const first = resultsDrawn(ctx('en'), result, undefined);
    expect(resultsDrawn(ctx('en'), { ...result }, undefined)).to.equal(first);
    const others = [
      resultsDrawn(ctx('id'), result, undefined),
      resultsDrawn(ctx('en'), result, 3),
      resultsDrawn({ ...ctx('en'), user: { username: 'auditor-1', role: 'auditor' } as never }, result, undefined),
      resultsDrawn(ctx('en'), { ...result, unchecked: ['2026-11-20'] }, undefined),
      resultsDrawn(ctx('en'), { ...result, reconciliation: reconcileStatement(paid.slice(0, 24).map(debitOf), paid) }, undefined),
    ];
    for (const other of others) expect(other).not.to.equal(first);
    expect(others[0].text).to.contain('Cocok');
    expect(others[1].text).to.contain('recon-focus');
    expect(others[3].text).to.contain('data-unchecked-days="2026-11-20"');
    expect(others[4].text).to.contain('data-count="gerbang-only">6<');
    // The very text results would draw afresh.
    expect(resultsDrawn(ctx('en'), { ...result, truncated: true }, undefined).text).to.contain('id="recon-truncated"');
  });
});
