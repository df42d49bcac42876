import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { migrate, openStore, type Store } from '../../src/store/index.js';

export type Backend = 'sqlite' | 'mariadb';

export interface BackendContext {
  backend: Backend;
  /** URL of this suite's own, migrated database. */
  url: () => string;
  /** A store opened on it for the suite (closed after). */
  store: () => Store;
}

const SERVER_URL = process.env.GERBANG_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
let warned = false;

/** Is MariaDB reachable? In CI it must be: unreachable is then an error, never a skip. */
async function mariaDbReachable(): Promise<string | null> {
  try {
    const connection = await mysql.createConnection({ uri: SERVER_URL, connectTimeout: 3000 });
    await connection.end();
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

function skipOrFail(ctx: Mocha.Context, reason: string): never {
  if (process.env.CI === 'true') throw new Error(`MariaDB is required under CI=true but ${SERVER_URL} is unreachable: ${reason}`);
  if (!warned) {
    warned = true;
    console.warn(
      `\n*** SKIPPED: MariaDB suites (${SERVER_URL} unreachable: ${reason}). Start MariaDB or set GERBANG_TEST_MYSQL_URL; CI=true makes this a failure. ***\n`,
    );
  }
  ctx.skip();
}

/**
 * Creates a fresh, uniquely named MariaDB database (not migrated) and returns its URL and a
 * `drop()`. Pass the mocha context: outside CI an unreachable server skips the suite loudly.
 */
export async function createMariaDbDatabase(ctx: Mocha.Context): Promise<{ url: string; drop: () => Promise<void> }> {
  const reason = await mariaDbReachable();
  if (reason !== null) skipOrFail(ctx, reason);
  const name = `gerbang_t_${randomBytes(6).toString('hex')}`;
  const admin = await mysql.createConnection({ uri: SERVER_URL });
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  await admin.end();
  const url = `${SERVER_URL.replace(/\/$/, '')}/${name}`;
  return {
    url,
    async drop() {
      const conn = await mysql.createConnection({ uri: SERVER_URL });
      await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await conn.end();
    },
  };
}

/**
 * Defines `describe(title [backend])` once per store backend, each with its own migrated
 * database: a temp SQLite file, and a fresh MariaDB database dropped afterwards.
 */
export function forEachBackend(title: string, fn: (ctx: BackendContext) => void): void {
  for (const backend of ['sqlite', 'mariadb'] as const) {
    describe(`${title} [${backend}]`, function () {
      let url = '';
      let store: Store | undefined;
      let cleanup: () => Promise<void> = async () => undefined;

      before(async function () {
        if (backend === 'sqlite') {
          const dir = mkdtempSync(join(tmpdir(), 'gerbang-test-'));
          url = `sqlite:${join(dir, 'gerbang.sqlite')}`;
          cleanup = async () => rmSync(dir, { recursive: true, force: true });
        } else {
          const database = await createMariaDbDatabase(this);
          url = database.url;
          cleanup = database.drop;
        }
        store = await openStore(url);
        await migrate(store.db);
      });

      after(async () => {
        await store?.close();
        await cleanup();
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
