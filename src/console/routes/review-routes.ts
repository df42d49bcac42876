import { Router, type Request, type Response } from 'express';
import { outboxNotifier } from '../../domain/callbacks/index.js';
import { listReviewQueue, resolveReview, type AdminEvidenceKind } from '../../domain/transfers/index.js';
import { isAppError } from '../../errors/index.js';
import type { Store } from '../../store/types.js';
import { signedIn } from '../console-locals.js';
import { statusLabel } from '../i18n.js';
import { crossCheckWords } from '../review-words.js';
import { statementLines, type StatementReader } from '../statement-reader.js';
import { BASE, requireRoleRecorded } from '../console-sessions.js';
import { reviewPage, type ReviewView } from '../views/review-page.js';
import { remoteIp } from './sign-in-routes.js';

/**
 * GET /console/review: the review queue, for every role. POST /console/review/{id}/resolve: an
 * admin records the evidence and the outcome (the domain reads the paying account's statement
 * through `statements` to cross-check it, audits it and tells the ERP); the console audit keeps
 * who did it too. A resolution the statement contradicts is refused with what was found.
 */
/** A refused resolution that names no field, by its error code: the rule its words are kept under (field-errors.ts). */
const FORM_RULES: Record<string, string> = { NOT_FOUND: 'review-not-found', REVIEW_CONFLICT: 'review-not-in-queue', REVIEW_FORBIDDEN: 'review-forbidden' };

export function reviewRoutes(deps: { store: Store; statements: StatementReader; dayCloseWib: string; clock: () => number }): Router {
  const { store, clock } = deps;
  const statements = { lines: statementLines(deps.statements), dayCloseWib: deps.dayCloseWib };
  const router = Router();

  async function render(req: Request, res: Response, status: number, extra: Partial<ReviewView> = {}): Promise<void> {
    const locals = signedIn(res);
    const [items, clients] = await Promise.all([listReviewQueue(store.paymentSearch, clock()), store.clients.list()]);
    const clientNames = new Map(clients.map((c) => [c.id, c.name]));
    res.status(status).type('html').send(reviewPage({ ...locals, here: `${BASE}/review`, csrfToken: locals.session.csrfToken }, { items, clientNames, ...extra }));
  }

  router.get(`${BASE}/review`, (req, res) => render(req, res, 200));

  router.post(`${BASE}/review/:id/resolve`, requireRoleRecorded(store.consoleAudit, clock, 'admin'), async (req, res) => {
    const locals = signedIn(res);
    const text = (name: string) => (typeof req.body?.[name] === 'string' ? (req.body[name] as string) : '');
    const raw = String(req.params.id);
    const id = /^\d{1,15}$/.test(raw) ? Number(raw) : -1;
    try {
      const result = await resolveReview(
        { payments: store.payments, audit: store.audit, consoleUsers: store.consoleUsers, batches: store.batches, clock, finals: outboxNotifier(store.callbacks, store.audit, clock), statements },
        {
          paymentId: id,
          outcome: text('outcome') as 'SUCCESS' | 'FAILED',
          evidenceKind: text('evidenceKind') as AdminEvidenceKind,
          evidence: text('evidence'),
          admin: locals.user.username,
          via: 'console',
          remoteIp: remoteIp(req),
        },
      );
      await store.consoleAudit.record({ at: clock(), username: locals.user.username, action: 'review.resolve', target: result.transactionId, detail: `${result.status}: ${text('evidenceKind')}`, remoteIp: remoteIp(req) });
      await render(req, res, 200, { notice: `${locals.t('reviewResolved')} ${result.transactionId}: ${statusLabel(locals.lang, result.status)}`, crossCheck: crossCheckWords(locals.lang, result.crossCheck) });
    } catch (error) {
      if (isAppError(error) && error.code === 'REVIEW_CONTRADICTED') {
        const found = String(error.extensions.found ?? error.message);
        await render(req, res, error.status, { contradicted: { text: locals.t(text('outcome') === 'SUCCESS' ? 'reviewContradictedSUCCESS' : 'reviewContradictedFAILED'), found } });
        return;
      }
      if (!isAppError(error) || !['VALIDATION_FAILED', 'NOT_FOUND', 'REVIEW_CONFLICT', 'REVIEW_FORBIDDEN'].includes(error.code)) throw error;
      // The form's own error by its code (FORM_RULES), worded on the page; its English message as the fallback.
      await render(req, res, error.status, { errors: error.fields.length > 0 ? error.fields : [{ field: 'form', message: error.message, rule: FORM_RULES[error.code] }] });
    }
  });
  return router;
}
