import { isAppError } from '../errors/app-error.js';
import { getLogger } from '../log/index.js';
import { loadMigrationFiles, type MigrationFile } from './migration-files.js';
import type { KeyRing } from '../security/index.js';
import { inOwnTransaction, type WriterHead } from './repositories/audit-chain.js';
import { relinkChains } from './repositories/audit-verify.js';
import { CONSOLE_USERS } from './repositories/console-user-repository.js';
import { PRE_037_COVERAGE } from './repositories/chain-coverage.js';
import { CALLBACK_DELIVERIES, PRE_045_DELIVERIES } from './repositories/callback-repository.js';
import { MACED_AT_025, RECORDED_AT_027 } from './repositories/maced-tables.js';
import { excusedHistoryAgain, recordExcusedHistory } from './repositories/history-baselines.js';
import { keyStoredRows, recordBaseline } from './repositories/record-changes.js';
import { latestStatesUnder, rowHistoryProblems } from './repositories/record-history.js';
import { signUnsignedRows, type MacedTable } from './repositories/record-macs.js';
import { BATCH_LINES } from './repositories/transfer-batch-repository.js';
import { ValueSealer } from './repositories/sealed-values.js';
import { reindexPayments } from './repositories/payment-search-grams.js';
import { countLegacyValues, sealLegacyValues, signLegacyPayments } from './sealing-migration.js';
import { UniqueViolationError, type Db, type Queryable } from './types.js';

const log = getLogger('store');

/** How long a MySQL migrator whose DDL failed waits for a concurrent winner to record the version. */
const WINNER_WAIT_MS = 15_000;
const WINNER_POLL_MS = 200;

const LEDGER_DDL = {
  mysql:
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INT NOT NULL, name VARCHAR(191) NOT NULL, checksum CHAR(64) NOT NULL, ' +
    'applied_at BIGINT NOT NULL, PRIMARY KEY (version)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin',
  sqlite:
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, ' +
    'applied_at INTEGER NOT NULL)',
} as const;

const TABLE_EXISTS = {
  mysql: 'SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?',
  sqlite: "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?",
} as const;

/** A step in code; `vouch` takes the head of a chain it wrote, checkpointed once the migration is recorded (MigrateOptions.checkpoint). */
type Step = (db: Queryable, keys: KeyRing | null, vouch: (head: WriterHead | null) => void) => Promise<void>;

interface LedgerRow {
  version: number;
  checksum: string;
}

export interface MigrateOptions {
  /** Folder of NNN_name.sql files; defaults to sql/<dialect> of the package (tests use others). */
  directory?: string;
  /**
   * The key ring, for the migrations with a step in code that seals or signs what is already
   * stored (012). Needed only when there is such data; without it they name GERBANG_AUDIT_KEYS.
   */
  keys?: KeyRing | null;
  /**
   * Vouches outside the database for the chains the steps of 027 and 037 wrote (their records of
   * stored data as it stood), once the migration is recorded, as a process vouches for its own
   * (StoreOptions.checkpoint: a line of GERBANG_AUDIT_CHECKPOINT_FILE). Such a chain cut back or
   * deleted later, with the records it vouched for, to make the migration run again with nothing in
   * the database showing it ran, is then named by `audit verify` and holds the gateway.
   */
  checkpoint?: (store: string, heads: WriterHead[]) => boolean;
}

/**
 * Migrations with a step in code, run in the same transaction (SQLite) or right after their
 * statements (MySQL). `before` runs first and must change nothing: it refuses (naming the
 * setting) while the DDL has not run yet, so a refused migration can simply be run again.
 *
 * `again`, after `before`, for a step that vouches with the keys for data as it stands and whose
 * statements would all run a second time (IF NOT EXISTS, or none): why its keyed record shows it
 * already ran on this database and a second run would vouch for what the first did not, else null.
 * Its row in schema_migrations carries no MAC: a writer without keys can delete it, and the step
 * would then record, as they stand, rows forged since (applyOne refuses instead). The others
 * (012, 024, 025, 026, 028, 033) add columns: run again, their statements fail before the step.
 */
