import type { Db, SqlValue } from '../../src/store/index.js';

/**
 * Whole rows copied and written back in SQL, as the attacker of docs/security/threat-model.md
 * would restore them from a backup: the attack tests' own hands, never the store's code.
 */
export type Row = Record<string, SqlValue>;

/** The row of `table` where `where` holds, whole. */
export async function copyRow(db: Db, table: string, where: string, values: SqlValue[]): Promise<Row> {
  const [row] = await db.query<Row>(`SELECT * FROM ${table} WHERE ${where}`, values);
  if (!row) throw new Error(`no ${table} row where ${where}`);
  for (const name of await generatedColumns(db, table)) delete row[name];
  return row;
}

/**
 * The generated columns of `table` (payments.proof_digest, migration 032): the database's, no
 * writer sets them (MariaDB refuses the value), a row restored gets them computed again, as a dump
 * leaves them out. None on SQLite.
 */
async function generatedColumns(db: Db, table: string): Promise<string[]> {
  if (db.dialect !== 'mysql') return [];
  const generated = await db.query<{ name: string }>(
    "SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND EXTRA LIKE '%GENERATED%'",
    [table],
  );
  return generated.map(({ name }) => name);
}

/** The columns a restore of `table` writes, in order: every column but the generated ones (`*` when there are none). */
export async function writtenColumns(db: Db, table: string): Promise<string> {
  const generated = await generatedColumns(db, table);
  if (generated.length === 0) return '*';
  const columns = await db.query<{ name: string }>(
    'SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
    [table],
  );
  return columns.map(({ name }) => name).filter((name) => !generated.includes(name)).join(', ');
}

/** Writes `row` back over the row where `where` holds (every column). */
export async function writeBack(db: Db, table: string, row: Row, where: string, values: SqlValue[]): Promise<void> {
  const columns = Object.keys(row);
  await db.execute(`UPDATE ${table} SET ${columns.map((c) => `${c} = ?`).join(', ')} WHERE ${where}`, [...Object.values(row), ...values]);
}

/** Inserts `row` as it was copied (a row restored from a backup). */
export async function insertRow(db: Db, table: string, row: Row): Promise<void> {
  const columns = Object.keys(row);
  await db.execute(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`, Object.values(row));
}
