import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { migrate, openDb, openStore, pendingMigrations, type Db } from '../../src/store/index.js';
import { loadMigrationFiles } from '../../src/store/migration-files.js';
import { PRE_045_DELIVERIES } from '../../src/store/repositories/callback-repository.js';
import { paymentMac } from '../../src/store/repositories/payment-repository.js';
import { keyStoredRows } from '../../src/store/repositories/record-changes.js';
import { place, ValueSealer } from '../../src/store/repositories/sealed-values.js';
import { TEST_AUDIT_KEY, TEST_AUDIT_KEYS } from './../support/audit-keys.js';
import { createMariaDbDatabase, createSqliteDatabase, everyRow, forEachBackend, migrateBelow } from '../support/databases.js';
import { captureLogs } from '../support/log-capture.js';
import { runStoreWorkers } from '../support/store-workers.js';

/** The migrations a database migrated below `version` is given: that one and every one after it (the same files in either dialect). */
const fromVersion = (version: number): string[] => loadMigrationFiles('sqlite').filter((f) => f.version >= version).map((f) => f.name);
const FROM_037 = fromVersion(37);
const FROM_038 = fromVersion(38);

/** Every migration the repository ships, in order (the same for both dialects, checked below). */
const ALL = loadMigrationFiles('sqlite').map((m) => m.name);

/**
 * The columns every backend's migrations must create, table by table (same names on both dialects):
 * the columns written; a generated column is the database's own (payments.proof_digest, migration
 * 032, on MariaDB and MySQL only).
 */
const EXPECTED_COLUMNS: Record<string, string[]> = {
  clients: [
    'id', 'name', 'secret_hash', 'secret_version', 'allowed_origins', 'allowed_cidrs', 'status', 'created_at', 'updated_at',
    'signing_required', 'signing_key', 'key_id', 'mac_key_id', 'mac',
  ],
  request_signatures: ['client_id', 'signature_hash', 'expires_at'],
  payments: [
    'id', 'client_id', 'transaction_id', 'request_hash', 'state', 'bank', 'operation', 'bank_transaction_id', 'bank_transaction_date',
    'bank_reference', 'amount', 'amount_minor', 'currency', 'result_json', 'http_status', 'created_at', 'updated_at',
    'check_attempts', 'not_found_count', 'next_check_at', 'lease_owner', 'lease_until', 'key_id', 'source_account', 'bank_external_id', 'review_since', 'mac_key_id', 'mac',
    'details_json', 'beneficiary_account', 'beneficiary_bank', 'source_account_tag', 'search_key_id',
  ],
  payment_search_grams: ['payment_id', 'gram_hash'],
  bank_notifications: ['id', 'partner', 'external_id', 'body_hash', 'received_at'],
  audit_exchanges: [
    'id', 'request_id', 'received_at', 'completed_at', 'remote_ip', 'origin', 'method', 'path', 'client_id', 'transaction_id', 'amount',
    'outcome', 'status_code', 'error_code', 'request_headers', 'request_body', 'response_body', 'source_account', 'beneficiary_account', 'key_id',
    'spool_entry',
  ],
  audit_bank_calls: [
    'id', 'exchange_id', 'request_id', 'partner', 'operation', 'method', 'url', 'request_headers', 'request_body', 'status_code',
    'response_body', 'error_code', 'started_at', 'duration_ms', 'key_id', 'spool_entry',
  ],
  audit_writers: ['writer_id', 'host', 'pid', 'started_at', 'last_seq', 'last_hash', 'updated_at'],
  audit_chain: ['writer_id', 'seq', 'kind', 'record_id', 'recorded_at', 'prev_hash', 'hash', 'key_id'],
  rate_limits: ['rl_key', 'hits', 'reset_at'],
  login_lockouts: ['lock_key', 'failures', 'window_reset_at', 'locked_until'],
  bank_tokens: ['partner', 'token', 'expires_at', 'fetched_at'],
  sequences: ['name', 'value'],
  transfer_batches: ['id', 'client_id', 'batch_id', 'request_hash', 'line_count', 'state', 'lease_owner', 'lease_until', 'created_at', 'updated_at'],
  client_callbacks: ['client_id', 'url', 'updated_at', 'mac_key_id', 'mac'],
  client_credentials: ['kind', 'lookup', 'client_id', 'secret_hash', 'created_at', 'mac_key_id', 'mac'],
  client_account_grants: ['client_id', 'account_digest', 'account_masked', 'granted_at', 'mac_key_id', 'mac'],
  callback_deliveries: [
    'id', 'client_id', 'transaction_id', 'url', 'body', 'state', 'attempts', 'next_attempt_at', 'last_status', 'last_error', 'lease_owner',
    'lease_until', 'created_at', 'updated_at', 'key_id', 'mac_key_id', 'mac',
  ],
  transfer_batch_lines: [
    'batch_pk', 'line_no', 'transaction_id', 'request_json', 'state', 'http_status', 'result_json', 'updated_at', 'source_account',
    'beneficiary_account', 'key_id', 'mac_key_id', 'mac',
  ],
  schema_migrations: ['version', 'name', 'checksum', 'applied_at'],
  console_users: ['id', 'username', 'password_hash', 'role', 'status', 'created_at', 'updated_at', 'mac_key_id', 'mac'],
  audit_completions: [
    'exchange_id', 'outcome', 'status_code', 'error_code', 'client_id', 'transaction_id', 'amount', 'source_account', 'beneficiary_account',
    'response_body', 'completed_at', 'key_id',
  ],
  payment_events: [
    'id', 'payment_id', 'seq', 'cause', 'state', 'bank', 'operation', 'bank_transaction_id', 'bank_transaction_date', 'bank_reference',
    'bank_external_id', 'http_status', 'review_since', 'result_json', 'recorded_at', 'key_id',
  ],
  chain_coverage: ['records', 'since', 'mac_key_id', 'mac'],
  console_sessions: ['id_hash', 'user_id', 'csrf_token', 'created_at', 'last_seen_at', 'flash'],
  console_audit: ['id', 'at', 'username', 'action', 'target', 'detail', 'remote_ip'],
  audit_verifications: ['id', 'checked_at', 'ok', 'links', 'breaks', 'first_break', 'key_id', 'mac'],
  record_changes: ['id', 'table_name', 'row_key', 'change_kind', 'mac_key_id', 'mac', 'recorded_at', 'row_id'],
};

async function columnsOf(db: Db, table: string): Promise<string[]> {
  if (db.dialect === 'sqlite') return (await db.query<{ name: string }>(`SELECT name FROM pragma_table_info('${table}') ORDER BY cid`)).map((r) => r.name);
  const rows = await db.query<{ name: string }>(
    "SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND EXTRA NOT LIKE '%GENERATED%' ORDER BY ORDINAL_POSITION",
    [table],
  );
  return rows.map((r) => r.name);
}

