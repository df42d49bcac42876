import { createHmac } from 'node:crypto';
import { sameSecretText, type KeyRing } from '../../security/index.js';
import type { AuditVerificationRepository, AuditVerificationRun, Db } from '../types.js';
import { isLink, linkHolds, STORED_LINK_COLUMNS, type ChainLanes, type StoredLink } from './audit-chain.js';
import { digest } from './audit-records.js';
import { fit, toNumber, toStringOrNull, wellFormed } from './row-values.js';

export interface RunRow {
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

/** What a `verification` link covers: every field of the result, and its id. */
export function verificationDigest(id: number, run: AuditVerificationRun): string {
  return digest(['audit-verification', id, run.checkedAt, run.ok ? 1 : 0, run.links, run.breaks, run.firstBreak]);
}

/** A stored result as its fields. */
export function runOfRow(row: Omit<RunRow, 'key_id' | 'mac'>): AuditVerificationRun {
  return { checkedAt: toNumber(row.checked_at), ok: toNumber(row.ok) === 1, links: toNumber(row.links), breaks: toNumber(row.breaks), firstBreak: toStringOrNull(row.first_break) };
}

/**
 * One row per audit-chain verification run; the console's overview shows the latest. Each row
 * carries a MAC (HMAC-SHA256 under a ring-derived key the database never holds) of everything it
 * says, so a row written directly in the database (a future-dated "verified OK") is shown as
 * forged, never as green. Each row is also a record of the audit's keyed chains (a `verification`
 * link of the writer that ran the verification, checkpointed outside the database when it closes):
 * the newest result deleted (a failed one, so that an older "OK" shows again), or an older genuine
 * one written over it, no longer matches the newest link, so the overview says so instead of
 * green, and `audit verify` and the scrub name the missing record. Only the gateway's links count:
 * the newest link must hold (its MAC) for the result it names, and the result shown must have
 * exactly one link, which holds; a link inserted in SQL for an older "OK" result, or the failed
 * result's link re-pointed at it, is shown as forged. Without the keys nothing can
 * be vouched for: the latest run is then shown as not verified.
 */
export class SqlAuditVerificationRepository implements AuditVerificationRepository {
  constructor(
    private readonly db: Db,
    private readonly keys: KeyRing | null = null,
    private readonly chain: ChainLanes | null = null,
  ) {}

  async record(run: AuditVerificationRun): Promise<void> {
    // Each value exactly as the row will hold it: the link covers these.
    const stored = { ...run, firstBreak: run.firstBreak === null ? null : fit(wellFormed(run.firstBreak), 1024) };
    const keyId = this.keys?.currentKeyId ?? null;
    const insert = (q: Pick<Db, 'execute'>) =>
      q.execute('INSERT INTO audit_verifications (checked_at, ok, links, breaks, first_break, key_id, mac) VALUES (?, ?, ?, ?, ?, ?, ?)', [
        stored.checkedAt,
        stored.ok ? 1 : 0,
        stored.links,
        stored.breaks,
        stored.firstBreak,
        keyId,
        keyId === null ? null : this.macOf(keyId, stored),
      ]);
    if (!this.chain || keyId === null) {
      await insert(this.db);
      return;
    }
    await this.chain.append('verification', async (tx) => {
      const { insertId } = await insert(tx);
      return { recordId: insertId, contentDigest: verificationDigest(insertId, stored) };
    });
  }

  async latest(): Promise<AuditVerificationRun | null> {
    const [row] = await this.db.query<RunRow & { id: number | string }>('SELECT id, checked_at, ok, links, breaks, first_break, key_id, mac FROM audit_verifications ORDER BY checked_at DESC, id DESC LIMIT 1');
    if (!row) {
      const cannot = await this.newestLinkProblem(null);
      return cannot && { checkedAt: cannot.at, ok: false, links: 0, breaks: 0, firstBreak: cannot.problem, integrityProblem: cannot.problem };
    }
    const id = toNumber(row.id);
    const run = runOfRow(row);
    const problem = this.problemWith(row, run) ?? (await this.newestLinkProblem(id))?.problem ?? (await this.linkProblem(id, run));
    return problem === null ? run : { ...run, ok: false, firstBreak: problem, integrityProblem: problem };
  }

  /**
   * Why the newest verification links (every link of the newest time, a tie read as one) do not
   * vouch for the results they name: a result deleted, or a link the gateway did not make for it
   * (inserted or re-pointed in SQL, its MAC made without the key); null when they do. A link of
   * `shown`, the result the overview would show, is linkProblem's to check. The newest link may
   * name another result than the newest by checked_at (two verify runs finishing together): when
   * it holds, that is no problem.
   */
  private async newestLinkProblem(shown: number | null): Promise<{ at: number; problem: string } | null> {
    const newest = await this.db.query<StoredLink>(
      `SELECT ${STORED_LINK_COLUMNS} FROM audit_chain WHERE ${isLink()} AND kind = 'verification' AND recorded_at = (SELECT MAX(recorded_at) FROM audit_chain WHERE ${isLink()} AND kind = 'verification') ORDER BY writer_id, seq`,
    );
    for (const link of newest) {
      const id = toNumber(link.record_id);
      if (id === shown) continue;
      const at = toNumber(link.recorded_at);
      const [named] = await this.db.query<Omit<RunRow, 'key_id' | 'mac'>>('SELECT checked_at, ok, links, breaks, first_break FROM audit_verifications WHERE id = ?', [id]);
      if (!named) {
        return { at, problem: `CANNOT BE PROVED: the newest verification result (id ${id}), which the audit chain links, was deleted from the database: run gerbang audit verify` };
      }
      // Without the keys no link can be checked: the result shown says NOT VERIFIED.
      if (this.keys === null || linkHolds(this.keys, 'verification', id, verificationDigest(id, runOfRow(named)), link)) continue;
      return {
        at,
        problem: `FORGED: the newest verification link in the audit chain (chain ${link.writer_id} seq ${toNumber(link.seq)}) does not vouch for the result it names (id ${id}): the link inserted or re-pointed, or that result altered, in the database: run gerbang audit verify`,
      };
    }
    return null;
  }

  /** Why result `id` is not the one its chain link vouches for, or null when it is: its one link, and that link holds. */
  private async linkProblem(id: number, run: AuditVerificationRun): Promise<string | null> {
    const links = await this.db.query<StoredLink>(`SELECT ${STORED_LINK_COLUMNS} FROM audit_chain WHERE ${isLink()} AND kind = 'verification' AND record_id = ?`, [id]);
    if (links.length === 0) return 'CANNOT BE PROVED: this verification result has no link in the audit chain (inserted in SQL, or recorded before results were chained): run gerbang audit verify';
    if (links.length > 1) {
      return `FORGED: ${links.length} links in the audit chain name this verification result, which has one (a link inserted or re-pointed in the database): run gerbang audit verify`;
    }
    if (!linkHolds(this.keys!, 'verification', id, verificationDigest(id, run), links[0])) {
      return 'FORGED: this verification result is not the one its audit chain link vouches for (written over in the database): run gerbang audit verify';
    }
    return null;
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
      const run = runOfRow(row);
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
