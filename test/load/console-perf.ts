/**
 * `npm run bench:console`: seeds a million payments, each with its history (two events under
 * their keyed chain links, as the gateway writes them: seedPayments) and its audit exchange and
 * bank call, into a fresh MariaDB/MySQL database, starts the real finance console on it, signs in over
 * HTTP and measures how long each page takes to answer, p50 / p95 / max of 20 runs: the list and
 * its filters, the text search (with and without a date range), a day to a month of one
 * account's reconciliation, the detail page and the overview; then the CSV export.
 *
 *   GERBANG_PERF_MYSQL_URL  server to use (default mysql://root@127.0.0.1:3306)
 *   GERBANG_PERF_ROWS       payments to seed (default 1000000)
 *   GERBANG_PERF_KEEP=1     keep the database afterwards (its name is printed) and note its name
 *                           and the throwaway key it was sealed with in KEPT_FILE, so the next
 *                           run measures it again instead of seeding a million rows anew
 *   GERBANG_PERF_KEPT_FILE  where KEPT_FILE is (default gerbang-console-perf.json in the temporary
 *                           directory): two runs on one machine, each keeping its own database
 *   GERBANG_PERF_REUSE=name measure a database kept by an earlier run (migrated to the newest
 *                           migration, not seeded again); give that run's GERBANG_PERF_AUDIT_KEY
 *                           (GERBANG_PERF_REUSE=no: seed afresh even when KEPT_FILE names one)
 *   GERBANG_PERF_AUDIT_KEY  `id:base64key` the sealed values are sealed with (default: a fresh one)
 *   GERBANG_PERF_CASES=re   only the cases whose label matches
 *   GERBANG_PERF_SWEEP=off  do not run the seal sweep first: the reconciliation cases then read
 *                           days not sealed (each row proved one by one on the first reading,
 *                           kept as proved after), which their figures must say
 *
 * The seeding uses MariaDB's SEQUENCE engine (seq_1_to_N), so it needs MariaDB 10.x. The
 * reconciliation cases read a statement made here from the seeded payments (no bank is called).
 * A reused database keeps its dates: the run takes "now" from its newest payment, so the day
 * cases read the same days whenever it runs. One run at a time per server (a named lock): on a
 * shared machine two runs would measure each other.
 * A measurement, not a test: it prints figures and never fails on a slow answer.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { loadConsoleConfig } from '../../src/config/index.js';
import { createConsoleUser, startConsole, type StatementReader } from '../../src/console/index.js';
import type { StatementEntry } from '../../src/banks/types.js';
import { configureLogger } from '../../src/log/index.js';
import { migrate, openDb, openStore } from '../../src/store/index.js';
import { accountTag, paymentMac } from '../../src/store/repositories/payment-repository.js';
import { appendOnOwnChain, type ChainHead, type Written } from '../../src/store/repositories/audit-chain.js';
import { eventPlace, PAYMENT_EVENT_WRITTEN, paymentEventDigest, type PaymentEventCause, type PaymentSnapshot } from '../../src/store/repositories/payment-events.js';
import { placeOf } from '../../src/security/index.js';
import { reindexPayments } from '../../src/store/repositories/payment-search-grams.js';
import { place, ValueSealer } from '../../src/store/repositories/sealed-values.js';
import { ringOf, testKeySpec } from '../support/audit-keys.js';

const SERVER = (process.env.GERBANG_PERF_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306').replace(/\/+$/, '');
const ROWS = Number(process.env.GERBANG_PERF_ROWS ?? 1_000_000);

/** Where a kept database is noted (name, server, rows, key): a throwaway key of synthetic data, readable by its owner only. */
const KEPT_FILE = process.env.GERBANG_PERF_KEPT_FILE ?? join(tmpdir(), 'gerbang-console-perf.json');
interface Kept {
  name: string;
  server: string;
  rows: number;
  key: string;
}
function keptDatabase(): Kept | null {
  if (process.env.GERBANG_PERF_REUSE === 'no' || !existsSync(KEPT_FILE)) return null;
  const kept = JSON.parse(readFileSync(KEPT_FILE, 'utf8')) as Kept;
  return kept.server === SERVER && kept.rows === ROWS ? kept : null;
}
const KEPT = process.env.GERBANG_PERF_REUSE ? null : keptDatabase();
const AUDIT_KEY = process.env.GERBANG_PERF_AUDIT_KEY ?? KEPT?.key ?? testKeySpec('perf');
const AUDIT_KEYS = ringOf(AUDIT_KEY);
const BATCH = 100_000;
const DAY = 86_400_000;
const SPAN_DAYS = 30;

