import { Router } from 'express';
import type { Store } from '../../store/types.js';
import { signedIn } from '../console-locals.js';
import { BASE } from '../console-sessions.js';
import { dailyOverview } from '../daily-overview.js';
import { overviewPage } from '../views/overview-page.js';

export interface ChainStatus {
  ok: boolean;
  checkedAt: number;
  /** The first broken link, or how many rows were verified. */
  detail: string;
}

export type ChainStatusSource = () => Promise<ChainStatus | null>;

const DAY_MS = 86_400_000;

/** GET /console/overview?days=N: daily counts, totals, failure rate and bank latency, and the chain status. */
export function overviewRoutes(deps: { store: Store; clock: () => number; chainStatus: ChainStatusSource }): Router {
  const router = Router();
  router.get(`${BASE}/overview`, async (req, res) => {
    const locals = signedIn(res);
    const days = [7, 14, 30].includes(Number(req.query.days)) ? Number(req.query.days) : 14;
    const now = deps.clock();
    const from = now - days * DAY_MS;
    const [totals, latency, chain] = await Promise.all([
      deps.store.paymentSearch.dailyTotals(from, now + 1),
      deps.store.paymentSearch.dailyBankLatency(from, now + 1),
      deps.chainStatus(),
    ]);
    res.type('html').send(overviewPage({ ...locals, here: req.originalUrl, csrfToken: locals.session.csrfToken }, { days, overview: dailyOverview(totals, latency), chain }));
  });
  return router;
}
