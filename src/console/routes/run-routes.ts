import { Router } from 'express';
import type { Store } from '../../store/types.js';
import { signedIn } from '../console-locals.js';
import { BASE, seesBodies } from '../console-sessions.js';
import { messagePage } from '../views/message-page.js';
import { runPage, runsListPage } from '../views/runs-page.js';
import { remoteIp } from './sign-in-routes.js';

/** Payment runs: the newest runs, and one run with every line's facts, outcome and link. */
export function runRoutes(deps: { store: Store; clock: () => number }): Router {
  const { store, clock } = deps;
  const router = Router();

  router.get(`${BASE}/runs`, async (req, res) => {
    const locals = signedIn(res);
    const ctx = { ...locals, here: req.originalUrl, csrfToken: locals.session.csrfToken };
    const [runs, clients] = await Promise.all([store.paymentSearch.recentRuns(100), store.clients.list()]);
    res.type('html').send(runsListPage(ctx, runs, new Map(clients.map((c) => [c.id, c.name]))));
  });

  router.get(`${BASE}/runs/:id`, async (req, res) => {
    const locals = signedIn(res);
    const ctx = { ...locals, here: req.originalUrl, csrfToken: locals.session.csrfToken };
    const found = /^\d{1,15}$/.test(req.params.id) ? await store.paymentSearch.run(Number(req.params.id)) : null;
    if (!found) {
      res.status(404).type('html').send(messagePage(ctx, ctx.t('pageNotFound'), ctx.t('notFound')));
      return;
    }
    await store.consoleAudit.record({
      at: clock(),
      username: ctx.user.username,
      action: 'view_run',
      target: `run:${found.batch.id}`,
      detail: `${found.batch.clientId} ${found.batch.batchId}`,
      remoteIp: remoteIp(req),
    });
    const client = await store.clients.findById(found.batch.clientId);
    res.type('html').send(runPage(ctx, found.batch, found.lines, client?.name ?? found.batch.clientId, seesBodies(ctx.user.role)));
  });

  return router;
}
