import type { ReviewCrossCheck } from '../domain/transfers/index.js';
import { formatRupiah, formatWhen } from './format.js';
import { fill, translator, type Lang } from './i18n.js';

/**
 * Why the statement could not confirm a review's resolution, in the clerk's language. The domain
 * answers and audits the reason in English (ReviewCrossCheck.reason, unchanged); each reason it
 * writes is read back here with its values (the amount in Rupiah, the day close in WIB). A reason
 * of any other wording is shown as it came.
 */

const AMOUNT = String.raw`(\d{1,20}(?:\.\d{1,2})?)`;
const TOO_EARLY = new RegExp(String.raw`^no debit of ${AMOUNT} on the statement yet, but it proves nothing before (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,3})?Z) \(the bank's day close\)$`);
const PROVES_NOTHING = 'the statement proves nothing either way: ';
const TOO_OLD = /^the bank keeps statements (\d{1,4}) days only$/;
const UNREADABLE = /^no statement could be read \((.{1,500})\)$/;
const SAME_AMOUNT = new RegExp(String.raw`^(\d{1,6}) debit\(s\) of ${AMOUNT} without this transfer's reference$`);
const REFERENCED_MANY = new RegExp(String.raw`^(\d{1,6}) debits of ${AMOUNT} carry this transfer's reference$`);
const REFERENCED_PENDING = new RegExp(String.raw`^a pending debit of ${AMOUNT} carries this transfer's reference \(not booked yet\)$`);

/** The reason an `unchecked` cross-check gives, in `lang`; a reason of another wording as it is. */
export function uncheckedReasonWords(lang: Lang, reason: string): string {
  const t = translator(lang);
  if (reason === 'the statement read failed unexpectedly') return t('uncheckedReadFailed');
  const early = TOO_EARLY.exec(reason);
  if (early) {
    const at = Date.parse(early[2]);
    return Number.isFinite(at) ? fill(t('uncheckedTooEarly'), { amount: formatRupiah(early[1]), when: formatWhen(lang, at) }) : reason;
  }
  if (!reason.startsWith(PROVES_NOTHING)) return reason;
  const why = reason.slice(PROVES_NOTHING.length);
  let words: string | null = null;
  if (why === 'the paying account is not recorded for this transfer, so its statement cannot be read') words = t('uncheckedNoAccount');
  let m: RegExpExecArray | null;
  if ((m = TOO_OLD.exec(why))) words = fill(t('uncheckedTooOld'), { n: m[1] });
  else if ((m = UNREADABLE.exec(why))) words = fill(t('uncheckedUnreadable'), { detail: m[1] });
  else if ((m = SAME_AMOUNT.exec(why))) words = fill(t('uncheckedSameAmount'), { n: m[1], amount: formatRupiah(m[2]) });
  else if ((m = REFERENCED_MANY.exec(why))) words = fill(t('uncheckedReferencedMany'), { n: m[1], amount: formatRupiah(m[2]) });
  else if ((m = REFERENCED_PENDING.exec(why))) words = fill(t('uncheckedReferencedPending'), { amount: formatRupiah(m[1]) });
  return fill(t('uncheckedProvesNothing'), { why: words ?? why });
}

/** What the statement said of a recorded resolution, in the page's language (a confirming line in the statement's own words). */
export function crossCheckWords(lang: Lang, check: ReviewCrossCheck): string {
  const t = translator(lang);
  return check.result === 'unchecked' ? `${t('reviewNotCrossChecked')} ${uncheckedReasonWords(lang, check.reason)}` : `${t('reviewCrossChecked')} ${check.found}`;
}