const CODE_STEPS: Record<number, { before: (db: Queryable, keys: KeyRing | null) => Promise<void>; after: Step; again?: (db: Queryable, keys: KeyRing | null) => Promise<string | null> }> = {
  12: { before: requireKeysToSeal, after: sealAndRelink },
  24: { before: (db, keys) => requireKeysForRows(db, keys, [CONSOLE_USERS.table]), after: (db, keys) => signRows(db, keys, [CONSOLE_USERS], '024') },
  25: { before: (db, keys) => requireKeysForRows(db, keys, MACED_AT_025.map((t) => t.table)), after: (db, keys) => signRows(db, keys, MACED_AT_025, '025') },
  26: { before: (db, keys) => requireKeysForRows(db, keys, ['payments']), after: indexStoredPayments },
  27: { before: (db, keys) => requireKeysForRows(db, keys, RECORDED_AT_027.map((t) => t.table)), after: recordRowsAsTheyStand, again: rowsRecordedBefore },
  // An empty store's coverage rows excuse nothing and need no MAC (chain-coverage.ts): it migrates without keys. Signed as 028 did, for 037 to read.
  28: { before: (db, keys) => requireKeysForRows(db, keys, ['chain_coverage'], 'since > 1'), after: (db, keys) => (keys === null ? Promise.resolve() : signRows(db, keys, [PRE_037_COVERAGE], '028')) },
  // Payment-run lines as they stand get their MAC (transfer-batch-repository.ts); an empty store migrates without keys.
  33: { before: (db, keys) => requireKeysForRows(db, keys, [BATCH_LINES.table]), after: (db, keys) => (keys === null ? Promise.resolve() : signRows(db, keys, [BATCH_LINES], '033')) },
  // What the coverage excused gets its history (history-baselines.ts): needs the keys when a row excuses anything or carries a MAC (028's, re-MAC'd).
  37: { before: (db, keys) => requireKeysForRows(db, keys, ['chain_coverage'], 'since > 1 OR mac IS NOT NULL'), after: recordExcused, again: (db, keys) => (keys === null ? Promise.resolve(null) : excusedHistoryAgain(db, new ValueSealer(keys))) },
  // Queued callbacks as they stand get their MAC and a baseline record (record-changes.ts); an empty outbox migrates without keys.
  38: { before: (db, keys) => requireKeysForRows(db, keys, [CALLBACK_DELIVERIES.table]), after: keyStoredDeliveries, again: deliveriesRecordedBefore },
  // Queued callbacks keyed before their MAC covered their id are keyed again with it, those that hold as their latest state (record-changes.ts); no keyed delivery: no keys needed.
  45: { before: (db, keys) => requireKeysForRows(db, keys, [CALLBACK_DELIVERIES.table], 'mac IS NOT NULL'), after: rekeyStoredDeliveries, again: deliveriesRecordedBefore },
};

/**
 * Applies the pending numbered migrations of sql/<dialect>/ in order and returns their names.
 *
 * Throws (before applying anything) when a migration already applied has been edited since:
 * its checksum no longer matches, and the message names the file. Safe when several processes
 * migrate the same database at once (PM2 workers starting together): see applyOne.
 */
export async function migrate(db: Db, options: MigrateOptions = {}): Promise<{ applied: string[] }> {
  await db.execute(LEDGER_DDL[db.dialect]);
  const files = loadMigrationFiles(db.dialect, options.directory);
  const ledger = await readLedger(db);
  for (const file of files) {
    const recorded = ledger.get(file.version);
    if (recorded !== undefined) verifyChecksum(db, file, recorded);
  }
  const applied: string[] = [];
  for (const file of files.filter((f) => !ledger.has(f.version))) {
    const heads: WriterHead[] = [];
    const vouch = (head: WriterHead | null): void => {
      if (head !== null) heads.push(head);
    };
    if (await applyOne(db, file, options.keys ?? null, vouch)) {
      if (heads.length > 0) options.checkpoint?.(db.description, heads);
      applied.push(file.name);
      log.info({ migration: file.name, store: db.description }, 'migration applied');
    }
  }
  return { applied };
}

/** Names of the migrations not yet applied (all of them on an empty database). Used by `gerbang doctor`. */
export async function pendingMigrations(db: Db, options: MigrateOptions = {}): Promise<string[]> {
  return pendingMigrationsCheck(db, options)();
}

/**
 * pendingMigrations for a process that asks again and again (/readyz): the migration files are
 * read, hashed and split once, here (they do not change while the process runs; a new release is
 * a restart), so each answer costs the store's ledger read alone.
 */
export function pendingMigrationsCheck(db: Db, options: MigrateOptions = {}): () => Promise<string[]> {
  const names = loadMigrationFiles(db.dialect, options.directory).map((file) => ({ version: file.version, name: file.name }));
  return async () => {
    const hasLedger = await tableExists(db, 'schema_migrations');
    const ledger = hasLedger ? await readLedger(db) : new Map<number, string>();
    return names.filter((file) => !ledger.has(file.version)).map((file) => file.name);
  };
}

