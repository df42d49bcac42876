import { OPERATOR_REASON_MAX } from '../../domain/operator-reason.js';
import { BASE } from '../console-sessions.js';
import { html, type Html } from '../html.js';
import { fill } from '../i18n.js';
import { csrfField, layout, type PageContext } from './layout.js';

/** A payment whose notification to the ERP is held back: what the detail page offers about it. */
export interface HeldBackNotification {
  paymentId: number;
  /** What was found of its delivery (deleted, altered, written back in SQL), in Gerbang's words. */
  problem: string;
}

/** What came of a requeue asked from the page, shown once after its redirect. */
export interface RequeueShown {
  requeued: boolean;
  /** Why it was refused, in the clerk's language where known (requeueRefusalWords). */
  refused?: string;
}

/**
 * The detail page's part on a held-back notification: the mark, in words, for every role; for
 * admins, the form asking for the reason (required), which leads to the confirmation.
 */
export function heldBackSection(ctx: PageContext, held: HeldBackNotification): Html {
  const { t } = ctx;
  const admin = ctx.user?.role === 'admin';
  return html`<section class="callback-held-back" id="callback-held-back" aria-labelledby="callback-held-back-title">
<div class="integrity-failed" role="alert"><h2 id="callback-held-back-title">${t('requeueTitle')}</h2><p><strong>${t('requeueHeldBack')}</strong></p><p><code>${held.problem}</code></p></div>${
    admin
      ? html`<p>${t('requeueHint')}</p><form method="post" action="${BASE}/payments/${held.paymentId}/requeue" class="admin-form no-print" id="requeue-form">${csrfField(ctx)}
<label class="reason">${t('requeueReason')} <textarea name="reason" rows="2" maxlength="${OPERATOR_REASON_MAX}" required></textarea></label>
<button type="submit">${t('requeueTitle')}</button></form>`
      : ''
  }</section>`;
}

/** The outcome of the requeue just asked, shown once on the detail page after the redirect. */
export function requeueOutcome(ctx: PageContext, shown: RequeueShown): Html {
  const { t } = ctx;
  return shown.requeued
    ? html`<p class="ok" role="status" id="requeue-outcome" data-requeued="true">${t('requeueDone')}</p>`
    : html`<div class="error" role="alert" id="requeue-outcome" data-requeued="false"><strong>${t('requeueRefused')}</strong> ${shown.refused ?? ''}</div>`;
}

/**
 * The confirmation before a notification is queued again: it names the client and the
 * transaction, keeps the reason typed (still editable, required), and posts with `confirmed`.
 */
export function requeueConfirmPage(ctx: PageContext, view: { paymentId: number; clientId: string; clientName: string; transactionId: string; reason: string }): string {
  const { t } = ctx;
  return layout(
    ctx,
    t('requeueTitle'),
    html`<div class="warning" role="alert" id="confirm-question"><p>${fill(t('requeueConfirm'), { tx: view.transactionId, name: view.clientName, id: view.clientId })}</p><p>${t('requeueHint')}</p></div>
<form method="post" action="${BASE}/payments/${view.paymentId}/requeue" class="admin-form" id="confirm-form">${csrfField(ctx)}
<input type="hidden" name="confirmed" value="yes">
<label class="reason">${t('requeueReason')} <textarea name="reason" rows="2" maxlength="${OPERATOR_REASON_MAX}" required>${view.reason}</textarea></label>
<button type="submit" id="confirm-yes">${t('requeueTitle')}: ${view.transactionId}</button>
<a href="${BASE}/payments/${view.paymentId}">${t('cancel')}</a></form>`,
  );
}
