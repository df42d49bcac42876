import ExcelJS from 'exceljs';
import { Router, type Request, type Response } from 'express';
import { once } from 'node:events';
import { visibleText } from '../../banks/common/bank-text.js';
import { requeueCallback, type RequeueDeps } from '../../domain/callbacks/index.js';
import { OPERATOR_REASON_MAX } from '../../domain/operator-reason.js';
import { formulaSafeCsv } from '../../export/index.js';
import { IntegrityError } from '../../errors/index.js';
import type { PaymentCursor, PaymentRecord, Store } from '../../store/types.js';
import { jakartaTimestamp } from '../../time/index.js';
import { signedIn } from '../console-locals.js';
import { BASE, requireRoleRecorded, seesBodies } from '../console-sessions.js';
import { formatWhen, maskAccount } from '../format.js';
import { describeFilters, parseFilters, type ParsedFilters } from '../payment-filters.js';
import { connectionLabels } from '../payment-facts.js';
import { decimalComma, EXPORT_COLUMNS, exportRow, TEXT_COLUMNS, type ExportRow } from '../payment-export.js';
import { paymentStory } from '../payment-story.js';
import { messagePage } from '../views/message-page.js';
import { paymentDetailPage } from '../views/payment-detail-page.js';
import { paymentsPage } from '../views/payments-page.js';
import { proofPage } from '../views/proof-page.js';
import { requeueConfirmPage, type RequeueShown } from '../views/requeue-page.js';
import { requeueRefusalWords } from '../requeue-words.js';
import { remoteIp } from './sign-in-routes.js';

export interface PaymentRouteDeps {
  store: Store;
  clock: () => number;
  /** Why the audit chains do not hold as a whole from a time on, or null (ConsoleAppDeps.chains): a requeue asks it first. */
  chains: RequeueDeps['chains'];
}

const PAGE_SIZE = 50;
const EXPORT_PAGE = 500;

function pageContext(req: Request, res: Response) {
  const locals = signedIn(res);
  return { ...locals, here: req.originalUrl, csrfToken: locals.session.csrfToken };
}

/** A `back` link kept only when it is one of the console's own list pages. */
function listLink(value: unknown): string {
  return typeof value === 'string' && /^\/console\/payments(\?|$)/.test(value) ? value : `${BASE}/payments`;
}

