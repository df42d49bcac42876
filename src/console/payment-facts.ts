import { bankName, readRouteReason, readRouteResult } from '../domain/routing/index.js';
import type { PaymentRecord } from '../store/types.js';
import { bankAnswerWords, gerbangText } from './bank-messages.js';
import { methodWords } from './gerbang-messages.js';
import { fill, translator, type Lang } from './i18n.js';

/** The stored answer's code and message (payments.result_json), when it has them. */
export function storedAnswer(payment: PaymentRecord): { code: string | null; message: string | null } {
  try {
    const result = JSON.parse(payment.resultJson ?? 'null') as { bankResponseCode?: unknown; bankMessage?: unknown } | null;
    const str = (value: unknown) => (typeof value === 'string' && value !== '' ? value : null);
    return { code: str(result?.bankResponseCode), message: str(result?.bankMessage) };
  } catch {
    return { code: null, message: null };
  }
}

/** What the bank answered, as stored, in the clerk's language (bankRefusalText); null when the answer has no code nor message. */
export function bankRefusal(lang: Lang, payment: PaymentRecord, bankIndonesian: string | null = null): string | null {
  return bankAnswer(lang, payment, bankIndonesian).text;
}

/** bankRefusal, and whether the words are Gerbang's own note rather than the bank's (bankAnswerWords). */
export function bankAnswer(lang: Lang, payment: PaymentRecord, bankIndonesian: string | null = null): { text: string | null; gerbang: boolean } {
  const answer = storedAnswer(payment);
  return bankAnswerWords(lang, answer.code, answer.message, bankIndonesian);
}

/** Why a FAILED payment failed, in the clerk's language; null for any other state. */
export function failureReason(lang: Lang, payment: PaymentRecord, bankIndonesian: string | null = null): string | null {
  return payment.state === 'FAILED' ? bankRefusal(lang, payment, bankIndonesian) : null;
}

/** `Bank Central Asia (014)` for a code, BIC or partner id; the code itself when unknown. */
export function bankLabel(code: string | null | undefined): string | null {
  if (!code) return null;
  const name = bankName(code);
  return name ? `${name} (${code})` : code;
}

/**
 * A partner connection as the clerk knows it: its bank's name, the operator's connection id in
 * brackets (`Bank Central Asia (bca-main)`); by the connection alone when its bank is not known.
 */
export function connectionLabel(partner: string, bank: string | null): string | null {
  const name = bank ? bankName(bank) : null;
  return name ? `${name} (${partner})` : bankLabel(partner);
}

/**
 * The connection that carried a payment (payments.bank) as the clerk knows it (connectionLabel),
 * with its bank as the payment's routing record keeps it (the route tried through it); null when
 * no connection carried it. Every page that names the sending bank shows it so.
 */
export function sendingBankLabel(payment: PaymentRecord): string | null {
  if (!payment.bank) return null;
  return connectionLabel(payment.bank, routedBank(payment.resultJson, payment.bank));
}

/**
 * The connections of the list's bank filter, each named as its payments are (sendingBankLabel of
 * its latest payment, `latest`: the store's banks()), keyed by the connection id the filter sends;
 * two connections of one bank told apart by their ids. A connection whose latest payment was
 * changed outside Gerbang by its id alone (connectionLabel without a bank): its record may be the forger's.
 */
export function connectionLabels(latest: PaymentRecord[]): Map<string, string> {
  return new Map(
    latest.flatMap((p) => {
      if (!p.bank) return [];
      const label = p.integrityProblem === undefined ? sendingBankLabel(p) : connectionLabel(p.bank, null);
      return [[p.bank, label ?? p.bank] as const];
    }),
  );
}

/**
 * The connection a list's bank filter asks for (`id`, as the filter sends it) as its option names
 * it (`banks`: connectionLabels); an id no option has by its bank when it is one (bankLabel), else
 * as typed. The printed filter summary and the console audit of a list or an export name it so.
 */
