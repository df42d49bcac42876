import express, { Router, type Request } from 'express';
import type { ConsoleSessionRepository } from '../../store/types.js';
import { consoleLocals, signedIn } from '../console-locals.js';
import { BASE, endSession, startSession } from '../console-sessions.js';
import { signIn, type SignInDeps } from '../sign-in-use-case.js';
import { signInPage } from '../views/sign-in-page.js';

export interface SignInRouteDeps extends SignInDeps {
  sessions: ConsoleSessionRepository;
}

function ip(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}

/**
 * A sign-in form is a CSRF target too (signing a victim into the attacker's account): it is
 * only accepted from a page of this same origin.
 */
function sameOrigin(req: Request): boolean {
  const origin = req.get('origin');
  if (origin === undefined) return true;
  return origin === `${req.protocol}://${req.get('host')}`;
}

/** GET/POST /console/sign-in (public) and the sign-out handler (mounted behind the session step). */
export function signInRoutes(deps: SignInRouteDeps): Router {
  const router = Router();
  const form = express.urlencoded({ extended: false, limit: '8kb', parameterLimit: 10 });
  router.get(`${BASE}/sign-in`, (req, res) => {
    const locals = consoleLocals(res);
    const note = req.query.expired ? locals.t('sessionExpired') : req.query.out ? locals.t('signedOut') : null;
    res.type('html').send(signInPage({ ...locals, here: req.originalUrl }, note ? { kind: 'info', text: note } : null));
  });
  router.post(`${BASE}/sign-in`, form, async (req, res) => {
    const locals = consoleLocals(res);
    const ctx = { ...locals, here: `${BASE}/sign-in` };
    if (!sameOrigin(req)) return void res.status(403).type('text/plain').send(locals.t('forbidden'));
    const username = typeof req.body?.username === 'string' ? req.body.username : '';
    const password = typeof req.body?.password === 'string' ? req.body.password : '';
    const result = await signIn(deps, { username, password, remoteIp: ip(req) });
    if (!result.ok) {
      const text = result.reason === 'throttled' ? locals.t('signInThrottled') : result.reason === 'locked' ? locals.t('accountLocked') : locals.t('signInFailed');
      if (result.retryAfterMs !== undefined) res.setHeader('Retry-After', String(Math.ceil(result.retryAfterMs / 1000)));
      return void res.status(result.reason === 'invalid' ? 401 : 429).type('html').send(signInPage(ctx, { kind: 'error', text }, username));
    }
    await startSession(req, res, deps.sessions, result.user.id, deps.clock());
    res.redirect(303, `${BASE}/payments`);
  });
  return router;
}

export function signOutRoute(deps: SignInRouteDeps): Router {
  const router = Router();
  router.post(`${BASE}/sign-out`, async (req, res) => {
    const { user } = signedIn(res);
    await endSession(req, res, deps.sessions);
    await deps.audit.record({ at: deps.clock(), username: user.username, action: 'sign_out', target: null, detail: null, remoteIp: ip(req) });
    res.redirect(303, `${BASE}/sign-in?out=1`);
  });
  return router;
}

export { ip as remoteIp };