forEachBackend('Migrations', (ctx) => {
  describe('when the database is already migrated', () => {
    it('has nothing pending, and a second run applies nothing', async () => {
      expect(await pendingMigrations(ctx.store().db)).to.deep.equal([]);
      expect(await migrate(ctx.store().db)).to.deep.equal({ applied: [] });
    });

    it('has every table with the same columns as the other backend', async () => {
      for (const [table, columns] of Object.entries(EXPECTED_COLUMNS)) {
        expect(await columnsOf(ctx.store().db, table), table).to.deep.equal(columns);
      }
    });
  });

  describe('when the row of a migration that signs or seals stored data is deleted from schema_migrations', () => {
    // 027 and 037 would run again: their own tests show them refused. These add columns, so run again their statements fail before their step signs anything.
    before(async () => {
      // Rows an attacker inserted without a MAC, which 012 (the payment), 024 (the user), 025 (the client) and 026 (the payment's search index) would sign or index.
      const db = ctx.store().db;
      await db.execute("INSERT INTO console_users (username, password_hash, role, status, created_at, updated_at) VALUES ('forged.admin', 'scrypt$x', 'admin', 'active', 1, 1)");
      await db.execute("INSERT INTO clients (id, name, secret_hash, secret_version, allowed_origins, allowed_cidrs, status, created_at, updated_at) VALUES ('gbc_forged', 'ERP', 'scrypt$x', 1, '[]', '[\"0.0.0.0/0\"]', 'active', 1, 1)");
      await db.execute("INSERT INTO payments (client_id, transaction_id, request_hash, state, amount, amount_minor, currency, created_at, updated_at) VALUES ('gbc_forged', 'INV-FORGED', ?, 'SUCCESS', '10.00', 1000, 'IDR', 1, 1)", ['h'.repeat(64)]);
    });

    after(async () => {
      const db = ctx.store().db;
      await db.execute("DELETE FROM payments WHERE transaction_id = 'INV-FORGED'");
      await db.execute("DELETE FROM clients WHERE id = 'gbc_forged'");
      await db.execute("DELETE FROM console_users WHERE username = 'forged.admin'");
    });

    for (const version of [12, 24, 25, 26, 28, 33]) {
      it(`${String(version).padStart(3, '0')}: refuses to run it again, naming it, and signs nothing`, async function () {
        this.timeout(60_000);
        const db = ctx.store().db;
        const [row] = await db.query<Record<string, string | number>>('SELECT version, name, checksum, applied_at FROM schema_migrations WHERE version = ?', [version]);
        await db.execute('DELETE FROM schema_migrations WHERE version = ?', [version]);
        try {
          const before = await everyRow(db);
          const refused = await migrate(db, { keys: TEST_AUDIT_KEYS }).then(() => null, (e: Error) => e);
          expect(refused?.message, 'refused').to.contain(`migration ${row.name}`);
          expect(await pendingMigrations(db)).to.deep.equal([row.name]);
          expect(await everyRow(db), 'nothing signed, sealed or indexed').to.equal(before);
        } finally {
          await db.execute('DELETE FROM schema_migrations WHERE version = ?', [version]);
          await db.execute('INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)', [row.version, row.name, row.checksum, row.applied_at]);
        }
      });
    }
  });

  describe('when an applied migration file was edited afterwards', () => {
    it('refuses to migrate and names the file', async () => {
      const { db } = ctx.store();
      const [original] = await db.query<{ checksum: string }>('SELECT checksum FROM schema_migrations WHERE version = 1');
      await db.execute('UPDATE schema_migrations SET checksum = ? WHERE version = 1', ['0'.repeat(64)]);
      try {
        const error = await migrate(db).then(() => null, (e: Error) => e);
        expect(error, 'migrate should refuse').to.be.instanceOf(Error);
        expect(error!.message).to.contain(join('sql', db.dialect, '001_initial.sql')).and.to.contain('was changed after it was applied');
      } finally {
        await db.execute('UPDATE schema_migrations SET checksum = ? WHERE version = 1', [original.checksum]);
      }
    });
  });

  describe('when several processes migrate a fresh database at once', () => {
    it('applies each migration exactly once and every process succeeds', async function () {
      const database = ctx.backend === 'sqlite' ? createSqliteDatabase() : await createMariaDbDatabase(this);
      try {
        const results = await runStoreWorkers<string[]>(4, [database.url, 'migrate']);
        expect(results.flat().sort()).to.deep.equal(ALL);
        const store = await openStore(database.url);
        try {
          expect(await pendingMigrations(store.db)).to.deep.equal([]);
        } finally {
          await store.close();
        }
      } finally {
        await database.drop();
      }
    });
  });
});

/** `audit verify` of a store opened on `database` finds nothing; the database is dropped after, either way. */
/**
 * `db` for a migration stopped after its first transaction (MariaDB: a migration step of batches, a
 * transaction each): every later withTransaction throws `interrupted`. SQLite migrates in one
 * transaction, so nothing is cut there.
 */
function cutAfterFirstTransaction(db: Db, backend: 'sqlite' | 'mariadb'): { cut: Db; interrupted: Error } {
  const interrupted = new Error('interrupted');
  let batches = 0;
  const cut = new Proxy(db, {
    get: (target, name, receiver) =>
      name === 'withTransaction'
        ? async (fn: (tx: unknown) => Promise<unknown>) => {
            if (backend === 'mariadb' && (batches += 1) > 1) throw interrupted;
            return target.withTransaction(fn as never);
          }
        : Reflect.get(target, name, receiver),
  });
  return { cut, interrupted };
}

async function verifiesIntactThenDrop(database: { url: string; drop: () => Promise<void> }): Promise<void> {
  try {
    await verifiesIntact(database.url);
  } finally {
    await database.drop();
  }
}

async function verifiesIntact(url: string): Promise<void> {
  const store = await openStore(url, { auditKeys: TEST_AUDIT_KEYS });
  try {
    expect((await store.audit.verify()).breaks).to.deep.equal([]);
  } finally {
    await store.close();
  }
}

/** A SUCCESS payment of client gbc_old created at `createdAt` (1000) with its MAC, as the gateway wrote payments before migration 024. */
async function insertOldPayment(db: Db, transactionId: string, createdAt = 1000): Promise<void> {
  const fixed = { clientId: 'gbc_old', transactionId, requestHash: 'h'.repeat(64), amount: '10.00', currency: 'IDR', createdAt };
  const { keyId, mac } = paymentMac(TEST_AUDIT_KEYS, fixed);
  await db.execute(
    "INSERT INTO payments (client_id, transaction_id, request_hash, state, amount, amount_minor, currency, created_at, updated_at, key_id, mac_key_id, mac) VALUES (?, ?, ?, 'SUCCESS', ?, 1000, ?, ?, ?, ?, ?, ?)",
    [fixed.clientId, fixed.transactionId, fixed.requestHash, fixed.amount, fixed.currency, fixed.createdAt, fixed.createdAt, TEST_AUDIT_KEYS.currentKeyId, keyId, mac],
  );
}

/** A client, its Entra application, an account grant and a callback endpoint as the gateway wrote them before 025 (no MAC). */
async function insertClientRowsOf024(db: Db): Promise<void> {
  await db.execute(
    "INSERT INTO clients (id, name, secret_hash, secret_version, allowed_origins, allowed_cidrs, status, created_at, updated_at) VALUES ('gbc_old', 'ERP', 'scrypt$x', 2, '[]', '[\"10.0.0.0/8\"]', 'active', 1, 1)",
  );
  await db.execute("INSERT INTO client_credentials (kind, lookup, client_id, secret_hash, created_at) VALUES ('entra-app', '11111111-2222-3333-4444-555555555555', 'gbc_old', NULL, 1)");
  await db.execute("INSERT INTO client_account_grants (client_id, account_digest, account_masked, granted_at) VALUES ('gbc_old', ?, '******5680', 1)", [
    createHash('sha256').update('gbc_old:0201245680').digest('hex'),
  ]);
  await db.execute("INSERT INTO client_callbacks (client_id, url, updated_at) VALUES ('gbc_old', 'https://erp.example.co.id/hook', 1)");
}

