import type {
  DailyBankLatency,
  DailyPaymentTotals,
  Db,
  PaymentCursor,
  PaymentPage,
  PaymentRecord,
  PaymentSearch,
  PaymentSearchRepository,
  PaymentSort,
  PaymentState,
  SqlValue,
} from '../types.js';
import type { KeyRing } from '../../security/index.js';
import { PAYMENT_COLUMNS, toPaymentRecord, type PaymentRow } from './payment-repository.js';
import { ValueSealer } from './sealed-values.js';
import { toNumber } from './row-values.js';

const MAX_LIMIT = 1_000;
const DAY_MS = 86_400_000;
/** UTC+7: the finance team's day starts at midnight in Jakarta, not in UTC. */
const JAKARTA_OFFSET_MS = 7 * 3_600_000;

/** Sort → key column and direction. Column names come from here only, never from input. */
const SORTS: Record<PaymentSort, { column: 'created_at' | 'amount_minor'; descending: boolean }> = {
  newest: { column: 'created_at', descending: true },
  oldest: { column: 'created_at', descending: false },
  largest: { column: 'amount_minor', descending: true },
  smallest: { column: 'amount_minor', descending: false },
};

/** The Jakarta day number of an epoch-ms column, the same integer on both backends. */
function dayExpression(db: Db, column: string): string {
  return db.dialect === 'mysql' ? `((${column} + ${JAKARTA_OFFSET_MS}) DIV ${DAY_MS})` : `((${column} + ${JAKARTA_OFFSET_MS}) / ${DAY_MS})`;
}

function dayLabel(dayNumber: unknown): string {
  return new Date(toNumber(dayNumber) * DAY_MS).toISOString().slice(0, 10);
}

/** Nearest-rank percentile of a histogram sorted by duration. */
function percentile(histogram: { durationMs: number; count: number }[], total: number, p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * total));
  let seen = 0;
  for (const bucket of histogram) {
    seen += bucket.count;
    if (seen >= rank) return bucket.durationMs;
  }
  return histogram.length > 0 ? histogram[histogram.length - 1].durationMs : 0;
}

/**
 * The finance console's read side over the clear columns of payments and audit_bank_calls:
 * filters, keyset pages, daily figures. Bodies are never read here (they are the audit
 * repository's, which decrypts them).
 */
export class SqlPaymentSearchRepository implements PaymentSearchRepository {
  private readonly sealer: ValueSealer;

  constructor(
    private readonly db: Db,
    keys: KeyRing | null = null,
  ) {
    this.sealer = new ValueSealer(keys);
  }

  async page(search: PaymentSearch, sort: PaymentSort, cursor: PaymentCursor | null, limit: number): Promise<PaymentPage> {
    const where: string[] = [];
    const params: SqlValue[] = [];
    const filter = (condition: string, value: SqlValue | undefined) => {
      if (value === undefined) return;
      where.push(condition);
      params.push(value);
    };
    filter('created_at >= ?', search.from);
    filter('created_at < ?', search.to);
    filter('client_id = ?', search.clientId);
    filter('state = ?', search.state);
    filter('bank = ?', search.bank);
    filter('amount_minor >= ?', search.minAmountMinor);
    filter('amount_minor <= ?', search.maxAmountMinor);
    filter('transaction_id = ?', search.transactionId);
    filter('bank_reference = ?', search.bankReference);
    const { column, descending } = SORTS[sort];
    const direction = descending ? 'DESC' : 'ASC';
    if (cursor) {
      // Written as `key <= k AND (key < k OR id < i)` rather than a row comparison, so MariaDB
      // reads it as a range on the key's index.
      const op = descending ? '<' : '>';
      where.push(`${column} ${op}= ? AND (${column} ${op} ? OR id ${op} ?)`);
      params.push(cursor.key, cursor.key, cursor.id);
    }
    const size = Math.min(Math.max(Math.trunc(limit), 1), MAX_LIMIT);
    const rows = await this.db.query<PaymentRow & { amount_minor: number | string }>(
      `SELECT ${PAYMENT_COLUMNS}, amount_minor FROM payments${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ` +
        `ORDER BY ${column} ${direction}, id ${direction} LIMIT ?`,
      [...params, size + 1],
    );
    const more = rows.length > size;
    const pageRows = more ? rows.slice(0, size) : rows;
    const last = pageRows[pageRows.length - 1];
    return {
      rows: pageRows.map((row) => toPaymentRecord(row, this.sealer, false)),
      next: more && last ? { key: column === 'created_at' ? toNumber(last.created_at) : String(last.amount_minor), id: toNumber(last.id) } : null,
    };
  }

  async findById(id: number): Promise<PaymentRecord | null> {
    const rows = await this.db.query<PaymentRow>(`SELECT ${PAYMENT_COLUMNS} FROM payments WHERE id = ?`, [id]);
    return rows.length > 0 ? toPaymentRecord(rows[0], this.sealer) : null;
  }

  /** A loose index scan of ix_payments_bank_created_at: cheap however many payments there are. */
  async banks(): Promise<string[]> {
    const rows = await this.db.query<{ bank: string }>('SELECT DISTINCT bank FROM payments WHERE bank IS NOT NULL ORDER BY bank');
    return rows.map((row) => row.bank);
  }

  async dailyTotals(from: number, to: number): Promise<DailyPaymentTotals[]> {
    const day = dayExpression(this.db, 'created_at');
    const rows = await this.db.query<{ day: number | string; state: PaymentState; n: number | string; total: number | string | null }>(
      `SELECT ${day} AS day, state, COUNT(*) AS n, SUM(amount_minor) AS total FROM payments WHERE created_at >= ? AND created_at < ? ` +
        `GROUP BY ${day}, state ORDER BY day, state`,
      [from, to],
    );
    return rows.map((row) => ({ day: dayLabel(row.day), state: row.state, count: toNumber(row.n), totalMinor: BigInt(String(row.total ?? 0)) }));
  }

  /**
   * Percentiles from a per-day histogram of whole milliseconds, counted by the database: exact,
   * portable (MySQL 8 has no PERCENTILE_CONT) and a few hundred rows back however many calls.
   */
  async dailyBankLatency(from: number, to: number): Promise<DailyBankLatency[]> {
    const day = dayExpression(this.db, 'started_at');
    const rows = await this.db.query<{ day: number | string; duration_ms: number | string; n: number | string }>(
      `SELECT ${day} AS day, duration_ms, COUNT(*) AS n FROM audit_bank_calls ` +
        "WHERE started_at >= ? AND started_at < ? AND operation <> 'token' " +
        `GROUP BY ${day}, duration_ms ORDER BY day, duration_ms`,
      [from, to],
    );
    const byDay = new Map<string, { durationMs: number; count: number }[]>();
    for (const row of rows) {
      const label = dayLabel(row.day);
      const histogram = byDay.get(label) ?? [];
      histogram.push({ durationMs: toNumber(row.duration_ms), count: toNumber(row.n) });
      byDay.set(label, histogram);
    }
    return [...byDay.entries()].map(([label, histogram]) => {
      const calls = histogram.reduce((sum, bucket) => sum + bucket.count, 0);
      return { day: label, calls, p50Ms: percentile(histogram, calls, 50), p95Ms: percentile(histogram, calls, 95) };
    });
  }

}