/**
 * Applies one migration; returns false when another process applied it first.
 *
 * SQLite: DDL is transactional, so the file and its ledger row commit together. BEGIN IMMEDIATE
 * makes a concurrent migrator wait for the write lock; it then re-reads the ledger inside its
 * own transaction, finds the version, and does nothing.
 *
 * MySQL: every DDL statement commits by itself, so the ledger row can only be written after
 * the file ran. Two processes may both run the file: 001 uses IF NOT EXISTS so the loser's
 * statements are harmless, and the PRIMARY KEY on version lets exactly one ledger insert win;
 * the loser gets UniqueViolationError, re-reads the winner's row and carries on. When the
 * loser's DDL itself fails (a later ALTER that the winner already ran), it waits a while for
 * the winner's ledger row before giving up, so a race is not mistaken for a broken migration.
 * No GET_LOCK: it is not replicated and not available on every managed MySQL.
 */
async function applyOne(db: Db, file: MigrationFile, keys: KeyRing | null, vouch: (head: WriterHead | null) => void): Promise<boolean> {
  if (db.dialect === 'sqlite') {
    return db.withTransaction(async (tx) => {
      const already = await readVersion(tx, file.version);
      if (already !== null) {
        verifyChecksum(db, file, already);
        return false;
      }
      await CODE_STEPS[file.version]?.before(tx, keys);
      const again = await CODE_STEPS[file.version]?.again?.(tx, keys);
      if (again) throw ranBefore(db, file, again);
      for (const [i, statement] of file.statements.entries()) await tx.execute(statement).catch((error: unknown) => Promise.reject(statementFailed(db, file, i, error)));
      await CODE_STEPS[file.version]?.after(tx, keys, vouch);
      await recordVersion(tx, file);
      return true;
    });
  }
  await CODE_STEPS[file.version]?.before(db, keys);
  const again = await CODE_STEPS[file.version]?.again?.(db, keys);
  if (again) {
    // Another migrator may have run it whole meanwhile, its ledger row not yet written: as for a failed DDL.
    const winner = await waitForVersion(db, file.version);
    if (winner === null) throw ranBefore(db, file, again);
    verifyChecksum(db, file, winner);
    return false;
  }
  for (const [i, statement] of file.statements.entries()) {
    try {
      await db.execute(statement);
    } catch (error) {
      if (isAppError(error)) throw error; // STORE_UNAVAILABLE: nothing to wait for
      const winner = await waitForVersion(db, file.version);
      if (winner === null) throw statementFailed(db, file, i, error);
      verifyChecksum(db, file, winner);
      return false;
    }
  }
  await CODE_STEPS[file.version]?.after(db, keys, vouch);
  try {
    await recordVersion(db, file);
    return true;
  } catch (error) {
    if (!(error instanceof UniqueViolationError)) throw error;
    const winner = await readVersion(db, file.version);
    if (winner !== null) verifyChecksum(db, file, winner);
    return false;
  }
}

async function readLedger(db: Queryable): Promise<Map<number, string>> {
  const rows = await db.query<LedgerRow>('SELECT version, checksum FROM schema_migrations ORDER BY version');
  return new Map(rows.map((row) => [Number(row.version), row.checksum]));
}

async function readVersion(db: Queryable, version: number): Promise<string | null> {
  const rows = await db.query<LedgerRow>('SELECT version, checksum FROM schema_migrations WHERE version = ?', [version]);
  return rows[0]?.checksum ?? null;
}

async function recordVersion(db: Queryable, file: MigrationFile): Promise<void> {
  await db.execute('INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)', [
    file.version,
    file.name,
    file.checksum,
    Date.now(),
  ]);
}

async function waitForVersion(db: Db, version: number): Promise<string | null> {
  const until = Date.now() + WINNER_WAIT_MS;
  for (;;) {
    const checksum = await readVersion(db, version);
    if (checksum !== null || Date.now() >= until) return checksum;
    await new Promise((resolve) => setTimeout(resolve, WINNER_POLL_MS));
  }
}

function verifyChecksum(db: Db, file: MigrationFile, recorded: string): void {
  if (recorded === file.checksum) return;
  throw new Error(
    `store: migration ${file.file} was changed after it was applied to ${db.description} ` +
      `(recorded checksum ${recorded.slice(0, 12)}…, file now ${file.checksum.slice(0, 12)}…). ` +
      'Restore the file as it was and put the change in a new numbered migration.',
  );
}