forEachBackend('Migration 024 on a database with console users and payments from before it', (ctx) => {
  it('needs the audit keys, signs the console users, and the older payments get their history as they stood (037)', async function () {
    const database = ctx.backend === 'sqlite' ? createSqliteDatabase() : await createMariaDbDatabase(this);
    const db = openDb(database.url);
    try {
      // The database as it stood at 023: migrated that far, a console user and a payment written as the gateway then wrote them.
      await migrateBelow(db, '024');
      await db.execute("INSERT INTO console_users (username, password_hash, role, status, created_at, updated_at) VALUES ('old.admin', 'scrypt$x', 'admin', 'active', 1, 1)");
      await insertOldPayment(db, 'INV-OLD-1');
      const refused = await migrate(db).then(() => null, (e: Error) => e);
      expect(refused?.message, 'the users cannot be signed without the keys').to.contain('GERBANG_AUDIT_KEYS');
      expect(await migrate(db, { keys: TEST_AUDIT_KEYS })).to.deep.equal({ applied: ['024_appended_history', '025_client_macs', '026_payment_search_grams', '027_record_changes', '028_keyed_coverage', '029_reconciliation_index', '030_reconciliation_macs', '031_reconciliation_seals', '032_reconciliation_digest', '033_batch_line_macs', '034_day_totals', '035_reserve_events_index', ...FROM_037] });
      // 037: the payment recorded as it stood, and the coverage excuses nothing any more.
      expect(await db.query("SELECT seq, cause, state FROM payment_events")).to.deep.equal([{ seq: 1, cause: 'baseline', state: 'SUCCESS' }]);
      expect(await db.query('SELECT records, since FROM chain_coverage WHERE mac IS NOT NULL ORDER BY records')).to.deep.equal([
        { records: 'console_audit', since: 0 },
        { records: 'payments', since: 0 },
      ]);
    } finally {
      await db.close();
    }
    const store = await openStore(database.url, { auditKeys: TEST_AUDIT_KEYS });
    try {
      expect(await store.consoleUsers.findByUsername('old.admin')).to.include({ role: 'admin', status: 'active' });
      expect((await store.payments.find('gbc_old', 'INV-OLD-1'))?.state, 'read against its baseline').to.equal('SUCCESS');
      const report = await store.audit.verify();
      expect(report.breaks).to.deep.equal([]);
      // Its next change follows its baseline.
      const [{ id }] = await store.db.query<{ id: number }>("SELECT id FROM payments WHERE transaction_id = 'INV-OLD-1'");
      expect(await store.payments.update(Number(id), { bankReference: 'REF-OLD-1' }, 2000)).to.equal(true);
      expect(await store.db.query('SELECT seq, state, bank_reference FROM payment_events WHERE payment_id = ? ORDER BY seq', [Number(id)])).to.deep.equal([
        { seq: 1, state: 'SUCCESS', bank_reference: null },
        { seq: 2, state: 'SUCCESS', bank_reference: 'REF-OLD-1' },
      ]);
      expect((await store.audit.verify()).breaks).to.deep.equal([]);
    } finally {
      await store.close();
      await database.drop();
    }
  });
});

forEachBackend('Migration 028 on a database whose coverage excuses payments from before their history', (ctx) => {
  it('needs the audit keys and signs the coverage rows; an older payment reads and verifies without a history until 037', async function () {
    const database = ctx.backend === 'sqlite' ? createSqliteDatabase() : await createMariaDbDatabase(this);
    const db = openDb(database.url);
    try {
      // A payment from before 024, then the store migrated with the keys up to 028: its coverage row excuses that payment.
      await migrateBelow(db, '024');
      await insertOldPayment(db, 'INV-OLD-2');
      await migrateBelow(db, '028', TEST_AUDIT_KEYS);
      const refused = await migrateBelow(db, '037').then(() => null, (e: Error) => e);
      expect(refused?.message, 'the coverage cannot be signed without the keys').to.contain('GERBANG_AUDIT_KEYS');
      await migrateBelow(db, '037', TEST_AUDIT_KEYS);
      expect(await db.query("SELECT records, since FROM chain_coverage WHERE mac IS NOT NULL ORDER BY records")).to.deep.equal([
        { records: 'console_audit', since: 1 },
        { records: 'payments', since: 1001 },
      ]);
      expect(await db.query('SELECT id FROM payment_events')).to.deep.equal([]);
    } finally {
      await db.close();
    }
    const readAndVerify = async (): Promise<void> => {
      const store = await openStore(database.url, { auditKeys: TEST_AUDIT_KEYS });
      try {
        expect((await store.payments.find('gbc_old', 'INV-OLD-2'))?.state).to.equal('SUCCESS');
        expect((await store.audit.verify()).breaks).to.deep.equal([]);
      } finally {
        await store.close();
      }
    };
    try {
      // 037 gives the payment its baseline and moves the coverage to 0 under its own key.
      const upgraded = openDb(database.url);
      try {
        expect(await migrate(upgraded, { keys: TEST_AUDIT_KEYS })).to.deep.equal({ applied: FROM_037 });
        expect(await upgraded.query("SELECT cause, state FROM payment_events")).to.deep.equal([{ cause: 'baseline', state: 'SUCCESS' }]);
      } finally {
        await upgraded.close();
      }
      await readAndVerify();
    } finally {
      await database.drop();
    }
  });
});

/**
 * Migration 037 (history-baselines.ts): what chain_coverage excused (payments created before 024
 * without events, console audit entries without links) is recorded as it stands, and no record is
 * excused any more.
 */
