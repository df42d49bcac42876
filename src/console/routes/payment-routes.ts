import { Router, type Request, type Response } from 'express';
import { once } from 'node:events';
import { formulaSafeCsv } from '../../export/index.js';
import type { Store } from '../../store/types.js';
import { jakartaTimestamp } from '../../time/index.js';
import { signedIn } from '../console-locals.js';
import { BASE, seesBodies } from '../console-sessions.js';
import { formatJakartaTime } from '../format.js';
import { statusLabel } from '../i18n.js';
import { describeFilters, parseFilters } from '../payment-filters.js';
import { paymentStory } from '../payment-story.js';
import { paymentDetailPage } from '../views/payment-detail-page.js';
import { paymentsPage } from '../views/payments-page.js';
import { remoteIp } from './sign-in-routes.js';

export interface PaymentRouteDeps {
  store: Store;
  clock: () => number;
}

const PAGE_SIZE = 50;
const EXPORT_PAGE = 500;

function pageContext(req: Request, res: Response) {
  const locals = signedIn(res);
  return { ...locals, here: req.originalUrl, csrfToken: locals.session.csrfToken };
}

/** The payment list, one payment's story, and the CSV export of the filtered list. */
export function paymentRoutes(deps: PaymentRouteDeps): Router {
  const { store, clock } = deps;
  const router = Router();

  router.get(`${BASE}/payments`, async (req, res) => {
    const ctx = pageContext(req, res);
    const filters = parseFilters(req.query);
    const [clients, banks] = await Promise.all([store.clients.list(), store.paymentSearch.banks()]);
    const page = filters.errors.length > 0 ? null : await store.paymentSearch.page(filters.search, filters.sort, filters.cursor, PAGE_SIZE);
    if (page) {
      // A list shows records too: which ones a user saw is the filter and the page they were on.
      await store.consoleAudit.record({
        at: clock(),
        username: ctx.user.username,
        action: 'list_payments',
        target: page.rows.length > 0 ? `payments:${page.rows[0].id}..${page.rows[page.rows.length - 1].id}` : 'payments:none',
        detail: `${describeFilters(filters.form)}${filters.cursor ? ' (next page)' : ''}`,
        remoteIp: remoteIp(req),
      });
    }
    res.status(filters.errors.length > 0 ? 400 : 200).type('html');
    res.send(paymentsPage(ctx, { form: filters.form, errors: filters.errors, page, clients, banks, paged: filters.cursor !== null }));
  });

  router.get(`${BASE}/payments/export.csv`, async (req, res) => {
    const ctx = pageContext(req, res);
    const filters = parseFilters(req.query);
    if (filters.errors.length > 0) {
      res.status(400).type('text/plain').send(filters.errors.map((e) => `${e.field}: ${e.message}`).join('\n'));
      return;
    }
    // Audit first: the export is recorded before its first row leaves.
    await store.consoleAudit.record({
      at: clock(),
      username: ctx.user.username,
      action: 'export_csv',
      target: 'payments',
      detail: describeFilters(filters.form),
      remoteIp: remoteIp(req),
    });
    const clientName = new Map((await store.clients.list()).map((c) => [c.id, c.name]));
    const stamp = jakartaTimestamp(clock(), false).slice(0, 16).replace(/[-:T]/g, '');
    res.setHeader('Content-Type', 'text/csv; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="payments-${stamp}.csv"`);
    res.setHeader('Cache-Control', 'no-store');
    // Formula-safe cells (client names and bank references come from outside); the BOM makes Excel read UTF-8.
    const csv = formulaSafeCsv({ bom: true, header: true, columns: csvColumns(ctx.t) });
    csv.pipe(res);
    const closed = once(res, 'close');
    let cursor = null;
    // Page by page (keyset), so a month of payments streams in bounded memory.
    do {
      const page = await store.paymentSearch.page(filters.search, filters.sort, cursor, EXPORT_PAGE);
      for (const p of page.rows) {
        const record = {
          created: formatJakartaTime(p.createdAt),
          client: clientName.get(p.clientId) ?? p.clientId,
          clientId: p.clientId,
          transactionId: p.transactionId,
          bank: p.bank ?? '',
          status: p.state,
          statusLabel: statusLabel(ctx.lang, p.state),
          amount: p.amount,
          currency: p.currency,
          bankReference: p.bankReference ?? '',
          bankTransactionId: p.bankTransactionId ?? '',
          updated: formatJakartaTime(p.updatedAt),
        };
        // A browser that cancels the download closes the response: stop instead of waiting on a drain that never comes.
        if (!csv.write(record)) await Promise.race([once(csv, 'drain'), closed]);
        if (res.destroyed) break;
      }
      cursor = page.next;
      if (res.destroyed) break;
    } while (cursor);
    csv.end();
  });

  router.get(`${BASE}/payments/:id`, async (req, res) => {
    const ctx = pageContext(req, res);
    const id = /^\d{1,15}$/.test(req.params.id) ? Number(req.params.id) : null;
    const payment = id === null ? null : await store.paymentSearch.findById(id);
    if (!payment) {
      res.status(404).type('text/plain').send(ctx.t('notFound'));
      return;
    }
    await store.consoleAudit.record({
      at: clock(),
      username: ctx.user.username,
      action: 'view_payment',
      target: `payment:${payment.id}`,
      detail: `${payment.clientId} ${payment.transactionId}`,
      remoteIp: remoteIp(req),
    });
    // Bodies only through the audit repository: it is the one place that decrypts them.
    const exchanges = await store.audit.list({ clientId: payment.clientId, transactionId: payment.transactionId, limit: 1000 });
    const client = await store.clients.findById(payment.clientId);
    res.type('html').send(paymentDetailPage(ctx, paymentStory(payment, exchanges, seesBodies(ctx.user.role)), client?.name ?? payment.clientId));
  });

  return router;
}

function csvColumns(t: ReturnType<typeof signedIn>['t']) {
  return [
    { key: 'created', header: `${t('created')} (WIB)` },
    { key: 'client', header: t('client') },
    { key: 'clientId', header: 'client_id' },
    { key: 'transactionId', header: t('transactionId') },
    { key: 'bank', header: t('bank') },
    { key: 'status', header: 'status' },
    { key: 'statusLabel', header: t('status') },
    { key: 'amount', header: t('amount') },
    { key: 'currency', header: t('currency') },
    { key: 'bankReference', header: t('bankReference') },
    { key: 'bankTransactionId', header: t('bankTransactionId') },
    { key: 'updated', header: `${t('updated')} (WIB)` },
  ];
}
