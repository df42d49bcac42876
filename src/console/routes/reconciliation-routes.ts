import { Router } from 'express';
import { MAX_STATEMENT_DAYS } from '../../banks/types.js';
import { paymentDay } from '../../domain/transfers/index.js';
import type { KeyRing } from '../../security/index.js';
import type { Store } from '../../store/types.js';
import { acceptedDays } from '../day-acceptances.js';
import { jakartaDate } from '../../time/index.js';
import { signedIn } from '../console-locals.js';
import { BASE } from '../console-sessions.js';
import { maskAccount, parseTypedDay } from '../format.js';
import { matchPeriod, periodPayments, StatementMatches } from '../reconcile-period.js';
import type { Translate } from '../i18n.js';
import { StatementReadError, type StatementReader } from '../statement-reader.js';
import { reconciliationPage, type ReconciliationForm, type ReconciliationView } from '../views/reconciliation-page.js';
import { remoteIp } from './sign-in-routes.js';

const DAY_MS = 86_400_000;

function text(value: unknown): string {
  return typeof value === 'string' ? value.trim().slice(0, 40) : '';
}

function addDays(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/** The form's problems in the clerk's words; the days come back as yyyy-MM-dd when valid. */
function checkForm(form: ReconciliationForm, today: string, t: Translate): { errors: ReconciliationView['errors']; from: string; to: string } {
  const errors: ReconciliationView['errors'] = [];
  if (!/^\d{6,20}$/.test(form.account.replace(/[\s.-]/g, ''))) errors.push({ field: 'account', message: t('reconAccountInvalid') });
  const from = parseTypedDay(form.from);
  const to = parseTypedDay(form.to);
  if (from === null) errors.push({ field: 'from', message: `${t('dateFrom')}: ${t('mustBeDate')}` });
  if (to === null) errors.push({ field: 'to', message: `${t('dateTo')}: ${t('mustBeDate')}` });
  if (from !== null && to !== null) {
    // The bank's rules (bank-apis.md): from ≤ to ≤ today, at most 31 days, both ends counted.
    if (from > to) errors.push({ field: 'from', message: t('reconReversed') });
    else if (to > today) errors.push({ field: 'to', message: t('reconFuture') });
    else if ((Date.parse(to) - Date.parse(from)) / DAY_MS >= MAX_STATEMENT_DAYS) errors.push({ field: 'to', message: t('reconTooLong') });
  }
  return { errors, from: from ?? '', to: to ?? '' };
}

/**
 * GET /console/reconciliation?account&from&to: a company account's statement (read through
 * Gerbang's API by `statements`) beside Gerbang's payments from that account, for every role.
 * `?payment=ID` (the review queue's link) opens it on that payment's paying account and days,
 * unless the payment is marked changed outside Gerbang: then the page shows the mark, unfilled.
 * A day of the period an operator accepted (gerbang audit accept-day) carries a note saying who,
 * when, why and what, read from the console audit's entries that hold under their chain links.
 * A refusal or an outage of the bank or the API is shown in words on the page, never as a crash.
 */
export function reconciliationRoutes(deps: { store: Store; keys: KeyRing; statements: StatementReader; clock: () => number }): Router {
  const { store, keys, statements, clock } = deps;
  const router = Router();
  // The last matching, for a page opened again with the same statement and payments.
  const matches = new StatementMatches();

  router.get(`${BASE}/reconciliation`, async (req, res) => {
    const locals = signedIn(res);
    const ctx = { ...locals, here: req.originalUrl, csrfToken: locals.session.csrfToken };
    const { t } = ctx;
    const today = jakartaDate(clock());
    let form: ReconciliationForm = { account: text(req.query.account), from: text(req.query.from), to: text(req.query.to) };
    let focus: number | undefined;
    const paymentParam = text(req.query.payment);
    if (/^\d{1,15}$/.test(paymentParam)) {
      const payment = await store.paymentSearch.findById(Number(paymentParam));
      if (payment?.integrityProblem !== undefined) {
        // A payment changed outside Gerbang fills nothing: its account and days may be the forger's.
        res.type('html').send(reconciliationPage(ctx, { form: { account: '', from: addDays(today, -1), to: today }, errors: [], forged: payment.integrityProblem }));
        return;
      }
      if (payment?.sourceAccount) {
        const day = paymentDay(payment);
        const next = addDays(day, 1);
        form = { account: payment.sourceAccount, from: day, to: next <= today ? next : day };
        focus = payment.id;
      } else if (payment) {
        res.type('html').send(reconciliationPage(ctx, { form: { account: '', from: addDays(today, -1), to: today }, errors: [], notice: t('reconNoAccount') }));
        return;
      }
    }
    if (form.account === '' && form.from === '' && form.to === '') {
      // First visit: yesterday and today, what finance checks every morning.
      res.type('html').send(reconciliationPage(ctx, { form: { account: '', from: addDays(today, -1), to: today }, errors: [] }));
      return;
    }
    const checked = checkForm(form, today, t);
    if (checked.errors.length > 0) {
      res.status(400).type('html').send(reconciliationPage(ctx, { form, errors: checked.errors }));
      return;
    }
    const account = form.account.replace(/[\s.-]/g, '');
    await store.consoleAudit.record({
      at: clock(),
      username: ctx.user.username,
      action: 'reconcile',
      target: `account:${maskAccount(account)}`,
      detail: `${checked.from}..${checked.to}`,
      remoteIp: remoteIp(req),
    });
    // Gerbang's payments are read and proved while the bank's statement is read (neither needs
    // the other): the clerk waits for the slower of the two, not for both one after the other.
    const payments = periodPayments(store.paymentSearch, account, checked.from, checked.to);
    // The days an operator accepted (gerbang audit accept-day), from the console audit's proved entries.
    const accepted = acceptedDays(store.consoleAudit, keys, account, checked.from, checked.to);
    // Settled even when the statement's read fails first and the page answers without them.
    payments.catch(() => undefined);
    accepted.catch(() => undefined);
    let statement: Awaited<ReturnType<StatementReader['read']>>;
    try {
      statement = await statements.read(account, checked.from, checked.to);
    } catch (error) {
      if (!(error instanceof StatementReadError)) throw error;
      const status = error.problem === 'unknown-account' || error.problem === 'period' ? 400 : 502;
      res.status(status).type('html').send(reconciliationPage(ctx, { form, errors: [], readError: error, focus }));
      return;
    }
    const matched = matchPeriod(await payments, checked.from, checked.to, statement.entries, matches);
    res.type('html').send(reconciliationPage(ctx, { form, errors: [], result: { bank: statement.bank, bankCode: statement.bankCode, ...matched, accepted: await accepted }, focus }));
  });

  return router;
}