forEachBackend('Migration 037 on a database with payments and console audit entries from before 024', (ctx) => {
  /** The database as 023 held it with `payments` payments and `entries` console sign-ins, migrated with the keys up to 036. */
  async function legacyDatabase(mocha: Mocha.Context, payments: number, entries = 1): Promise<{ url: string; drop: () => Promise<void> }> {
    const database = ctx.backend === 'sqlite' ? createSqliteDatabase() : await createMariaDbDatabase(mocha);
    const db = openDb(database.url);
    try {
      await migrateBelow(db, '024');
      for (let i = 1; i <= payments; i += 1) await insertOldPayment(db, `INV-OLD-${i}`, 1000 + (i % 7));
      for (let i = 0; i < entries; i += 500) {
        const some = Math.min(500, entries - i);
        await db.execute(`INSERT INTO console_audit (at, username, action, target, detail, remote_ip) VALUES ${Array(some).fill("(1000, 'old.viewer', 'sign-in', NULL, NULL, '10.0.0.9')").join(', ')}`);
      }
      await migrateBelow(db, '037', TEST_AUDIT_KEYS);
    } finally {
      await db.close();
    }
    return database;
  }

  it('needs the audit keys, records every payment and entry once as it stands (more than a batch: 2,500 payments), and verifies INTACT', async function () {
    this.timeout(180_000);
    const database = await legacyDatabase(this, 2500);
    const db = openDb(database.url);
    try {
      const refused = await migrate(db).then(() => null, (e: Error) => e);
      expect(refused?.message, 'the history cannot be recorded without the keys').to.contain('GERBANG_AUDIT_KEYS');
      expect(await migrate(db, { keys: TEST_AUDIT_KEYS })).to.deep.equal({ applied: FROM_037 });
      const [{ n, payments }] = await db.query<{ n: number | string; payments: number | string }>("SELECT COUNT(*) AS n, COUNT(DISTINCT payment_id) AS payments FROM payment_events WHERE seq = 1 AND cause = 'baseline'");
      expect([Number(n), Number(payments)]).to.deep.equal([2500, 2500]);
      const [{ links }] = await db.query<{ links: number | string }>("SELECT COUNT(*) AS links FROM audit_chain WHERE kind IN ('payment_event', 'console_audit') AND writer_id LIKE 'migration-037-%'");
      expect(Number(links)).to.equal(2501);
      const [{ chains }] = await db.query<{ chains: number | string }>("SELECT COUNT(*) AS chains FROM audit_writers WHERE writer_id LIKE 'migration-037-%'");
      expect(Number(chains), 'one chain for the whole migration, across its transactions').to.equal(1);
    } finally {
      await db.close();
    }
    await verifiesIntactThenDrop(database);
  });

  it('run by four processes at once (PM2 workers starting together): applied once, every payment recorded once, INTACT', async function () {
    this.timeout(180_000);
    const database = await legacyDatabase(this, 3000);
    const results = await runStoreWorkers<string[]>(4, [database.url, 'migrate'], { GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY });
    expect(results.flat().sort()).to.deep.equal(FROM_037);
    const db = openDb(database.url);
    try {
      const [{ n, payments }] = await db.query<{ n: number | string; payments: number | string }>('SELECT COUNT(*) AS n, COUNT(DISTINCT payment_id) AS payments FROM payment_events');
      expect([Number(n), Number(payments)]).to.deep.equal([3000, 3000]);
      const [{ links, records }] = await db.query<{ links: number | string; records: number | string }>(
        "SELECT (SELECT COUNT(*) FROM audit_chain WHERE kind IN ('payment_event', 'console_audit')) AS links, " +
          "(SELECT COUNT(*) FROM (SELECT DISTINCT kind, record_id FROM audit_chain WHERE kind IN ('payment_event', 'console_audit')) d) AS records",
      );
      expect([Number(links), Number(records)], 'each record linked once').to.deep.equal([3001, 3001]);
    } finally {
      await db.close();
    }
    await verifiesIntactThenDrop(database);
  });

  it('by two migrators at once, the second reading the coverage before the first commits its batch: they take turns, nothing linked twice', async function () {
    this.timeout(180_000);
    // 1,500 console audit entries (two batches): no unique key stops a record being linked twice, only the coverage row's guard.
    const database = await legacyDatabase(this, 0, 1500);
    const first = openDb(database.url);
    const second = openDb(database.url);
    try {
      // The first migrator's first batch of links, written and not committed until the second has read the coverage and waits.
      let held: () => void = () => undefined;
      const holding = new Promise<void>((resolve) => (held = resolve));
      let release: () => void = () => undefined;
      const released = new Promise<void>((resolve) => (release = resolve));
      let holds = 0;
      const paused = new Proxy(first, {
        get: (target, name, receiver) =>
          name === 'withTransaction'
            ? (fn: (tx: unknown) => Promise<unknown>) =>
                target.withTransaction(async (tx) => {
                  const step = await fn(tx);
                  if (typeof step === 'object' && step !== null && 'linked' in step && Number(step.linked) > 0 && (holds += 1) === 1) {
                    held();
                    await released;
                  }
                  return step as never;
                })
            : Reflect.get(target, name, receiver),
      });
      const one = migrate(paused, { keys: TEST_AUDIT_KEYS });
      // SQLite migrates in one transaction that takes the write lock first (BEGIN IMMEDIATE): the second waits for all of it.
      if (ctx.backend === 'mariadb') await holding;
      const two = migrate(second, { keys: TEST_AUDIT_KEYS });
      setTimeout(release, 1000);
      const applied = await Promise.all([one, two]);
      expect(applied.flatMap((a) => a.applied).sort()).to.deep.equal(FROM_037);
      const [{ links, records }] = await first.query<{ links: number | string; records: number | string }>(
        "SELECT (SELECT COUNT(*) FROM audit_chain WHERE kind = 'console_audit') AS links, (SELECT COUNT(DISTINCT record_id) FROM audit_chain WHERE kind = 'console_audit') AS records",
      );
      expect([Number(links), Number(records)], 'each entry linked once').to.deep.equal([1500, 1500]);
    } finally {
      await first.close();
      await second.close();
    }
    await verifiesIntactThenDrop(database);
  });

  it('records the others of a payment under a key the ring does not hold, leaves it without a history and names it; refuses to run on a coverage row under such a key, naming it', async function () {
    this.timeout(60_000);
    const database = await legacyDatabase(this, 3);
    const db = openDb(database.url);
    try {
      await db.execute("UPDATE payments SET mac_key_id = 'ghost' WHERE transaction_id = 'INV-OLD-2'");
      await db.execute("UPDATE chain_coverage SET mac_key_id = 'ghost' WHERE records = 'console_audit'");
      // (MySQL: the payments recorded by the first run, which names the one it leaves.)
      const logs = captureLogs();
      try {
        const refused = await migrate(db, { keys: TEST_AUDIT_KEYS }).then(() => null, (e: Error) => e);
        expect(refused?.message).to.contain("migration 037: the chain_coverage row 'console_audit' is MACed under key 'ghost', which the ring does not hold");
        expect(await pendingMigrations(db)).to.deep.equal(FROM_037);
        // The row restored: 037 runs on.
        await db.execute("UPDATE chain_coverage SET mac_key_id = ? WHERE records = 'console_audit'", [TEST_AUDIT_KEYS.currentKeyId]);
        expect(await migrate(db, { keys: TEST_AUDIT_KEYS })).to.deep.equal({ applied: FROM_037 });
      } finally {
        logs.stop();
      }
      expect(logs.lines.some((l) => l.includes('migration 037: not recorded as it stands, left without a history: payments id') && l.includes('(gbc_old / INV-OLD-2) is under a key GERBANG_AUDIT_KEYS does not hold'))).to.equal(true);
      const recorded = await db.query<{ transaction_id: string }>('SELECT p.transaction_id FROM payments p JOIN payment_events e ON e.payment_id = p.id ORDER BY p.transaction_id');
      expect(recorded.map((r) => r.transaction_id)).to.deep.equal(['INV-OLD-1', 'INV-OLD-3']);
    } finally {
      await db.close();
      await database.drop();
    }
  });

  it('stops, not applied, on a coverage row deleted or altered, naming it, and runs once it is restored', async function () {
    this.timeout(60_000);
    const database = await legacyDatabase(this, 2);
    const db = openDb(database.url);
    try {
      const [saved] = await db.query<Record<string, string | number | null>>("SELECT * FROM chain_coverage WHERE records = 'payments'");
      await db.execute("DELETE FROM chain_coverage WHERE records = 'payments'");
      const deleted = await migrate(db, { keys: TEST_AUDIT_KEYS }).then(() => null, (e: Error) => e);
      expect(deleted?.message).to.contain("migration 037: the chain_coverage row 'payments' was deleted");
      expect(await pendingMigrations(db)).to.deep.equal(FROM_037);
      await db.execute('INSERT INTO chain_coverage (records, since, mac_key_id, mac) VALUES (?, ?, ?, ?)', [saved.records, Number(saved.since) + 1, saved.mac_key_id, saved.mac]);
      const altered = await migrate(db, { keys: TEST_AUDIT_KEYS }).then(() => null, (e: Error) => e);
      expect(altered?.message).to.contain("migration 037: chain_coverage row 'payments' was altered");
      expect(await pendingMigrations(db)).to.deep.equal(FROM_037);
      await db.execute("UPDATE chain_coverage SET since = ? WHERE records = 'payments'", [saved.since]);
      expect(await migrate(db, { keys: TEST_AUDIT_KEYS })).to.deep.equal({ applied: FROM_037 });
      const [{ n }] = await db.query<{ n: number | string }>("SELECT COUNT(*) AS n FROM payment_events WHERE cause = 'baseline'");
      expect(Number(n)).to.equal(2);
    } finally {
      await db.close();
    }
    await verifiesIntactThenDrop(database);
  });

  it('finished but not recorded in schema_migrations (a MySQL migrator stopped between its last batch and its ledger row): runs again, records nothing twice, INTACT', async function () {
    this.timeout(60_000);
    const database = await legacyDatabase(this, 3);
    const db = openDb(database.url);
    try {
      expect(await migrate(db, { keys: TEST_AUDIT_KEYS })).to.deep.equal({ applied: FROM_037 });
      await db.execute('DELETE FROM schema_migrations WHERE version = 37');
      expect(await migrate(db, { keys: TEST_AUDIT_KEYS })).to.deep.equal({ applied: ['037_excused_history'] });
      const [{ n }] = await db.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM payment_events');
      expect(Number(n)).to.equal(3);
    } finally {
      await db.close();
    }
    await verifiesIntactThenDrop(database);
  });

  it('cut short, carries on where it stopped and records nothing twice', async function () {
    this.timeout(180_000);
    const database = await legacyDatabase(this, 1500);
    const db = openDb(database.url);
    try {
      // A first run stopped after its first batch: the newest 1,000 payments recorded, the coverage moved down past them (as 037 leaves it).
      const { cut, interrupted } = cutAfterFirstTransaction(db, ctx.backend);
      let halfway: Record<string, string | number | null> | undefined;
      if (ctx.backend === 'mariadb') {
        expect(await migrate(cut, { keys: TEST_AUDIT_KEYS }).then(() => null, (e: Error) => e)).to.equal(interrupted);
        const [{ n }] = await db.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM payment_events');
        expect(Number(n), 'the first batch committed').to.be.at.least(1000).and.below(1500);
        expect(await pendingMigrations(db)).to.deep.equal(FROM_037);
        [halfway] = await db.query<Record<string, string | number | null>>("SELECT * FROM chain_coverage WHERE records = 'payments'");
      }
      expect(await migrate(db, { keys: TEST_AUDIT_KEYS })).to.deep.equal({ applied: FROM_037 });
      const [{ n, payments }] = await db.query<{ n: number | string; payments: number | string }>('SELECT COUNT(*) AS n, COUNT(DISTINCT payment_id) AS payments FROM payment_events');
      expect([Number(n), Number(payments)]).to.deep.equal([1500, 1500]);
      const [{ links }] = await db.query<{ links: number | string }>("SELECT COUNT(*) AS links FROM audit_chain WHERE kind = 'payment_event'");
      expect(Number(links)).to.equal(1500);
      if (halfway) {
        await verifiesIntact(database.url);
        // The row the first run committed, noted by a reader then and written back now: it excuses nothing, and verify names it.
        expect(Number(halfway.since), 'it excused the payments not yet recorded').to.be.above(1000);
        await db.execute("UPDATE chain_coverage SET since = ?, mac_key_id = ?, mac = ? WHERE records = 'payments'", [halfway.since, halfway.mac_key_id, halfway.mac]);
        const store = await openStore(database.url, { auditKeys: TEST_AUDIT_KEYS });
        try {
          const { breaks } = await store.audit.verify();
          expect(breaks.map((b) => b.table)).to.deep.equal(['chain_coverage']);
          expect(JSON.stringify(breaks)).to.contain("chain_coverage row 'payments' is one migration 037 wrote while it ran");
        } finally {
          await store.close();
        }
        await database.drop();
        return;
      }
    } finally {
      await db.close();
    }
    await verifiesIntactThenDrop(database);
  });
});

