import { expect } from 'chai';
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { isAppError } from '../../src/errors/index.js';
import { placeOf } from '../../src/security/index.js';
import { migrate, openDb, openStore, SEARCH_SCAN_LIMIT, type PaymentDetails, type Store } from '../../src/store/index.js';
import { paymentMac } from '../../src/store/repositories/payment-repository.js';
import { gramHash, gramInserts, insertGrams, trigramsOf } from '../../src/store/repositories/payment-search-grams.js';
import { SqlPaymentSearchRepository } from '../../src/store/repositories/index.js';
import { ringOf, TEST_AUDIT_KEY, TEST_AUDIT_KEYS, testKeySpec } from '../support/audit-keys.js';
import { createMariaDbDatabase, createSqliteDatabase, everyRow, forEachBackend, migrateBelow } from '../support/databases.js';
import { searchWalkPayments, WALK_TERM } from '../support/search-walk-payments.js';

const BASE = Date.UTC(2033, 0, 10, 3, 0, 0);

function details(beneficiaryName: string, remark: string): PaymentDetails {
  return { sourceAccount: '0201245680', beneficiaryAccount: '0201245681', beneficiaryBankCode: '014', beneficiaryName, remark, transferMethod: null };
}

/** Every transaction id a search finds (all pages), sorted. */
async function found(store: Store, search: { clientId?: string; text: string }): Promise<string[]> {
  const page = await store.paymentSearch.page(search, 'newest', null, 100);
  return page.rows.map((p) => p.transactionId).sort();
}

