import type { PaymentRecord } from '../../store/types.js';
import { formatRupiah, formatWhen, shownDay } from '../format.js';
import { html, type Html } from '../html.js';
import { statusLabel, type Translate } from '../i18n.js';
import { BASE } from '../console-sessions.js';
import { gerbangText } from '../bank-messages.js';
import { methodWords } from '../gerbang-messages.js';
import { bankAnswer, bankLabel, connectionLabel, routeReasonWords, routeResultWords, sendingBankLabel } from '../payment-facts.js';
import type { PaymentStory, StoryBankCall, StoryExchange } from '../payment-story.js';
import { integrityMark } from './integrity-mark.js';
import { layout, type PageContext } from './layout.js';
import { heldBackSection, requeueOutcome, type HeldBackNotification, type RequeueShown } from './requeue-page.js';

/** A folded body; its box scrolls (overflow in console.css), so it takes the keyboard's focus to be scrolled without a mouse. */
function body(label: string, text: string | null | undefined): Html | '' {
  if (text === undefined) return '';
  return html`<details class="body"><summary>${label}</summary><pre tabindex="0">${text ?? '—'}</pre></details>`;
}

export interface PaymentDetailView {
  story: PaymentStory;
  clientName: string;
  /** Other clients' successful payments with the same transaction id. */
  duplicates: { payment: PaymentRecord; clientName: string }[];
  /** Where the "back" link goes: the list with the clerk's filters and page. */
  back: string;
  /** The payment's notification to the ERP does not hold (deleted or changed in SQL): marked, and offered to admins again. */
  heldBack?: HeldBackNotification;
  /** What came of the requeue just asked (shown once, after its redirect). */
  requeued?: RequeueShown;
}

/** What happened and what to do, in plain words, for each state. */
function banner(t: Translate, lang: PageContext['lang'], story: PaymentStory): Html {
  const p = story.payment;
  // A forged payment's status is never shown as the banner's news, nor offered as proof.
  if (p.integrityProblem !== undefined) {
    return html`<section class="banner error" id="status-banner" aria-labelledby="banner-title"><h2 id="banner-title">${t('run_forged')}</h2>${integrityMark(t, p.integrityProblem)}</section>`;
  }
  const [cls, what, todo] =
    p.state === 'SUCCESS'
      ? (['ok', t('bannerSuccess'), t('todoSuccess')] as const)
      : p.state === 'FAILED'
        ? (['error', t('bannerFailed'), t('todoFailed')] as const)
        : p.state === 'PENDING'
          ? (['warning', t('bannerPending'), t('todoInDoubt')] as const)
          : p.state === 'UNKNOWN'
            ? (['warning', t('bannerInDoubt'), t('todoInDoubt')] as const)
            : (['warning', t('bannerInProgress'), t('todoInDoubt')] as const);
  // Why a payment failed, when the bank said why; Gerbang's own note on it (an admin's review
  // decision, the resolver's reading of the statement) is not the bank's reason: under its own label.
  const failed = p.state === 'FAILED' ? bankAnswer(lang, p, story.bankIndonesian) : { text: null, gerbang: false };
  const reason = failed.gerbang ? null : failed.text;
  // What the bank said of a payment not settled yet (BCA's "timeout, check your statement"), in the clerk's language as a refusal is.
  // When the bank said nothing of its own (no answer in time), Gerbang's note, under its own label.
  const said = p.state !== 'SUCCESS' && p.state !== 'FAILED' ? bankAnswer(lang, p, story.bankIndonesian) : failed.gerbang ? failed : { text: null, gerbang: false };
  return html`<section class="banner ${cls}" id="status-banner" aria-labelledby="banner-title">
<h2 id="banner-title"><span class="status status-${p.state.toLowerCase()}">${statusLabel(lang, p.state)}</span> ${formatRupiah(p.amount)}</h2>
<p><strong>${t('whatHappened')}:</strong> ${what}</p>
${reason ? html`<p class="reason"><strong>${t('failureReason')}:</strong> ${reason}</p>` : ''}
${said.text ? html`<p id="bank-said"><strong>${t(said.gerbang ? 'gerbangSaid' : 'bankSaid')}:</strong> ${said.text}</p>` : ''}
<p><strong>${t('whatToDo')}:</strong> ${todo}</p>
${p.state === 'SUCCESS' ? html`<p class="no-print"><a class="button" id="proof-link" href="${BASE}/payments/${p.id}/proof">${t('proofOfPayment')}</a></p>` : ''}
</section>`;
}