forEachBackend('Migration 025 on a database with API clients from before it', (ctx) => {
  it('needs the audit keys, signs the clients, their credentials, grants and callback endpoints, and refuses one changed after', async function () {
    const database = ctx.backend === 'sqlite' ? createSqliteDatabase() : await createMariaDbDatabase(this);
    const db = openDb(database.url);
    try {
      // The database as it stood at 024 (with the keys: 012 and 024 need them), a client written as the gateway then wrote it.
      await migrateBelow(db, '025', TEST_AUDIT_KEYS);
      await insertClientRowsOf024(db);
      const refused = await migrate(db).then(() => null, (e: Error) => e);
      expect(refused?.message, 'the rows cannot be signed without the keys').to.contain('GERBANG_AUDIT_KEYS');
      expect(await migrate(db, { keys: TEST_AUDIT_KEYS })).to.deep.equal({ applied: ['025_client_macs', '026_payment_search_grams', '027_record_changes', '028_keyed_coverage', '029_reconciliation_index', '030_reconciliation_macs', '031_reconciliation_seals', '032_reconciliation_digest', '033_batch_line_macs', '034_day_totals', '035_reserve_events_index', ...FROM_037] });
    } finally {
      await db.close();
    }
    const store = await openStore(database.url, { auditKeys: TEST_AUDIT_KEYS });
    try {
      expect(await store.clients.findById('gbc_old')).to.include({ status: 'active', secretVersion: 2 });
      expect(await store.clientCredentials.find('entra-app', '11111111-2222-3333-4444-555555555555')).to.include({ clientId: 'gbc_old' });
      expect(await store.accountGrants.isGranted('gbc_old', '0201245680')).to.equal(true);
      expect(await store.callbacks.endpointOf('gbc_old')).to.equal('https://erp.example.co.id/hook');
      expect((await store.audit.verify()).breaks).to.deep.equal([]);
      // Changed in SQL after the upgrade: no longer what the migration signed.
      await store.db.execute("UPDATE clients SET allowed_cidrs = '[\"0.0.0.0/0\"]' WHERE id = 'gbc_old'");
      const error = await store.clients.findById('gbc_old').then(() => null, (e: Error) => e);
      expect(error?.name).to.equal('IntegrityError');
      expect((await store.audit.verify()).breaks.map((b) => b.detail).join('\n')).to.contain('clients id gbc_old was altered');
    } finally {
      await store.close();
      await database.drop();
    }
  });
});