forEachBackend('Payment text search through the keyed trigram index', (ctx) => {
  const client = `g-${randomBytes(4).toString('hex')}`;
  const payees: [tx: string, name: string, remark: string][] = [
    ['IDX-1', 'PT Sumber Makmur Sejahtera', 'Pembayaran tagihan listrik Desember'],
    ['IDX-2', 'CV Cahaya Abadi', 'Uang muka proyek jembatan Kali Brantas'],
    ['IDX-3', 'Koperasi Simpan Pinjam Maju Bersama', 'Angsuran ke-3 pinjaman modal usaha'],
    ['IDX-4', 'Toko Bangunan Sumber Rejeki', 'Semen dan pasir untuk gudang Surabaya'],
    // Holds "abc" in its name and "bcd" in its remark, never "abcd": a candidate the confirmation drops.
    ['IDX-5', 'UD Abc Jaya', 'Ongkos kirim bcd-77'],
  ];
  const ids = new Map<string, number>();

  before(async () => {
    const store = ctx.store();
    for (const [i, [tx, name, remark]] of payees.entries()) {
      const p = await store.payments.reserve({ clientId: client, transactionId: tx, requestHash: 'h'.repeat(64), amount: `${(i + 1) * 1000}.00`, currency: 'IDR', details: details(name, remark) }, BASE + i);
      await store.payments.update(p.id, { state: 'SUCCESS', bank: 'bca', bankReference: `BR${i}77${i}`, bankTransactionId: `BTX${i}9${i}` }, BASE + i);
      ids.set(tx, p.id);
    }
  });

  it('finds exactly the payments whose beneficiary name or remark holds a part of the term, whatever its case', async () => {
    const store = ctx.store();
    expect(await found(store, { clientId: client, text: 'SUMBER' })).to.deep.equal(['IDX-1', 'IDX-4']);
    expect(await found(store, { clientId: client, text: 'makmur sej' })).to.deep.equal(['IDX-1']);
    expect(await found(store, { clientId: client, text: 'Tagihan Listrik' })).to.deep.equal(['IDX-1']);
    expect(await found(store, { clientId: client, text: 'jembat' })).to.deep.equal(['IDX-2']);
    expect(await found(store, { clientId: client, text: 'ke-3 pinj' })).to.deep.equal(['IDX-3']);
    expect(await found(store, { clientId: client, text: 'suRABaya' })).to.deep.equal(['IDX-4']);
    expect(await found(store, { clientId: client, text: 'tidak ada' })).to.deep.equal([]);
    // The clear ids too, through the same index: the transaction id and both bank ids (written after the reservation).
    expect(await found(store, { clientId: client, text: 'idx-3' })).to.deep.equal(['IDX-3']);
    expect(await found(store, { clientId: client, text: 'br277' })).to.deep.equal(['IDX-3']);
    expect(await found(store, { clientId: client, text: 'btx393' })).to.deep.equal(['IDX-4']);
    // Without any other filter, across every payment of the database.
    expect(await found(store, { text: 'simpan pinjam maju' })).to.deep.equal(['IDX-3']);
    const page = await store.paymentSearch.page({ clientId: client, text: 'sumber' }, 'largest', null, 10);
    expect(page.rows.map((p) => p.transactionId)).to.deep.equal(['IDX-4', 'IDX-1']);
    expect(page.totals).to.deep.equal({ count: 2, totalMinor: 500_000n, truncated: false, capped: false, proof: 'proved', changed: 0 });
  });

  it('keeps no clear text in the index: the database holds neither the names nor their trigrams', async () => {
    const store = ctx.store();
    const grams = await store.db.query<Record<string, unknown>>('SELECT * FROM payment_search_grams WHERE payment_id = ?', [ids.get('IDX-1')!]);
    expect(grams.length).to.equal(new Set(['PT Sumber Makmur Sejahtera', 'Pembayaran tagihan listrik Desember', 'IDX-1', 'BR0770', 'BTX090'].flatMap(trigramsOf)).size);
    for (const row of grams) {
      expect(Object.keys(row).sort()).to.deep.equal(['gram_hash', 'payment_id']);
      expect(String(row.gram_hash)).to.match(/^-?\d+$/);
    }
    const raw = (await everyRow(store.db)).toLowerCase();
    for (const secret of ['sumber', 'makmur', 'tagihan', 'jembatan', 'pinjam', 'surabaya']) expect(raw, secret).not.to.contain(secret);
    if (ctx.backend === 'sqlite') {
      // The file itself, as a thief of the disk would read it (and its write-ahead log).
      const file = ctx.url().replace(/^sqlite:/, '');
      for (const path of [file, `${file}-wal`].filter(existsSync)) expect(readFileSync(path).toString('latin1').toLowerCase()).not.to.contain('sumber');
    }
    // The hash is keyed: the same trigram under another key is another number.
    const other = ringOf(testKeySpec('other'));
    expect(gramHash(other, 'sum')).not.to.equal(gramHash(TEST_AUDIT_KEYS, 'sum'));
    // Remembered per ring: a ring with the same key id and another key (a restore from the wrong
    // backup, a test's own ring) never gets the other's hashes, asked in either order.
    const sameId = ringOf(testKeySpec(TEST_AUDIT_KEYS.currentKeyId));
    const known = gramHash(TEST_AUDIT_KEYS, 'mak');
    expect(gramHash(sameId, 'mak')).not.to.equal(known);
    expect(gramHash(TEST_AUDIT_KEYS, 'mak')).to.equal(known);
    expect(known).to.equal(createHmac('sha256', TEST_AUDIT_KEYS.macKey('payment search gram').key).update('mak').digest().readBigInt64BE(0));
  });

  it('drops candidates that hold every trigram of the term without containing it (trigrams spread over two fields, a hash collision)', async () => {
    const store = ctx.store();
    // IDX-5 holds "abc" (name) and "bcd" (remark): every trigram of "abcd", never the term.
    const held = await store.db.query<{ n: number | string }>(
      'SELECT COUNT(*) AS n FROM payment_search_grams WHERE payment_id = ? AND gram_hash IN (?, ?)',
      [ids.get('IDX-5')!, gramHash(TEST_AUDIT_KEYS, 'abc'), gramHash(TEST_AUDIT_KEYS, 'bcd')],
    );
    expect(Number(held[0].n), 'IDX-5 is a candidate of the index').to.equal(2);
    expect(await found(store, { clientId: client, text: 'abcd' })).to.deep.equal([]);
    // A collision, as it would look: IDX-2 given the hashes of every trigram of a term it does not hold.
    const term = 'rejeki';
    await store.db.execute(
      `INSERT INTO payment_search_grams (payment_id, gram_hash) VALUES ${trigramsOf(term).map(() => '(?, ?)').join(', ')}`,
      trigramsOf(term).flatMap((gram) => [ids.get('IDX-2')!, gramHash(TEST_AUDIT_KEYS, gram)]),
    );
    expect(await found(store, { clientId: client, text: term })).to.deep.equal(['IDX-4']);
  });

  it('finds a payment by a long remark pasted whole, of more trigrams than either backend joins tables', async () => {
    const store = ctx.store();
    const remark = 'Pelunasan tagihan pengiriman barang gudang Surabaya ke Makassar bulan November 2026, faktur FK-2026-11-00457 sesuai kontrak KTR/88/XI';
    expect(trigramsOf(remark).length, 'distinct trigrams (MariaDB joins 61 tables, SQLite 64)').to.be.above(64);
    const other = `${client}-long`;
    await store.payments.reserve({ clientId: other, transactionId: 'IDX-LONG', requestHash: 'h'.repeat(64), amount: '1.00', currency: 'IDR', details: details('CV Panjang', remark) }, BASE + 50);
    expect(await found(store, { clientId: other, text: remark })).to.deep.equal(['IDX-LONG']);
    expect(await found(store, { clientId: other, text: `${remark}!` })).to.deep.equal([]);
  });

  it('refuses a term shorter than a trigram, naming the field', async () => {
    const error = await ctx.store().paymentSearch.page({ text: 'pt' }, 'newest', null, 10).then(() => null, (e: unknown) => e);
    expect(isAppError(error) && error.code).to.equal('VALIDATION_FAILED');
    expect(isAppError(error) && error.fields.map((f) => f.field)).to.deep.equal(['q']);
  });

  it('says how many payments are not in the index, and `keys reindex-search` puts them back', async () => {
    const store = ctx.store();
    await store.db.execute('UPDATE payments SET search_key_id = NULL WHERE id = ?', [ids.get('IDX-2')!]);
    await store.db.execute('DELETE FROM payment_search_grams WHERE payment_id = ?', [ids.get('IDX-2')!]);
    const page = await store.paymentSearch.page({ clientId: client, text: 'jembatan' }, 'newest', null, 10);
    expect(page.rows).to.deep.equal([]);
    expect(page.totals.unindexed).to.equal(1);
    expect(await store.keyRotation.reindexSearch()).to.equal(1);
    const again = await store.paymentSearch.page({ clientId: client, text: 'jembatan' }, 'newest', null, 10);
    expect(again.rows.map((p) => p.transactionId)).to.deep.equal(['IDX-2']);
    expect(again.totals.unindexed).to.equal(undefined);
  });

  it('forgets a released reservation’s trigrams with it', async () => {
    const store = ctx.store();
    const p = await store.payments.reserve({ clientId: client, transactionId: 'IDX-GONE', requestHash: 'h'.repeat(64), amount: '1.00', currency: 'IDR', details: details('Warung Sementara', 'batal') }, BASE + 99);
    expect(await found(store, { clientId: client, text: 'sementara' })).to.deep.equal(['IDX-GONE']);
    expect(await store.payments.release(p.id, null)).to.equal(true);
    expect(await store.db.query('SELECT payment_id FROM payment_search_grams WHERE payment_id = ?', [p.id])).to.deep.equal([]);
  });

  it('writes more trigram rows than one INSERT takes (1,000) in several, each row once with its own payment', async () => {
    const store = ctx.store();
    // Three payments' worth of made-up hashes: 1,201 rows, so INSERTs of 1,000 and 201 rows.
    const rows = [0, 1, 2].map((n) => ({ paymentId: 900_000 + n, hashes: Array.from({ length: n === 2 ? 401 : 400 }, (_, i) => BigInt(n * 1_000_000 + i) - 5_000n) }));
    const statements = gramInserts(store.db.dialect, rows);
    expect(statements.map((s) => s.params.length)).to.deep.equal([2_000, 402]);
    for (const s of statements) expect(s.sql.split('?').length - 1).to.equal(s.params.length);
    await insertGrams(store.db, rows);
    const stored = await store.db.query<{ payment_id: number | string; gram_hash: number | string | bigint }>(
      'SELECT payment_id, gram_hash FROM payment_search_grams WHERE payment_id BETWEEN ? AND ? ORDER BY payment_id, gram_hash',
      [900_000, 900_002],
    );
    const expected = rows.flatMap(({ paymentId, hashes }) => hashes.map((hash) => `${paymentId}:${hash}`)).sort();
    expect(stored.map((r) => `${Number(r.payment_id)}:${BigInt(r.gram_hash)}`).sort()).to.deep.equal(expected);
    await store.db.execute('DELETE FROM payment_search_grams WHERE payment_id BETWEEN ? AND ?', [900_000, 900_002]);
  });
});