/** Consecutive automatic status checks folded into one entry: a payment in doubt for a day has hundreds. */
function grouped(exchanges: StoryExchange[]): (StoryExchange | StoryExchange[])[] {
  const out: (StoryExchange | StoryExchange[])[] = [];
  for (const e of exchanges) {
    const last = out[out.length - 1];
    if (e.kind === 'resolverCheck' && Array.isArray(last)) last.push(e);
    else if (e.kind === 'resolverCheck' && last && !Array.isArray(last) && last.kind === 'resolverCheck') out[out.length - 1] = [last, e];
    else out.push(e);
  }
  return out;
}

export function paymentDetailPage(ctx: PageContext, view: PaymentDetailView): string {
  const { t, lang } = ctx;
  const { story } = view;
  const p = story.payment;
  const row = (label: string, value: unknown, cls = '') =>
    html`<tr><th scope="row">${label}</th><td class="${cls}">${value === null || value === undefined || value === '' ? '—' : String(value)}</td></tr>`;
  const duplicates =
    view.duplicates.length > 0
      ? html`<div class="error" role="alert" id="duplicate-warning"><strong>${t('duplicateWarning')}:</strong><ul>${view.duplicates.map(
          (d) => html`<li><a href="${BASE}/payments/${d.payment.id}">${d.clientName} · ${d.payment.transactionId} · ${formatRupiah(d.payment.amount)} · ${formatWhen(lang, d.payment.createdAt)}</a></li>`,
        )}</ul></div>`
      : '';
  const summary = html`<table class="facts">
${row(t('transactionId'), p.transactionId)}
${row(t('client'), view.clientName)}
${row(t('amount'), formatRupiah(p.amount), 'num')}
${row(t('sourceAccount'), story.sourceAccount, 'account')}
${row(t('beneficiaryName'), story.beneficiaryName)}
${row(t('beneficiaryAccount'), story.beneficiaryAccount, 'account')}
${row(t('beneficiaryBank'), bankLabel(p.details?.beneficiaryBankCode ?? p.beneficiaryBank))}
${row(t('remark'), story.remark)}
${row(t('sendingBank'), sendingBankLabel(p))}
${row(t('transferMethod'), story.transferMethod === null ? null : methodWords(lang, story.transferMethod))}
${row(t('bankReference'), p.bankReference)}
${row(t('created'), formatWhen(lang, p.createdAt, true))}
${row(t('updated'), formatWhen(lang, p.updatedAt, true))}
</table>`;

  const routing = html`<h3>${t('routing')}</h3><table class="facts">
${row(t('operation'), p.operation)}
${row(t('bankTransactionId'), p.bankTransactionId)}
${row(t('bankTransactionDate'), p.bankTransactionDate && shownDay(p.bankTransactionDate))}
${row(t('bankResponseCode'), story.bankResponseCode)}
${row(t('bankMessage'), story.bankMessage)}
</table>
${
  story.routes.length > 0
    ? html`<h3>${t('routesTried')}</h3><table class="routes"><thead><tr><th scope="col">${t('bank')}</th><th scope="col">${t('transferMethod')}</th><th scope="col">${t('routeReason')}</th><th scope="col">${t('routeResult')}</th></tr></thead>
<tbody>${story.routes.map((r) => html`<tr><td>${connectionLabel(r.partner, r.bank)}</td><td>${methodWords(lang, r.method)}</td><td>${routeReasonWords(lang, r.reason, r.bank)}</td><td>${routeResultWords(lang, r.result, r.partner, r.bank)}</td></tr>`)}</tbody></table>`
    : ''
}`;

  const changes = html`<h2>${t('statusChanges')}</h2><ol class="changes">${story.statusChanges.map(
    (c) => html`<li><time>${formatWhen(lang, c.at, true)}</time> <span class="status status-${c.status.toLowerCase()}">${statusLabel(lang, c.status)}</span></li>`,
  )}</ol>`;

  const call = (c: StoryBankCall) =>
    c.integrityProblem !== undefined
      ? html`<li class="bank-call">${integrityMark(t, c.integrityProblem, 'auditChangedOutside')}</li>`
      : html`<li class="bank-call">
<strong>${t('bankCall')}: ${c.operation}</strong> · <time>${formatWhen(lang, c.startedAt, true)}</time> · ${t('duration')} ${c.durationMs} ms ·
${t('httpStatus')} ${c.statusCode ?? '—'}${c.errorCode ? html` · ${t('errorCode')} <code>${c.errorCode}</code>` : ''}
${c.url ? html`<div class="url"><code>${c.url}</code></div>` : ''}
${body(t('requestBody'), c.requestBody)}${body(t('bankAnswer'), c.responseBody)}
</li>`;
  const exchange = (e: StoryExchange) =>
    e.integrityProblem !== undefined
      ? html`<li class="exchange forged"><p><time>${formatWhen(lang, e.at, true)}</time></p>${integrityMark(t, e.integrityProblem, 'auditChangedOutside')}
${e.bankCalls.length > 0 ? html`<ul class="bank-calls">${e.bankCalls.map(call)}</ul>` : ''}</li>`
      : html`<li class="exchange kind-${e.kind}">
<h4>${t(e.kind)}</h4>
<p><time>${formatWhen(lang, e.at, true)}</time> · <code>${e.method} ${e.path}</code> · ${t('gerbangAnswer')}: ${t('httpStatus')} ${e.statusCode ?? '—'}
${e.answerStatus ? html` · <span class="status status-${e.answerStatus.toLowerCase()}">${statusLabel(lang, e.answerStatus)}</span>` : ''}
${e.errorCode ? html` · ${t('errorCode')} <code>${e.errorCode}</code>` : ''}</p>
${e.note ? html`<p class="gerbang-note"><strong>${t('gerbangSaid')}:</strong> ${gerbangText(lang, e.note) ?? e.note}</p>` : ''}
${body(t('requestBody'), e.requestBody)}${body(t('responseBody'), e.responseBody)}
${e.bankCalls.length > 0 ? html`<ul class="bank-calls">${e.bankCalls.map(call)}</ul>` : ''}
</li>`;
  const entry = (item: StoryExchange | StoryExchange[]) =>
    Array.isArray(item)
      ? html`<li class="exchange checks-group"><details><summary>${item.length} ${t('automaticChecks')} · ${formatWhen(lang, item[0].at)} – ${formatWhen(lang, item[item.length - 1].at)}</summary><ol>${item.map(exchange)}</ol></details></li>`
      : exchange(item);
  const history = html`<h3>${t('story')}</h3>
${story.bodiesShown ? '' : html`<p class="info">${t('bodiesHidden')}</p>`}
<ol class="story">${grouped(story.exchanges).map(entry)}</ol>`;

  const back = html`<p class="no-print"><a href="${view.back}">← ${t('backToList')}</a></p>`;
  if (p.integrityProblem !== undefined) {
    // A forged row names the payment and what was found, as `transfer review list` does: none of
    // its values (amount, status, accounts, bank answer) is shown as if real. The audited
    // exchanges are records of their own, checked apart: they are what restoring it starts from.
    const named = html`<table class="facts">${row(t('transactionId'), p.transactionId)}${row(t('client'), view.clientName)}</table>`;
    return layout(
      ctx,
      `${t('paymentDetail')}: ${p.transactionId}`,
      html`${back}${banner(t, lang, story)}${named}
<details class="technical"><summary><h2>${t('technicalDetails')}</h2></summary>${history}</details>`,
    );
  }
  return layout(
    ctx,
    `${t('paymentDetail')}: ${p.transactionId}`,
    html`${back}${view.requeued ? requeueOutcome(ctx, view.requeued) : ''}${banner(t, lang, story)}${view.heldBack ? heldBackSection(ctx, view.heldBack) : ''}${duplicates}${summary}${changes}
<details class="technical"><summary><h2>${t('technicalDetails')}</h2></summary>${routing}${history}</details>`,
  );
}
