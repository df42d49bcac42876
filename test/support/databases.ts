import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeDatabaseUrl, migrate, openDb, openStore, type Db, type Store } from '../../src/store/index.js';
import type { KeyRing } from '../../src/security/index.js';
import { packageRoot } from '../../src/store/package-root.js';
import { TEST_AUDIT_KEYS } from './audit-keys.js';
import { TcpProxy } from './tcp-proxy.js';

export type Backend = 'sqlite' | 'mariadb';

export interface BackendContext {
  backend: Backend;
  /** URL of this suite's own, migrated database. */
  url: () => string;
  /** A store opened on it for the whole suite (closed after it). */
  store: () => Store;
}

/** The MariaDB/MySQL server the tests may create databases on (root, no database in the path). */
export const TEST_MYSQL_URL = (process.env.GERBANG_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306').replace(/\/+$/, '');

let reachability: Promise<string | null> | undefined;
let warned = false;

/** null when the server answers, else why not. Asked once per test run. */
function unreachableReason(): Promise<string | null> {
  reachability ??= (async () => {
    const admin = openDb(TEST_MYSQL_URL);
    try {
      await admin.ping();
      return null;
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      return cause?.code ?? cause?.message ?? (error as Error).message;
    } finally {
      await admin.close().catch(() => undefined);
    }
  })();
  return reachability;
}

/** Outside CI an unreachable MariaDB skips the suite, loudly; under CI=true it fails it. */
function skipOrFail(ctx: Mocha.Context | undefined, reason: string): never {
  const what = `MariaDB suites (${describeDatabaseUrl(TEST_MYSQL_URL)} unreachable: ${reason})`;
  if (process.env.CI === 'true' || ctx === undefined) {
    throw new Error(`${what}. MariaDB is required${process.env.CI === 'true' ? ' under CI=true' : ''}; set GERBANG_TEST_MYSQL_URL or start MariaDB.`);
  }
  if (!warned) {
    warned = true;
    console.warn(`\n*** SKIPPED: ${what}. Set GERBANG_TEST_MYSQL_URL or start MariaDB; CI=true makes this a failure. ***\n`);
  }
  ctx.skip();
  throw new Error('unreachable: mocha skip() throws');
}

/**
 * Creates a fresh, uniquely named database `gerbang_t_<hex>` on the test server (not migrated)
 * and returns its URL and `drop()`. With a mocha context, an unreachable server skips the
 * calling suite outside CI; without one (or under CI=true) it throws.
 */
export async function createMariaDbDatabase(ctx?: Mocha.Context): Promise<{ url: string; drop: () => Promise<void> }> {
  const reason = await unreachableReason();
  if (reason !== null) skipOrFail(ctx, reason);
  const name = `gerbang_t_${randomBytes(6).toString('hex')}`;
  await onServer(`CREATE DATABASE ${name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  return { url: `${TEST_MYSQL_URL}/${name}`, drop: () => onServer(`DROP DATABASE IF EXISTS ${name}`) };
}

/**
 * A fresh MariaDB database, migrated, with a pool open on it, for one suite's `before`; `close()`
 * (for its `after`, safe when `before` failed half-way) closes the pool and drops the database.
 * `query` is added to the URL (`?connectionLimit=1`: every statement on one connection).
 */
export async function migratedMariaDb(ctx: Mocha.Context, query = ''): Promise<{ db: Db; close: () => Promise<void> }> {
  const database = await createMariaDbDatabase(ctx);
  const db = openDb(`${database.url}${query}`);
  const close = async (): Promise<void> => {
    await db.close();
    await database.drop();
  };
  try {
    await migrate(db);
  } catch (error) {
    await close();
    throw error;
  }
  return { db, close };
}

/**
 * A fresh MariaDB database (as createMariaDbDatabase) holding what the database of `templateUrl`
 * holds: each table as SHOW CREATE TABLE gives it (columns, indexes, foreign keys, engine,
 * collation) and its rows. A copy of a migrated database is a migrated database, for about 0.1 s
 * where migrating one takes 0.7-2.6 s on this server: for suites that need a fresh one per test.
 */
export async function copyOfMariaDb(templateUrl: string, ctx?: Mocha.Context): Promise<{ url: string; drop: () => Promise<void> }> {
  const database = await createMariaDbDatabase(ctx);
  const template = openDb(templateUrl);
  // One connection: the session's FOREIGN_KEY_CHECKS = 0 lets the tables come in any order.
  const copy = openDb(`${database.url}?connectionLimit=1`);
  try {
    const tables = await template.query<{ name: string }>("SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'");
    await copy.execute('SET FOREIGN_KEY_CHECKS = 0');
    const from = new URL(templateUrl).pathname.slice(1);
    // Names come from the catalogue, not from input.
    for (const { name } of tables) {
      const [created] = await template.query<{ 'Create Table': string }>(`SHOW CREATE TABLE \`${name}\``);
      await copy.execute(created['Create Table']);
      await copy.execute(`INSERT INTO \`${name}\` SELECT * FROM \`${from}\`.\`${name}\``);
    }
  } catch (error) {
    await database.drop();
    throw error;
  } finally {
    await copy.close();
    await template.close();
  }
  return database;
}