const NAMES = ['PT Sumber Makmur', 'CV Maju Jaya', 'PT Abadi Sentosa', 'Toko Berkah', 'PT Cahaya Timur', 'UD Sinar Jaya', 'PT Mega Karya', 'CV Bintang Lima'];

/** The company accounts the seeded payments are paid from (a payment's is the seq-th modulo their count). */
const ACCOUNTS = Array.from({ length: 20 }, (_, i) => `02012400${String(i).padStart(2, '0')}`);
/** The account the reconciliation cases read: one in twenty payments is paid from it. */
const RECONCILED = ACCOUNTS[3];

/**
 * The payments, written as the gateway writes them: each row's facts (migration 015) and paying
 * account sealed for that row with the run's key, the account's keyed tag (migration 022) beside
 * it, so the text search and the reconciliation pay the real decryption cost on every row they
 * open. Sealing is bound to the row's id, so the rows are built here with their ids (1..ROWS).
 *
 * Each with its history (migration 024) as the gateway writes it for a transfer sent on its first
 * route (create-transfer-use-case.ts): a `reserve` event at its created_at (SENDING under the
 * route's bank id), then the `send` event with the bank's outcome, the answer kept (result_json,
 * sealed for the payment row and for the event's place) and its HTTP status, 800 ms later; each
 * event under a `payment_event` link of a keyed audit chain (appendOnOwnChain: the gateway's link
 * code), one chain per batch of the seeding as each gateway process has its own. The payments row
 * is its last event, so every read that holds a payment to its history (the list, the search, the
 * reconciliation, the seal sweep) pays what it pays in production: since migration 037 no payment
 * is excused from having one (chain-coverage.ts). Event ids are given (2 a payment) so that
 * sealing and links need no read back.
 */
