import type { FieldError } from '../../errors/index.js';
import type { ClientRecord, PaymentPage } from '../../store/types.js';
import { formatJakartaTime, formatRupiah } from '../format.js';
import { html } from '../html.js';
import { statusLabel } from '../i18n.js';
import { BASE } from '../console-sessions.js';
import { encodeCursor, filterQuery, PAYMENT_STATES, SORTS, type FilterForm } from '../payment-filters.js';
import { layout, type PageContext } from './layout.js';

export interface PaymentsView {
  form: FilterForm;
  errors: FieldError[];
  page: PaymentPage | null;
  clients: ClientRecord[];
  banks: string[];
  /** True when this is not the first page. */
  paged: boolean;
}

const SORT_LABELS = { newest: 'sortNewest', oldest: 'sortOldest', largest: 'sortLargest', smallest: 'sortSmallest' } as const;

export function paymentsPage(ctx: PageContext, view: PaymentsView): string {
  const { t, lang } = ctx;
  const { form } = view;
  const clientName = new Map(view.clients.map((c) => [c.id, c.name]));
  const option = (value: string, label: string, selected: string) => html`<option value="${value}"${selected === value ? html` selected` : ''}>${label}</option>`;
  const filters = html`<form method="get" action="${BASE}/payments" class="filters" aria-label="${t('filters')}">
  <label>${t('dateFrom')} <input type="date" name="from" value="${form.from}"></label>
  <label>${t('dateTo')} <input type="date" name="to" value="${form.to}"></label>
  <label>${t('client')} <select name="client">${option('', t('any'), form.client)}${view.clients.map((c) => option(c.id, c.name, form.client))}</select></label>
  <label>${t('status')} <select name="status">${option('', t('any'), form.status)}${PAYMENT_STATES.map((s) => option(s, statusLabel(lang, s), form.status))}</select></label>
  <label>${t('bank')} <select name="bank">${option('', t('any'), form.bank)}${view.banks.map((b) => option(b, b.toUpperCase(), form.bank))}</select></label>
  <label>${t('amountMin')} <input name="min" inputmode="decimal" placeholder="1.000.000,00" value="${form.min}"></label>
  <label>${t('amountMax')} <input name="max" inputmode="decimal" placeholder="5.000.000,00" value="${form.max}"></label>
  <label>${t('transactionId')} <input name="txn" value="${form.txn}"></label>
  <label>${t('bankReference')} <input name="ref" value="${form.ref}"></label>
  <label>${t('sort')} <select name="sort">${SORTS.map((s) => option(s, t(SORT_LABELS[s]), form.sort || 'newest'))}</select></label>
  <div class="actions">
    <button type="submit">${t('apply')}</button>
    <a href="${BASE}/payments">${t('reset')}</a>
    <a class="button" id="export-csv" href="${BASE}/payments/export.csv${filterQuery(form)}">${t('exportCsv')}</a>
  </div>
</form>`;

  const errors =
    view.errors.length > 0
      ? html`<div class="error" role="alert"><strong>${t('badFilter')}</strong><ul>${view.errors.map((e) => html`<li data-field="${e.field}">${e.message}</li>`)}</ul></div>`
      : '';

  const rows = view.page?.rows ?? [];
  const table =
    view.page === null
      ? ''
      : rows.length === 0
        ? html`<p class="empty">${t('noPayments')}</p>`
        : html`<table class="payments">
<thead><tr><th>${t('created')}</th><th>${t('client')}</th><th>${t('transactionId')}</th><th>${t('bank')}</th><th>${t('status')}</th><th class="num">${t('amount')}</th><th>${t('bankReference')}</th></tr></thead>
<tbody>${rows.map(
            (p) => html`<tr data-payment-id="${p.id}">
<td>${formatJakartaTime(p.createdAt)}</td>
<td>${clientName.get(p.clientId) ?? p.clientId}</td>
<td><a href="${BASE}/payments/${p.id}">${p.transactionId}</a></td>
<td>${(p.bank ?? '—').toUpperCase()}</td>
<td><span class="status status-${p.state.toLowerCase()}">${statusLabel(lang, p.state)}</span></td>
<td class="num">${formatRupiah(p.amount)}</td>
<td>${p.bankReference ?? '—'}</td>
</tr>`,
          )}</tbody>
</table>`;

  const next = view.page?.next;
  const pager = html`<nav class="pager">
${view.paged ? html`<a href="${BASE}/payments${filterQuery(form)}">${t('firstPage')}</a>` : ''}
${next ? html`<a rel="next" href="${BASE}/payments${filterQuery(form, { after: encodeCursor(next) })}">${t('nextPage')} →</a>` : ''}
</nav>`;
  return layout(ctx, t('payments'), html`${filters}${errors}${table}${pager}`);
}