/** The refusal of a migration that `again` found already ran: not applied, named, the gateway not started. */
function ranBefore(db: Db, file: MigrationFile, why: string): Error {
  return new Error(
    `store: migration ${file.name} already ran on ${db.description}, though schema_migrations does not record it: ${why}. ` +
      'Not applied again: run again it would vouch with the audit keys for what its first run did not (a row of schema_migrations ' +
      'deleted in SQL, or what the migration keyed written back). Restore the database from a backup taken after the migration, ' +
      'or see "A migration refused as already run" in docs/operator-guide.md.',
  );
}

/**
 * A statement of a migration not recorded as applied failed: named, with the file and the database.
 * A column or row it adds already there means it ran: its ledger row deleted in SQL, and the step
 * in code of one that signs stored data (012, 024, 025, 026, 028, 033) not run again.
 */
function statementFailed(db: Db, file: MigrationFile, index: number, error: unknown): unknown {
  if (isAppError(error) || !(error instanceof Error)) return error;
  return new Error(
    `store: migration ${file.name} failed on ${db.description} at statement ${index + 1} of ${file.file}: ${error.message}. ` +
      'Nothing of it was recorded. If what it adds is already there, it already ran and its row in schema_migrations was deleted: ' +
      'see "A migration refused as already run" in docs/operator-guide.md.',
    { cause: error },
  );
}

async function tableExists(db: Queryable, table: string): Promise<boolean> {
  return (await db.query(TABLE_EXISTS[db.dialect], [table])).length > 0;
}

/** 012 before its DDL: without a key ring, refuses when there is anything to seal or re-link. */
async function requireKeysToSeal(db: Queryable, keys: KeyRing | null): Promise<void> {
  if (keys !== null) return;
  const waiting = await countLegacyValues(db);
  if (waiting > 0) new ValueSealer(null).keyRing; // throws KeyRingError naming GERBANG_AUDIT_KEYS
}

/**
 * 024 to 038 before their DDL: the rows of `tables` (those matching `where`) are then signed
 * (024, 025, 028, 033), indexed for the search (026, payments), recorded (027, 037) or both (038) with the key
 * ring, so it is needed when there are any.
 */
async function requireKeysForRows(db: Queryable, keys: KeyRing | null, tables: readonly string[], where = '1 = 1'): Promise<void> {
  if (keys !== null) return;
  for (const table of tables) {
    const [{ n }] = await db.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`);
    if (Number(n) > 0) new ValueSealer(null).keyRing; // throws KeyRingError naming GERBANG_AUDIT_KEYS
  }
}

/** 024, 025, 028, 033 after their DDL: every row of `tables` gets its MAC (record-macs.ts). */
async function signRows(db: Queryable, keys: KeyRing | null, tables: readonly MacedTable[], migration: string): Promise<void> {
  for (const table of tables) {
    const signed = await signUnsignedRows(db, table, new ValueSealer(keys));
    if (signed > 0) log.info({ table: table.table, signed }, `migration ${migration}: existing rows signed`);
  }
}

/**
 * 026 after its DDL: every payment already stored gets its search trigrams (payment-search-grams.ts),
 * 500 per transaction on MySQL. Cut short, the migration is not recorded and runs again, carrying on
 * from the payments not yet indexed.
 */
async function indexStoredPayments(db: Queryable, keys: KeyRing | null): Promise<void> {
  const [{ n }] = await db.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM payments WHERE search_key_id IS NULL');
  if (Number(n) === 0) return;
  const transaction = 'withTransaction' in db ? (db as Db).withTransaction.bind(db) : undefined;
  const began = Date.now();
  const indexed = await reindexPayments(db, new ValueSealer(keys), {
    transaction,
    onBatch: (done) => {
      if (done % 50_000 === 0) log.info({ indexed: done, of: Number(n) }, 'migration 026: indexing stored payments for the search');
    },
  });
  log.info({ indexed, ms: Date.now() - began }, 'migration 026: stored payments indexed for the console search');
}

/**
 * 027 after its DDL: a `baseline` change record of every console user, client, credential, grant
 * and callback endpoint as it stands (record-changes.ts), in one transaction on MySQL too, so a
 * migration cut short records nothing and runs again.
 */
async function recordRowsAsTheyStand(db: Queryable, keys: KeyRing | null, vouch: (head: WriterHead | null) => void): Promise<void> {
  const counts = await Promise.all(RECORDED_AT_027.map(async (t) => Number((await db.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${t.table}`))[0].n)));
  if (counts.every((n) => n === 0)) return;
  const record = (q: Queryable) => recordBaseline(q, RECORDED_AT_027, new ValueSealer(keys));
  const head = await inOwnTransaction(db, record);
  vouch(head);
  log.info({ recorded: head?.seq ?? 0 }, 'migration 027: console users, clients, credentials, grants and callback endpoints recorded as they stand');
}