forEachBackend('Payment text search with more matches than it confirms', (ctx) => {
  it('confirms the newest SEARCH_SCAN_LIMIT matches and says it stopped there', async function () {
    this.timeout(180_000);
    const client = `m-${randomBytes(4).toString('hex')}`;
    for (let i = 0; i <= SEARCH_SCAN_LIMIT; i += 1) {
      await ctx.store().payments.reserve({ clientId: client, transactionId: `MANY-${i}`, requestHash: 'h'.repeat(64), amount: '1.00', currency: 'IDR' }, BASE + i);
    }
    const page = await ctx.store().paymentSearch.page({ clientId: client, text: 'many-' }, 'newest', null, 10);
    expect(page.totals).to.deep.include({ count: SEARCH_SCAN_LIMIT, truncated: 'matches' });
    expect(page.rows[0].transactionId).to.equal(`MANY-${SEARCH_SCAN_LIMIT}`);
    const oldest = await ctx.store().paymentSearch.page({ clientId: client, text: 'many-' }, 'oldest', null, 10);
    expect(oldest.rows[0].transactionId, 'the oldest of the newest matches').to.equal('MANY-1');
  });
});

forEachBackend('Payment text search with more matches than it proves', (ctx) => {
  const client = `v-${randomBytes(4).toString('hex')}`;
  /** A term no other payment holds. */
  const term = `teh${randomBytes(3).toString('hex')}`;
  /** Five matches, S-0 the oldest (1,000.00) to S-4 the newest (5,000.00), and one payment without the term. */
  before(async () => {
    for (let i = 0; i < 5; i += 1) {
      await ctx.store().payments.reserve({ clientId: client, transactionId: `S-${i}`, requestHash: 'h'.repeat(64), amount: `${(i + 1) * 1000}.00`, currency: 'IDR', details: details(`Warung ${term} ${i}`, 'Teh') }, BASE + i);
    }
    await ctx.store().payments.reserve({ clientId: client, transactionId: 'S-X', requestHash: 'h'.repeat(64), amount: '9.00', currency: 'IDR', details: details('Warung Kopi', 'Teh') }, BASE + 9);
  });

  /** The first page of two rows of the term, through a search proving at most `searchProvedRows` matches. */
  async function firstPage(searchProvedRows: number) {
    const search = new SqlPaymentSearchRepository(ctx.store().db, TEST_AUDIT_KEYS, null, Date.now, { searchProvedRows });
    try {
      return await search.page({ clientId: client, text: term.toUpperCase() }, 'newest', null, 2);
    } finally {
      await search.close();
    }
  }

  it('counts every match it confirms and sums their amounts as stored, saying so and which bound was passed; the same rows, count and sum as when it proves them all', async () => {
    const stored = await firstPage(3);
    expect(stored.rows.map((p) => p.transactionId)).to.deep.equal(['S-4', 'S-3']);
    expect(stored.rows.every((p) => p.integrityProblem === undefined)).to.equal(true);
    expect(stored.totals).to.deep.equal({ count: 5, totalMinor: 1_500_000n, truncated: false, capped: false, proof: 'stored', changed: 0, provedLimit: 3 });
    const proved = await firstPage(5);
    expect(proved.rows.map((p) => p.transactionId)).to.deep.equal(['S-4', 'S-3']);
    expect(proved.totals).to.deep.equal({ count: 5, totalMinor: 1_500_000n, truncated: false, capped: false, proof: 'proved', changed: 0 });
  });

  it('still proves the page’s rows past the bound: one changed in SQL is marked, one off the page is summed as stored (as the page warns)', async () => {
    const raise = (tx: string, by: number) => ctx.store().db.execute('UPDATE payments SET amount_minor = amount_minor + ? WHERE client_id = ? AND transaction_id = ?', [by, client, tx]);
    await raise('S-4', 100);
    await raise('S-0', 7);
    try {
      const stored = await firstPage(3);
      expect(stored.rows[0].transactionId).to.equal('S-4');
      expect(stored.rows[0].integrityProblem, 'the page row changed in SQL').to.be.a('string');
      expect(stored.rows[1].integrityProblem).to.equal(undefined);
      expect(stored.totals).to.deep.include({ count: 5, totalMinor: 1_500_107n, proof: 'stored' });
      const proved = await firstPage(5);
      expect(proved.totals, 'proved: both left out of the sum').to.deep.include({ count: 5, totalMinor: 900_000n, proof: 'proved', changed: 2 });
    } finally {
      await raise('S-4', -100);
      await raise('S-0', -7);
    }
  });
});

