import type { FieldError } from '../../errors/index.js';
import type { ClientRecord, PaymentPage, PaymentSort, PaymentTotals } from '../../store/types.js';
import { formatCount, formatRupiah, formatWhen, parseTypedAmount, shownDay } from '../format.js';
import { html } from '../html.js';
import { fill, statusLabel } from '../i18n.js';
import { BASE } from '../console-sessions.js';
import { bankLabel, beneficiaryAccount, failureReason, filterBankLabel, sendingBankLabel } from '../payment-facts.js';
import { encodeCursor, filterQuery, PAYMENT_STATES, SORTS, type FilterForm } from '../payment-filters.js';
import { PROVED_LIMIT, SEARCH_SCAN_LIMIT, TOTALS_LIMIT } from '../../store/index.js';
import { integrityMark } from './integrity-mark.js';
import { layout, type PageContext } from './layout.js';

export interface PaymentsView {
  form: FilterForm;
  errors: FieldError[];
  page: PaymentPage | null;
  clients: ClientRecord[];
  /** The bank filter's connections (connectionLabels): the id each sends, the label it shows. */
  banks: Map<string, string>;
  /** 1-based position of the page's first row. */
  at: number;
  pageSize: number;
  /** Whether this role sees full account numbers. */
  full: boolean;
  printedAt: string;
}

const SORT_LABELS = { newest: 'sortNewest', oldest: 'sortOldest', largest: 'sortLargest', smallest: 'sortSmallest' } as const;

/**
 * How the total was taken, under it: proved row by row (and how many rows were left out as changed
 * outside Gerbang), or as the database stores it, which a row changed in SQL would falsify.
 */
function totalsProof(ctx: PageContext, totals: PaymentTotals, number: (n: number) => string) {
  const { t } = ctx;
  if (totals.proof === 'stored') return html`<p class="warning" role="status" id="totals-proof" data-proof="stored">${t('totalsStored').replace('{n}', number(totals.provedLimit ?? PROVED_LIMIT))}</p>`;
  const changed = totals.changed > 0 ? html` <strong class="integrity-failed" id="totals-changed" data-changed="${totals.changed}">${t('totalsChanged').replace('{n}', number(totals.changed))}</strong>` : '';
  return html`<p class="${totals.changed > 0 ? 'error' : 'info'}" role="status" id="totals-proof" data-proof="proved">${t('totalsProved')}${changed}</p>`;
}

/**
 * Why a text search stopped before the end, and how to narrow it: at the newest matches it
 * confirms (the figures cover those), or cut short before older payments were looked at (matches
 * among them missing: a warning, saying since when payments were looked at when the store tells it,
 * or that it could not be proved).
 */
function searchStopped(ctx: PageContext, totals: PaymentTotals, number: (n: number) => string) {
  const { t, lang } = ctx;
  if (totals.truncated === 'walk') {
    if (totals.reachedUnproved !== undefined) {
      // Never a time read from a row that does not hold: what was found folded beneath, as the overview folds it.
      return html`<div class="warning" role="status" id="search-truncated" data-stopped="walk" data-reached="unproved"><p>${fill(t('searchWalkCut'), { looked: t('searchWalkUnproved') })}</p>
<details class="found"><summary>${t('integrityFound')}</summary><code class="integrity-problem">${totals.reachedUnproved}</code></details></div>`;
    }
    const looked = totals.reachedAt === undefined ? t('searchWalkNewer') : fill(t('searchWalkSince'), { when: formatWhen(lang, totals.reachedAt) });
    return html`<p class="warning" role="status" id="search-truncated" data-stopped="walk">${fill(t('searchWalkCut'), { looked })}</p>`;
  }
  if (totals.truncated === 'matches') return html`<p class="info" role="status" id="search-truncated" data-stopped="matches">${t('searchTruncated').replace('{n}', number(SEARCH_SCAN_LIMIT))}</p>`;
  return '';
}

/**
 * The filters of a printed list in the clerk's words: each field by its label, a status, client,
 * bank or sort by its name, an amount in Rupiah; a value that is not one of those as typed.
 */
