import { formatJakartaTime, formatRupiah } from '../format.js';
import { html, type Html } from '../html.js';
import { statusLabel } from '../i18n.js';
import { BASE } from '../console-sessions.js';
import type { PaymentStory, StoryBankCall, StoryExchange } from '../payment-story.js';
import { layout, type PageContext } from './layout.js';

function body(label: string, text: string | null | undefined): Html | '' {
  if (text === undefined) return '';
  return html`<details class="body"><summary>${label}</summary><pre>${text ?? '—'}</pre></details>`;
}

export function paymentDetailPage(ctx: PageContext, story: PaymentStory, clientName: string): string {
  const { t, lang } = ctx;
  const p = story.payment;
  const row = (label: string, value: unknown, cls = '') => html`<tr><th>${label}</th><td class="${cls}">${value === null || value === undefined || value === '' ? '—' : String(value)}</td></tr>`;
  const summary = html`<table class="facts">
${row(t('transactionId'), p.transactionId)}
${row(t('client'), clientName)}
<tr><th>${t('status')}</th><td><span class="status status-${p.state.toLowerCase()}">${statusLabel(lang, p.state)}</span></td></tr>
${row(t('amount'), formatRupiah(p.amount), 'num')}
${row(t('sourceAccount'), story.sourceAccount, 'account')}
${row(t('beneficiaryAccount'), story.beneficiaryAccount, 'account')}
${row(t('beneficiaryName'), story.beneficiaryName)}
${row(t('remark'), story.remark)}
${row(t('bankReference'), p.bankReference)}
${row(t('created'), formatJakartaTime(p.createdAt))}
${row(t('updated'), formatJakartaTime(p.updatedAt))}
</table>`;

  const routing = html`<h2>${t('routing')}</h2><table class="facts">
${row(t('bank'), p.bank?.toUpperCase())}
${row(t('operation'), p.operation)}
${row(t('transferMethod'), story.transferMethod)}
${row(t('bankTransactionId'), p.bankTransactionId)}
${row(t('bankTransactionDate'), p.bankTransactionDate)}
${row(t('bankResponseCode'), story.bankResponseCode)}
${row(t('bankMessage'), story.bankMessage)}
</table>
${
  story.routes.length > 0
    ? html`<h3>${t('routesTried')}</h3><table class="routes"><thead><tr><th>${t('bank')}</th><th>${t('transferMethod')}</th><th>${t('routeReason')}</th><th>${t('routeResult')}</th></tr></thead>
<tbody>${story.routes.map((r) => html`<tr><td>${r.partner.toUpperCase()}</td><td>${r.method}</td><td>${r.reason}</td><td>${r.result}</td></tr>`)}</tbody></table>`
    : ''
}`;

  const changes = html`<h2>${t('statusChanges')}</h2><ol class="changes">${story.statusChanges.map(
    (c) => html`<li><time>${formatJakartaTime(c.at)}</time> <span class="status status-${c.status.toLowerCase()}">${statusLabel(lang, c.status)}</span></li>`,
  )}</ol>`;

  const call = (c: StoryBankCall) => html`<li class="bank-call">
<strong>${t('bankCall')}: ${c.operation}</strong> · <time>${formatJakartaTime(c.startedAt)}</time> · ${t('duration')} ${c.durationMs} ms ·
${t('httpStatus')} ${c.statusCode ?? '—'}${c.errorCode ? html` · ${t('errorCode')} <code>${c.errorCode}</code>` : ''}
${c.url ? html`<div class="url"><code>${c.url}</code></div>` : ''}
${body(t('requestBody'), c.requestBody)}${body(t('bankAnswer'), c.responseBody)}
</li>`;
  const exchange = (e: StoryExchange) => html`<li class="exchange kind-${e.kind}">
<h3>${t(e.kind)}</h3>
<p><time>${formatJakartaTime(e.at)}</time> · <code>${e.method} ${e.path}</code> · ${t('gerbangAnswer')}: ${t('httpStatus')} ${e.statusCode ?? '—'}
${e.answerStatus ? html` · <span class="status status-${e.answerStatus.toLowerCase()}">${statusLabel(lang, e.answerStatus)}</span>` : ''}
${e.errorCode ? html` · ${t('errorCode')} <code>${e.errorCode}</code>` : ''}</p>
${body(t('requestBody'), e.requestBody)}${body(t('responseBody'), e.responseBody)}
${e.bankCalls.length > 0 ? html`<ul class="bank-calls">${e.bankCalls.map(call)}</ul>` : ''}
</li>`;
  const history = html`<h2>${t('story')}</h2>
${story.bodiesShown ? '' : html`<p class="info">${t('bodiesHidden')}</p>`}
<ol class="story">${story.exchanges.map(exchange)}</ol>`;

  return layout(ctx, `${t('paymentDetail')}: ${p.transactionId}`, html`<p><a href="${BASE}/payments">← ${t('back')}</a></p>${summary}${routing}${changes}${history}`);
}