/** Runs one statement (with a generated, safe name in it) on a short-lived server connection. */
async function onServer(sql: string): Promise<void> {
  const admin = openDb(TEST_MYSQL_URL);
  try {
    await admin.execute(sql);
  } finally {
    await admin.close();
  }
}

/** A migrated SQLite database in a fresh temp folder, and how to remove it. */
export function createSqliteDatabase(): { url: string; drop: () => Promise<void> } {
  const dir = mkdtempSync(join(tmpdir(), 'gerbang-test-'));
  return { url: `sqlite:${join(dir, 'gerbang.sqlite')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Defines `describe('<title> [sqlite]')` and `describe('<title> [mariadb]')`, each with its own
 * migrated database (a temp SQLite file; a fresh MariaDB database, dropped afterwards) and a
 * store opened on it for the suite (its audit sealed with TEST_AUDIT_KEYS). `fn` defines the tests once, against `ctx`.
 */
export function forEachBackend(title: string, fn: (ctx: BackendContext) => void): void {
  for (const backend of ['sqlite', 'mariadb'] as const) {
    describe(`${title} [${backend}]`, function () {
      let url = '';
      let store: Store | undefined;
      let drop: () => Promise<void> = async () => undefined;

      before(async function () {
        const database = backend === 'sqlite' ? createSqliteDatabase() : await createMariaDbDatabase(this);
        url = database.url;
        drop = database.drop;
        store = await openStore(url, { auditKeys: TEST_AUDIT_KEYS });
        await migrate(store.db);
      });

      after(async () => {
        await store?.close();
        await drop();
      });

      fn({
        backend,
        url: () => url,
        store: () => {
          if (!store) throw new Error('store not open yet (use it inside hooks or tests)');
          return store;
        },
      });
    });
  }
}

/**
 * A fresh MariaDB database reached through a TcpProxy, for tests that take the database away
 * (`proxy.cut()`) and give it back (`proxy.restore()`). `drop()` cuts the proxy and drops it.
 */
export async function createMariaDbBehindProxy(ctx?: Mocha.Context): Promise<{ url: string; proxy: TcpProxy; drop: () => Promise<void> }> {
  const database = await createMariaDbDatabase(ctx);
  const url = new URL(database.url);
  const proxy = new TcpProxy(url.hostname, Number(url.port || 3306));
  await proxy.start();
  url.host = `127.0.0.1:${proxy.port}`;
  return {
    url: url.toString(),
    proxy,
    drop: async () => {
      await proxy.cut().catch(() => undefined);
      await database.drop();
    },
  };
}

/** Every row of every table of the database, as the database holds it, as one searchable text. */
export async function everyRow(db: Db): Promise<string> {
  const tables =
    db.dialect === 'sqlite'
      ? await db.query<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
      : await db.query<{ name: string }>('SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()');
  const rows: Record<string, unknown[]> = {};
  // Names come from the catalogue, not from input.
  for (const { name } of tables) rows[name] = await db.query(`SELECT * FROM ${name}`);
  return JSON.stringify(rows, (_, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
}

/**
 * Migrates `db` with the shipped migrations numbered below `version` only (`'024'`: up to 023), as
 * a database stood before that migration; `keys` for the steps that seal or sign.
 */
export async function migrateBelow(db: Db, version: string, keys?: KeyRing): Promise<void> {
  const directory = mkdtempSync(join(tmpdir(), `gerbang-below-${version}-`));
  const source = join(packageRoot(), 'sql', db.dialect);
  for (const name of readdirSync(source).filter((n) => n < version)) copyFileSync(join(source, name), join(directory, name));
  await migrate(db, { directory, keys });
}

/** A client written through the store (its MAC current), with a random id: for tests of what reads client rows. */
export async function storedClient(store: Store, now: number): Promise<string> {
  const id = `gbc_${Math.random().toString(36).slice(2, 10)}`;
  await store.clients.create({ id, name: id, secretHash: 'x', allowedOrigins: [], allowedCidrs: ['127.0.0.0/8'] }, now);
  return id;
}