/** The payment list, one payment's story and proof, and the exports of the filtered list. */
export function paymentRoutes(deps: PaymentRouteDeps): Router {
  const { store, clock } = deps;
  const router = Router();

  /** The payment of the URL, recorded in the console audit as seen with `action`; null when there is none. */
  const openPayment = async (req: Request, res: Response, action: string): Promise<PaymentRecord | null> => {
    const id = String(req.params.id);
    const payment = /^\d{1,15}$/.test(id) ? await store.paymentSearch.findById(Number(id)) : null;
    if (!payment) return null;
    await store.consoleAudit.record({
      at: clock(),
      username: signedIn(res).user.username,
      action,
      target: `payment:${payment.id}`,
      detail: `${payment.clientId} ${payment.transactionId}`,
      remoteIp: remoteIp(req),
    });
    return payment;
  };
  const notFound = (req: Request, res: Response) => {
    const ctx = pageContext(req, res);
    res.status(404).type('html').send(messagePage(ctx, ctx.t('pageNotFound'), ctx.t('notFound')));
  };

  router.get(`${BASE}/payments`, async (req, res) => {
    const ctx = pageContext(req, res);
    const filters = parseFilters(req.query, ctx.t);
    const [clients, latest] = await Promise.all([store.clients.list(), store.paymentSearch.banks()]);
    const banks = connectionLabels(latest);
    const page = filters.errors.length > 0 ? null : await store.paymentSearch.page(filters.search, filters.sort, filters.cursor, PAGE_SIZE, filters.direction);
    if (page) {
      // A list shows records too: which ones a user saw is the filter and the page they were on.
      await store.consoleAudit.record({
        at: clock(),
        username: ctx.user.username,
        action: 'list_payments',
        target: page.rows.length > 0 ? `payments:${page.rows[0].id}..${page.rows[page.rows.length - 1].id}` : 'payments:none',
        detail: `${describeFilters(filters.form, banks)}${filters.cursor ? ` (from row ${filters.at})` : ''}`,
        remoteIp: remoteIp(req),
      });
    }
    res.status(filters.errors.length > 0 ? 400 : 200).type('html');
    res.send(
      paymentsPage(ctx, {
        form: filters.form,
        errors: filters.errors,
        page,
        clients,
        banks,
        at: filters.at,
        pageSize: PAGE_SIZE,
        full: seesBodies(ctx.user.role),
        printedAt: formatWhen(ctx.lang, clock()),
      }),
    );
  });

  /** Checks the filters and records the export before its first row leaves; null when it answered 400. */
  async function startExport(req: Request, res: Response, kind: 'csv' | 'xlsx'): Promise<ParsedFilters | null> {
    const ctx = pageContext(req, res);
    const filters = parseFilters(req.query, ctx.t);
    if (filters.errors.length > 0) {
      res.status(400).type('text/plain').send(filters.errors.map((e) => `${e.field}: ${e.message}`).join('\n'));
      return null;
    }
    // The bank filter's connection named as the list's option names it (the connections' latest payments, only when it is set).
    const banks = filters.form.bank ? connectionLabels(await store.paymentSearch.banks()) : new Map<string, string>();
    await store.consoleAudit.record({
      at: clock(),
      username: ctx.user.username,
      action: kind === 'csv' ? 'export_csv' : 'export_xlsx',
      target: 'payments',
      detail: describeFilters(filters.form, banks),
      remoteIp: remoteIp(req),
    });
    return filters;
  }

  /** The filtered list as export rows, page by page (keyset), so a month streams in bounded memory. */
  async function* exportRows(req: Request, res: Response, filters: ParsedFilters): AsyncGenerator<ExportRow> {
    const ctx = pageContext(req, res);
    const clients = new Map((await store.clients.list()).map((c) => [c.id, c]));
    const full = seesBodies(ctx.user.role);
    let cursor: PaymentCursor | null = null;
    do {
      const page = await store.paymentSearch.page(filters.search, filters.sort, cursor, EXPORT_PAGE);
      const runs = await store.paymentSearch.runsOf(page.rows);
      for (const p of page.rows) yield exportRow(p, clients, full, runs.get(p.id)?.batchId ?? null, ctx.lang);
      cursor = page.next;
    } while (cursor && !res.destroyed);
  }

  const fileStamp = () => jakartaTimestamp(clock(), false).slice(0, 16).replace(/[-:T]/g, '');

  router.get(`${BASE}/payments/export.csv`, async (req, res) => {
    const filters = await startExport(req, res, 'csv');
    if (!filters) return;
    // Indonesian Excel reads `;` between cells and a decimal comma; `csv=intl` gives `,` and a point.
    const intl = req.query.csv === 'intl';
    res.setHeader('Content-Type', 'text/csv; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="payments-${fileStamp()}${intl ? '-intl' : ''}.csv"`);
    // Formula-safe cells, RFC 4180 quoting; the BOM makes Excel read UTF-8.
    const csv = formulaSafeCsv({ bom: true, header: true, delimiter: intl ? ',' : ';', columns: [...EXPORT_COLUMNS] });
    csv.pipe(res);
    const closed = once(res, 'close');
    for await (const row of exportRows(req, res, filters)) {
      const record = intl ? row : { ...row, amount: decimalComma(row.amount) };
      // A browser that cancels the download closes the response: stop instead of waiting on a drain that never comes.
      if (!csv.write(record)) await Promise.race([once(csv, 'drain'), closed]);
      if (res.destroyed) break;
    }
    csv.end();
  });

  // exceljs: a maintained writer that streams a workbook row by row (a month of payments never
  // sits in memory) and types each cell, so ids stay text and amounts are numbers Excel can sum.
  router.get(`${BASE}/payments/export.xlsx`, async (req, res) => {
    const filters = await startExport(req, res, 'xlsx');
    if (!filters) return;
    res.setHeader('Content-Type', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    res.setHeader('Content-Disposition', `attachment; filename="payments-${fileStamp()}.xlsx"`);
    const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: res, useStyles: true, useSharedStrings: false });
    const sheet = workbook.addWorksheet('payments', { views: [{ state: 'frozen', ySplit: 1 }] });
    sheet.columns = EXPORT_COLUMNS.map((key) => ({
      key,
      header: key,
      width: key === 'amount' ? 18 : 22,
      style: key === 'amount' ? { numFmt: '#,##0.00' } : TEXT_COLUMNS.includes(key) ? { numFmt: '@' } : {},
    }));
    for await (const row of exportRows(req, res, filters)) {
      // Amounts are at most 13 digits and 2 decimals: exact in a double, as Excel stores them.
      // A forged payment's amount is empty, never a 0 a sum would count.
      sheet.addRow({ ...row, amount: row.amount === '' ? null : Number(row.amount) }).commit();
      if (res.destroyed) break;
    }
    sheet.commit();
    await workbook.commit();
  });

  router.get(`${BASE}/payments/:id`, async (req, res) => {
    const ctx = pageContext(req, res);
    const payment = await openPayment(req, res, 'view_payment');
    if (!payment) return notFound(req, res);
    const holds = payment.integrityProblem === undefined;
    // Bodies only through the audit repository: it is the one place that decrypts them. A final
    // payment's notification to the ERP judged as a requeue judges it (held back in SQL: offered again).
    const [exchanges, clients, duplicates, heldBack, requeued] = await Promise.all([
      store.audit.list({ clientId: payment.clientId, transactionId: payment.transactionId, limit: 1000 }),
      store.clients.list(),
      payment.state === 'SUCCESS' && holds ? store.paymentSearch.duplicatesOf(payment) : Promise.resolve([]),
      holds && (payment.state === 'SUCCESS' || payment.state === 'FAILED') ? store.callbacks.deliveryProblemOf(payment.clientId, payment.transactionId) : Promise.resolve(null),
      req.query.requeue === 'done' ? requeueShown(res, payment.id) : Promise.resolve(undefined),
    ]);
    const name = new Map(clients.map((c) => [c.id, c.name]));
    res.type('html').send(
      paymentDetailPage(ctx, {
        story: paymentStory(payment, exchanges, seesBodies(ctx.user.role)),
        clientName: name.get(payment.clientId) ?? payment.clientId,
        // A forged payment is no proof of a double payment, nor is its amount shown.
        duplicates: duplicates.filter((d) => d.integrityProblem === undefined).map((d) => ({ payment: d, clientName: name.get(d.clientId) ?? d.clientId })),
        back: listLink(req.query.back),
        ...(heldBack === null ? {} : { heldBack: { paymentId: payment.id, problem: heldBack } }),
        ...(requeued === undefined ? {} : { requeued }),
      }),
    );
  });

  /** What the requeue of payment `paymentId` left for its page (its flash, taken once); undefined when none. */
  async function requeueShown(res: Response, paymentId: number): Promise<RequeueShown | undefined> {
    const { session, lang } = signedIn(res);
    const text = await store.consoleSessions.takeFlash(session.idHash, 'requeue').catch(() => null);
    type Kept = { requeue?: { payment: number; requeued: boolean; refused?: string } } | null;
    const flash = ((): Kept => {
      try {
        return text === null ? null : (JSON.parse(text) as Kept);
      } catch {
        return null; // another page's message, or none that reads: nothing to show here
      }
    })();
    if (flash?.requeue?.payment !== paymentId) return undefined;
    const { requeued, refused } = flash.requeue;
    return requeued ? { requeued } : { requeued, refused: requeueRefusalWords(lang, refused ?? '') };
  }

  /**
   * POST /console/payments/{id}/requeue (admins; CSRF as every form): the payment's notification
   * to the ERP queued again (requeueCallback, audited with via `console`, and in the console
   * audit). The first post answers the confirmation naming the client and the transaction; the
   * confirmed one does it and redirects to the detail page (Post/Redirect/Get: a reload repeats
   * nothing), which shows the outcome once, a refusal in the clerk's language where it is known.
   */
  router.post(`${BASE}/payments/:id/requeue`, requireRoleRecorded(store.consoleAudit, clock, 'admin'), async (req, res) => {
    const ctx = pageContext(req, res);
    const raw = String(req.params.id);
    const payment = /^\d{1,15}$/.test(raw) ? await store.paymentSearch.findById(Number(raw)) : null;
    if (!payment) return notFound(req, res);
    // Judged by requeueCallback (reasonProblem), as from the CLI: not cut here.
    const reason = (typeof req.body?.reason === 'string' ? (req.body.reason as string) : '').trim();
    if (req.body?.confirmed !== 'yes') {
      const client = await store.clients.findById(payment.clientId);
      res.type('html').send(requeueConfirmPage(ctx, { paymentId: payment.id, clientId: payment.clientId, clientName: client?.name ?? payment.clientId, transactionId: payment.transactionId, reason }));
      return;
    }
    const outcome = await requeueCallback(
      { payments: store.payments, callbacks: store.callbacks, consoleUsers: store.consoleUsers, audit: store.audit, chains: deps.chains, clock },
      { clientId: payment.clientId, transactionId: payment.transactionId, admin: ctx.user.username, reason, via: 'console' },
    );
    await store.consoleAudit.record({
      at: clock(),
      username: ctx.user.username,
      action: 'callback_requeue',
      target: `payment:${payment.id}`,
      // A reason refused (too long, a control or direction character) is kept bounded and visible.
      detail: `${outcome.requeued ? `requeued (${outcome.found})` : `refused: ${outcome.refused}`}; reason: ${visibleText(reason.slice(0, OPERATOR_REASON_MAX))}`,
      remoteIp: remoteIp(req),
    });
    await store.consoleSessions.setFlash(ctx.session.idHash, 'requeue', JSON.stringify({ requeue: { payment: payment.id, requeued: outcome.requeued, ...(outcome.requeued ? {} : { refused: outcome.refused }) } }));
    res.redirect(303, `${BASE}/payments/${payment.id}?requeue=done`);
  });

  router.get(`${BASE}/payments/:id/proof`, async (req, res) => {
    const ctx = pageContext(req, res);
    const payment = await openPayment(req, res, 'print_proof');
    if (!payment) return notFound(req, res);
    // No proof of a payment changed outside Gerbang: its detail page shows it marked.
    if (payment.integrityProblem !== undefined) throw new IntegrityError(payment.integrityProblem);
    const client = await store.clients.findById(payment.clientId);
    const full = seesBodies(ctx.user.role);
    const account = (value: string | null | undefined) => (value ? (full ? value : maskAccount(value)) : null);
    res.status(payment.state === 'SUCCESS' ? 200 : 409).type('html').send(
      proofPage(ctx, {
        payment,
        clientName: client?.name ?? payment.clientId,
        sourceAccount: account(payment.details?.sourceAccount ?? payment.sourceAccount),
        beneficiaryAccount: account(payment.details?.beneficiaryAccount) ?? payment.beneficiaryAccountMasked,
        printedAt: formatWhen(ctx.lang, clock()),
      }),
    );
  });

  return router;
}
