import type { KeyRing } from '../security/index.js';
import type { ConsoleAuditEntry, ConsoleAuditRepository } from '../store/types.js';
import { acceptanceTarget, DAY_ACCEPTED_ACTION } from './accept-day-use-case.js';

const DAY_MS = 86_400_000;

/** An operator's acceptance of a reconciliation day (gerbang audit accept-day), as its console audit entry holds it. */
export interface DayAcceptanceNote {
  /** The Jakarta day accepted, yyyy-MM-dd. */
  day: string;
  /** The console audit entry (the access log's row). */
  entryId: number;
  at: number;
  /** Who accepted it, as the console audit names them (`(cli)` for the command). */
  username: string;
  reason: string;
  /** The ids of the payments the day's alert named deleted when it was accepted. */
  deletedIds: number[];
  /** Whether the day's seal was named changed or deleted outside Gerbang. */
  sealChanged: boolean;
  /** The entry's detail was cut to the column's size: the ids or the reason may be incomplete (the access log shows what is kept). */
  cut: boolean;
}

/** The console audit column's size (console-audit-repository.ts): a longer detail is cut there. */
const DETAIL_SIZE = 1024;

/**
 * The acceptances of the days `from`..`to` (yyyy-MM-dd) of `account`, newest first, read from the
 * console audit's entries that hold under their chain links (ConsoleAuditRepository.provedEntries):
 * an acceptance inserted or changed in SQL, without the chain key, makes no day look accepted.
 * Found by their targets (acceptanceTarget) under every key of the ring, so a key rotated since
 * the acceptance still finds it.
 */
export async function acceptedDays(consoleAudit: Pick<ConsoleAuditRepository, 'provedEntries'>, keys: KeyRing, account: string, from: string, to: string): Promise<DayAcceptanceNote[]> {
  const days: string[] = [];
  for (let at = Date.parse(`${from}T00:00:00Z`); at <= Date.parse(`${to}T00:00:00Z`) && days.length <= 62; at += DAY_MS) days.push(new Date(at).toISOString().slice(0, 10));
  const targets = days.flatMap((day) => keys.keyIds.map((keyId) => acceptanceTarget(keys, account, day, keyId)));
  const entries = await consoleAudit.provedEntries({ action: DAY_ACCEPTED_ACTION, targets });
  return entries.map(noteOf);
}

/**
 * An acceptance entry's words back into their parts: its detail is written by
 * acceptReconciliationDay as `digest D; reason: R; accepted: ALERTS`, the alerts as describeAlert
 * words them (the reason is the operator's: the last `; accepted: ` is the alerts').
 */
function noteOf(entry: ConsoleAuditEntry & { id: number }): DayAcceptanceNote {
  const detail = entry.detail ?? '';
  const day = /\bday:(\d{4}-\d{2}-\d{2})\b/.exec(entry.target ?? '')?.[1] ?? '';
  const afterDigest = detail.replace(/^digest [0-9a-f]+; /, '').replace(/^reason: /, '');
  const split = afterDigest.lastIndexOf('; accepted: ');
  const reason = split < 0 ? afterDigest : afterDigest.slice(0, split);
  const alerts = split < 0 ? '' : afterDigest.slice(split + '; accepted: '.length);
  const cut = detail.length >= DETAIL_SIZE;
  const named = [...alerts.matchAll(/deleted: id ([\d, ]+)/g)].flatMap((m) => m[1].split(',').map((id) => id.trim()).filter((id) => /^\d+$/.test(id)));
  // A cut detail may end inside an id: its last digits are not known, so it is not shown as one.
  const deletedIds = (cut && named.length > 0 && detail.endsWith(named[named.length - 1]) ? named.slice(0, -1) : named).map(Number);
  return { day, entryId: entry.id, at: entry.at, username: entry.username, reason, deletedIds, sealChanged: alerts.includes('SEAL CHANGED OUTSIDE GERBANG'), cut };
}
