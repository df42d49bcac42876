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

  /**
   * The next value of `name`, and never less than `floor`: the first call returns `floor` (1 by
   * default), later ones the greater of the last value + 1 and `floor`.
   */
  next(name: string, floor = 1): Promise<number> {
    return this.nextBlock(name, 1, floor);
  }

  /** The first of `size` consecutive values taken at once: the greater of the last value + 1 and `floor`. */
  async nextBlock(name: string, size: number, floor = 1): Promise<number> {
    if (!Number.isSafeInteger(size) || size < 1) throw new RangeError(`a block holds at least one value, not ${size}`);
    if (this.db.dialect === 'mysql') {
      // One statement, no transaction: LAST_INSERT_ID(expr) hands the block's last value back in
      // the statement's own OK packet (no session state is read afterwards), and the row lock is
      // held only for the statement. affectedRows 1 means the row was just created (from floor).
      const result = await this.db.execute(
        'INSERT INTO sequences (name, value) VALUES (?, ?) ON DUPLICATE KEY UPDATE value = LAST_INSERT_ID(GREATEST(value + ?, ?))',
        [name, floor + size - 1, size, floor + size - 1],
      );
      return result.affectedRows === 1 ? floor : result.insertId - size + 1;
    }
    const sql = upsertSql(this.db.dialect, {
      table: 'sequences',
      insert: ['name', 'value'],
      conflict: ['name'],
      update: [['value', 'MAX(value + ?, ?)']],
    });
    return this.db.withTransaction(async (tx) => {
      await tx.execute(sql, [name, floor + size - 1, size, floor + size - 1]);
      const rows = await tx.query<{ value: number | string }>('SELECT value FROM sequences WHERE name = ?', [name]);
      return toNumber(rows[0].value) - size + 1;
    });
  }
}
