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
  next(name: string): Promise<number> {
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
