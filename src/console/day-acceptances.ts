import type { KeyRing } from '../security/index.js';
import { accountTag } from '../store/index.js';
import { CONSOLE_AUDIT_DETAIL_MAX, type ConsoleAuditEntry, type ConsoleAuditRepository } from '../store/types.js';
import { acceptanceTarget, DAY_ACCEPTED_ACTION } from './accept-day-use-case.js';

const DAY_MS = 86_400_000;

/** An operator's acceptance of a reconciliation day (gerbang audit accept-day), as its console audit entry holds it. */
export interface DayAcceptanceNote {
  /** The account as the console masks it (the entry's target names it so). */
  account: string;
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
  const tags = keys.keyIds.map((keyId) => accountTag(keys, account, keyId));
  const targets = days.flatMap((day) => tags.map((tag) => acceptanceTarget(account, day, tag)));
  const entries = await consoleAudit.provedEntries({ action: DAY_ACCEPTED_ACTION, targets });
  return entries.map(noteOf);
}

/** The most acceptances everyAcceptedDay reads (the newest). */
export const ACCEPTED_DAYS_LISTED = 1000;

/**
 * Every acceptance of a day of any account, newest first, of the newest ACCEPTED_DAYS_LISTED
 * acceptance entries, only those that hold under their chain links (as acceptedDays): what `audit
 * verify` lists. An entry forged in SQL is not among them (verify names it as a break).
 */
export async function everyAcceptedDay(consoleAudit: Pick<ConsoleAuditRepository, 'provedEntries'>): Promise<DayAcceptanceNote[]> {
  return (await consoleAudit.provedEntries({ action: DAY_ACCEPTED_ACTION, limit: ACCEPTED_DAYS_LISTED })).map(noteOf);
}

/**
 * An acceptance entry's words back into their parts: its detail is written by
 * acceptReconciliationDay as `digest D; account tag T; accepted: ALERTS; reason: R`
 * (acceptanceDetail), the alerts as describeAlert words them and the reason, the operator's, last
 * (the first `; reason: ` after the alerts is the reason's). An entry of the earlier form `digest D;
 * reason: R; accepted: ALERTS` (possibly cut to the column's size), as accept-day's first release
 * wrote it (its target without the tag: listed by everyAcceptedDay, never found by acceptedDays),
 * is read as well: databases that release ran on hold such entries.
 */
function noteOf(entry: ConsoleAuditEntry & { id: number }): DayAcceptanceNote {
  const detail = entry.detail ?? '';
  const day = /\bday:(\d{4}-\d{2}-\d{2})\b/.exec(entry.target ?? '')?.[1] ?? '';
  const account = /^account:(\S+)/.exec(entry.target ?? '')?.[1] ?? '';
  const { reason, alerts } = /^digest [0-9a-f]+; account tag [0-9a-f]+; accepted: /.test(detail) ? currentForm(detail) : earlierForm(detail);
  const cut = detail.length >= CONSOLE_AUDIT_DETAIL_MAX;
  const named = [...alerts.matchAll(/deleted: id ([\d, ]+)/g)].flatMap((m) => m[1].split(',').map((id) => id.trim()).filter((id) => /^\d+$/.test(id)));
  // A cut detail may end inside an id: its last digits are not known, so it is not shown as one.
  const deletedIds = (cut && named.length > 0 && detail.endsWith(named[named.length - 1]) ? named.slice(0, -1) : named).map(Number);
  return { account, day, entryId: entry.id, at: entry.at, username: entry.username, reason, deletedIds, sealChanged: alerts.includes('SEAL CHANGED OUTSIDE GERBANG'), cut };
}

/** `digest D; account tag T; accepted: ALERTS; reason: R`: whole (a longer one is refused, not cut). */
function currentForm(detail: string): { reason: string; alerts: string } {
  const afterAccepted = detail.slice(detail.indexOf('; accepted: ') + '; accepted: '.length);
  const split = afterAccepted.indexOf('; reason: ');
  return split < 0 ? { reason: '', alerts: afterAccepted } : { reason: afterAccepted.slice(split + '; reason: '.length), alerts: afterAccepted.slice(0, split) };
}

/** `digest D; reason: R; accepted: ALERTS`, as acceptances were first written (cut to the column's size). */
function earlierForm(detail: string): { reason: string; alerts: string } {
  const afterDigest = detail.replace(/^digest [0-9a-f]+; /, '').replace(/^reason: /, '');
  const split = afterDigest.lastIndexOf('; accepted: ');
  return split < 0 ? { reason: afterDigest, alerts: '' } : { reason: afterDigest.slice(0, split), alerts: afterDigest.slice(split + '; accepted: '.length) };
}
