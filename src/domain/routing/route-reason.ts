import type { TransferMethod } from '../../banks/types.js';

type InterbankMethod = Exclude<TransferMethod, 'INTRABANK'>;

/**
 * Why the router chose a route, as facts: the paying account, the connection holding it and its
 * priority, the beneficiary's bank (BIC), and for an interbank route how its method was chosen.
 * The routing record (a transfer's answer, its audit) keeps it as English text, routeReasonText;
 * readRouteReason reads that text back, so the console words a stored reason in the clerk's
 * language without the stored answer or the API changing.
 */
export type RouteReason =
  | { kind: 'on-us'; account: string; partner: string; priority: number; bic: string }
  | { kind: 'interbank'; account: string; partner: string; priority: number; bic: string; method: InterbankMethod; chosen: 'asked' | 'amount' | 'bifast-unavailable' };

/** The reason as the routing record keeps it (English). */
export function routeReasonText(reason: RouteReason): string {
  const held = `account ${reason.account} is held at ${reason.partner} (priority ${reason.priority})`;
  if (reason.kind === 'on-us') return `${held}, the beneficiary's bank ${reason.bic}: paid on-us`;
  const why =
    reason.chosen === 'asked' ? `${reason.method} as asked`
    : reason.chosen === 'amount' ? `${reason.method} chosen for the amount`
    : `${reason.method} because BI-FAST is not available for bank ${reason.bic}`;
  return `${held}; beneficiary bank ${reason.bic} is another bank: interbank, ${why}`;
}

// The account may be shown masked (`******5680`) by the time it is read.
const HELD = String.raw`account ([0-9*]{1,34}) is held at ([a-z0-9][a-z0-9-]{0,31}) \(priority (\d{1,9})\)`;
const BIC = '([A-Z0-9]{8,11})';
const METHOD = '(ONLINE|BIFAST|SKN|RTGS)';
const ON_US = new RegExp(`^${HELD}, the beneficiary's bank ${BIC}: paid on-us$`);
const INTERBANK = new RegExp(`^${HELD}; beneficiary bank ${BIC} is another bank: interbank, ${METHOD} (as asked|chosen for the amount|because BI-FAST is not available for bank ${BIC})$`);

/** The facts of a reason routeReasonText wrote; null for any other text (an older router's wording, a changed row). */
export function readRouteReason(text: string): RouteReason | null {
  const onUs = ON_US.exec(text);
  if (onUs) return { kind: 'on-us', account: onUs[1], partner: onUs[2], priority: Number(onUs[3]), bic: onUs[4] };
  const inter = INTERBANK.exec(text);
  if (!inter) return null;
  const [, account, partner, priority, bic, method, why, unavailableFor] = inter;
  // The BI-FAST fallback names the beneficiary's bank twice: two different banks is not a text the router writes.
  if (unavailableFor !== undefined && unavailableFor !== bic) return null;
  const chosen = why === 'as asked' ? 'asked' : why === 'chosen for the amount' ? 'amount' : 'bifast-unavailable';
  return { kind: 'interbank', account, partner, priority: Number(priority), bic, method: method as InterbankMethod, chosen };
}

/** What became of a route, as the routing record keeps it: `sent`, skipped for want of the name, or not sent and why. */
export type RouteResult = { kind: 'sent' } | { kind: 'skipped-no-name' } | { kind: 'not-sent'; why: string };

const SKIPPED_NO_NAME = 'skipped: an interbank transfer needs beneficiaryName';
const NOT_SENT = 'not sent: ';

/** The result as the routing record keeps it (English). */
export function routeResultText(result: RouteResult): string {
  return result.kind === 'sent' ? 'sent' : result.kind === 'skipped-no-name' ? SKIPPED_NO_NAME : `${NOT_SENT}${result.why}`;
}

/** The result routeResultText wrote; null for any other text. */
export function readRouteResult(text: string): RouteResult | null {
  if (text === 'sent') return { kind: 'sent' };
  if (text === SKIPPED_NO_NAME) return { kind: 'skipped-no-name' };
  return text.startsWith(NOT_SENT) ? { kind: 'not-sent', why: text.slice(NOT_SENT.length) } : null;
}