async function seedPayments(db: ReturnType<typeof openDb>, first: number, last: number, start: number, step: number): Promise<void> {
  const ROWS_PER_INSERT = 500;
  const columns =
    'id, client_id, transaction_id, request_hash, state, bank, operation, bank_transaction_id, bank_transaction_date, bank_reference, amount, amount_minor, ' +
    'currency, result_json, http_status, created_at, updated_at, key_id, details_json, beneficiary_account, beneficiary_bank, source_account, source_account_tag, mac_key_id, mac';
  const width = columns.split(',').length;
  const tags = ACCOUNTS.map((account) => accountTag(AUDIT_KEYS, account));
  const sealer = new ValueSealer(AUDIT_KEYS);
  const writerId = `perf-seed-${first}`;
  let head: ChainHead | null = null;
  for (let from = first; from <= last; from += ROWS_PER_INSERT) {
    const to = Math.min(last, from + ROWS_PER_INSERT - 1);
    const values: (string | number | null)[] = [];
    const events: (string | number | null)[] = [];
    const written: Written[] = [];
    for (let seq = from; seq <= to; seq += 1) {
      const at = start + seq * step;
      const minor = (seq * 7919) % 250_000_000 + 10_000;
      const state = seq % 20 === 0 ? 'FAILED' : seq % 97 === 0 ? 'UNKNOWN' : seq % 89 === 0 ? 'PENDING' : 'SUCCESS';
      const i = seq % 400;
      const account = ACCOUNTS[seq % ACCOUNTS.length];
      const details = { sourceAccount: account, beneficiaryAccount: `02012${String(i).padStart(5, '0')}`, beneficiaryBankCode: '014', beneficiaryName: `${NAMES[i % NAMES.length]} ${i}`, remark: `Invoice INV-${i}`, transferMethod: null };
      const day = new Date(at + 7 * 3_600_000).toISOString().slice(0, 10);
      const amount = `${Math.floor(minor / 100)}.${String(minor % 100).padStart(2, '0')}`;
      const bank = seq % 7 === 0 ? 'bni' : 'bca';
      const bankTransactionId = String(seq % 100_000_000).padStart(8, '0');
      const bankReference = state === 'SUCCESS' ? String(seq).padStart(10, '0') : null;
      const answer = JSON.stringify({
        transactionId: `PERF-${seq}`, status: state, amount, currency: 'IDR', bank, transferMethod: 'INTRABANK', bankReference,
        bankResponseCode: state === 'FAILED' ? '0407' : '0000', bankMessage: state === 'FAILED' ? 'Insufficient funds' : 'Success',
        createdAt: new Date(at).toISOString(), updatedAt: new Date(at + 800).toISOString(), routing: [{ partner: bank, method: 'INTRABANK', reason: 'default', result: 'sent' }],
      });
      const httpStatus = state === 'SUCCESS' || state === 'FAILED' ? 201 : 202;
      values.push(
        seq, `perf-client-${seq % 5}`, `PERF-${seq}`, 'a'.repeat(64), state, bank, 'transfer-intrabank', bankTransactionId, day,
        bankReference, amount, minor, 'IDR', sealer.seal(answer, place('payments', 'result_json', [seq])), httpStatus, at, at + 800, AUDIT_KEYS.currentKeyId,
        AUDIT_KEYS.encrypt(JSON.stringify(details), placeOf('payments', 'details_json', [seq])), '******5681', '014',
        AUDIT_KEYS.encrypt(account, placeOf('payments', 'source_account', [seq])), tags[seq % ACCOUNTS.length],
      );
      const fixed = { clientId: `perf-client-${seq % 5}`, transactionId: `PERF-${seq}`, requestHash: 'a'.repeat(64), amount, currency: 'IDR', createdAt: at };
      const { keyId, mac } = paymentMac(AUDIT_KEYS, fixed);
      values.push(keyId, mac);
      const sending = { bank, operation: 'transfer-intrabank', bankTransactionId, bankTransactionDate: day, bankExternalId: null, reviewSince: null };
      const history: [PaymentEventCause, number, PaymentSnapshot][] = [
        ['reserve', at, { state: 'SENDING', ...sending, bankReference: null, httpStatus: null, resultJson: null }],
        ['send', at + 800, { state, ...sending, bankReference, httpStatus, resultJson: answer }],
      ];
      for (const [index, [cause, recordedAt, s]] of history.entries()) {
        const id = seq * 2 - 1 + index;
        events.push(id, seq, index + 1, cause, s.state, s.bank, s.operation, s.bankTransactionId, s.bankTransactionDate, s.bankReference, s.bankExternalId,
          s.httpStatus, s.reviewSince, sealer.seal(s.resultJson, eventPlace(seq, index + 1)), recordedAt, AUDIT_KEYS.currentKeyId);
        written.push({ recordId: id, contentDigest: paymentEventDigest({ id, paymentId: seq, seq: index + 1, cause, recordedAt, snapshot: s }) });
      }
    }
    const rows = to - from + 1;
    const eventWidth = PAYMENT_EVENT_WRITTEN.length + 1;
    const linkedAt = start + to * step + 800;
    head = await db.withTransaction(async (tx) => {
      await tx.execute(`INSERT INTO payments (${columns}) VALUES ${Array.from({ length: rows }, () => `(${Array(width).fill('?').join(', ')})`).join(', ')}`, values);
      await tx.execute(
        `INSERT INTO payment_events (id, ${PAYMENT_EVENT_WRITTEN.join(', ')}) VALUES ${Array.from({ length: written.length }, () => `(${Array(eventWidth).fill('?').join(', ')})`).join(', ')}`,
        events,
      );
      return appendOnOwnChain(tx, AUDIT_KEYS, writerId, head, 'payment_event', async () => written, () => linkedAt);
    });
  }
}

async function seed(url: string, end: number): Promise<void> {
  const db = openDb(url);
  const start = end - SPAN_DAYS * DAY;
  const step = Math.floor((SPAN_DAYS * DAY) / ROWS);
  try {
    for (let first = 1; first <= ROWS; first += BATCH) {
      const last = Math.min(ROWS, first + BATCH - 1);
      const seq = `seq_${first}_to_${last}`;
      const at = `(${start} + seq * ${step})`;
      const minor = '((seq * 7919) % 250000000 + 10000)';
      await seedPayments(db, first, last, start, step);
      await db.execute(
        'INSERT INTO audit_exchanges (id, request_id, received_at, completed_at, remote_ip, origin, method, path, client_id, transaction_id, amount, ' +
          'outcome, status_code, error_code, request_headers, request_body, response_body) ' +
          `SELECT seq, CONCAT('perf-', seq), ${at}, ${at} + 800, '127.0.0.1', NULL, 'POST', '/v1/transfers', CONCAT('perf-client-', seq % 5), ` +
          `CONCAT('PERF-', seq), CONCAT(${minor} DIV 100, '.00'), 'completed', 201, NULL, '{}', ` +
          `CONCAT('{"transactionId":"PERF-', seq, '","sourceAccountNumber":"0201245680","beneficiaryBankCode":"014","beneficiaryAccountNumber":"0201245681","amount":"', ${minor} DIV 100, '.00","currency":"IDR","remark":"Invoice"}'), ` +
          `CONCAT('{"transactionId":"PERF-', seq, '","status":"SUCCESS","bank":"bca"}') FROM ${seq}`,
      );
      await db.execute(
        'INSERT INTO audit_bank_calls (exchange_id, request_id, partner, operation, method, url, request_headers, request_body, status_code, ' +
          'response_body, error_code, started_at, duration_ms) ' +
          `SELECT seq, CONCAT('perf-', seq), 'bca', 'transfer-intrabank', 'POST', 'https://bank.example/banking/corporates/transfers', '{}', '{}', 200, ` +
          `'{"Status":"Success"}', NULL, ${at} + 50, 40 + (seq * 31) % 400 FROM ${seq}`,
      );
      process.stdout.write(`  seeded ${last.toLocaleString('en')} payments, exchanges and bank calls\r`);
    }
    process.stdout.write('\n');
    await db.execute('ANALYZE TABLE payments, payment_events, audit_chain, audit_exchanges, audit_bank_calls');
  } finally {
    await db.close();
  }
}

