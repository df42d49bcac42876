import type { PaymentRecord } from '../../store/types.js';
import { formatRupiah, formatWhen, shownDay } from '../format.js';
import { html } from '../html.js';
import { statusLabel } from '../i18n.js';
import { bankLabel, sendingBankLabel } from '../payment-facts.js';
import { layout, type PageContext } from './layout.js';

export interface ProofView {
  payment: PaymentRecord;
  clientName: string;
  sourceAccount: string | null;
  beneficiaryAccount: string | null;
  printedAt: string;
}

/**
 * "Bukti transfer": one payment on one printable page (the print stylesheet drops the
 * navigation; the browser's "Save as PDF" makes the PDF). Only a SUCCESS payment gets one: any
 * other state says plainly that this is not a proof.
 */
export function proofPage(ctx: PageContext, view: ProofView): string {
  const { t, lang } = ctx;
  const p = view.payment;
  const row = (label: string, value: string | null | undefined) => html`<tr><th scope="row">${label}</th><td>${value || '—'}</td></tr>`;
  if (p.state !== 'SUCCESS') {
    return layout(ctx, t('proofOfPayment'), html`<p class="error" role="alert" id="not-a-proof">${t('proofNotFinal')} (${statusLabel(lang, p.state)})</p>`);
  }
  return layout(
    ctx,
    `${t('proofOfPayment')}`,
    html`<section class="proof" id="proof">
<table class="facts">
${row(t('status'), statusLabel(lang, p.state))}
${row(t('amount'), formatRupiah(p.amount))}
${row(t('bankTransactionDate'), p.bankTransactionDate && shownDay(p.bankTransactionDate))}
${row(t('created'), formatWhen(lang, p.createdAt, true))}
${row(t('sendingBank'), sendingBankLabel(p))}
${row(t('sourceAccount'), view.sourceAccount)}
${row(t('beneficiaryName'), p.details?.beneficiaryName)}
${row(t('beneficiaryAccount'), view.beneficiaryAccount)}
${row(t('beneficiaryBank'), bankLabel(p.details?.beneficiaryBankCode ?? p.beneficiaryBank))}
${row(t('remark'), p.details?.remark)}
${row(t('bankReference'), p.bankReference)}
${row(t('bankTransactionId'), p.bankTransactionId)}
${row(t('transactionId'), p.transactionId)}
${row(t('client'), view.clientName)}
</table>
<p class="small">${t('proofFooter')}</p>
<p class="small">${t('printedAt')}: ${view.printedAt}</p>
<p class="no-print"><button type="button" data-print>${t('print')}</button></p>
</section>`,
    ['print.js'],
  );
}
