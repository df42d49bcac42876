import type { Reconciliation, ReconciliationLine } from '../../domain/transfers/index.js';
import { paymentDay } from '../../domain/transfers/index.js';
import { bankRefusalText } from '../bank-messages.js';
import { BASE } from '../console-sessions.js';
import { RECONCILE_LIMIT } from '../../store/index.js';
import { formatCount, formatDay, formatRupiah, formatWhen, shownDay } from '../format.js';
import { html, type Html } from '../html.js';
import { fill, statusLabel } from '../i18n.js';
import { connectionLabel } from '../payment-facts.js';
import type { StatementReadError } from '../statement-reader.js';
import type { MissingPayments } from '../../store/index.js';
import { DAY_ACCEPTED_ACTION } from '../accept-day-use-case.js';
import type { DayAcceptanceNote } from '../day-acceptances.js';
import { integrityMark } from './integrity-mark.js';
import { layout, type PageContext } from './layout.js';

export interface ReconciliationForm {
  account: string;
  from: string;
  to: string;
}

export interface ReconciliationView {
  form: ReconciliationForm;
  /** Bad fields, each with its message; the bank was not asked. */
  errors: { field: keyof ReconciliationForm; message: string }[];
  /** The bank or the API could not give the statement. */
  readError?: StatementReadError;
  /** `bank`: the connection that read the statement; `bankCode`: its bank's BIC, when the API named it. */
  result?: { bank: string; bankCode?: string; reconciliation: Reconciliation; truncated: boolean; notReadFrom?: string; missing?: MissingPayments[]; unchecked?: string[]; unprovable?: { days: string[]; problem: string }; leftToSweep?: { days: string[]; detail: string }; accepted?: DayAcceptanceNote[] };
  /** The payment the page was opened for (from the review queue): its line is marked. */
  focus?: number;
  /** A note above the form (e.g. the payment records no paying account). */
  notice?: string;
  /** What was found on the payment the page was opened for, changed outside Gerbang: marked, the form not filled from it. */
  forged?: string;
}

/**
 * How many lines the page lists at most. A longer period (a busy account's week or month: tens of
 * thousands of lines) lists only the lines that need a look (unmatched ones, and a debit booking a
 * payment Gerbang holds as failed or in doubt), the counts covering every line.
 */
export const SHOWN_LINES = 1_000;

/** Whether a line needs a look: anything but a debit booking a successful payment (proved), or money in. */
function needsLook(line: ReconciliationLine): boolean {
  return line.kind !== 'credit' && (line.kind !== 'matched' || line.payment.state !== 'SUCCESS');
}

/**
 * The reconciliation page: a company account and a period, then the bank's statement beside
 * Gerbang's payments from that account, one row per statement line or payment, unmatched rows
 * highlighted and named in words (never by colour alone).
 */
export function reconciliationPage(ctx: PageContext, view: ReconciliationView): string {
  const { t, lang } = ctx;
  const { form } = view;
  const invalid = (field: string) => (view.errors.some((e) => e.field === field) ? html` aria-invalid="true" aria-describedby="error-${field}"` : '');
  const formHtml = html`<form method="get" action="${BASE}/reconciliation" class="filters no-print" aria-label="${t('reconciliation')}">
  <label>${t('companyAccount')} <input name="account" inputmode="numeric" autocomplete="off" value="${form.account}" required${invalid('account')}></label>
  <label>${t('dateFrom')} <input name="from" inputmode="numeric" placeholder="${t('datePlaceholder')}" value="${shownDay(form.from)}" required${invalid('from')}></label>
  <label>${t('dateTo')} <input name="to" inputmode="numeric" placeholder="${t('datePlaceholder')}" value="${shownDay(form.to)}" required${invalid('to')}></label>
  <div class="actions"><button type="submit">${t('reconShow')}</button></div>
  <p class="hint">${t('reconPeriodHint')}</p>
</form>`;
  const errors =
    view.errors.length > 0
      ? html`<div class="error" role="alert"><strong>${t('badFilter')}</strong><ul>${view.errors.map((e) => html`<li id="error-${e.field}" data-field="${e.field}">${e.message}</li>`)}</ul></div>`
      : '';
  const readError = view.readError
    ? html`<div class="error" role="alert" id="statement-error" data-problem="${view.readError.problem}"><strong>${t('reconCannotRead')}</strong><p>${t(`reconErr_${view.readError.problem}`)}</p>${
        view.readError.problem === 'bank-refused' || view.readError.problem === 'period'
          ? html`<p>${bankRefusalText(lang, view.readError.bankResponseCode, view.readError.bankMessage ?? view.readError.message)}</p>`
          : ''
      }</div>`
    : '';
  const notice = html`${view.notice ? html`<p class="warning" role="status">${view.notice}</p>` : ''}${view.forged !== undefined ? integrityMark(t, view.forged) : ''}`;
  return layout(ctx, t('reconciliation'), html`<p>${t('reconIntro')}</p>${notice}${formHtml}${errors}${readError}${view.result ? resultsDrawn(ctx, view.result, view.focus) : ''}`);
}