/**
 * The audit rows are seeded in clear (sealing three million values would take longer than the
 * rest of the seeding); the detail case's payment gets its exchange and bank calls sealed for
 * their rows as the gateway seals them, so its page opens them as it would in production.
 */
async function sealAuditOf(url: string, transactionId: string): Promise<void> {
  const db = openDb(url);
  const seal = (value: string | null, table: string, column: string, row: (string | number)[]) =>
    value === null || value.startsWith('gcm') ? value : AUDIT_KEYS.encrypt(value, placeOf(table, column, row));
  try {
    const exchanges = await db.query<{ id: number; request_id: string; received_at: number | string; request_headers: string; request_body: string | null; response_body: string | null }>(
      'SELECT id, request_id, received_at, request_headers, request_body, response_body FROM audit_exchanges WHERE transaction_id = ?',
      [transactionId],
    );
    for (const e of exchanges) {
      const row = [e.request_id, Number(e.received_at)];
      await db.execute('UPDATE audit_exchanges SET request_headers = ?, request_body = ?, response_body = ?, key_id = ? WHERE id = ?', [
        seal(e.request_headers, 'audit_exchanges', 'request_headers', row),
        seal(e.request_body, 'audit_exchanges', 'request_body', row),
        seal(e.response_body, 'audit_exchanges', 'response_body', row),
        AUDIT_KEYS.currentKeyId,
        e.id,
      ]);
      const calls = await db.query<{ id: number; request_id: string; operation: string; started_at: number | string; url: string; request_headers: string; request_body: string | null; response_body: string | null }>(
        'SELECT id, request_id, operation, started_at, url, request_headers, request_body, response_body FROM audit_bank_calls WHERE exchange_id = ?',
        [e.id],
      );
      for (const c of calls) {
        const at = [c.request_id, c.operation, Number(c.started_at)];
        await db.execute('UPDATE audit_bank_calls SET url = ?, request_headers = ?, request_body = ?, response_body = ?, key_id = ? WHERE id = ?', [
          seal(c.url, 'audit_bank_calls', 'url', at),
          seal(c.request_headers, 'audit_bank_calls', 'request_headers', at),
          seal(c.request_body, 'audit_bank_calls', 'request_body', at),
          seal(c.response_body, 'audit_bank_calls', 'response_body', at),
          AUDIT_KEYS.currentKeyId,
          c.id,
        ]);
      }
    }
  } finally {
    await db.close();
  }
}

/**
 * The bank's side of the reconciliation cases, standing in for the statement the API would read:
 * a debit for each payment seeded from the account in the period, as BCA words it. Built once per
 * account and period (a month is 45,000 lines: 40-90 ms to build, the bank's time, not Gerbang's),
 * so the figures are the console's and the database's. Built as two copies whose every line and
 * string are their own (as the API's reader parses each answer anew), handed out in turn: a page
 * opened again is never given the very objects it matched last (reconcile-period.ts,
 * StatementMatches, compares them value by value).
 */
