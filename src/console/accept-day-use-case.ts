import { createHash } from 'node:crypto';
import { visibleText } from '../banks/common/bank-text.js';
import { CONSOLE_AUDIT_DETAIL_MAX, type DayAcceptance, type DaySealing, type MissingPayments, type Store } from '../store/types.js';
import { maskAccount } from './format.js';

/** The console audit's action of an acceptance (shown on the access log, filtered by it). */
export const DAY_ACCEPTED_ACTION = 'reconciliation_day_accept';

/** A digest as acceptDigest prints it. */
const DIGEST = /^[0-9a-f]{16}$/;

export interface DayAcceptanceRequest {
  /** The company account, digits only. */
  account: string;
  /** The Jakarta day, yyyy-MM-dd. */
  day: string;
  /** Why the operator accepts it (what was investigated): kept in the console audit. Checked by reasonProblem (domain/operator-reason). */
  reason: string;
  /** The digest printed when the day was looked at (acceptDigest; any case); without it nothing is accepted. */
  expect?: string;
  /** Who accepts, as the console audit names them, and from where. */
  actor: string;
  remoteIp: string;
}

export interface DayAcceptanceResult {
  /** The account as the console shows it. */
  masked: string;
  /** The day's alerts as read now; empty: nothing to accept (nothing written). */
  found: MissingPayments[];
  /** What accepting seals: each tag's day with the ids of the payments read on it (DaySealing). */
  sealing: DaySealing[];
  /** Whether a trusted seal held the day when it was read (DayAcceptance.checked). */
  checked: boolean;
  /** The digest of what was found and what would be sealed (null when nothing was found). */
  digest: string | null;
  /**
   * Why nothing was accepted: `no-digest` (no `expect`: what there is and its digest are for the
   * operator to read), `differs` (`expect` is not the digest of what is found now: the day changed
   * since it was looked at, or the digest was mistyped), `unsealable` (`unsealable` says why),
   * `not-closed` (the day is not closed yet: `closesAt`), `too-long` (the record would not fit the
   * console audit: `unsealable` says why), `not-recorded` (writing the record failed: `failure`;
   * nothing written). Absent when accepted, or when there was nothing to accept.
   */
  refused?: 'no-digest' | 'differs' | 'unsealable' | 'not-closed' | 'too-long' | 'not-recorded';
  unsealable?: string;
  /** When the day can be accepted (epoch ms), for `not-closed`. */
  closesAt?: number;
  /** What failed, for `not-recorded`; and, accepted on the record, when the day could not be sealed (`recordedNotSealed`). */
  failure?: string;
  /** The acceptance is in the console audit, but the day was not sealed (`failure` says why): run the command again. */
  recordedNotSealed?: true;
}

/** Whether `expect` is written as acceptDigest prints a digest (any case). */
export function isDigest(expect: string): boolean {
  return DIGEST.test(expect.toLowerCase());
}

/**
 * `gerbang audit accept-day`: an operator who investigated a day the reconciliation names in red
 * (payments deleted outside Gerbang, or the day's seal deleted or changed there) accepts it, so
 * the alert, shown at every reading until then, is no longer: the day is sealed anew from its
 * payments as proved now (PaymentSearchRepository.acceptDay), so a payment of it deleted later is
 * named again. As `audit accept-rollback`, only what the operator looked at: `expect` is the
 * digest of what was found and of what would be sealed (acceptDigest: the very payments, the new
 * seal) printed by a run without it, and without it, or when the day now holds anything else
 * (another payment deleted since, another set of payments to seal), nothing is written. A day not
 * closed yet is not read. The acceptance is a console audit entry (action DAY_ACCEPTED_ACTION,
 * appended to the keyed audit chains), target `account:MASKED day:DAY tag:TAG`
 * (acceptanceTarget, the tag as the store's reading computed it), detail `digest D; account
 * tag T; accepted: ALERTS; reason: R` (acceptanceDetail), whole or not at all, written before the
 * day is sealed: an alert never disappears without its record.
 */