forEachBackend('Payment text search within a date range', (ctx) => {
  const DAY = 86_400_000;
  const client = `d-${randomBytes(4).toString('hex')}`;
  /** A term no other payment holds: its trigrams are this block's alone. */
  const term = `kopi${randomBytes(3).toString('hex')}`;
  const from = BASE + 10 * DAY;
  const to = BASE + 13 * DAY;
  /** More newer payments holding the term than one step of the postings walk reads (GRAM_CHUNK, 1,000). */
  const NEWER = 1_200;

  async function pay(transactionId: string, createdAt: number, name: string): Promise<void> {
    await ctx.store().payments.reserve({ clientId: client, transactionId, requestHash: 'h'.repeat(64), amount: '7.00', currency: 'IDR', details: details(name, 'Kopi') }, createdAt);
  }

  async function inRange(search: { from?: number; to?: number; clientId?: string }, sort: 'newest' | 'oldest' = 'newest') {
    return ctx.store().paymentSearch.page({ ...search, text: term }, sort, null, 100);
  }

  before(async function () {
    this.timeout(180_000);
    await pay('OLD-1', BASE + 5 * DAY, `Warung ${term} Lama`);
    await pay('IN-1', from + 3_600_000, `Warung ${term} Satu`);
    await pay('IN-X', from + 7_200_000, 'Warung Teh Tanpa Kata');
    await pay('IN-2', BASE + 12 * DAY, `Warung ${term} Dua`);
    for (let i = 0; i < NEWER; i += 1) await pay(`NEW-${i}`, BASE + 20 * DAY + i, `Warung ${term} Baru`);
    // Written last with an older created_at (a clock behind, another Galera node): ids out of time order.
    await pay('LATE-IN', BASE + 11 * DAY, `Warung ${term} Telat`);
    await pay('LATE-OUT', BASE + 2 * DAY, `Warung ${term} Telat Sekali`);
  });

  it('finds exactly the payments of the range, past more newer ones holding the term than one walk step reads', async () => {
    const page = await inRange({ clientId: client, from, to });
    expect(page.rows.map((p) => p.transactionId)).to.deep.equal(['IN-2', 'LATE-IN', 'IN-1']);
    expect(page.totals).to.deep.equal({ count: 3, totalMinor: 2_100n, truncated: false, capped: false, proof: 'proved', changed: 0 });
    // Without the client filter, and in the other order: the one written late sorts by its date.
    const oldest = await inRange({ from, to }, 'oldest');
    expect(oldest.rows.map((p) => p.transactionId)).to.deep.equal(['IN-1', 'LATE-IN', 'IN-2']);
  });

  it('finds a payment written with an older date than payments before it, on either side of the range', async () => {
    // Only an end: LATE-OUT (the highest id but one) and OLD-1 (a lower id than the range's) are inside it.
    const before = await inRange({ clientId: client, to });
    expect(before.rows.map((p) => p.transactionId).sort()).to.deep.equal(['IN-1', 'IN-2', 'LATE-IN', 'LATE-OUT', 'OLD-1']);
    expect(before.totals.truncated).to.equal(false);
    // A range holding the late payment alone, whose id is above every payment of the newer days.
    const late = await inRange({ clientId: client, from: BASE + 11 * DAY, to: BASE + 11 * DAY + 1 });
    expect(late.rows.map((p) => p.transactionId)).to.deep.equal(['LATE-IN']);
    // The ids between the range's bounds include payments outside it: the range still drops them.
    const early = await inRange({ clientId: client, from: BASE + 2 * DAY, to: BASE + 6 * DAY });
    expect(early.rows.map((p) => p.transactionId)).to.deep.equal(['OLD-1', 'LATE-OUT']);
  });

  it('finds nothing in a range without payments', async () => {
    const page = await inRange({ clientId: client, from: BASE + 14 * DAY, to: BASE + 15 * DAY });
    expect(page.rows).to.deep.equal([]);
    expect(page.totals).to.deep.equal({ count: 0, totalMinor: 0n, truncated: false, capped: false, proof: 'proved', changed: 0 });
    // Nor in a range of payments none of which holds the term.
    const none = await ctx.store().paymentSearch.page({ clientId: client, text: 'tanpa kata', from: BASE + 20 * DAY, to: BASE + 21 * DAY }, 'newest', null, 10);
    expect(none.rows).to.deep.equal([]);
  });
});