/** The results last drawn of each matching (reconcile-period.ts, StatementMatches: a page opened again gets the same one back), with what else they were drawn of. */
const drawn = new WeakMap<Reconciliation, { key: string; html: Html }>();

/**
 * The results of a reconciliation as `results` draws them, drawn once for the same matching (the
 * very Reconciliation object) and the same everything else they are drawn of: the language, the
 * reader's role, the line in focus and the rest of the result (its notes, days and bank). A month
 * opened again lists up to SHOWN_LINES lines picked from 100,000: about a tenth of its time.
 */
export function resultsDrawn(ctx: PageContext, result: NonNullable<ReconciliationView['result']>, focus: number | undefined): Html {
  const { reconciliation, ...rest } = result;
  const key = JSON.stringify([ctx.lang, ctx.user?.role ?? null, focus ?? null, rest]);
  const last = drawn.get(reconciliation);
  if (last !== undefined && last.key === key) return last.html;
  const made = results(ctx, result, focus);
  drawn.set(reconciliation, { key, html: made });
  return made;
}

function results(ctx: PageContext, result: NonNullable<ReconciliationView['result']>, focus: number | undefined): Html {
  const { t, lang } = ctx;
  const { lines, counts } = result.reconciliation;
  const missing = result.missing ?? [];
  // Payments deleted in the database have no line to mark: each such day is named above the lines.
  const gone = missing.map((m) =>
    m.sealProblem !== undefined
      ? html`<div class="integrity-failed" role="alert" data-missing-day="${m.day}" data-seal-broken="${m.day}"><strong class="integrity-failed">${t('reconSealBroken').replace('{day}', formatDay(m.day))}</strong> <span>${m.sealProblem}</span></div>`
      : html`<div class="integrity-failed" role="alert" data-missing-day="${m.day}"><strong class="integrity-failed">${t(m.deleted === undefined && m.moved !== undefined ? 'reconPaymentsMoved' : 'reconPaymentsDeleted')
        .replace('{day}', formatDay(m.day))
        .replace('{sealed}', formatCount(lang, m.sealed))
        .replace('{found}', formatCount(lang, m.found))}</strong>${
        m.deleted === undefined ? '' : html` <span data-deleted-ids="${m.deleted.join(' ')}">${t('reconPaymentsDeletedIds').replace('{ids}', m.deleted.join(', '))}</span>`
      }${m.moved === undefined ? '' : html` <span data-moved-ids="${m.moved.join(' ')}">${t('reconPaymentsMovedIds').replace('{ids}', m.moved.join(', '))}</span>`}</div>`,
  );
  // Days proved against histories whose newest events may have been deleted with their links: not sealed, the chains' problem named.
  const unprovable = result.unprovable
    ? html`<div class="integrity-failed" role="alert" id="recon-unprovable" data-unprovable-days="${result.unprovable.days.join(' ')}"><strong class="integrity-failed">${t('reconChainGap').replace('{days}', result.unprovable.days.map(formatDay).join(', '))}</strong> <span>${result.unprovable.problem}</span></div>`
    : '';
  // Days not proved either way (the chain walk left to the seal sweep): not sealed, not matched; amber, not the alarm above.
  const leftToSweep = result.leftToSweep
    ? html`<div class="warning" role="status" id="recon-left-to-sweep" data-left-days="${result.leftToSweep.days.join(' ')}"><strong>${t('reconLeftToSweep').replace('{days}', result.leftToSweep.days.map(formatDay).join(', '))}</strong> <span>${result.leftToSweep.detail}</span></div>`
    : '';
  // Days no seal held the payments to: a payment deleted there in the database is not named.
  const notChecked = result.unchecked ?? [];
  const unchecked =
    notChecked.length === 0
      ? ''
      : html`<p class="info" id="recon-unchecked" data-unchecked-days="${notChecked.join(' ')}">${t('reconUnchecked').replace('{days}', notChecked.map(formatDay).join(', '))}</p>`;
  const summary = html`<p class="info" id="recon-summary">${t('reconFromBank')} <span id="statement-source">${connectionLabel(result.bank, result.bankCode ?? null) ?? result.bank}</span>: ${t('recon_matched')} <strong data-count="matched">${counts.matched}</strong> · ${t('recon_statement-only')} <strong data-count="statement-only">${counts['statement-only']}</strong> · ${t('recon_gerbang-only')} <strong data-count="gerbang-only">${counts['gerbang-only']}</strong> · ${t('recon_credit')} <strong data-count="credit">${counts.credit}</strong>${
    counts.forged > 0 ? html` · <strong class="integrity-failed">${t('recon_forged')}</strong> <strong data-count="forged">${counts.forged}</strong>` : ''
  }${counts['not-proved'] > 0 ? html` · ${t('recon_not-proved')} <strong data-count="not-proved">${counts['not-proved']}</strong>` : ''}${
    counts['not-provable'] > 0 ? html` · <strong class="integrity-failed">${t('recon_not-provable')}</strong> <strong data-count="not-provable">${counts['not-provable']}</strong>` : ''
  }${counts['not-read'] > 0 ? html` · ${t('recon_not-read')} <strong data-count="not-read">${counts['not-read']}</strong>` : ''}</p>${
    // A period cut at the bound is never an all-clear: what was not read is not known to match.
    counts['statement-only'] === 0 && counts['gerbang-only'] === 0 && counts.forged === 0 && counts['not-proved'] === 0 && counts['not-provable'] === 0 && counts['not-read'] === 0 && missing.length === 0 && result.unprovable === undefined && result.leftToSweep === undefined && !result.truncated && lines.length > 0
      ? // A day not checked for deleted payments is not known to match whole: said so, not as an all-clear.
        notChecked.length === 0
        ? html`<p class="ok" role="status" id="recon-all-matched">${t('reconAllMatched')}</p>`
        : html`<p class="info" role="status" id="recon-lines-matched">${t('reconLinesMatchedUnchecked')}</p>`
      : ''
  }${unprovable}${leftToSweep}${gone}${(result.accepted ?? []).map((note) => acceptedNote(ctx, note))}${unchecked}${result.truncated ? html`<p class="warning" role="status" id="recon-truncated"${result.notReadFrom ? html` data-not-read-from="${result.notReadFrom}"` : ''}>${t('reconTruncated').replace('{n}', formatCount(lang, RECONCILE_LIMIT))}${result.notReadFrom ? html` ${t('reconNotReadFrom').replace('{day}', formatDay(result.notReadFrom))}` : ''}</p>` : ''}`;
  if (lines.length === 0) return html`${summary}<p class="empty">${t('reconEmpty')}</p>`;
  let shown = lines;
  let note: Html | string = '';
  if (lines.length > SHOWN_LINES) {
    const attention = lines.filter((line) => needsLook(line) || (focus !== undefined && 'payment' in line && line.payment.id === focus));
    shown = attention.slice(0, SHOWN_LINES);
    note = html`<p class="info" role="status" id="recon-lines-hidden">${t('reconMatchedHidden')
      .replace('{n}', formatCount(lang, lines.length - attention.length))
      .replace('{total}', formatCount(lang, lines.length))}</p>${
      attention.length > SHOWN_LINES ? html`<p class="warning" role="status" id="recon-attention-capped">${t('reconAttentionCapped').replace('{n}', formatCount(lang, SHOWN_LINES))}</p>` : ''
    }`;
  }
  return html`${summary}${note}<div class="table-wrap" tabindex="0" role="region" aria-label="${t('reconciliation')}"><table class="reconciliation" id="reconciliation"><caption class="visually-hidden">${t('reconciliation')}</caption>
<thead><tr><th scope="col">${t('reconDate')}</th><th scope="col">${t('reconBankSide')}</th><th scope="col" class="num">${t('amount')}</th><th scope="col">${t('reconGerbangSide')}</th><th scope="col" class="num">${t('amount')}</th><th scope="col">${t('reconResult')}</th></tr></thead>
<tbody>${shown.map((line) => row(ctx, line, focus))}</tbody></table></div>`;
}

