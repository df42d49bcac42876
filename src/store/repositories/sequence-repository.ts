import type { Db, SequenceRepository } from '../types.js';
import { toNumber } from './row-values.js';
import { upsertSql } from './sql-dialect.js';

/**
 * Named counters shared by all nodes (e.g. the bank's 8-digit TransactionID). The increment
 * and the read happen in one transaction on the locked row, so no two callers, in any process,
 * get the same value. No AUTO_INCREMENT tricks: auto_increment_increment differs on replicas.
 */
export class SqlSequenceRepository implements SequenceRepository {
  constructor(private readonly db: Db) {}

  /** The next value of `name`; the first call returns 1. */
  async next(name: string): Promise<number> {
    if (this.db.dialect === 'mysql') {
      // One statement, no transaction: LAST_INSERT_ID(expr) hands the incremented value back in
      // the statement's own OK packet (no session state is read afterwards), and the row lock is
      // held only for the statement. affectedRows 1 means the row was just created (value 1).
      const result = await this.db.execute(
        'INSERT INTO sequences (name, value) VALUES (?, 1) ON DUPLICATE KEY UPDATE value = LAST_INSERT_ID(value + 1)',
        [name],
      );
      return result.affectedRows === 1 ? 1 : result.insertId;
    }
    const sql = upsertSql(this.db.dialect, {
      table: 'sequences',
      insert: ['name', 'value'],
      conflict: ['name'],
      update: [['value', 'value + 1']],
    });
    return this.db.withTransaction(async (tx) => {
      await tx.execute(sql, [name, 1]);
      const rows = await tx.query<{ value: number | string }>('SELECT value FROM sequences WHERE name = ?', [name]);
      return toNumber(rows[0].value);
    });
  }
}