export async function acceptReconciliationDay(store: Store, request: DayAcceptanceRequest, clock: () => number = Date.now): Promise<DayAcceptanceResult> {
  const masked = maskAccount(request.account);
  const expect = request.expect?.toLowerCase();
  let result: Pick<DayAcceptanceResult, 'digest' | 'refused' | 'unsealable' | 'failure'> = { digest: null };
  let recorded = false;
  let read: DayAcceptance;
  try {
    read = await store.paymentSearch.acceptDay(request.account, request.day, async ({ found, tag, sealing }) => {
      const digest = acceptDigest(request.day, tag, found, sealing);
      if (expect === undefined || expect !== digest) {
        result = { digest, refused: expect === undefined ? 'no-digest' : 'differs' };
        return false;
      }
      const detail = acceptanceDetail(digest, tag, found, request.reason);
      if (detail.length > CONSOLE_AUDIT_DETAIL_MAX) {
        result = { digest, refused: 'too-long', unsealable: `its record would be ${detail.length} characters, the console audit keeps ${CONSOLE_AUDIT_DETAIL_MAX}: shorten --reason` };
        return false;
      }
      result = { digest };
      await store.consoleAudit.record({ at: clock(), username: request.actor, action: DAY_ACCEPTED_ACTION, target: acceptanceTarget(request.account, request.day, tag), detail, remoteIp: request.remoteIp });
      recorded = true;
      return true;
    });
  } catch (error) {
    if (!(error instanceof Error) || result.digest === null) throw error;
    // Recorded, not sealed: the page still names the day, and the entry says it was accepted.
    return { masked, found: [], sealing: [], checked: false, digest: result.digest, failure: error.message, ...(recorded ? { recordedNotSealed: true } : { refused: 'not-recorded' }) };
  }
  const { found, checked, sealing } = read;
  if (read.closesAt !== undefined) return { masked, found, sealing, checked, digest: null, refused: 'not-closed', closesAt: read.closesAt };
  if (found.length === 0) return { masked, found, sealing, checked, digest: null };
  if (read.unsealable !== undefined) return { masked, found, sealing, checked, digest: acceptDigest(request.day, read.tag, found, sealing), refused: 'unsealable', unsealable: read.unsealable };
  return { masked, found, sealing, checked, ...result };
}

/**
 * The console audit target of an acceptance of `day` of `account`: the account as the console
 * masks it (what a person reads), the day, and the account's keyed tag `tag` (accountTag, as the
 * payments' and the seals': the ring's current key when it is written), which tells apart two
 * accounts that end in the same four digits without naming the account (acceptedDays finds it by it).
 */
export function acceptanceTarget(account: string, day: string, tag: string): string {
  return `account:${maskAccount(account)} day:${day} tag:${tag}`;
}

/**
 * The acceptance's console audit detail: `digest D; account tag T; accepted: A1; A2…; reason: R`,
 * what identifies it first (its digest, the account's tag: two accounts masked alike are two
 * tags), then each alert accepted (describeAlert), the operator's reason last.
 */
export function acceptanceDetail(digest: string, tag: string, found: readonly MissingPayments[], reason: string): string {
  return `digest ${digest}; account tag ${tag}; accepted: ${found.map(describeAlert).join('; ')}; reason: ${reason}`;
}

/**
 * The digest of a day's alerts as found and of what accepting it seals (16 hex digits: to be
 * typed): its day, the account's tag (not its mask: two accounts ending alike differ), every
 * alert with what it names (counts, deleted and moved ids, the seal's problem), and each day to
 * seal with the ids of its payments and its new seal. Another payment deleted, the seal changed
 * again, another set of payments to seal (rows moved in or out of the day in SQL, a row changed)
 * is another digest.
 */
export function acceptDigest(day: string, tag: string, found: readonly MissingPayments[], sealing: readonly DaySealing[]): string {
  const alerts = found.map((m) => [m.day, m.sealed, m.found, m.deleted ?? null, m.moved ?? null, m.sealProblem ?? null]);
  const seals = sealing.map((s) => [s.tag, s.day, s.paymentIds, s.seal]);
  return createHash('sha256').update(JSON.stringify(['reconciliation-day', day, tag, alerts, seals])).digest('hex').slice(0, 16);
}

/** One alert in words, as the console names it (English); a seal's problem through visibleText (read from the database). */
export function describeAlert(m: MissingPayments): string {
  if (m.sealProblem !== undefined) return `SEAL CHANGED OUTSIDE GERBANG: ${visibleText(m.sealProblem)} (${m.found} payment(s) of the day read now)`;
  const ids = m.deleted === undefined ? '' : `, deleted: id ${m.deleted.join(', ')}`;
  const moved = m.moved === undefined ? '' : `, still in the database but not under the account on the day (changed in SQL): id ${m.moved.join(', ')}`;
  const what = m.deleted === undefined && m.moved !== undefined ? 'CHANGED OUTSIDE GERBANG' : 'DELETED OUTSIDE GERBANG';
  return `${what}: the seal counted ${m.sealed} payment(s), ${m.found} still there or released through Gerbang${ids}${moved}`;
}