function seededStatements(end: number): StatementReader {
  const start = end - SPAN_DAYS * DAY;
  const step = Math.floor((SPAN_DAYS * DAY) / ROWS);
  const built = new Map<string, { copies: Promise<Awaited<ReturnType<StatementReader['read']>>[]>; reads: number }>();
  return {
    async read(accountNumber, from, to) {
      const key = `${accountNumber} ${from} ${to}`;
      let kept = built.get(key);
      if (kept === undefined) {
        const made = build(accountNumber, from, to);
        built.set(key, (kept = { copies: made.then((statement) => [statement, JSON.parse(JSON.stringify(statement)) as typeof statement]), reads: 0 }));
      }
      const copies = await kept.copies;
      return copies[kept.reads++ % copies.length];
    },
  };
  async function build(accountNumber: string, from: string, to: string): ReturnType<StatementReader['read']> {
    const index = ACCOUNTS.indexOf(accountNumber);
    const lo = Math.max(1, Math.ceil((Date.parse(`${from}T00:00:00+07:00`) - start) / step));
    const hi = Math.min(ROWS, Math.floor((Date.parse(`${to}T00:00:00+07:00`) + DAY - 1 - start) / step));
    const entries: StatementEntry[] = [];
    for (let seq = lo + ((((index - lo) % ACCOUNTS.length) + ACCOUNTS.length) % ACCOUNTS.length); index >= 0 && seq <= hi; seq += ACCOUNTS.length) {
      if (seq % 20 === 0) continue; // refused: nothing debited
      const minor = (seq * 7919) % 250_000_000 + 10_000;
      const date = new Date(start + seq * step + 7 * 3_600_000).toISOString().slice(0, 10);
      entries.push({ date, type: 'DEBIT', amount: `${Math.floor(minor / 100)}.${String(minor % 100).padStart(2, '0')}`, description: `TRSF E-BANKING DB PERF-${seq}` });
    }
    return { accountNumber, currency: 'IDR', from, to, openingBalance: null, entries, bank: 'bca' };
  }
}

/**
 * The seeded payments indexed for the text search (migration 026) as `gerbang keys reindex-search`
 * indexes them: opened, their trigrams hashed and written, 500 payments per transaction.
 */
async function indexForSearch(url: string): Promise<void> {
  const db = openDb(url);
  const began = Date.now();
  try {
    const indexed = await reindexPayments(db, new ValueSealer(AUDIT_KEYS), {
      transaction: (fn) => db.withTransaction(fn),
      onBatch: (done) => {
        if (done % 10_000 === 0) process.stdout.write(`  indexed ${done.toLocaleString('en')} payments for the search\r`);
      },
    });
    const [{ n }] = await db.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM payment_search_grams');
    await db.execute('ANALYZE TABLE payment_search_grams');
    console.log(`\nindexed ${indexed.toLocaleString('en')} payments for the search (${Number(n).toLocaleString('en')} trigram rows) in ${((Date.now() - began) / 1000).toFixed(1)} s`);
  } finally {
    await db.close();
  }
}

/**
 * A page's answer times over HTTP, and the CPU time this process (the console and the client
 * asking it) spent on each answer: on a shared machine under load the answer waits for a core,
 * and the CPU time is what the console's own work costs (`cpuFirst`, `cpuP50`).
 */
async function time(
  origin: string,
  cookie: string,
  path: string,
  runs: number,
): Promise<{ first: number; p50: number; p95: number; max: number; cpuFirst: number; cpuP50: number; bytes: number; status: number }> {
  const samples: number[] = [];
  const cpu: number[] = [];
  let bytes = 0;
  let status = 0;
  for (let i = 0; i < runs; i += 1) {
    const began = process.hrtime.bigint();
    const cpuBefore = process.cpuUsage();
    const res = await request(`${origin}${path}`, { headers: { cookie } });
    const body = await res.body.text();
    samples.push(Number(process.hrtime.bigint() - began) / 1e6);
    const used = process.cpuUsage(cpuBefore);
    cpu.push((used.user + used.system) / 1000);
    bytes = body.length;
    status = res.statusCode;
  }
  const first = samples[0];
  const cpuFirst = cpu[0];
  // GERBANG_PERF_SAMPLES=1: every run's time in its order, to tell the second opening from the noise.
  if (process.env.GERBANG_PERF_SAMPLES === '1') console.log(`  ${path.slice(0, 40)}: ${samples.map((ms) => ms.toFixed(0)).join(' ')} (cpu ${cpu.map((ms) => ms.toFixed(0)).join(' ')})`);
  samples.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  const at = (p: number, sorted = samples) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
  return { first, p50: at(50), p95: at(95), max: samples[samples.length - 1], cpuFirst, cpuP50: at(50, cpu), bytes, status };
}

