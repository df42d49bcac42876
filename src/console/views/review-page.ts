import { ADMIN_EVIDENCE_KINDS, isReservationInReview, type ReviewItem } from '../../domain/transfers/index.js';
import type { FieldError } from '../../errors/index.js';
import { BASE } from '../console-sessions.js';
import { bankAnswerWords } from '../bank-messages.js';
import { fieldErrorText } from '../field-errors.js';
import { formatDay, formatRupiah, formatWhen } from '../format.js';
import { html } from '../html.js';
import { statusLabel } from '../i18n.js';
import { sendingBankLabel } from '../payment-facts.js';
import { integrityMark } from './integrity-mark.js';
import { csrfField, layout, type PageContext } from './layout.js';

export interface ReviewView {
  items: ReviewItem[];
  /** Client names by client id, so the clerk reads the ERP's name. */
  clientNames: Map<string, string>;
  notice?: string;
  /** What the statement said of the resolution just recorded (agrees, or could not be cross-checked and why). */
  crossCheck?: string;
  /** A resolution the paying account's statement contradicted, refused: the words and what was found. */
  contradicted?: { text: string; found: string };
  errors?: FieldError[];
}

/**
 * The review queue: every role sees the transfers still unproved; an admin gets, per transfer, a
 * form to record the evidence and the outcome it proves (POST, CSRF-protected, admin-only). A
 * payment changed outside Gerbang is marked and gets no form (resolving it refuses it too).
 */
export function reviewPage(ctx: PageContext, view: ReviewView): string {
  const { t, lang, user } = ctx;
  const admin = user?.role === 'admin';
  const csrf = csrfField(ctx);
  const messages = html`${view.notice ? html`<p class="ok" role="status">${view.notice}</p>` : ''}${
    view.crossCheck ? html`<p class="info" id="review-cross-check">${view.crossCheck}</p>` : ''
  }${view.contradicted ? html`<p class="error" role="alert" id="review-contradicted">${view.contradicted.text} <code>${view.contradicted.found}</code></p>` : ''}${
    view.errors && view.errors.length > 0 ? html`<ul class="error" role="alert">${view.errors.map((e) => html`<li data-field="${e.field}">${fieldErrorText(t, e)}</li>`)}</ul>` : ''
  }`;
  const rows = view.items.map(({ payment, result }) => {
    // What the bank said, in the page's language as a failure reason is (its code kept in brackets).
    const said = bankAnswerWords(lang, result.bankResponseCode, result.bankMessage);
    return html`<tr data-payment-id="${payment.id}"${payment.integrityProblem !== undefined ? html` class="integrity-failed"` : ''}>
<td>#${payment.id}</td><td><a href="${BASE}/payments/${payment.id}">${payment.transactionId}</a></td><td>${view.clientNames.get(payment.clientId) ?? payment.clientId}</td>${
      // A forged row shows what `transfer review list` shows: which payment and what was found, in
      // place of its status and values (amount, bank, reference, bank message), none of which is real.
      payment.integrityProblem !== undefined
        ? html`<td colspan="5">${integrityMark(t, payment.integrityProblem)}</td><td>${t('reviewForgedNoAction')}</td>`
        : html`<td><span class="status status-${result.status.toLowerCase()}">${statusLabel(lang, result.status)}</span>${
            isReservationInReview(payment) ? html`<br><strong class="reserved">${t('reviewReserved')}</strong>` : ''
          }${said.text ? html`<br><span class="bank-said">${t(said.gerbang ? 'gerbangSaid' : 'bankSaid')}: ${said.text}</span>` : ''}${
            payment.sourceAccount ? html`<br><a class="statement-link" href="${BASE}/reconciliation?payment=${payment.id}#payment-${payment.id}">${t('reconCheckStatement')}</a>` : ''
          }</td>
<td class="num">${formatRupiah(payment.amount)}</td><td>${sendingBankLabel(payment) ?? '—'}</td><td>${payment.bankTransactionId ?? '—'}${payment.bankTransactionDate ? html`<br>${formatDay(payment.bankTransactionDate)}` : ''}</td>
<td>${payment.reviewSince === null ? '' : formatWhen(lang, payment.reviewSince)}</td>
<td>${
            admin
        ? html`<form method="post" action="${BASE}/review/${payment.id}/resolve" class="resolve">${csrf}
<label>${t('outcome')} <select name="outcome" required><option value="">—</option><option value="SUCCESS">${t('outcomeSuccess')}</option><option value="FAILED">${t('outcomeFailed')}</option></select></label>
<label>${t('evidenceKind')} <select name="evidenceKind" required>${ADMIN_EVIDENCE_KINDS.map((k) => html`<option value="${k}">${t(`evidence_${k}`)}</option>`)}</select></label>
<label>${t('evidence')} <input name="evidence" required minlength="4" maxlength="500"></label>
<button type="submit">${t('resolve')}</button></form>`
              : t('reviewAdminOnly')
          }</td>`
    }</tr>`;
  });
  const table =
    view.items.length === 0
      ? html`<p class="info" id="review-empty">${t('reviewEmpty')}</p>`
      : html`<div class="table-wrap"><table class="review"><thead><tr><th>#</th><th>${t('transactionId')}</th><th>${t('client')}</th><th>${t('status')}</th><th class="num">${t('amount')}</th><th>${t('bank')}</th><th>${t('bankReference')}</th><th>${t('reviewSince')}</th><th>${t('resolve')}</th></tr></thead>
<tbody>${rows}</tbody></table></div>`;
  return layout(ctx, t('review'), html`<p>${t('reviewIntro')}</p>${messages}${table}`);
}
