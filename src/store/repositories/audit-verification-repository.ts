import type { AuditVerificationRepository, AuditVerificationRun, Db } from '../types.js';
import { fit, toNumber, toStringOrNull } from './row-values.js';

interface RunRow {
  checked_at: number | string;
  ok: number | string;
  links: number | string;
  breaks: number | string;
  first_break: string | null;
}

/** One row per audit-chain verification run; the console's overview shows the latest. */
export class SqlAuditVerificationRepository implements AuditVerificationRepository {
  constructor(private readonly db: Db) {}

  async record(run: AuditVerificationRun): Promise<void> {
    await this.db.execute('INSERT INTO audit_verifications (checked_at, ok, links, breaks, first_break) VALUES (?, ?, ?, ?, ?)', [
      run.checkedAt,
      run.ok ? 1 : 0,
      run.links,
      run.breaks,
      fit(run.firstBreak, 1024),
    ]);
  }

  async latest(): Promise<AuditVerificationRun | null> {
    const rows = await this.db.query<RunRow>('SELECT checked_at, ok, links, breaks, first_break FROM audit_verifications ORDER BY checked_at DESC, id DESC LIMIT 1');
    const row = rows[0];
    return row
      ? { checkedAt: toNumber(row.checked_at), ok: toNumber(row.ok) === 1, links: toNumber(row.links), breaks: toNumber(row.breaks), firstBreak: toStringOrNull(row.first_break) }
      : null;
  }
}
