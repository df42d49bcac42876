import { createHmac } from 'node:crypto';
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { sameSecretText, type KeyRing } from '../security/index.js';
import type { AuditChainBreak } from '../store/types.js';

/**
 * Checkpoints of the audit chains, kept OUTSIDE the database: an append-only file of signed
 * lines, one per checkpoint, each holding every chain head it vouches for (writer, seq, link
 * MAC). A database writer without the keys can delete a chain's newest records and move its
 * head back, delete a whole chain, or restore an older dump: every remaining link still verifies
 * by itself. Only a record kept elsewhere shows what is missing; these lines are that record.
 *
 * Each line is MAC'd (HMAC-SHA256 under a key derived from the key ring for this purpose), so a
 * line added by someone without the keys is noticed too. The file is 0600 and only ever appended
 * to; ship it off the host as it grows (docs/operator-guide.md) so that whoever can rewrite the
 * host cannot quietly rewrite it either.
 */

const PURPOSE = 'audit checkpoint';
const VERSION = 1;

export interface ChainHead {
  writerId: string;
  seq: number;
  hash: string;
}

export interface Checkpoint {
  /** Which database the heads are of (Db.description: backend, host, database; never a password). */
  store: string;
  at: number;
  /** Who wrote it: `verify`, or `gateway <writer id>` for a gateway's own chains. */
  by: string;
  heads: ChainHead[];
}

interface Line extends Checkpoint {
  v: number;
  keyId: string;
  mac: string;
}

function macOf(ring: KeyRing, keyId: string, c: Checkpoint): string {
  const { key } = ring.macKey(PURPOSE, keyId);
  return createHmac('sha256', key)
    .update(JSON.stringify([VERSION, c.store, c.at, c.by, c.heads.map((h) => [h.writerId, h.seq, h.hash])]))
    .digest('hex');
}

/** Appends one signed checkpoint line (creating the file 0600 and its folder when missing). */
export function appendCheckpoint(path: string, ring: KeyRing, checkpoint: Checkpoint): void {
  if (checkpoint.heads.length === 0) return;
  const keyId = ring.currentKeyId;
  const line: Line = { v: VERSION, ...checkpoint, keyId, mac: macOf(ring, keyId, checkpoint) };
  mkdirSync(dirname(path), { recursive: true });
  const created = !existsSync(path);
  // One write of one line with O_APPEND: lines of several processes never interleave.
  appendFileSync(path, `${JSON.stringify(line)}\n`, { mode: 0o600, flag: 'a' });
  if (created) chmodSync(path, 0o600);
}

export interface CheckpointHistory {
  /** Per chain, the furthest head any valid checkpoint vouched for, and when. */
  heads: Map<string, ChainHead & { at: number; keyId: string }>;
  checkpoints: number;
  /** Lines that are not valid checkpoints (forged, altered, cut): each named by its line number. */
  invalid: string[];
}

/** Reads every checkpoint of the file for database `store` (none when the file does not exist yet). */
export function readCheckpoints(path: string, ring: KeyRing, store: string): CheckpointHistory {
  const history: CheckpointHistory = { heads: new Map(), checkpoints: 0, invalid: [] };
  if (!existsSync(path)) return history;
  const lines = readFileSync(path, 'utf8').split('\n');
  lines.forEach((text, index) => {
    if (text.trim() === '') return;
    const line = parseLine(text);
    // A line under a key no longer in the ring (retired after keys rotate) can only add claims: skipped.
    if (line !== null && !ring.keyIds.includes(line.keyId)) return;
    const valid = line !== null && sameSecretText(macOf(ring, line.keyId, line), line.mac);
    if (!valid) {
      history.invalid.push(`line ${index + 1}`);
      return;
    }
    if (line.store !== store) return; // another database's (a file may serve several installations)
    history.checkpoints += 1;
    for (const head of line.heads) {
      const known = history.heads.get(head.writerId);
      if (!known || head.seq >= known.seq) history.heads.set(head.writerId, { ...head, at: line.at, keyId: line.keyId });
    }
  });
  return history;
}

function parseLine(text: string): Line | null {
  try {
    const line = JSON.parse(text) as Line;
    const ok =
      line.v === VERSION && typeof line.store === 'string' && typeof line.at === 'number' && typeof line.by === 'string' && typeof line.keyId === 'string' && typeof line.mac === 'string' &&
      Array.isArray(line.heads) && line.heads.every((h) => typeof h.writerId === 'string' && Number.isSafeInteger(h.seq) && typeof h.hash === 'string');
    return ok ? line : null;
  } catch {
    return null;
  }
}


/**
 * What the database lacks that the checkpoints vouched for. `linkAt(writer, seq)` is the MAC the
 * database holds for that link (null when the link is gone); `heads` are the database's chain
 * heads. Names each chain that vanished, was cut back (its newest records deleted, or the
 * database restored from an older copy), or holds another link where a checkpoint saw one.
 */
export async function compareWithCheckpoints(
  history: CheckpointHistory,
  path: string,
  heads: ChainHead[],
  linkAt: (writerId: string, seq: number) => Promise<{ hash: string; keyId: string | null } | null>,
): Promise<AuditChainBreak[]> {
  const breaks: AuditChainBreak[] = history.invalid.map((where) => ({
    writerId: null,
    seq: null,
    table: 'checkpoints' as const,
    recordId: null,
    problem: 'forged' as const,
    detail: `${path} ${where} is not a checkpoint signed with a ring key (added or altered by hand)`,
  }));
  const current = new Map(heads.map((h) => [h.writerId, h]));
  const behind: string[] = [];
  for (const [writerId, seen] of history.heads) {
    const when = new Date(seen.at).toISOString();
    const now = current.get(writerId);
    const link = await linkAt(writerId, seen.seq);
    if (!now && link === null) {
      breaks.push({ writerId, seq: seen.seq, table: 'audit_writers', recordId: null, problem: 'vanished', detail: `chain ${writerId}, checkpointed at link ${seen.seq} on ${when}, has vanished from the database (its records, links and head were deleted)` });
    } else if (link === null || (now && now.seq < seen.seq)) {
      behind.push(writerId);
      breaks.push({
        writerId,
        seq: seen.seq,
        table: 'audit_chain',
        recordId: null,
        problem: 'rolled-back',
        detail: `chain ${writerId} ends at link ${now?.seq ?? 0} but was checkpointed at link ${seen.seq} on ${when}: its newest records were deleted, or the database was restored from an older copy`,
      });
    } else if (link.keyId === seen.keyId && !sameSecretText(link.hash, seen.hash)) {
      // (A link under another key was re-linked by keys rotate; the chain walk checks its MAC.)
      breaks.push({ writerId, seq: seen.seq, table: 'audit_chain', recordId: null, problem: 'altered', detail: `link ${seen.seq} of chain ${writerId} is not the one checkpointed on ${when}: the chain was rewritten` });
    }
  }
  if (behind.length > 1) {
    breaks.push({
      writerId: null,
      seq: null,
      table: 'audit_chain',
      recordId: null,
      problem: 'rolled-back',
      detail: `${behind.length} chains are behind their checkpoints: the database was rolled back to an older copy (or their tails deleted)`,
    });
  }
  return breaks;
}
