import { Router } from 'express';
import type { Store } from '../../store/types.js';
import { signedIn } from '../console-locals.js';
import { BASE, requireRole } from '../console-sessions.js';
import { accessLogPage } from '../views/access-log-page.js';

/** The console's own access log (who signed in, viewed, exported or changed what), for auditors and admins. */
export function accessLogRoutes(deps: { store: Store }): Router {
  const router = Router();
  router.get(`${BASE}/access-log`, requireRole('auditor', 'admin'), async (req, res) => {
    const locals = signedIn(res);
    const text = (value: unknown) => (typeof value === 'string' ? value.trim().slice(0, 64) : '');
    const filter = { username: text(req.query.user), action: text(req.query.action) };
    const entries = await deps.store.consoleAudit.list({ username: filter.username || undefined, action: filter.action || undefined, limit: 500 });
    res.type('html').send(accessLogPage({ ...locals, here: req.originalUrl, csrfToken: locals.session.csrfToken }, entries, filter));
  });
  return router;
}
