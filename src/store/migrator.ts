import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getLogger } from '../log/index.js';
import { packageRoot } from './package-root.js';
import { UniqueViolationError, type Db } from './types.js';

const log = getLogger('migrations');

interface Migration {
  version: number;
  name: string;
  checksum: string;
  statements: string[];
}

const BOOKKEEPING = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INT NOT NULL PRIMARY KEY,
  name VARCHAR(191) NOT NULL,
  checksum CHAR(64) NOT NULL,
  applied_at BIGINT NOT NULL
)`;

/** The numbered files of sql/<dialect>/ (`001_initial.sql`, …), in order. */
function loadMigrations(db: Db): Migration[] {
  const dir = join(packageRoot(), 'sql', db.dialect);
  return readdirSync(dir)
    .filter((file) => /^\d{3}_[\w-]+\.sql$/.test(file))
    .sort()
    .map((file) => {
      const text = readFileSync(join(dir, file), 'utf8');
      return {
        version: Number(file.slice(0, 3)),
        name: file,
        checksum: createHash('sha256').update(text).digest('hex'),
        statements: splitStatements(text),
      };
    });
}

/** Splits a script on `;` at line ends, dropping `--` comment lines (our files keep to that form). */
export function splitStatements(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => !line.trim().startsWith('--'))
    .join('\n')
    .split(/;\s*(?:\n|$)/)
    .map((statement) => statement.trim())
    .filter((statement) => statement.length > 0);
}

async function appliedVersions(db: Db): Promise<Map<number, { name: string; checksum: string }>> {
  await db.execute(BOOKKEEPING);
  const rows = await db.query<{ version: number; name: string; checksum: string }>('SELECT version, name, checksum FROM schema_migrations');
  return new Map(rows.map((row) => [Number(row.version), { name: row.name, checksum: row.checksum }]));
}

/** Names of the migration files not yet applied (for /readyz). Throws on a changed applied file. */
export async function pendingMigrations(db: Db): Promise<string[]> {
  const applied = await appliedVersions(db);
  const migrations = loadMigrations(db);
  verifyChecksums(migrations, applied);
  return migrations.filter((m) => !applied.has(m.version)).map((m) => m.name);
}

function verifyChecksums(migrations: Migration[], applied: Map<number, { checksum: string }>): void {
  for (const migration of migrations) {
    const done = applied.get(migration.version);
    if (done && done.checksum !== migration.checksum) {
      throw new Error(`migration ${migration.name} was changed after it was applied; add a new numbered migration instead`);
    }
  }
}

/**
 * Applies the pending migrations in order. On SQLite each runs in one transaction with its
 * bookkeeping row. MySQL commits DDL implicitly, so there the bookkeeping row is written after
 * the statements; when several processes start at once, the loser's CREATE TABLE fails on the
 * existing table or its bookkeeping insert hits the primary key: it then re-reads the applied
 * versions and carries on if the winner recorded that migration.
 */
export async function migrate(db: Db): Promise<{ applied: string[] }> {
  const applied: string[] = [];
  for (;;) {
    const done = await appliedVersions(db);
    const migrations = loadMigrations(db);
    verifyChecksums(migrations, done);
    const next = migrations.find((m) => !done.has(m.version));
    if (!next) return { applied };
    try {
      await applyOne(db, next);
      applied.push(next.name);
      log.info({ migration: next.name }, 'migration applied');
    } catch (error) {
      if (await recordedByAnother(db, next, error)) continue;
      throw new Error(`migration ${next.name} failed: ${(error as Error).message}`, { cause: error });
    }
  }
}

async function applyOne(db: Db, migration: Migration): Promise<void> {
  const record = 'INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)';
  const values = [migration.version, migration.name, migration.checksum, Date.now()];
  if (db.dialect === 'sqlite') {
    await db.withTransaction(async (tx) => {
      for (const statement of migration.statements) await tx.execute(statement);
      await tx.execute(record, values);
    });
    return;
  }
  for (const statement of migration.statements) await db.execute(statement);
  await db.execute(record, values);
}

async function recordedByAnother(db: Db, migration: Migration, error: unknown): Promise<boolean> {
  const code = (error as { code?: string }).code ?? '';
  const concurrent = error instanceof UniqueViolationError || /ER_TABLE_EXISTS_ERROR|ER_DUP_KEYNAME|ER_DUP_FIELDNAME/.test(code) || /already exists/i.test((error as Error).message);
  if (!concurrent) return false;
  // Give the winner a moment to write its bookkeeping row, then look.
  for (let attempt = 0; attempt < 50; attempt += 1) {
    if ((await appliedVersions(db)).has(migration.version)) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}
