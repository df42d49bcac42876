import { createHash } from 'node:crypto';
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
export async function insertRow(db: Pick<Db, 'execute'>, table: string, row: Row): Promise<void> {
  const columns = Object.keys(row);
  await db.execute(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`, Object.values(row));
}

/** A link's fields as audit_chain holds them (its place in a chain, and what it names). */
export interface LinkPlace {
  prevHash: string;
  writerId: string;
  seq: number;
  kind: string;
  recordId: number;
  recordedAt: number;
}

/**
 * The hash a keyless attacker gives a link of theirs: the chain's formula as it was before #14
 * (docs/security/threat-model.md), plain SHA-256 of the JSON of the link's fields and the record's
 * content digest (SHA-256 of the JSON of its fields, `content`), both computable from what the
 * database shows. Accepted only by a verifier that had gone back to keyless links.
 */
export function keylessLinkHash(link: LinkPlace, content: (string | number | null)[]): string {
  const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
  return sha256(JSON.stringify([link.prevHash, link.writerId, link.seq, link.kind, link.recordId, link.recordedAt, sha256(JSON.stringify(content))]));
}

/**
 * Inserts the `verification` link a keyless attacker writes for the stored result `recordId` (an
 * older "OK" one, to show it again): the first of a chain `writerId` of its own (no head row),
 * under the key id the gateway's links carry (`keyId`), its hash keylessLinkHash of the result's
 * fields as the table holds them.
 */
export async function insertKeylessVerificationLink(db: Db, link: { recordId: number; writerId: string; recordedAt: number; keyId: string }): Promise<void> {
  const [row] = await db.query<Row>('SELECT checked_at, ok, links, breaks, first_break FROM audit_verifications WHERE id = ?', [link.recordId]);
  if (!row) throw new Error(`no audit_verifications row ${link.recordId}`);
  const place = { prevHash: '0'.repeat(64), seq: 1, kind: 'verification', ...link };
  const content = ['audit-verification', link.recordId, Number(row.checked_at), Number(row.ok), Number(row.links), Number(row.breaks), row.first_break === null ? null : String(row.first_break)];
  await db.execute('INSERT INTO audit_chain (writer_id, seq, kind, record_id, recorded_at, prev_hash, hash, key_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [
    place.writerId, place.seq, place.kind, place.recordId, place.recordedAt, place.prevHash, keylessLinkHash(place, content), link.keyId,
  ]);
}

/**
 * A trigger refusing each `write` of `table` for which `when` holds (`NEW.…` or `OLD.…`), as a
 * database writer could add; dropped by the returned function.
 */
export async function refusedWrites(db: Db, write: 'INSERT' | 'DELETE', table: string, when: string): Promise<() => Promise<unknown>> {
  const name = `refuse_${table}`;
  await db.execute(
    db.dialect === 'mysql'
      ? `CREATE TRIGGER ${name} BEFORE ${write} ON ${table} FOR EACH ROW IF ${when} THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused by a trigger'; END IF`
      : `CREATE TRIGGER ${name} BEFORE ${write} ON ${table} WHEN ${when} BEGIN SELECT RAISE(ABORT, 'refused by a trigger'); END`,
  );
  return () => db.execute(`DROP TRIGGER ${name}`);
}