forEachBackend('Migration 027 on a database with console users, clients, credentials, grants and callback endpoints from before it', (ctx) => {
  it('needs the audit keys, records every row as it stands (verify INTACT), then names a row written back after a change', async function () {
    const database = ctx.backend === 'sqlite' ? createSqliteDatabase() : await createMariaDbDatabase(this);
    const db = openDb(database.url);
    try {
      // The rows as 023 held them, signed by 024 and 025 on the way to 026.
      await migrateBelow(db, '024');
      await db.execute("INSERT INTO console_users (username, password_hash, role, status, created_at, updated_at) VALUES ('old.admin', 'scrypt$x', 'admin', 'active', 1, 1)");
      await insertClientRowsOf024(db);
      await migrateBelow(db, '027', TEST_AUDIT_KEYS);
      const refused = await migrate(db).then(() => null, (e: Error) => e);
      expect(refused?.message, 'the rows cannot be recorded without the keys').to.contain('GERBANG_AUDIT_KEYS');
      expect(await pendingMigrations(db)).to.deep.equal(['027_record_changes', '028_keyed_coverage', '029_reconciliation_index', '030_reconciliation_macs', '031_reconciliation_seals', '032_reconciliation_digest', '033_batch_line_macs', '034_day_totals', '035_reserve_events_index', ...FROM_037]);
      expect(await migrate(db, { keys: TEST_AUDIT_KEYS })).to.deep.equal({ applied: ['027_record_changes', '028_keyed_coverage', '029_reconciliation_index', '030_reconciliation_macs', '031_reconciliation_seals', '032_reconciliation_digest', '033_batch_line_macs', '034_day_totals', '035_reserve_events_index', ...FROM_037] });
      const recorded = await db.query<{ table_name: string; change_kind: string }>('SELECT table_name, change_kind FROM record_changes ORDER BY id');
      expect(recorded.map((r) => `${r.table_name} ${r.change_kind}`)).to.deep.equal([
        'console_users baseline', 'clients baseline', 'client_credentials baseline', 'client_account_grants baseline', 'client_callbacks baseline',
      ]);
    } finally {
      await db.close();
    }
    const store = await openStore(database.url, { auditKeys: TEST_AUDIT_KEYS });
    try {
      expect((await store.audit.verify()).breaks).to.deep.equal([]);
      // Disabled through the gateway after the upgrade, then the row from before written back in SQL.
      const [before] = await store.db.query<{ status: string; updated_at: number; mac: string }>("SELECT status, updated_at, mac FROM clients WHERE id = 'gbc_old'");
      expect(await store.clients.setStatus('gbc_old', 'disabled', 2000)).to.equal(true);
      await store.db.execute("UPDATE clients SET status = ?, updated_at = ?, mac = ? WHERE id = 'gbc_old'", [before.status, before.updated_at, before.mac]);
      expect((await store.audit.verify()).breaks.map((b) => b.detail).join('\n')).to.contain('clients id gbc_old is not its latest state');
    } finally {
      await store.close();
      await database.drop();
    }
  });

  it('finished but not recorded in schema_migrations (a MySQL migrator stopped between its step and its ledger row): runs again, each row recorded again as it is, INTACT', async function () {
    const database = ctx.backend === 'sqlite' ? createSqliteDatabase() : await createMariaDbDatabase(this);
    const db = openDb(database.url);
    try {
      await migrateBelow(db, '024');
      await insertClientRowsOf024(db);
      await migrateBelow(db, '028', TEST_AUDIT_KEYS);
      await db.execute('DELETE FROM schema_migrations WHERE version = 27');
      await migrateBelow(db, '028', TEST_AUDIT_KEYS);
      const [{ n }] = await db.query<{ n: number | string }>("SELECT COUNT(*) AS n FROM record_changes WHERE table_name = 'clients'");
      expect(Number(n), 'recorded once a run').to.equal(2);
      expect((await migrate(db, { keys: TEST_AUDIT_KEYS })).applied[0]).to.equal('028_keyed_coverage');
    } finally {
      await db.close();
    }
    await verifiesIntactThenDrop(database);
  });

  it('records more rows than one statement could link (8,300 account grants: 66,400 values, over what MySQL and SQLite bind), and verifies INTACT', async function () {
    this.timeout(120_000);
    const database = ctx.backend === 'sqlite' ? createSqliteDatabase() : await createMariaDbDatabase(this);
    const db = openDb(database.url);
    try {
      await migrateBelow(db, '024');
      await insertClientRowsOf024(db);
      const grants = Array.from({ length: 8300 }, (_, i) => ['gbc_old', createHash('sha256').update(`gbc_old:${9000000000 + i}`).digest('hex'), '******0000', 1]);
      for (let i = 0; i < grants.length; i += 1000) {
        const some = grants.slice(i, i + 1000);
        await db.execute(`INSERT INTO client_account_grants (client_id, account_digest, account_masked, granted_at) VALUES ${some.map(() => '(?, ?, ?, ?)').join(', ')}`, some.flat());
      }
      await migrate(db, { keys: TEST_AUDIT_KEYS });
      const [{ n }] = await db.query<{ n: number | string }>("SELECT COUNT(*) AS n FROM record_changes WHERE table_name = 'client_account_grants'");
      expect(Number(n)).to.equal(8301);
    } finally {
      await db.close();
    }
    await verifiesIntactThenDrop(database);
  });

  it('needs no keys on a database without such rows', async function () {
    const database = ctx.backend === 'sqlite' ? createSqliteDatabase() : await createMariaDbDatabase(this);
    const db = openDb(database.url);
    try {
      await migrateBelow(db, '027');
      expect(await migrate(db)).to.deep.equal({ applied: ['027_record_changes', '028_keyed_coverage', '029_reconciliation_index', '030_reconciliation_macs', '031_reconciliation_seals', '032_reconciliation_digest', '033_batch_line_macs', '034_day_totals', '035_reserve_events_index', ...FROM_037] });
    } finally {
      await db.close();
      await database.drop();
    }
  });
});

forEachBackend('Migration 033 on a database with payment-run lines from before it', (ctx) => {
  it('needs the audit keys, signs the lines as they stand, and refuses a line changed after', async function () {
    const database = ctx.backend === 'sqlite' ? createSqliteDatabase() : await createMariaDbDatabase(this);
    const db = openDb(database.url);
    const sealer = new ValueSealer(TEST_AUDIT_KEYS);
    let batchPk = 0;
    try {
      // The database as it stood at 032, a run of two lines (one paid, one queued) written as the gateway then wrote them.
      await migrateBelow(db, '033', TEST_AUDIT_KEYS);
      ({ insertId: batchPk } = await db.execute("INSERT INTO transfer_batches (client_id, batch_id, request_hash, line_count, state, created_at, updated_at) VALUES ('gbc_old', 'RUN-OLD', ?, 2, 'PROCESSING', 1, 1)", ['r'.repeat(64)]));
      for (const [lineNo, state, result] of [[1, 'SUBMITTED', '{"status":"SUCCESS"}'], [2, 'QUEUED', null]] as const) {
        const at = (column: string) => place('transfer_batch_lines', column, [batchPk, lineNo]);
        await db.execute('INSERT INTO transfer_batch_lines (batch_pk, line_no, transaction_id, request_json, state, http_status, result_json, updated_at, key_id) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?)', [
          batchPk, lineNo, `INV-OLD-${lineNo}`, sealer.seal(`{"transactionId":"INV-OLD-${lineNo}"}`, at('request_json')), state, result === null ? null : 201, sealer.seal(result, at('result_json')), TEST_AUDIT_KEYS.currentKeyId,
        ]);
      }
      const refused = await migrate(db).then(() => null, (e: Error) => e);
      expect(refused?.message, 'the lines cannot be signed without the keys').to.contain('GERBANG_AUDIT_KEYS');
      expect(await migrate(db, { keys: TEST_AUDIT_KEYS })).to.deep.equal({ applied: ['033_batch_line_macs', '034_day_totals', '035_reserve_events_index', ...FROM_037] });
    } finally {
      await db.close();
    }
    const store = await openStore(database.url, { auditKeys: TEST_AUDIT_KEYS });
    try {
      expect((await store.batches.lines(batchPk, 0, 10)).map((l) => [l.transactionId, l.state, l.resultJson])).to.deep.equal([
        ['INV-OLD-1', 'SUBMITTED', '{"status":"SUCCESS"}'],
        ['INV-OLD-2', 'QUEUED', null],
      ]);
      expect(await store.batches.counts(batchPk)).to.deep.equal({ QUEUED: 1, SUBMITTED: 1, REJECTED: 0 });
      expect((await store.audit.verify()).breaks).to.deep.equal([]);
      // Changed in SQL after the upgrade: no longer what the migration signed.
      await store.db.execute("UPDATE transfer_batch_lines SET state = 'REJECTED' WHERE batch_pk = ? AND line_no = 1", [batchPk]);
      const read = await store.batches.lines(batchPk, 0, 10).then(() => null, (e: Error) => e);
      expect(read?.name).to.equal('IntegrityError');
      expect((await store.audit.verify()).breaks.map((b) => b.detail).join('\n')).to.contain('transfer_batch_lines line 1 of run RUN-OLD');
    } finally {
      await store.close();
      await database.drop();
    }
  });
});