/**
 * 027 again: its change records (or their links to records since deleted) are there, so it ran. Run again it would record
 * every row as it stands, an older copy written back in SQL (a client from before it was disabled)
 * or a row restored after its deletion among them, and so make it the row's latest state. A row
 * that is not what its latest record says, or a record linked and gone, stops it (named, as by
 * `audit verify`); when every row is, a second run records them as they are recorded (a MySQL
 * migrator cut short between its step and its ledger row).
 */
async function rowsRecordedBefore(db: Queryable, keys: KeyRing | null): Promise<string | null> {
  if (keys === null || !(await tableExists(db, 'record_changes'))) return null;
  const gone = await goneChangeRecords(db);
  const [{ n }] = await db.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM record_changes');
  // Neither records nor links: it never ran (MySQL: its table made, its step cut short).
  if (Number(n) === 0 && gone === 0) return null;
  const problems = gone > 0 ? [`${gone} change record(s) linked in the audit chains are gone`] : [];
  const sealer = new ValueSealer(keys);
  for (const table of RECORDED_AT_027) {
    const { altered, deleted } = await rowHistoryProblems(db, table, sealer);
    problems.push(...altered, ...deleted);
  }
  if (problems.length === 0) return null;
  const more = problems.length > 5 ? ` (and ${problems.length - 5} more)` : '';
  return `its change records (record_changes) are there and say otherwise of the rows: ${problems.slice(0, 5).join('; ')}${more}`;
}

/** How many `record_change` links of the audit chains name a change record that is gone. */
async function goneChangeRecords(db: Queryable): Promise<number> {
  const [{ gone }] = await db.query<{ gone: number | string }>(
    "SELECT COUNT(*) AS gone FROM audit_chain c LEFT JOIN record_changes r ON r.id = c.record_id WHERE c.kind = 'record_change' AND r.id IS NULL",
  );
  return Number(gone);
}

/**
 * 037 after its DDL: every payment and console audit entry the coverage excused recorded as it
 * stands, and the coverage moved to 0 (history-baselines.ts), a batch a transaction on MySQL. Cut
 * short, the migration is not recorded and runs again, carrying on below where the coverage stands.
 */
async function recordExcused(db: Queryable, keys: KeyRing | null, vouch: (head: WriterHead | null) => void): Promise<void> {
  // Without keys (`before`): no coverage row excuses anything or carries a MAC, so nothing to do.
  if (keys === null) return;
  const { recorded, head } = await recordExcusedHistory(db, new ValueSealer(keys));
  vouch(head);
  if (recorded.payments + recorded.console_audit > 0) log.info(recorded, 'migration 037: payments and console audit entries from before 024 recorded as they stand');
}

/**
 * 038 after its DDL: every queued callback without a MAC gets one and its `baseline` change record
 * (keyStoredRows), 500 a transaction on MySQL. Cut short, the migration is not recorded and runs
 * again, carrying on with the rows not yet keyed; run twice, it finds none.
 */
async function keyStoredDeliveries(db: Queryable, keys: KeyRing | null, vouch: (head: WriterHead | null) => void): Promise<void> {
  await addColumns(db, CALLBACK_DELIVERIES.table, [
    { name: 'mac_key_id', sqlite: 'TEXT NULL', mysql: 'VARCHAR(32) NULL' },
    { name: 'mac', sqlite: 'TEXT NULL', mysql: 'CHAR(64) NULL' },
  ]);
  // Without keys (`before`): the outbox is empty, so nothing to key.
  if (keys === null) return;
  const began = Date.now();
  // As 038 keyed them before 045 (the id left out; record_changes has no row_id yet): 045 keys them again with it.
  const { keyed, head } = await keyStoredRows(db, PRE_045_DELIVERIES, new ValueSealer(keys), 'id', '038');
  vouch(head);
  if (keyed > 0) log.info({ keyed, ms: Date.now() - began }, 'migration 038: queued callbacks keyed and recorded as they stand');
}

