import type { RunLine, TransferBatchRecord } from '../../store/types.js';
import { formatRupiah, formatWhen } from '../format.js';
import { html } from '../html.js';
import { statusLabel } from '../i18n.js';
import { BASE } from '../console-sessions.js';
import { bankLabel, failureReason } from '../payment-facts.js';
import { maskAccount } from '../format.js';
import { amountMinor } from '../../store/index.js';
import { integrityMark } from './integrity-mark.js';
import { layout, type PageContext } from './layout.js';

/** Where a line stands for the clerk: paid, failed (refused, or rejected before paying), in doubt, waiting, or changed outside Gerbang. */
export type RunOutcome = 'paid' | 'failed' | 'inDoubt' | 'waiting' | 'forged';

export function runOutcome(line: RunLine): RunOutcome {
  // A forged line or payment is counted apart: never in the paid or failed totals.
  if (line.integrityProblem !== undefined || line.payment?.integrityProblem !== undefined) return 'forged';
  if (line.lineState === 'REJECTED') return 'failed';
  const state = line.payment?.state;
  if (state === 'SUCCESS') return 'paid';
  if (state === 'FAILED') return 'failed';
  if (state === undefined) return 'waiting';
  return 'inDoubt';
}

export function runsListPage(ctx: PageContext, runs: TransferBatchRecord[], clientName: Map<string, string>): string {
  const { t, lang } = ctx;
  const body =
    runs.length === 0
      ? html`<p class="empty">${t('noRuns')}</p>`
      : html`<div class="table-wrap"><table class="runs"><thead><tr><th scope="col">${t('created')}</th><th scope="col">${t('client')}</th><th scope="col">${t('runId')}</th><th scope="col" class="num">${t('lines')}</th><th scope="col">${t('status')}</th></tr></thead>
<tbody>${runs.map(
          (r) => html`<tr><td>${formatWhen(lang, r.createdAt)}</td><td>${clientName.get(r.clientId) ?? r.clientId}</td><td><a href="${BASE}/runs/${r.id}">${r.batchId}</a></td><td class="num">${r.lineCount}</td><td>${t(r.state === 'DONE' ? 'runDone' : 'runWorking')}</td></tr>`,
        )}</tbody></table></div>`;
  return layout(ctx, t('runs'), body);
}

export function runPage(ctx: PageContext, batch: TransferBatchRecord, lines: RunLine[], clientName: string, full: boolean): string {
  const { t, lang } = ctx;
  const sums: Record<RunOutcome, { count: number; minor: bigint }> = {
    paid: { count: 0, minor: 0n },
    failed: { count: 0, minor: 0n },
    inDoubt: { count: 0, minor: 0n },
    waiting: { count: 0, minor: 0n },
    forged: { count: 0, minor: 0n },
  };
  for (const line of lines) {
    const outcome = runOutcome(line);
    const sum = sums[outcome];
    sum.count += 1;
    // A forged line's amount is no sum's: it is counted, its total never shown.
    const amount = outcome === 'forged' ? null : (line.payment?.amount ?? line.amount);
    if (amount) sum.minor += amountMinor(amount);
  }
  const account = (value: string | null | undefined) => (value ? (full ? value : maskAccount(value)) : '—');
  const status = (line: RunLine, outcome: RunOutcome) =>
    line.integrityProblem !== undefined
      ? integrityMark(t, line.integrityProblem, 'lineChangedOutside')
      : line.payment?.integrityProblem !== undefined
        ? integrityMark(t, line.payment.integrityProblem)
        : line.payment
          ? html`<span class="status status-${line.payment.state.toLowerCase()}">${statusLabel(lang, line.payment.state)}</span>`
          : t(`run_${outcome}`);
  const facts = html`<table class="facts">
<tr><th scope="row">${t('runId')}</th><td id="run-id">${batch.batchId}</td></tr>
<tr><th scope="row">${t('client')}</th><td>${clientName}</td></tr>
<tr><th scope="row">${t('created')}</th><td>${formatWhen(lang, batch.createdAt, true)}</td></tr>
<tr><th scope="row">${t('lines')}</th><td>${batch.lineCount}</td></tr>
</table>
<table class="run-totals" id="run-totals"><thead><tr><th scope="col"><span class="visually-hidden">${t('status')}</span></th><th scope="col" class="num">${t('count')}</th><th scope="col" class="num">${t('total')}</th></tr></thead><tbody>
${(['paid', 'failed', 'inDoubt', 'waiting', ...(sums.forged.count > 0 ? ['forged' as const] : [])] as const).map(
  (k) => html`<tr data-outcome="${k}" class="outcome-${k}"><th scope="row">${t(`run_${k}`)}</th><td class="num">${sums[k].count}</td><td class="num">${k === 'forged' ? '—' : formatRupiah(sums[k].minor)}</td></tr>`,
)}
</tbody></table>`;
  const table = html`<div class="table-wrap"><table class="run-lines"><thead><tr><th scope="col">#</th><th scope="col">${t('transactionId')}</th><th scope="col">${t('sourceAccount')}</th><th scope="col">${t('beneficiary')}</th><th scope="col">${t('remark')}</th><th scope="col" class="num">${t('amount')}</th><th scope="col">${t('status')}</th></tr></thead>
<tbody>${lines.map((line) => {
    const outcome = runOutcome(line);
    // A forged line, or a line whose payment is forged, shows which line and what was found: no
    // account, beneficiary, remark or amount of it is shown as if real.
    const forged = outcome === 'forged';
    const d = forged ? undefined : (line.payment?.details ?? line.details);
    const reason = line.payment && !forged ? failureReason(lang, line.payment) : null;
    const amount = forged ? undefined : (line.payment?.amount ?? line.amount);
    return html`<tr data-line="${line.lineNo}" class="outcome-${outcome}">
<td>${line.lineNo}</td>
<td>${line.payment ? html`<a href="${BASE}/payments/${line.payment.id}">${line.transactionId}</a>` : line.transactionId}</td>
<td class="account">${account(d?.sourceAccount)}</td>
<td><span class="name">${d?.beneficiaryName ?? '—'}</span><br><span class="account">${account(d?.beneficiaryAccount)}</span>${d?.beneficiaryBankCode ? html`<br><span class="bank-name">${bankLabel(d.beneficiaryBankCode)}</span>` : ''}</td>
<td>${d?.remark ?? '—'}</td>
<td class="num">${amount ? formatRupiah(amount) : '—'}</td>
<td>${status(line, outcome)}${reason ? html`<br><span class="reason">${reason}</span>` : ''}</td>
</tr>`;
  })}</tbody></table></div>`;
  return layout(ctx, `${t('run')}: ${batch.batchId}`, html`<p class="no-print"><a href="${BASE}/runs">← ${t('runs')}</a></p>${facts}${table}`);
}