describe('Migrations on a fresh embedded database', () => {
  it('lists every migration as pending, applies them in order, then reports nothing pending', async () => {
    const database = createSqliteDatabase();
    const store = await openStore(database.url);
    try {
      expect(ALL.slice(0, 2)).to.deep.equal(['001_initial', '002_payment_checks']);
      expect(await pendingMigrations(store.db)).to.deep.equal(ALL);
      expect(await migrate(store.db)).to.deep.equal({ applied: ALL });
      expect(await pendingMigrations(store.db)).to.deep.equal([]);
    } finally {
      await store.close();
      await database.drop();
    }
  });
});

describe('Migration files', () => {
  it('exist for both dialects with the same versions and names', () => {
    const names = (dialect: 'mysql' | 'sqlite') => loadMigrationFiles(dialect).map((m) => m.name);
    expect(names('mysql')).to.deep.equal(names('sqlite'));
    expect(names('mysql')[0]).to.equal('001_initial');
  });

  it('split into single statements (multipleStatements stays off)', () => {
    for (const migration of loadMigrationFiles('mysql')) {
      for (const statement of migration.statements) expect(statement).to.not.match(/;\s*$/m);
    }
  });
});

/**
 * Migration 038 (record-changes.ts, keyStoredRows): every queued callback already stored gets its
 * MAC and a `baseline` change record as it stands, so one held back or sent again in SQL after the
 * upgrade is refused and named, and a delivery from before is sent as it was queued.
 */
