import { Router, type RequestHandler } from 'express';
import type { Db } from '../../store/types.js';
import { mountRoute, type ApiRoutes } from '../api/index.js';

export interface HealthDeps {
  /** `sandbox`: /readyz says so (the simulator plays the bank; no money moves). */
  mode: 'sandbox' | 'live';
  db: Db;
  pendingMigrations: () => Promise<string[]>;
  /** Uses the keys (see checkKeys); throws naming the setting at fault. */
  checkKeys: () => string;
  /** Why the store is held (behind its audit checkpoints), or null. */
  held: () => string | null;
  /** /readyz names its mode and checks (for the operator's own probes); else it says only ready or not. */
  detail: boolean;
}

/**
 * GET /healthz: the process is up (for PM2 and load balancers). GET /readyz: it can serve
 * payments — the store answers, every migration is applied, the keys work (an access token
 * signs and verifies, an audit value seals and opens), and the store holds what the audit
 * checkpoints outside it vouched for; 503 otherwise, naming the failing check.
 * With `detail`, `mode` says `live` or `sandbox` (with a warning: nothing it reports moved money)
 * and `checks` names each check's state; without, the answer is the status alone (what a load
 * balancer needs), so a caller from elsewhere learns nothing of the installation. `steps` run
 * before each probe (who may ask, the per-IP limit).
 */
export function healthRoutes(routes: ApiRoutes, deps: HealthDeps, steps: RequestHandler[] = []): Router {
  const router = Router();
  mountRoute(router, routes.health, steps, (_req, res) => {
    res.status(200).json({ status: 'ok' });
  });
  mountRoute(router, routes.readiness, steps, async (_req, res) => {
    const checks: Record<string, string> = {};
    try {
      await deps.db.ping();
      checks.store = 'ok';
      const pending = await deps.pendingMigrations();
      checks.migrations = pending.length === 0 ? 'ok' : `pending: ${pending.join(', ')}`;
    } catch {
      checks.store = 'unreachable';
    }
    checks.checkpoints = deps.held() ?? 'ok';
    try {
      deps.checkKeys();
      checks.keys = 'ok';
    } catch (error) {
      checks.keys = (error as Error).message;
    }
    const ready = Object.values(checks).every((value) => value === 'ok') && checks.migrations !== undefined;
    if (!deps.detail) {
      res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'unready' });
      return;
    }
    const sandbox = deps.mode === 'sandbox' ? { mode: 'sandbox', warning: 'SANDBOX MODE: payments go to the built-in bank simulator; no bank is contacted and no money moves' } : { mode: 'live' };
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'unready', ...sandbox, checks });
  });
  return router;
}