/**
 * A day an operator accepted (gerbang audit accept-day): who, when, why and what the alert named
 * then, with a link to its access-log entry for those who may read the log (auditors, admins).
 */
function acceptedNote(ctx: PageContext, note: DayAcceptanceNote): Html {
  const { t, lang } = ctx;
  const auditor = ctx.user !== undefined && ctx.user.role !== 'viewer';
  return html`<div class="info day-accepted" role="note" data-accepted-day="${note.day}" data-accept-entry="${note.entryId}"><strong>${fill(t('reconDayAccepted'), { day: formatDay(note.day), who: note.username, when: formatWhen(lang, note.at) })}</strong>
<span class="accept-reason">${fill(t('reconAcceptedReason'), { reason: note.reason })}</span>${
    note.deletedIds.length > 0 ? html` <span data-accepted-deleted-ids="${note.deletedIds.join(' ')}">${fill(t('reconAcceptedDeletedIds'), { ids: note.deletedIds.join(', ') })}</span>` : ''
  }${note.sealChanged ? html` <span class="accept-seal">${t('reconAcceptedSealChanged')}</span>` : ''}${note.cut ? html` <span>${t('reconAcceptedCut')}</span>` : ''}${
    auditor ? html` <a href="${BASE}/access-log?action=${DAY_ACCEPTED_ACTION}#entry-${note.entryId}">${fill(t('reconAcceptedLogLink'), { id: note.entryId })}</a>` : ''
  }</div>`;
}