/**
 * 045 after its (empty) DDL: every queued callback whose MAC holds as 038 made it (PRE_045_DELIVERIES,
 * its id left out) and that is its latest state gets the MAC that covers its id and a `rotate`
 * change record (keyStoredRows' `rekey`), 500 a transaction on MySQL, in a chain of the
 * migration's own that the checkpoints vouch for. One that does not hold is left as it is, named by
 * `audit verify` and refused by the dispatcher as before. Cut short, the migration is not recorded
 * and runs again, carrying on with the rows not yet keyed (those keyed no longer hold as 038 made
 * them). Run again with its ledger row deleted, it is refused when a linked change record is gone,
 * as 038 is (deliveriesRecordedBefore).
 */
async function rekeyStoredDeliveries(db: Queryable, keys: KeyRing | null, vouch: (head: WriterHead | null) => void): Promise<void> {
  await addColumns(db, 'record_changes', [{ name: 'row_id', sqlite: 'INTEGER NULL', mysql: 'BIGINT NULL' }]);
  // Without keys (`before`): no delivery carries a MAC, so nothing to key again.
  if (keys === null) return;
  const began = Date.now();
  const sealer = new ValueSealer(keys);
  const { keyed, head } = await keyStoredRows(db, CALLBACK_DELIVERIES, sealer, 'id', '045', { holding: latestStatesUnder(PRE_045_DELIVERIES, sealer) });
  vouch(head);
  if (keyed > 0) log.info({ keyed, ms: Date.now() - began }, 'migration 045: queued callbacks keyed again, their MAC now covering their id');
}

/**
 * 038 again (its row deleted from schema_migrations): a queued callback that has a change record
 * is never keyed again (keyStoredRows), so a delivery set back or held in SQL, its MAC cleared,
 * stays unkeyed and named. A change record linked and gone (the row's records deleted so that it
 * looks never keyed) stops it, named, as it stops 027. 045 again likewise: its rows keyed no
 * longer hold as 038 keyed them, so only a delivery whose later records were deleted could be
 * keyed again as it stands.
 */
async function deliveriesRecordedBefore(db: Queryable, keys: KeyRing | null): Promise<string | null> {
  if (keys === null || !(await tableExists(db, 'record_changes'))) return null;
  const gone = await goneChangeRecords(db);
  return gone > 0 ? `${gone} change record(s) linked in the audit chains are gone: a queued callback whose records were deleted would be keyed as it stands` : null;
}

/**
 * 038's and 045's DDL, in code so that a run cut short runs again on MySQL (its DDL commits by
 * itself, and MySQL 8 has no ADD COLUMN IF NOT EXISTS): `columns` of `table` (038: the MAC columns
 * of record-macs.ts; 045: record_changes.row_id) added when they are not all there, in one
 * statement on MySQL. Another migrator adding them meanwhile is no error.
 */
async function addColumns(db: Queryable, table: string, columns: readonly { name: string; sqlite: string; mysql: string }[]): Promise<void> {
  const names = columns.map((c) => `'${c.name}'`).join(', ');
  const present = async () =>
    (db.dialect === 'sqlite'
      ? await db.query(`SELECT name FROM pragma_table_info('${table}') WHERE name IN (${names})`)
      : await db.query(`SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME IN (${names})`, [table])
    ).length === columns.length;
  if (await present()) return;
  const ddl =
    db.dialect === 'sqlite'
      ? columns.map((c) => `ALTER TABLE ${table} ADD COLUMN ${c.name} ${c.sqlite}`)
      : [`ALTER TABLE ${table} ${columns.map((c) => `ADD COLUMN ${c.name} ${c.mysql}`).join(', ')}`];
  try {
    for (const statement of ddl) await db.execute(statement);
  } catch (error) {
    if (!(await present())) throw error;
  }
}

/** 012 after its DDL: seals every stored value for its place, signs the payments, re-links the chains. */
async function sealAndRelink(db: Queryable, keys: KeyRing | null): Promise<void> {
  const sealed = await sealLegacyValues(db, keys);
  const signed = await signLegacyPayments(db, keys);
  const { relinked } = await relinkChains(db, new ValueSealer(keys), { legacy: true });
  if (sealed + signed + relinked > 0) log.info({ sealed, signed, relinked }, 'migration 012: stored values sealed for their place, payments signed, audit chains re-linked with the ring key');
}
