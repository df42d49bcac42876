import { Router } from 'express';
import type { Store } from '../../store/types.js';
import { signedIn } from '../console-locals.js';
import { BASE } from '../console-sessions.js';
import { dailyOverview } from '../daily-overview.js';
import { overviewPage } from '../views/overview-page.js';

const DAY_MS = 86_400_000;
const JAKARTA_OFFSET_MS = 7 * 3_600_000;

/** GET /console/overview?days=N: daily counts, totals, failure rate and bank latency, and the last audit-chain verification. */
export function overviewRoutes(deps: { store: Store; clock: () => number }): Router {
  const router = Router();
  router.get(`${BASE}/overview`, async (req, res) => {
    const locals = signedIn(res);
    const days = [7, 14, 30].includes(Number(req.query.days)) ? Number(req.query.days) : 14;
    const now = deps.clock();
    // Whole days in Jakarta time: from midnight (UTC+7) `days - 1` days ago up to now.
    const from = Math.floor((now + JAKARTA_OFFSET_MS) / DAY_MS - (days - 1)) * DAY_MS - JAKARTA_OFFSET_MS;
    const [totals, latency, chain] = await Promise.all([
      deps.store.paymentSearch.dailyTotals(from, now + 1),
      deps.store.paymentSearch.dailyBankLatency(from, now + 1),
      deps.store.auditVerifications.latest(),
    ]);
    res.type('html').send(overviewPage({ ...locals, here: req.originalUrl, csrfToken: locals.session.csrfToken }, { days, overview: dailyOverview(totals, latency, from, now), chain }));
  });
  return router;
}