/**
 * One line of the table, its kind in words and as data-kind. A `not-proved` line (its day's audit
 * chains not proved yet) or `not-provable` one (they do not hold) reads as such, never as matched,
 * and keeps the warning of its payment's state.
 */
function row(ctx: PageContext, line: ReconciliationLine, focus: number | undefined): Html {
  const { t, lang } = ctx;
  const entry = line.kind === 'gerbang-only' || line.kind === 'forged' ? null : line.entry;
  const payment = line.kind === 'credit' || line.kind === 'statement-only' || line.kind === 'not-read' ? null : line.payment;
  // A debit booking a payment, proved or not: what its state says of the money.
  const booked = line.kind === 'matched' || line.kind === 'not-proved' || line.kind === 'not-provable' ? line.payment : null;
  const day = entry ? entry.date : paymentDay(payment!);
  const bankCell = entry
    ? html`<span class="entry-type">${entry.type === 'DEBIT' ? t('debit') : t('credit')}</span>${entry.pending ? html` (${t('notBookedYet')})` : ''}<br><span class="entry-text">${entry.description}${entry.reference && entry.reference !== entry.description ? html` · ${entry.reference}` : ''}</span>`
    : html`<span class="none">—</span>`;
  const paymentCell = payment
    ? html`<a href="${BASE}/payments/${payment.id}">${payment.transactionId}</a><br><span class="status status-${payment.state.toLowerCase()}">${statusLabel(lang, payment.state)}</span>${payment.bankTransactionId ? html` <span class="bank-id">${payment.bankTransactionId}</span>` : ''}`
    : html`<span class="none">—</span>`;
  const stateHint = booked?.state === 'FAILED' ? t('reconFailedButDebited') : booked !== null && booked.state !== 'SUCCESS' ? t('reconInDoubtDebited') : null;
  const hints = [
    line.kind === 'statement-only' ? t('reconStatementOnlyHint') : line.kind === 'not-read' ? t('reconNotReadHint') : line.kind === 'gerbang-only' ? t('reconGerbangOnlyHint') : stateHint,
    line.kind === 'not-proved' ? t('reconNotProvedHint') : line.kind === 'not-provable' ? t('reconNotProvableHint') : null,
  ].filter((hint) => hint !== null);
  const alarm = booked?.state === 'FAILED';
  const focused = payment !== null && payment.id === focus;
  return html`<tr class="recon-${line.kind}${alarm ? ' recon-alarm' : ''}${focused ? ' recon-focus' : ''}" data-kind="${line.kind}"${payment ? html` data-payment-id="${payment.id}" id="payment-${payment.id}"` : ''}>
<td>${formatDay(day)}</td>
<td>${bankCell}</td>
<td class="num">${entry ? formatRupiah(entry.amount.replace(/^-/, '')) : '—'}</td>
<td>${paymentCell}</td>
<td class="num">${payment ? formatRupiah(payment.amount) : '—'}</td>
<td>${line.kind === 'forged' ? integrityMark(t, line.payment.integrityProblem) : html`<strong>${t(`recon_${line.kind}`)}</strong>${hints.map((hint) => html`<br><span class="reason">${hint}</span>`)}`}</td>
</tr>`;
}