async function main(): Promise<void> {
  configureLogger('warn');
  // One run at a time: the lock is the server's, so it holds whoever started the other run.
  const lockDb = openDb(SERVER);
  const [lock] = await lockDb.query<{ got: number | string | null }>("SELECT GET_LOCK('gerbang_console_perf', 0) AS got");
  if (Number(lock?.got) !== 1) {
    await lockDb.close();
    console.error('another console-perf run is measuring on this server; run again when it is done');
    process.exit(2);
  }
  try {
    await measure();
  } finally {
    await lockDb.close();
  }
}

async function measure(): Promise<void> {
  const requested = process.env.GERBANG_PERF_REUSE;
  let reuse = requested && requested !== 'no' ? requested : KEPT?.name;
  if (reuse && !requested) {
    const admin = openDb(SERVER);
    const [present] = await admin.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [reuse]);
    await admin.close();
    if (Number(present?.n) !== 1) reuse = undefined;
  }
  let only: RegExp | null = null;
  const name = reuse ?? `gerbang_perf_${randomBytes(4).toString('hex')}`;
  const url = `${SERVER}/${name}`;
  let end = Date.now();
  if (reuse) {
    console.log(`database ${name}: reused as seeded by an earlier run`);
    const migrateDb = openDb(url);
    // With the key: migration 026 indexes the kept payments for the search (timed here).
    const migrating = Date.now();
    const { applied } = await migrate(migrateDb, { keys: AUDIT_KEYS });
    if (applied.length > 0) console.log(`migrated (${applied.join(', ')}) in ${((Date.now() - migrating) / 1000).toFixed(1)} s`);
    // The seeded payments end at the seeding run's "now": take it back from the newest one.
    const [newest] = await migrateDb.query<{ at: number | string }>("SELECT created_at AS at FROM payments WHERE transaction_id = ?", [`PERF-${ROWS}`]);
    await migrateDb.close();
    if (!newest) throw new Error(`database ${name} holds no payment PERF-${ROWS}: not seeded with GERBANG_PERF_ROWS=${ROWS}`);
    end = Number(newest.at) - ROWS * Math.floor((SPAN_DAYS * DAY) / ROWS) + SPAN_DAYS * DAY;
  } else {
    const admin = openDb(SERVER);
    await admin.execute(`CREATE DATABASE ${name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
    await admin.close();
    console.log(`database ${name}: migrating and seeding ${ROWS.toLocaleString('en')} payments over ${SPAN_DAYS} days`);
    const migrateDb = openDb(url);
    await migrate(migrateDb);
    await migrateDb.close();
    const seeding = Date.now();
    await seed(url, end);
    console.log(`seeded in ${((Date.now() - seeding) / 1000).toFixed(1)} s`);
    await indexForSearch(url);
    if (process.env.GERBANG_PERF_KEEP === '1') {
      writeFileSync(KEPT_FILE, JSON.stringify({ name, server: SERVER, rows: ROWS, key: AUDIT_KEY } satisfies Kept), { mode: 0o600 });
    }
  }

  await requireHistory(url);
  if (process.env.GERBANG_PERF_SWEEP === 'off') console.log('seal sweep: not run (GERBANG_PERF_SWEEP=off): the reconciliation cases read days not sealed by it');
  else await sealClosedDays(url, end);
  const statements = seededStatements(end);
  // The console measured starts with nothing proved in its memory; the days were sealed above by
  // another store, as the sweep of a console that ran before would have (its own sweep is off so
  // it does not compete with the measured pages).
  const con = await startConsole(loadConsoleConfig({ GERBANG_DATABASE_URL: url, CONSOLE_PORT: '0', GERBANG_LOG_LEVEL: 'warn', GERBANG_MIGRATE_ON_START: 'false', GERBANG_AUDIT_KEYS: AUDIT_KEY }), {
    statements,
    sealSweep: false,
  });
  try {
    const password = randomBytes(12).toString('hex');
    const username = `perf-${randomBytes(3).toString('hex')}`;
    await createConsoleUser(con.store.consoleUsers, { username, password, role: 'auditor' }, Date.now());
    const origin = new URL(con.url).origin;
    const signIn = await request(`${origin}/console/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin },
      body: new URLSearchParams({ username, password }).toString(),
    });
    await signIn.body.dump();
    const cookie = String(signIn.headers['set-cookie']).split(';')[0];

    // A page deep into the list: follow "next" 20 times from the first page.
    let deep = '/console/payments';
    for (let i = 0; i < 20; i += 1) {
      const res = await request(`${origin}${deep}`, { headers: { cookie } });
      const next = /rel="next" href="([^"]+)"/.exec(await res.body.text());
      if (!next) break;
      deep = next[1].replace(/&amp;/g, '&');
    }
    // Ids have gaps after bulk inserts (InnoDB's auto-increment lock mode): find a real one.
    const found = await request(`${origin}/console/payments?txn=PERF-${Math.ceil(ROWS / 2)}`, { headers: { cookie } });
    const detail = /href="(\/console\/payments\/\d+)[?"]/.exec(await found.body.text())?.[1] ?? '/console/payments/1';
    await sealAuditOf(url, `PERF-${Math.ceil(ROWS / 2)}`);
    const day = (offset: number) => new Date(end - offset * DAY + 7 * 3_600_000).toISOString().slice(0, 10);
    const cases: [string, string][] = [
      ['list, no filter (newest first)', '/console/payments'],
      ['list, page 21 (keyset)', deep],
      ['list, status FAILED', '/console/payments?status=FAILED'],
      ['list, status UNKNOWN, oldest first', '/console/payments?status=UNKNOWN&sort=oldest'],
      ['list, one client', '/console/payments?client=perf-client-3'],
      ['list, bank BNI', '/console/payments?bank=bni'],
      ['list, date range (3 days)', `/console/payments?from=${day(10)}&to=${day(8)}`],
      ['list, amount range, largest first', '/console/payments?min=1.000.000,00&max=1.500.000,00&sort=largest'],
      ['list, transaction id', '/console/payments?txn=PERF-424242'],
      ['list, bank reference', '/console/payments?ref=0000777777'],
      ['search "sumber" (sealed names), no filter', '/console/payments?q=sumber'],
      ['search "inv-123" (sealed remarks), 3 days', `/console/payments?q=inv-123&from=${day(10)}&to=${day(8)}`],
      ['search "makmur 16" (sealed names), 7 days', `/console/payments?q=makmur%2016&from=${day(9)}&to=${day(3)}`],
      ['search "jaya 1" (sealed names), 30 days', `/console/payments?q=jaya%201&from=${day(30)}&to=${day(1)}`],
      ['search "perf-4242" (transaction id)', '/console/payments?q=perf-4242'],
      ['search "makmur 16" (sealed names, rare)', '/console/payments?q=makmur%2016'],
      ['search "invoice inv-39" (sealed remarks)', '/console/payments?q=invoice%20inv-39'],
      ['search "jaya 1" (sealed names, common)', '/console/payments?q=jaya%201'],
      ['search "0000777" (bank reference)', '/console/payments?q=0000777'],
      ['list, client + status + 7 days', `/console/payments?client=perf-client-1&status=SUCCESS&from=${day(7)}&to=${day(0)}`],
      ['reconciliation, one account, 1 day', `/console/reconciliation?account=${RECONCILED}&from=${day(3)}&to=${day(3)}`],
      ['reconciliation, one account, 3 days', `/console/reconciliation?account=${RECONCILED}&from=${day(5)}&to=${day(3)}`],
      ['reconciliation, one account, 7 days', `/console/reconciliation?account=${RECONCILED}&from=${day(9)}&to=${day(3)}`],
      ['reconciliation, one account, 30 days', `/console/reconciliation?account=${RECONCILED}&from=${day(30)}&to=${day(1)}`],
      ['detail page', detail],
      ['overview, 7 days', '/console/overview?days=7'],
      ['overview, 14 days', '/console/overview?days=14'],
      ['overview, 30 days', '/console/overview?days=30'],
    ];
    // `first`: the case's first run, as a clerk opening the page gets it (the reconciliation then
    // proves every row it has not proved before); p50 and p95 are of the same page opened again.
    // `cpu`: this process's CPU time for the first answer and the median one (see time()).
    console.log('\nanswer times over HTTP (20 runs each; ms)');
    console.log(`${'case'.padEnd(42)} ${'first'.padStart(8)} ${'p50'.padStart(8)} ${'p95'.padStart(8)} ${'max'.padStart(8)}  status ${'cpu first'.padStart(9)} ${'cpu p50'.padStart(8)}`);
    only = process.env.GERBANG_PERF_CASES ? new RegExp(process.env.GERBANG_PERF_CASES) : null;
    for (const [label, path] of cases) {
      if (only && !only.test(label)) continue;
      // The bank's statement built before the first run is timed (the bank's time, not Gerbang's).
      const asked = new URL(path, origin).searchParams;
      if (path.startsWith('/console/reconciliation')) await statements.read(asked.get('account') ?? '', asked.get('from') ?? '', asked.get('to') ?? '');
      const r = await time(origin, cookie, path, 20);
      console.log(
        `${label.padEnd(42)} ${r.first.toFixed(1).padStart(8)} ${r.p50.toFixed(1).padStart(8)} ${r.p95.toFixed(1).padStart(8)} ${r.max.toFixed(1).padStart(8)}  ${r.status}    ${r.cpuFirst.toFixed(1).padStart(9)} ${r.cpuP50.toFixed(1).padStart(8)}`,
      );
    }
    if (only) return;
    const exportDay = await time(origin, cookie, `/console/payments/export.csv?from=${day(3)}&to=${day(3)}`, 1);
    console.log(`${'CSV export, one day'.padEnd(42)} ${exportDay.p50.toFixed(1).padStart(8)} ms, ${(exportDay.bytes / 1e6).toFixed(1)} MB`);

    // The whole month, streamed: the console runs in this process, so its heap is sampled while it streams.
    global.gc?.();
    const before = process.memoryUsage();
    let peakHeap = before.heapUsed;
    const sampler = setInterval(() => (peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)), 50);
    const began = Date.now();
    const month = await request(`${origin}/console/payments/export.csv?from=${day(SPAN_DAYS + 1)}&to=${day(0)}`, { headers: { cookie } });
    let bytes = 0;
    let lines = 0;
    for await (const chunk of month.body) {
      bytes += (chunk as Buffer).length;
      for (const byte of chunk as Buffer) if (byte === 10) lines += 1;
    }
    clearInterval(sampler);
    console.log(
      `${'CSV export, whole month'.padEnd(42)} ${((Date.now() - began) / 1000).toFixed(1)} s, ${(lines - 1).toLocaleString('en')} rows, ` +
        `${(bytes / 1e6).toFixed(0)} MB; heap ${(before.heapUsed / 1e6).toFixed(0)} MB before, peak ${(peakHeap / 1e6).toFixed(0)} MB while streaming`,
    );
  } finally {
    await con.close();
    if (process.env.GERBANG_PERF_KEEP !== '1' && !reuse) {
      const cleanup = openDb(SERVER);
      await cleanup.execute(`DROP DATABASE IF EXISTS ${name}`);
      await cleanup.close();
    } else console.log(`kept database ${name}`);
  }
}