function filterWords(ctx: PageContext, form: FilterForm, clientName: Map<string, string>, bankName: Map<string, string>): string[] {
  const { t, lang } = ctx;
  const amount = (typed: string) => {
    const minor = parseTypedAmount(typed);
    return minor === null ? typed : formatRupiah(minor);
  };
  const words: Record<keyof FilterForm, () => string> = {
    from: () => `${t('dateFrom')}: ${shownDay(form.from)}`,
    to: () => `${t('dateTo')}: ${shownDay(form.to)}`,
    client: () => `${t('client')}: ${clientName.get(form.client) ?? form.client}`,
    status: () => `${t('status')}: ${statusLabel(lang, form.status)}`,
    bank: () => `${t('sendingBank')}: ${filterBankLabel(bankName, form.bank)}`,
    min: () => `${t('amountMin')}: ${amount(form.min)}`,
    max: () => `${t('amountMax')}: ${amount(form.max)}`,
    txn: () => `${t('transactionId')}: ${form.txn}`,
    ref: () => `${t('bankReference')}: ${form.ref}`,
    q: () => `${t('searchTerm')}: "${form.q}"`,
    sort: () => `${t('sort')}: ${(SORTS as readonly string[]).includes(form.sort) ? t(SORT_LABELS[form.sort as PaymentSort]) : form.sort}`,
  };
  return (Object.keys(words) as (keyof FilterForm)[]).filter((field) => form[field]).map((field) => words[field]());
}

