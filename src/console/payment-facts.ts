import { bankName } from '../domain/routing/index.js';
import type { PaymentRecord } from '../store/types.js';
import { bankRefusalText } from './bank-messages.js';
import type { Lang } from './i18n.js';

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

/** Why a FAILED payment failed, in the clerk's language; null for any other state. */
export function failureReason(lang: Lang, payment: PaymentRecord, bankIndonesian: string | null = null): string | null {
  if (payment.state !== 'FAILED') return null;
  const answer = storedAnswer(payment);
  return bankRefusalText(lang, answer.code, answer.message, bankIndonesian);
}

/** `Bank Central Asia (014)` for a code, BIC or partner id; the code itself when unknown. */
export function bankLabel(code: string | null | undefined): string | null {
  if (!code) return null;
  const name = bankName(code);
  return name ? `${name} (${code})` : code;
}

/** The beneficiary's account as a given role may see it: full for auditors and admins. */
export function beneficiaryAccount(payment: PaymentRecord, full: boolean): string | null {
  return full ? (payment.details?.beneficiaryAccount ?? payment.beneficiaryAccountMasked) : payment.beneficiaryAccountMasked;
}