/**
 * A kept database's payments must have their history as the seeding writes it (seedPayments): one
 * kept by an earlier version of this script had none, its coverage row moved past them and signed
 * by the script, which no production database looks like since migration 037. Such a database is
 * refused (seed anew: GERBANG_PERF_REUSE=no), not measured as if it were one.
 */
async function requireHistory(url: string): Promise<void> {
  const db = openDb(url);
  try {
    const [row] = await db.query<{ n: number | string }>("SELECT COUNT(*) AS n FROM payment_events e JOIN payments p ON p.id = e.payment_id WHERE p.transaction_id = 'PERF-1'");
    if (Number(row?.n ?? 0) === 0) throw new Error('the reused database\'s payments have no history (seeded by an earlier version of this script): seed anew with GERBANG_PERF_REUSE=no');
  } finally {
    await db.close();
  }
}

/**
 * The console's seal sweep (#16) run to its end by a store of its own, timed: every closed day of
 * the last month of every account sealed (a kept database sealed by an earlier run is only
 * verified), as a console running before the clerk opens the page would have done.
 */
async function sealClosedDays(url: string, end: number): Promise<void> {
  const store = await openStore(url, { auditKeys: AUDIT_KEYS });
  try {
    const began = Date.now();
    const total = { runs: 0, accounts: 0, rowsProved: 0, sealed: 0, daysCounted: 0 };
    for (;;) {
      const swept = await store.paymentSearch.sealClosedDays(end, Number.POSITIVE_INFINITY);
      total.runs += 1;
      total.accounts += swept.accounts;
      total.rowsProved += swept.rowsProved;
      total.sealed += swept.sealed;
      total.daysCounted += swept.daysCounted;
      if (swept.sealed === 0 || total.runs >= 5) break;
    }
    console.log(
      `seal sweep: ${total.sealed} day seals and ${total.daysCounted} overview day totals written over ${total.runs} run(s), ${total.rowsProved.toLocaleString('en')} rows proved one by one, ` +
        `${total.accounts} account readings, ${((Date.now() - began) / 1000).toFixed(1)} s`,
    );
  } finally {
    await store.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
