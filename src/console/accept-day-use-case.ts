import { createHash } from 'node:crypto';
import { visibleText } from '../banks/common/bank-text.js';
import type { KeyRing } from '../security/index.js';
import { accountTag } from '../store/index.js';
import type { MissingPayments, Store } from '../store/types.js';
import { maskAccount } from './format.js';

/** The console audit's action of an acceptance (shown on the access log, filtered by it). */
export const DAY_ACCEPTED_ACTION = 'reconciliation_day_accept';

export interface DayAcceptanceRequest {
  /** The company account, digits only. */
  account: string;
  /** The Jakarta day, yyyy-MM-dd. */
  day: string;
  /** Why the operator accepts it (what was investigated): kept in the console audit. */
  reason: string;
  /** The digest printed when the day was looked at (acceptDigest); without it nothing is accepted. */
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
  /** Whether a trusted seal held the day when it was read (DayAcceptance.checked). */
  checked: boolean;
  /** The digest of what was found (null when nothing was). */
  digest: string | null;
  /**
   * Why nothing was accepted: `no-digest` (no `expect`: what there is and its digest are for the
   * operator to read), `differs` (what is found now is not what `expect` named: the day changed
   * since it was looked at), `unsealable` (`unsealable` says why). Absent when accepted, or when
   * there was nothing to accept.
   */
  refused?: 'no-digest' | 'differs' | 'unsealable';
  unsealable?: string;
}

/**
 * `gerbang audit accept-day`: an operator who investigated a day the reconciliation names in red
 * (payments deleted outside Gerbang, or the day's seal deleted or changed there) accepts it, so
 * the alert, shown at every reading until then, is no longer: the day is sealed anew from its
 * payments as proved now (PaymentSearchRepository.acceptDay), so a payment of it deleted later is
 * named again. As `audit accept-rollback`, only what the operator looked at: `expect` is the
 * digest of what was found (acceptDigest) printed by a run without it, and without it, or when
 * the day now holds anything else (another payment deleted since), nothing is written. The
 * acceptance is a console audit entry (action DAY_ACCEPTED_ACTION, appended to the keyed audit
 * chains) naming the account as the console masks it with its keyed tag (acceptanceTarget), the
 * day, the digest, the reason and what was accepted, written before the day is sealed: an alert
 * never disappears without its record. `keys`: the store's audit key ring (the tag's key).
 */
export async function acceptReconciliationDay(store: Store, keys: KeyRing, request: DayAcceptanceRequest, clock: () => number = Date.now): Promise<DayAcceptanceResult> {
  const masked = maskAccount(request.account);
  let result: Pick<DayAcceptanceResult, 'digest' | 'refused'> = { digest: null };
  let recorded = false;
  const read = await store.paymentSearch.acceptDay(request.account, request.day, async (found) => {
    const digest = acceptDigest(request.day, masked, found);
    if (request.expect === undefined || request.expect !== digest) {
      result = { digest, refused: request.expect === undefined ? 'no-digest' : 'differs' };
      return false;
    }
    result = { digest };
    await store.consoleAudit.record({
      at: clock(),
      username: request.actor,
      action: DAY_ACCEPTED_ACTION,
      target: acceptanceTarget(keys, request.account, request.day),
      detail: `digest ${digest}; reason: ${request.reason}; accepted: ${found.map(describeAlert).join('; ')}`,
      remoteIp: request.remoteIp,
    });
    recorded = true;
    return true;
  }).catch((error: unknown) => {
    if (!recorded) throw error;
    // Recorded, not sealed: the page still names the day, and the entry says it was accepted.
    throw new Error(`the acceptance is in the console audit, but the day was not sealed (the page still names it): ${(error as Error).message}. Run the command again.`, { cause: error });
  });
  const { found, checked } = read;
  if (found.length === 0) return { masked, found, checked, digest: null };
  if (read.unsealable !== undefined) return { masked, found, checked, digest: acceptDigest(request.day, masked, found), refused: 'unsealable', unsealable: read.unsealable };
  return { masked, found, checked, ...result };
}

/**
 * The console audit target of an acceptance of `day` of `account`: the account as the console
 * masks it (what a person reads), the day, and the account's keyed tag (as the payments' and the
 * seals', under `keyId`, the ring's current key by default), which tells apart two accounts that
 * end in the same four digits without naming the account (acceptedDays finds it by it).
 */
export function acceptanceTarget(keys: KeyRing, account: string, day: string, keyId?: string): string {
  return `account:${maskAccount(account)} day:${day} tag:${accountTag(keys, account, keyId)}`;
}

/**
 * The digest of a day's alerts as found (16 hex digits: to be typed): its day, the account as
 * masked, and every alert with what it names (counts, deleted ids, the seal's problem). Another
 * payment deleted, or the seal changed again, is another digest.
 */
export function acceptDigest(day: string, masked: string, found: readonly MissingPayments[]): string {
  const alerts = found.map((m) => [m.day, m.sealed, m.found, m.deleted ?? null, m.sealProblem ?? null]);
  return createHash('sha256').update(JSON.stringify(['reconciliation-day', day, masked, alerts])).digest('hex').slice(0, 16);
}

/** One alert in words, as the console names it (English); a seal's problem through visibleText (read from the database). */
export function describeAlert(m: MissingPayments): string {
  if (m.sealProblem !== undefined) return `SEAL CHANGED OUTSIDE GERBANG: ${visibleText(m.sealProblem)} (${m.found} payment(s) of the day read now)`;
  const ids = m.deleted === undefined ? '' : `, deleted: id ${m.deleted.join(', ')}`;
  return `DELETED OUTSIDE GERBANG: the seal counted ${m.sealed} payment(s), ${m.found} still there or released through Gerbang${ids}`;
}
