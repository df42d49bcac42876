import { createHmac } from 'node:crypto';
import { sameSecretText, type KeyRing } from '../../security/index.js';
import type { AuditVerificationRepository, AuditVerificationRun, Db } from '../types.js';
import { fit, toNumber, toStringOrNull } from './row-values.js';

interface RunRow {
  checked_at: number | string;
  ok: number | string;
  links: number | string;
  breaks: number | string;
  first_break: string | null;
  key_id: string | null;
  mac: string | null;
}

/** What a run's MAC key is derived for (KeyRing.macKey). */
const PURPOSE = 'audit verification';

/**
 * One row per audit-chain verification run; the console's overview shows the latest. Each row
 * carries a MAC (HMAC-SHA256 under a ring-derived key the database never holds) of everything it
 * says, so a row written directly in the database (a future-dated "verified OK") is shown as
 * forged, never as green. Without the keys nothing can be vouched for: the latest run is then
 * shown as not verified.
 */
export class SqlAuditVerificationRepository implements AuditVerificationRepository {
  constructor(
    private readonly db: Db,
    private readonly keys: KeyRing | null = null,
  ) {}

  async record(run: AuditVerificationRun): Promise<void> {
    const stored = { ...run, firstBreak: fit(run.firstBreak, 1024) };
    const keyId = this.keys?.currentKeyId ?? null;
    await this.db.execute('INSERT INTO audit_verifications (checked_at, ok, links, breaks, first_break, key_id, mac) VALUES (?, ?, ?, ?, ?, ?, ?)', [
      stored.checkedAt,
      stored.ok ? 1 : 0,
      stored.links,
      stored.breaks,
      stored.firstBreak,
      keyId,
      keyId === null ? null : this.macOf(keyId, stored),
    ]);
  }

  async latest(): Promise<AuditVerificationRun | null> {
    const rows = await this.db.query<RunRow>('SELECT checked_at, ok, links, breaks, first_break, key_id, mac FROM audit_verifications ORDER BY checked_at DESC, id DESC LIMIT 1');
    const row = rows[0];
    if (!row) return null;
    const run = { checkedAt: toNumber(row.checked_at), ok: toNumber(row.ok) === 1, links: toNumber(row.links), breaks: toNumber(row.breaks), firstBreak: toStringOrNull(row.first_break) };
    const problem = this.problemWith(row, run);
    return problem === null ? run : { ...run, ok: false, firstBreak: problem };
  }

  /** Why a stored run cannot be believed, or null when its MAC matches. */
  private problemWith(row: RunRow, run: AuditVerificationRun): string | null {
    if (this.keys === null) return 'NOT VERIFIED: the audit keys are not configured here, so this result cannot be checked';
    if (row.key_id === null || row.mac === null || !this.keys.keyIds.includes(row.key_id)) {
      return 'FORGED: this verification result was not written by gerbang audit verify (no valid signature): run gerbang audit verify';
    }
    if (!sameSecretText(this.macOf(row.key_id, run), row.mac)) {
      return 'FORGED: this verification result was altered in the database (its signature does not match): run gerbang audit verify';
    }
    return null;
  }

  private macOf(keyId: string, run: AuditVerificationRun): string {
    return runMac(this.keys!, keyId, run);
  }

  /** `keys rotate`: every run whose signature holds under its older key is signed again with the newest. */
  async resign(): Promise<number> {
    const ring = this.keys!;
    const rows = await this.db.query<RunRow & { id: number | string }>('SELECT id, checked_at, ok, links, breaks, first_break, key_id, mac FROM audit_verifications WHERE key_id IS NOT NULL AND key_id <> ?', [ring.currentKeyId]);
    let resigned = 0;
    for (const row of rows) {
      if (!ring.keyIds.includes(row.key_id!)) continue;
      const run = { checkedAt: toNumber(row.checked_at), ok: toNumber(row.ok) === 1, links: toNumber(row.links), breaks: toNumber(row.breaks), firstBreak: toStringOrNull(row.first_break) };
      if (this.problemWith(row, run) !== null) continue;
      await this.db.execute('UPDATE audit_verifications SET key_id = ?, mac = ? WHERE id = ? AND mac = ?', [ring.currentKeyId, runMac(ring, ring.currentKeyId, run), toNumber(row.id), row.mac]);
      resigned += 1;
    }
    return resigned;
  }
}

function runMac(ring: KeyRing, keyId: string, run: AuditVerificationRun): string {
  const { key } = ring.macKey(PURPOSE, keyId);
  return createHmac('sha256', key).update(JSON.stringify([run.checkedAt, run.ok, run.links, run.breaks, run.firstBreak])).digest('hex');
}
