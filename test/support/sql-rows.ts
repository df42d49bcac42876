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
  // Generated columns (payments.proof_digest, migration 032) are the database's: no writer sets
  // them (MariaDB refuses the value), a row restored gets them computed again, as a dump leaves them out.
  if (db.dialect === 'mysql') {
    const generated = await db.query<{ name: string }>(
      "SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND EXTRA LIKE '%GENERATED%'",
      [table],
    );
    for (const { name } of generated) delete row[name];
  }
  return row;
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