forEachBackend('Payment text search whose matches lie below many newer payments holding a part of the term', (ctx) => {
  // Steps of 10 postings (searchWalkPayments: the walk of either trigram alone passes 30 or 40 payments that do not match).
  const search = (gramWalkLimit: number) => new SqlPaymentSearchRepository(ctx.store().db, TEST_AUDIT_KEYS, null, Date.now, { gramChunk: 10, gramWalkLimit });
  const client = `w-${randomBytes(4).toString('hex')}`;

  before(async function () {
    this.timeout(60_000);
    await searchWalkPayments(ctx.store(), client, BASE);
  });

  it('finds every match within the walk\'s bound, each step walking the trigram whose next postings reach furthest down', async () => {
    const postings = async (gram: string) =>
      Number((await ctx.store().db.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM payment_search_grams WHERE gram_hash = ?', [gramHash(TEST_AUDIT_KEYS, gram)]))[0].n);
    expect([await postings('731'), await postings('312')], 'the postings of "731" and "312"').to.deep.equal([43, 33]);
    const page = await search(20).page({ text: WALK_TERM }, 'newest', null, 10);
    expect(page.rows.map((p) => p.transactionId).sort()).to.deep.equal(['PO-7312-A', 'PO-7312-B', 'PO-7312-C']);
    expect(page.totals).to.deep.equal({ count: 3, totalMinor: 3_600n, truncated: false, capped: false, proof: 'proved', changed: 0 });
  });

  it('says the walk was cut short, not that it stopped at the newest matches, when its bound stops it before them', async () => {
    const page = await search(10).page({ text: WALK_TERM }, 'newest', null, 10);
    expect(page.rows).to.deep.equal([]);
    // One step of 10 postings of "312", the rarest there: down to PO-0312-20, made at BASE + 21.
    expect(page.totals).to.deep.include({ count: 0, truncated: 'walk', reachedAt: BASE + 21 });
  });

  it('gives no time read from the payment the walk stopped at when it does not hold: its creation time changed in SQL, or its fixed columns swapped with an older payment\'s (MAC and all)', async () => {
    const db = ctx.store().db;
    const fixed = ['client_id', 'transaction_id', 'request_hash', 'amount', 'currency', 'created_at', 'mac_key_id', 'mac'];
    const rowOf = async (tx: string) => (await db.query<Record<string, string | number>>(`SELECT id, ${fixed.join(', ')} FROM payments WHERE client_id = ? AND transaction_id = ?`, [client, tx]))[0];
    const [stopped, older] = [await rowOf('PO-0312-20'), await rowOf('PO-7312-A')];
    const write = async (id: string | number, row: Record<string, string | number>) => db.execute(`UPDATE payments SET ${fixed.map((c) => `${c} = ?`).join(', ')} WHERE id = ?`, [...fixed.map((c) => row[c]), id]);
    const attacks: [string, () => Promise<void>, RegExp][] = [
      ['made a year before', () => db.execute('UPDATE payments SET created_at = ? WHERE id = ?', [BASE - 365 * 86_400_000, stopped.id]).then(() => undefined), new RegExp(`^payments id ${stopped.id} \\(${client} / PO-0312-20\\) was altered`)],
      [
        'swapped with PO-7312-A, made at BASE',
        async () => {
          await write(older.id, { ...older, transaction_id: 'SWAP' });
          await write(stopped.id, older);
          await write(older.id, stopped);
        },
        new RegExp(`^payments id ${stopped.id} \\(${client} / PO-7312-A\\) says it was made at ${new Date(BASE).toISOString()}, but its first event is its reserve recorded at ${new Date(BASE + 21).toISOString()}$`),
      ],
    ];
    for (const [what, attack, problem] of attacks) {
      await attack();
      try {
        const page = await search(10).page({ text: WALK_TERM }, 'newest', null, 10);
        expect(page.totals, what).to.deep.include({ count: 0, truncated: 'walk' });
        expect(page.totals.reachedAt, what).to.equal(undefined);
        expect(page.totals.reachedUnproved, what).to.match(problem);
      } finally {
        await write(older.id, { ...older, transaction_id: 'SWAP' });
        await write(stopped.id, stopped);
        await write(older.id, older);
      }
    }
    expect((await search(10).page({ text: WALK_TERM }, 'newest', null, 10)).totals).to.deep.include({ reachedAt: BASE + 21 });
  });
});

forEachBackend('Payment text search cut short under two ring keys', (ctx) => {
  it('tells how far back it got as the later of the two walks\' reach: older payments under the newer key were not looked at', async function () {
    this.timeout(60_000);
    // Indexed under the old key, then (the newer current) 1,000 ms later under the new one.
    await searchWalkPayments(ctx.store(), `w-${randomBytes(4).toString('hex')}`, BASE);
    const newKey = testKeySpec('walk-new');
    const both = await openStore(ctx.url(), { auditKeys: ringOf(TEST_AUDIT_KEY, newKey) });
    try {
      await searchWalkPayments(both, `w-${randomBytes(4).toString('hex')}`, BASE + 1_000);
      const search = new SqlPaymentSearchRepository(both.db, ringOf(TEST_AUDIT_KEY, newKey), null, Date.now, { gramChunk: 10, gramWalkLimit: 10 });
      const page = await search.page({ text: WALK_TERM }, 'newest', null, 10);
      // Each walk reached its PO-0312-20: BASE + 21 under the old key, BASE + 1,021 under the new.
      expect(page.totals).to.deep.include({ count: 0, truncated: 'walk', reachedAt: BASE + 1_021 });
    } finally {
      await both.close();
    }
  });
});

forEachBackend('Payment text search after a key rotation', (ctx) => {
  it('finds the payments under the newest key once the old one is retired, and meanwhile under either', async () => {
    const client = `r-${randomBytes(4).toString('hex')}`;
    await ctx.store().payments.reserve({ clientId: client, transactionId: 'ROT-1', requestHash: 'h'.repeat(64), amount: '5.00', currency: 'IDR', details: details('PT Nusantara Rotasi', 'Sewa kantor') }, BASE);
    const newKey = testKeySpec('search-new');
    const both = await openStore(ctx.url(), { auditKeys: ringOf(TEST_AUDIT_KEY, newKey) });
    try {
      // Before the rotation: indexed under the old key, found through it.
      expect(await found(both, { clientId: client, text: 'nusantara' })).to.deep.equal(['ROT-1']);
      const report = await both.keyRotation.rotate({ batchSize: 100 });
      expect(report.reindexedPayments).to.be.at.least(1);
    } finally {
      await both.close();
    }
    const newOnly = await openStore(ctx.url(), { auditKeys: ringOf(newKey) });
    try {
      expect(await found(newOnly, { clientId: client, text: 'NUSANTARA rot' })).to.deep.equal(['ROT-1']);
      const [row] = await newOnly.db.query<{ search_key_id: string }>("SELECT search_key_id FROM payments WHERE transaction_id = 'ROT-1'");
      expect(row.search_key_id).to.equal(ringOf(newKey).currentKeyId);
      const page = await newOnly.paymentSearch.page({ clientId: client, text: 'kantor' }, 'newest', null, 10);
      expect(page.totals.unindexed).to.equal(undefined);
    } finally {
      await newOnly.close();
    }
  });
});

forEachBackend('Migration 026 on payments stored before it', (ctx) => {
  it('needs the audit keys, then indexes every stored payment so the search finds it', async function () {
    const database = ctx.backend === 'sqlite' ? createSqliteDatabase() : await createMariaDbDatabase(this);
    const db = openDb(database.url);
    try {
      await migrateBelow(db, '026', TEST_AUDIT_KEYS);
      // A payment as the gateway wrote it before 026: its details sealed for its row.
      const fixed = { clientId: 'gbc_old', transactionId: 'INV-OLD-26', requestHash: 'h'.repeat(64), amount: '10.00', currency: 'IDR', createdAt: 1000 };
      const { keyId, mac } = paymentMac(TEST_AUDIT_KEYS, fixed);
      const sealed = TEST_AUDIT_KEYS.encrypt(JSON.stringify(details('CV Lama Sekali', 'Tagihan lama')), placeOf('payments', 'details_json', [7]));
      await db.execute(
        'INSERT INTO payments (id, client_id, transaction_id, request_hash, state, amount, amount_minor, currency, created_at, updated_at, key_id, mac_key_id, mac, details_json) ' +
          "VALUES (7, ?, ?, ?, 'SUCCESS', ?, 1000, ?, ?, ?, ?, ?, ?, ?)",
        [fixed.clientId, fixed.transactionId, fixed.requestHash, fixed.amount, fixed.currency, fixed.createdAt, fixed.createdAt, TEST_AUDIT_KEYS.currentKeyId, keyId, mac, sealed],
      );
      const refused = await migrate(db).then(() => null, (e: Error) => e);
      expect(refused?.message, 'the payments cannot be indexed without the keys').to.contain('GERBANG_AUDIT_KEYS');
      expect(await migrate(db, { keys: TEST_AUDIT_KEYS })).to.deep.equal({ applied: ['026_payment_search_grams', '027_record_changes', '028_keyed_coverage', '029_reconciliation_index', '030_reconciliation_macs', '031_reconciliation_seals', '032_reconciliation_digest', '033_batch_line_macs', '034_day_totals', '035_reserve_events_index', '037_excused_history', '038_callback_delivery_macs', '041_seal_payment_ids', '042_console_audit_action_index', '043_client_state_index', '045_callback_delivery_ids', '046_created_day_index'] });
    } finally {
      await db.close();
    }
    const store = await openStore(database.url, { auditKeys: TEST_AUDIT_KEYS });
    try {
      expect(await found(store, { text: 'lama sek' })).to.deep.equal(['INV-OLD-26']);
      expect(await found(store, { text: 'old-26' })).to.deep.equal(['INV-OLD-26']);
    } finally {
      await store.close();
      await database.drop();
    }
  });

  it('says since when a walk cut short at such a payment looked, recorded as it stood by migration 037 (its first event a baseline, not a reserve)', async function () {
    const database = ctx.backend === 'sqlite' ? createSqliteDatabase() : await createMariaDbDatabase(this);
    const db = openDb(database.url);
    try {
      await migrateBelow(db, '024');
      // Two payments as the gateway wrote them before 024 (no history): a walk of one posting stops at the newer.
      for (const [id, createdAt] of [[7, 1000], [8, 2000]]) {
        const fixed = { clientId: 'gbc_old', transactionId: `INV-OLD-${id}`, requestHash: 'h'.repeat(64), amount: '10.00', currency: 'IDR', createdAt };
        const { keyId, mac } = paymentMac(TEST_AUDIT_KEYS, fixed);
        const sealed = TEST_AUDIT_KEYS.encrypt(JSON.stringify(details('CV Lama Sekali', 'Tagihan lama')), placeOf('payments', 'details_json', [id]));
        await db.execute(
          'INSERT INTO payments (id, client_id, transaction_id, request_hash, state, amount, amount_minor, currency, created_at, updated_at, key_id, mac_key_id, mac, details_json) ' +
            "VALUES (?, ?, ?, ?, 'SUCCESS', ?, 1000, ?, ?, ?, ?, ?, ?, ?)",
          [id, fixed.clientId, fixed.transactionId, fixed.requestHash, fixed.amount, fixed.currency, createdAt, createdAt, TEST_AUDIT_KEYS.currentKeyId, keyId, mac, sealed],
        );
      }
      await migrate(db, { keys: TEST_AUDIT_KEYS });
    } finally {
      await db.close();
    }
    const store = await openStore(database.url, { auditKeys: TEST_AUDIT_KEYS });
    try {
      const [first] = await store.db.query<{ cause: string }>('SELECT cause FROM payment_events WHERE payment_id = 8 AND seq = 1');
      expect(first.cause).to.equal('baseline');
      const cut = new SqlPaymentSearchRepository(store.db, TEST_AUDIT_KEYS, null, Date.now, { gramChunk: 1, gramWalkLimit: 1 });
      const page = await cut.page({ text: 'lama sekali' }, 'newest', null, 10);
      expect(page.rows.map((p) => p.transactionId)).to.deep.equal(['INV-OLD-8']);
      expect(page.totals).to.deep.include({ truncated: 'walk', reachedAt: 2000 });
      expect(page.totals.reachedUnproved).to.equal(undefined);
    } finally {
      await store.close();
      await database.drop();
    }
  });
});