export function paymentsPage(ctx: PageContext, view: PaymentsView): string {
  const { t, lang } = ctx;
  const { form } = view;
  const clientName = new Map(view.clients.map((c) => [c.id, c.name]));
  const option = (value: string, label: string, selected: string) => html`<option value="${value}"${selected === value ? html` selected` : ''}>${label}</option>`;
  const invalid = (field: string) => (view.errors.some((e) => e.field === field) ? html` aria-invalid="true" aria-describedby="error-${field}"` : '');
  const filters = html`<form method="get" action="${BASE}/payments" class="filters no-print" aria-label="${t('filters')}">
  <label class="wide">${t('search')} <input type="search" name="q" value="${form.q}"></label>
  <label>${t('dateFrom')} <input name="from" inputmode="numeric" placeholder="${t('datePlaceholder')}" value="${shownDay(form.from)}"${invalid('from')}></label>
  <label>${t('dateTo')} <input name="to" inputmode="numeric" placeholder="${t('datePlaceholder')}" value="${shownDay(form.to)}"${invalid('to')}></label>
  <label>${t('client')} <select name="client">${option('', t('any'), form.client)}${view.clients.map((c) => option(c.id, c.name, form.client))}</select></label>
  <label>${t('status')} <select name="status"${invalid('status')}>${option('', t('any'), form.status)}${PAYMENT_STATES.map((s) => option(s, statusLabel(lang, s), form.status))}</select></label>
  <label>${t('sendingBank')} <select name="bank">${option('', t('any'), form.bank)}${[...view.banks].map(([bank, label]) => option(bank, label, form.bank))}</select></label>
  <label>${t('amountMin')} <input name="min" inputmode="decimal" placeholder="1.000.000,00" value="${form.min}"${invalid('min')}></label>
  <label>${t('amountMax')} <input name="max" inputmode="decimal" placeholder="5.000.000,00" value="${form.max}"${invalid('max')}></label>
  <label>${t('transactionId')} <input name="txn" value="${form.txn}"></label>
  <label>${t('bankReference')} <input name="ref" value="${form.ref}"></label>
  <label>${t('sort')} <select name="sort">${SORTS.map((s) => option(s, t(SORT_LABELS[s]), form.sort || 'newest'))}</select></label>
  <div class="actions">
    <button type="submit">${t('apply')}</button>
    <a href="${BASE}/payments">${t('reset')}</a>
    <a class="button" id="export-csv" href="${BASE}/payments/export.csv${filterQuery(form)}">${t('exportCsv')}</a>
    <a class="button" id="export-xlsx" href="${BASE}/payments/export.xlsx${filterQuery(form)}">${t('exportXlsx')}</a>
    <a id="export-csv-intl" href="${BASE}/payments/export.csv${filterQuery(form, { csv: 'intl' })}">${t('exportCsvIntl')}</a>
  </div>
</form>`;

  const errors =
    view.errors.length > 0
      ? html`<div class="error" role="alert"><strong>${t('badFilter')}</strong><ul>${view.errors.map((e) => html`<li id="error-${e.field}" data-field="${e.field}">${e.message}</li>`)}</ul></div>`
      : '';

  const summaryText = filterWords(ctx, form, clientName, view.banks).join(' · ');
  const printHeader = html`<p class="print-only" id="print-summary">${t('filterSummary')}: ${summaryText || t('noFilter')} · ${t('printedAt')}: ${view.printedAt}</p>`;

  const page = view.page;
  const rows = page?.rows ?? [];
  const number = (n: number) => formatCount(lang, n);
  const first = view.at;
  const last = view.at + rows.length - 1;
  const totals = page
    ? html`<p class="totals" id="list-totals"><strong>${rows.length > 0 ? `${first}–${last}` : '0'}</strong> ${t('rangeOf')} <strong>${page.totals.capped ? `> ${number(TOTALS_LIMIT)}` : number(page.totals.count)}</strong> ${t('matching')} · ${t('total')} <strong>${page.totals.capped ? t('narrowForSum') : formatRupiah(page.totals.totalMinor)}</strong></p>
${totalsProof(ctx, page.totals, number)}
${searchStopped(ctx, page.totals, number)}${
      page.totals.unindexed ? html`<p class="warning" role="status" id="search-unindexed">${t('searchUnindexed').replace('{n}', number(page.totals.unindexed))}</p>` : ''
    }`
    : '';
  const table =
    page === null
      ? ''
      : rows.length === 0
        ? html`<p class="empty">${t(page.totals.truncated === 'walk' ? 'noPaymentsSearched' : 'noPayments')}</p>`
        : html`<div class="table-wrap"><table class="payments">
<caption class="visually-hidden">${t('payments')}</caption>
<thead><tr><th scope="col">${t('created')}</th><th scope="col">${t('client')}</th><th scope="col">${t('transactionId')}</th><th scope="col">${t('beneficiary')}</th><th scope="col">${t('remark')}</th><th scope="col">${t('status')}</th><th scope="col" class="num">${t('amount')}</th><th scope="col">${t('sendingBank')}</th><th scope="col">${t('bankReference')}</th></tr></thead>
<tbody>${rows.map((p) => {
            const reason = failureReason(lang, p);
            const bank = bankLabel(p.beneficiaryBank);
            const named = html`<td>${clientName.get(p.clientId) ?? p.clientId}</td>
<td><a href="${BASE}/payments/${p.id}?back=${encodeURIComponent(ctx.here)}">${p.transactionId}</a></td>`;
            // A forged row names the payment and what was found, as `transfer review list` does; none of its values is shown as if real.
            if (p.integrityProblem !== undefined) {
              return html`<tr data-payment-id="${p.id}" class="integrity-failed"><td class="when"></td>${named}<td colspan="6">${integrityMark(t, p.integrityProblem)}</td></tr>`;
            }
            return html`<tr data-payment-id="${p.id}">
<td class="when">${formatWhen(lang, p.createdAt)}</td>
${named}
<td class="beneficiary"><span class="name">${p.details?.beneficiaryName ?? '—'}</span><br><span class="account">${beneficiaryAccount(p, view.full) ?? ''}</span>${bank ? html`<br><span class="bank-name">${bank}</span>` : ''}</td>
<td class="remark">${p.details?.remark ?? '—'}</td>
<td><span class="status status-${p.state.toLowerCase()}">${statusLabel(lang, p.state)}</span>${reason ? html`<br><span class="reason">${reason}</span>` : ''}</td>
<td class="num">${formatRupiah(p.amount)}</td>
<td>${sendingBankLabel(p) ?? '—'}</td>
<td>${p.bankReference ?? '—'}</td>
</tr>`;
          })}</tbody>
</table></div>`;

  const pager = html`<nav class="pager no-print" aria-label="${t('payments')}">
${page?.previous ? html`<a rel="prev" href="${BASE}/payments${filterQuery(form, { before: encodeCursor(page.previous), at: String(Math.max(1, view.at - view.pageSize)) })}">← ${t('previousPage')}</a>` : ''}
${view.at > 1 ? html`<a href="${BASE}/payments${filterQuery(form)}">${t('firstPage')}</a>` : ''}
${page?.next ? html`<a rel="next" href="${BASE}/payments${filterQuery(form, { after: encodeCursor(page.next), at: String(view.at + rows.length) })}">${t('nextPage')} →</a>` : ''}
<button type="button" class="print-button" data-print>${t('print')}</button>
</nav>`;
  return layout(ctx, t('payments'), html`${filters}${errors}${printHeader}${totals}${table}${pager}`, ['print.js']);
}
