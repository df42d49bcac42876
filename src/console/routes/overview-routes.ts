import { Router } from 'express';
import type { KeptTotalsProblem, ProvedDailyTotals, Store } from '../../store/types.js';
import { jakartaDay, jakartaDayStart } from '../../time/index.js';
import { signedIn } from '../console-locals.js';
import type { BankLatencyDays } from '../bank-latency-days.js';
import { BASE } from '../console-sessions.js';
import { dailyOverview } from '../daily-overview.js';
import { overviewPage } from '../views/overview-page.js';


/**
 * The days' counts and sums proved row by row when the range holds few enough payments
 * (PROVED_LIMIT), else as stored (closed days as kept when they closed), which the page then says,
 * naming the kept day totals that do not hold.
 */
async function dailyFigures(store: Store, from: number, to: number): Promise<ProvedDailyTotals & { proof: 'proved' | 'stored'; integrityProblems: KeptTotalsProblem[] }> {
  const proved = await store.paymentSearch.provedDailyTotals(from, to);
  if (proved) return { ...proved, proof: 'proved', integrityProblems: [] };
  const stored = await store.paymentSearch.dailyTotals(from, to);
  return { totals: stored.totals, changed: [], proof: 'stored', integrityProblems: stored.integrityProblems };
}

/** The periods the overview offers, in days (the last one the longest). */
export const OVERVIEW_DAYS = [7, 14, 30] as const;

/**
 * GET /console/overview?days=N: daily counts, totals, failure rate and bank latency, and the last
 * audit-chain verification, unless the database lacks what the audit checkpoints outside it vouched
 * for (`checkpoints`). `latencyDays` keeps the closed days' bank response times of this process.
 */
export function overviewRoutes(deps: { store: Store; clock: () => number; checkpoints: () => Promise<string | null>; latencyDays: BankLatencyDays }): Router {
  const router = Router();
  router.get(`${BASE}/overview`, async (req, res) => {
    const locals = signedIn(res);
    const days = (OVERVIEW_DAYS as readonly number[]).includes(Number(req.query.days)) ? Number(req.query.days) : 14;
    const now = deps.clock();
    // Whole days in Jakarta time: from midnight (UTC+7) `days - 1` days ago up to now.
    const from = jakartaDayStart(jakartaDay(now) - (days - 1));
    const [figures, latency, chain, rolledBack] = await Promise.all([
      dailyFigures(deps.store, from, now + 1),
      deps.latencyDays.between(from, now + 1, now),
      deps.store.auditVerifications.latest(),
      deps.checkpoints(),
    ]);
    const overview = dailyOverview(figures.totals, latency, from, now, figures.changed);
    res.type('html').send(overviewPage({ ...locals, here: req.originalUrl, csrfToken: locals.session.csrfToken }, { days, overview, proof: figures.proof, integrityProblems: figures.integrityProblems, chain, rolledBack }));
  });
  return router;
}