forEachBackend('Migration 038 on a database with queued callbacks from before it', (ctx) => {
  const sealer = new ValueSealer(TEST_AUDIT_KEYS);
  /** The states of the `count` deliveries of client gbc_old, in id order: every third one queued. */
  const stateOf = (i: number) => ['PENDING', 'DELIVERED', 'FAILED'][i % 3];

  /** The database as 037 left it, the client's endpoint signed and recorded, and `count` deliveries written as the gateway wrote them before 038. */
  async function outboxOf037(mocha: Mocha.Context, count: number): Promise<{ url: string; drop: () => Promise<void> }> {
    const database = ctx.backend === 'sqlite' ? createSqliteDatabase() : await createMariaDbDatabase(mocha);
    const db = openDb(database.url);
    try {
      await migrateBelow(db, '024');
      await insertClientRowsOf024(db);
      await migrateBelow(db, '038', TEST_AUDIT_KEYS);
      for (let from = 0; from < count; from += 250) {
        const rows = Array.from({ length: Math.min(250, count - from) }, (_, k) => {
          const i = from + k;
          const transactionId = `INV-OUT-${i}`;
          const body = sealer.seal(JSON.stringify({ event: 'transfer.final', transfer: { transactionId, status: 'SUCCESS' } }), place('callback_deliveries', 'body', ['gbc_old', transactionId]));
          return ['gbc_old', transactionId, 'https://erp.example.co.id/hook', body, TEST_AUDIT_KEYS.currentKeyId, stateOf(i), i % 3 === 0 ? 0 : 1, 1000 + i, 1000, 1000 + i];
        });
        await db.execute(
          `INSERT INTO callback_deliveries (client_id, transaction_id, url, body, key_id, state, attempts, next_attempt_at, created_at, updated_at) VALUES ${rows.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
          rows.flat(),
        );
      }
    } finally {
      await db.close();
    }
    return database;
  }

  /** How many deliveries carry a MAC, how many baseline records they have, and how many distinct rows those name. */
  async function keyedCounts(db: Db): Promise<{ keyed: number; records: number; rows: number; links: number }> {
    const [row] = await db.query<Record<string, number | string>>(
      "SELECT (SELECT COUNT(*) FROM callback_deliveries WHERE mac IS NOT NULL) AS keyed, (SELECT COUNT(*) FROM record_changes WHERE table_name = 'callback_deliveries' AND change_kind = 'baseline') AS records, " +
        "(SELECT COUNT(DISTINCT row_key) FROM record_changes WHERE table_name = 'callback_deliveries') AS rows_named, (SELECT COUNT(*) FROM audit_chain WHERE writer_id LIKE 'migration-038-%') AS links",
    );
    return { keyed: Number(row.keyed), records: Number(row.records), rows: Number(row.rows_named), links: Number(row.links) };
  }

  it('needs the audit keys, keys every delivery once as it stands (more than a batch: 1,200), sends the queued ones as they were, and names one changed after', async function () {
    this.timeout(120_000);
    const database = await outboxOf037(this, 1200);
    const db = openDb(database.url);
    try {
      const refused = await migrate(db).then(() => null, (e: Error) => e);
      expect(refused?.message, 'the deliveries cannot be keyed without the keys').to.contain('GERBANG_AUDIT_KEYS');
      expect(await migrate(db, { keys: TEST_AUDIT_KEYS })).to.deep.equal({ applied: FROM_038 });
      expect(await keyedCounts(db)).to.deep.equal({ keyed: 1200, records: 1200, rows: 1200, links: 1200 });
      const [{ chains }] = await db.query<{ chains: number | string }>("SELECT COUNT(*) AS chains FROM audit_writers WHERE writer_id LIKE 'migration-038-%'");
      expect(Number(chains), 'one chain for the whole migration, across its transactions').to.equal(1);
    } finally {
      await db.close();
    }
    const store = await openStore(database.url, { auditKeys: TEST_AUDIT_KEYS });
    try {
      expect((await store.audit.verify()).breaks).to.deep.equal([]);
      // The queued ones are claimed ready to send, none refused.
      const claimed = await store.callbacks.claimDue({ owner: 'after-038', now: Date.now(), leaseMs: 60_000, limit: 100 });
      expect(claimed.filter((c) => 'refused' in c)).to.deep.equal([]);
      expect(claimed.map((c) => c.transactionId)).to.deep.equal(Array.from({ length: 100 }, (_, k) => `INV-OUT-${3 * k}`));
      await store.callbacks.recordAttempt(claimed[0], 'after-038', { state: 'DELIVERED', status: 204, error: null, nextAttemptAt: Date.now() }, Date.now());
      expect((await store.audit.verify()).breaks, 'its attempt recorded after its baseline').to.deep.equal([]);
      // A delivered one set back to PENDING in SQL after the upgrade.
      await store.db.execute("UPDATE callback_deliveries SET state = 'PENDING', lease_until = NULL WHERE transaction_id = 'INV-OUT-1'");
      expect((await store.audit.verify()).breaks.map((b) => b.detail).join('\n')).to.contain('(client gbc_old, transactionId INV-OUT-1) was altered');
      const again = await store.callbacks.claimDue({ owner: 'after-038', now: Date.now(), leaseMs: 60_000, limit: 100 });
      expect(again.find((c) => c.transactionId === 'INV-OUT-1')).to.deep.include({ leftAsIs: true });
    } finally {
      await store.close();
      await database.drop();
    }
  });

  it('cut short after its first batch, carries on with the rows not yet keyed and keys none twice', async function () {
    this.timeout(120_000);
    const database = await outboxOf037(this, 1200);
    const db = openDb(database.url);
    try {
      const { cut, interrupted } = cutAfterFirstTransaction(db, ctx.backend);
      if (ctx.backend === 'mariadb') {
        expect(await migrate(cut, { keys: TEST_AUDIT_KEYS }).then(() => null, (e: Error) => e)).to.equal(interrupted);
        expect(await keyedCounts(db), 'the first batch committed').to.deep.equal({ keyed: 500, records: 500, rows: 500, links: 500 });
        expect(await pendingMigrations(db)).to.deep.equal(FROM_038);
      }
      expect(await migrate(db, { keys: TEST_AUDIT_KEYS })).to.deep.equal({ applied: FROM_038 });
      expect(await keyedCounts(db)).to.deep.equal({ keyed: 1200, records: 1200, rows: 1200, links: 1200 });
    } finally {
      await db.close();
    }
    await verifiesIntactThenDrop(database);
  });

  it('run by four processes at once (PM2 workers starting together): applied once, every delivery keyed and recorded once, INTACT', async function () {
    this.timeout(180_000);
    const database = await outboxOf037(this, 1200);
    const results = await runStoreWorkers<string[]>(4, [database.url, 'migrate'], { GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY });
    expect(results.flat().sort()).to.deep.equal(FROM_038);
    const db = openDb(database.url);
    try {
      expect(await keyedCounts(db)).to.deep.equal({ keyed: 1200, records: 1200, rows: 1200, links: 1200 });
    } finally {
      await db.close();
    }
    await verifiesIntactThenDrop(database);
  });

  it('needs no keys on a database without queued callbacks', async function () {
    const database = ctx.backend === 'sqlite' ? createSqliteDatabase() : await createMariaDbDatabase(this);
    const db = openDb(database.url);
    try {
      await migrateBelow(db, '038');
      expect(await migrate(db)).to.deep.equal({ applied: FROM_038 });
    } finally {
      await db.close();
      await database.drop();
    }
  });
});

/**
 * Migration 045 (keyStoredRows' `rekey`): a queued callback keyed before its MAC covered its id
 * (as 038 keyed it) is keyed again with its id, when it holds as its latest state, so an id changed
 * in SQL after the upgrade is named; one that did not hold is left as it is, still named.
 */
forEachBackend('Migration 045 on a database with queued callbacks keyed before their id was under their MAC', (ctx) => {
  const sealer = new ValueSealer(TEST_AUDIT_KEYS);
  const FROM_045 = fromVersion(45);

  /** The database as 044 left it, with `count` deliveries keyed as 038 keyed them (their MAC without their id) and recorded. */
  async function outboxOf044(mocha: Mocha.Context, count: number): Promise<{ url: string; drop: () => Promise<void> }> {
    const database = ctx.backend === 'sqlite' ? createSqliteDatabase() : await createMariaDbDatabase(mocha);
    const db = openDb(database.url);
    try {
      await migrateBelow(db, '045', TEST_AUDIT_KEYS);
      const rows = Array.from({ length: count }, (_, i) => {
        const transactionId = `INV-ID-${i}`;
        const body = sealer.seal(JSON.stringify({ event: 'transfer.final', transfer: { transactionId, status: 'SUCCESS' } }), place('callback_deliveries', 'body', ['gbc_old', transactionId]));
        return ['gbc_old', transactionId, 'https://erp.example.co.id/hook', body, TEST_AUDIT_KEYS.currentKeyId, 'PENDING', 0, 1000 + i, 1000, 1000 + i];
      });
      await db.execute(
        `INSERT INTO callback_deliveries (client_id, transaction_id, url, body, key_id, state, attempts, next_attempt_at, created_at, updated_at) VALUES ${rows.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
        rows.flat(),
      );
      await keyStoredRows(db, PRE_045_DELIVERIES, sealer, 'id', '038');
    } finally {
      await db.close();
    }
    return database;
  }

  const idOf = async (db: Db, transactionId: string) => Number((await db.query<{ id: number | string }>('SELECT id FROM callback_deliveries WHERE transaction_id = ?', [transactionId]))[0].id);

  it('needs the audit keys, keys again every delivery that holds (more than a batch: 600) with its id, leaves one altered before as it is, and names an id changed after', async function () {
    this.timeout(120_000);
    const database = await outboxOf044(this, 600);
    const db = openDb(database.url);
    try {
      // Altered before the upgrade: not keyed again, still named.
      await db.execute("UPDATE callback_deliveries SET state = 'DELIVERED' WHERE transaction_id = 'INV-ID-1'");
      const refused = await migrate(db).then(() => null, (e: Error) => e);
      expect(refused?.message, 'the deliveries cannot be keyed again without the keys').to.contain('GERBANG_AUDIT_KEYS');
      expect(await migrate(db, { keys: TEST_AUDIT_KEYS })).to.deep.equal({ applied: FROM_045 });
      const [{ rotated }] = await db.query<{ rotated: number | string }>("SELECT COUNT(*) AS rotated FROM record_changes WHERE table_name = 'callback_deliveries' AND change_kind = 'rotate'");
      expect(Number(rotated)).to.equal(599);
    } finally {
      await db.close();
    }
    const store = await openStore(database.url, { auditKeys: TEST_AUDIT_KEYS });
    try {
      const altered = await idOf(store.db, 'INV-ID-1');
      expect((await store.audit.verify()).breaks.map((b) => b.detail).join('\n')).to.contain(`callback_deliveries id ${altered} (client gbc_old, transactionId INV-ID-1) was altered`);
      const claimed = await store.callbacks.claimDue({ owner: 'after-045', now: Date.now(), leaseMs: 60_000, limit: 3 });
      // Its own row holds (gbc_old has no endpoint here: refused for that, not left as it is).
      expect(claimed.map((c) => [c.transactionId, 'leftAsIs' in c])).to.deep.equal([['INV-ID-0', false], ['INV-ID-2', false], ['INV-ID-3', false]]);
      // Its id changed in SQL after the upgrade (to one first in the claims' order).
      const id = await idOf(store.db, 'INV-ID-4');
      await store.db.execute('UPDATE callback_deliveries SET id = ? WHERE id = ?', [-id, id]);
      const details = (await store.audit.verify()).breaks.map((b) => b.detail).join('\n');
      expect(details).to.contain(`callback_deliveries id ${-id} (client gbc_old, transactionId INV-ID-4) was altered: its id was changed from ${id}, the id its latest change record`);
      const again = await store.callbacks.claimDue({ owner: 'after-045', now: Date.now(), leaseMs: 60_000, limit: 1 });
      expect(again.find((c) => c.transactionId === 'INV-ID-4')).to.deep.include({ leftAsIs: true });
    } finally {
      await store.close();
      await database.drop();
    }
  });
});