export function filterBankLabel(banks: ReadonlyMap<string, string>, id: string): string {
  return banks.get(id) ?? bankLabel(id) ?? id;
}

/** The BIC the stored answer's routing record keeps for connection `partner`; null when it keeps none (an older record, no answer). */
function routedBank(resultJson: string | null, partner: string): string | null {
  try {
    const routing = (JSON.parse(resultJson ?? 'null') as { routing?: unknown } | null)?.routing;
    if (!Array.isArray(routing)) return null;
    const route = (routing as unknown[]).find((r): r is { partner: unknown; bank?: unknown } => r !== null && typeof r === 'object' && (r as { partner?: unknown }).partner === partner);
    return typeof route?.bank === 'string' && route.bank !== '' ? route.bank : null;
  } catch {
    return null;
  }
}

/** The beneficiary's account as a given role may see it: full for auditors and admins. */
export function beneficiaryAccount(payment: PaymentRecord, full: boolean): string | null {
  return full ? (payment.details?.beneficiaryAccount ?? payment.beneficiaryAccountMasked) : payment.beneficiaryAccountMasked;
}

/**
 * Why the router chose a route (a stored routing record's reason), in the clerk's language and
 * with the banks by name (`partnerBank`: the BIC of the connection's bank, which the record keeps
 * beside the reason); a reason in any other wording (an older router's) as it was stored.
 */
export function routeReasonWords(lang: Lang, stored: string, partnerBank: string | null = null): string {
  const reason = readRouteReason(stored);
  if (reason === null) return stored;
  const t = translator(lang);
  const bank = bankName(reason.bic) ?? reason.bic;
  const connection = { partner: reason.partner, priority: reason.priority };
  if (reason.kind === 'on-us') return fill(t('routeOnUs'), { account: reason.account, holder: fill(t('routeHolder'), { bank, ...connection }) });
  // The connection's own bank, as the record keeps it; in an older record, named when the connection's name is a bank's (`bca`), else by the connection alone.
  const holderBank = (partnerBank ? bankName(partnerBank) : null) ?? bankName(reason.partner);
  const holder = holderBank ? fill(t('routeHolder'), { bank: holderBank, ...connection }) : fill(t('routeConnection'), connection);
  // Mid-sentence: `transfer online`, while an acronym (`BI-FAST`, `SKN (kliring)`) keeps its capitals.
  const words = methodWords(lang, reason.method);
  const method = /^[A-Z][a-z]/.test(words) ? words[0].toLowerCase() + words.slice(1) : words;
  const why = fill(t(reason.chosen === 'asked' ? 'routeAsked' : reason.chosen === 'amount' ? 'routeForAmount' : 'routeBifastUnavailable'), { method, bank });
  return fill(t('routeInterbank'), { account: reason.account, holder, bank, why });
}

/**
 * What became of a route (`sent`, …) in the clerk's language, Gerbang's error of a route not sent
 * too, the route's connection named as the route's row names it when the error calls it a bank
 * (`partner`, and `partnerBank`: the BIC the record keeps beside it); any other text as it was stored.
 */
export function routeResultWords(lang: Lang, stored: string, partner: string | null = null, partnerBank: string | null = null): string {
  const result = readRouteResult(stored);
  if (result === null) return stored;
  const t = translator(lang);
  // As the route's row names it when that is by its bank (`Bank Central Asia (bca-main)`); a connection of no known bank as before (`Bank bca-main`).
  const connection = (named: string) => {
    const label = named === partner ? connectionLabel(named, partnerBank) : null;
    return label !== null && label !== named ? label : `Bank ${named}`;
  };
  return result.kind === 'sent' ? t('routeSent') : result.kind === 'skipped-no-name' ? t('routeSkippedNoName') : fill(t('routeNotSent'), { why: gerbangText(lang, result.why, connection) ?? result.why });
}
