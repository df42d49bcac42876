import { parse as parseCookies, serialize as serializeCookie } from 'cookie';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { getLogger } from '../log/index.js';
import type { ConsoleAuditRepository, ConsoleRole, ConsoleSessionRepository, ConsoleUserRepository } from '../store/types.js';
import { consoleLocals, signedIn } from './console-locals.js';
import { parseLang, translator } from './i18n.js';
import { messagePage } from './views/message-page.js';

const log = getLogger('console');

export const SESSION_COOKIE = 'gerbang_console';
export const LANG_COOKIE = 'gerbang_lang';
/** Every console path lives under this prefix (the API answers 404 for all of them). */
export const BASE = '/console';

function digest(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

export function cookiesOf(req: Request): Record<string, string | undefined> {
  return parseCookies(req.headers.cookie ?? '');
}

/**
 * The session cookie: HttpOnly (no script reads it), SameSite=Strict (no other site's page
 * sends it, the first wall against CSRF), Path=/console, Secure when the request came over TLS.
 * No Max-Age: it ends with the browser, and the store ends it after the idle timeout.
 */
function sessionCookie(req: Request, value: string, clear = false): string {
  return serializeCookie(SESSION_COOKIE, value, {
    httpOnly: true,
    sameSite: 'strict',
    secure: req.secure,
    path: BASE,
    ...(clear ? { maxAge: 0 } : {}),
  });
}

/** Starts a session for `userId`: a random cookie value whose sha256 is all the store keeps. */
export async function startSession(req: Request, res: Response, sessions: ConsoleSessionRepository, userId: number, now: number): Promise<void> {
  const id = randomBytes(32).toString('base64url');
  await sessions.create({ idHash: digest(id), userId, csrfToken: randomBytes(24).toString('base64url'), createdAt: now, lastSeenAt: now });
  res.append('Set-Cookie', sessionCookie(req, id));
}

export async function endSession(req: Request, res: Response, sessions: ConsoleSessionRepository): Promise<void> {
  const id = cookiesOf(req)[SESSION_COOKIE];
  if (id) await sessions.delete(digest(id));
  res.append('Set-Cookie', sessionCookie(req, '', true));
}

/** Language from its cookie (Indonesian unless English was chosen), for every console page. */
export function languageStep(): RequestHandler {
  return (req, _res, next) => {
    const locals = consoleLocals(_res);
    locals.lang = parseLang(cookiesOf(req)[LANG_COOKIE]);
    locals.t = translator(locals.lang);
    next();
  };
}

export interface SessionStepOptions {
  sessions: ConsoleSessionRepository;
  users: ConsoleUserRepository;
  idleTimeoutMs: number;
  clock: () => number;
}

/**
 * Loads the signed-in user, or sends the browser to the sign-in page: no cookie, an unknown
 * or idle session (it is deleted), a disabled user. Each request that passes renews the idle timer.
 */
export function sessionStep(options: SessionStepOptions): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const id = cookiesOf(req)[SESSION_COOKIE];
    const now = options.clock();
    const session = id ? await options.sessions.find(digest(id)) : null;
    if (!session) return res.redirect(303, `${BASE}/sign-in`);
    if (session.lastSeenAt + options.idleTimeoutMs <= now) {
      await options.sessions.delete(session.idHash);
      res.append('Set-Cookie', sessionCookie(req, '', true));
      return res.redirect(303, `${BASE}/sign-in?expired=1`);
    }
    const user = await options.users.findById(session.userId);
    if (!user || user.status !== 'active') {
      await options.sessions.delete(session.idHash);
      res.append('Set-Cookie', sessionCookie(req, '', true));
      return res.redirect(303, `${BASE}/sign-in`);
    }
    await options.sessions.touch(session.idHash, now);
    const locals = consoleLocals(res);
    locals.user = user;
    locals.session = session;
    next();
  };
}

/**
 * CSRF: every state-changing request carries the session's token in the `_csrf` form field
 * (synchronizer token), on top of SameSite=Strict. Compared in constant time.
 */
export function csrfStep(): RequestHandler {
  return (req, res, next) => {
    if (req.method === 'GET' || req.method === 'HEAD') return next();
    const { session, t } = signedIn(res);
    const sent = typeof req.body?._csrf === 'string' ? Buffer.from(req.body._csrf) : Buffer.alloc(0);
    const expected = Buffer.from(session.csrfToken);
    if (sent.length !== expected.length || !timingSafeEqual(sent, expected)) {
      res.status(403).type('text/plain').send(t('forbidden'));
      return;
    }
    next();
  };
}

/** Lets only the given roles through; others get a 403 page with a way back. */
export function requireRole(...roles: ConsoleRole[]): RequestHandler {
  return roleGate(roles);
}

/**
 * requireRole for a change (a POST that queues, resolves): a user of another role is refused 403
 * as there, and the refusal is kept in the console audit first (action `forbidden`, the page as
 * its target, the role that asked and the roles allowed), so a viewer's or an auditor's attempt
 * is on the access log, not only in the web server's. When that record cannot be written the
 * answer is still 403 (logged).
 */
export function requireRoleRecorded(audit: Pick<ConsoleAuditRepository, 'record'>, clock: () => number, ...roles: ConsoleRole[]): RequestHandler {
  return roleGate(roles, async (req, user) => {
    const detail = `${req.method} refused: role ${user.role}; only ${roles.join(' or ')} may`;
    await audit
      .record({ at: clock(), username: user.username, action: FORBIDDEN_ACTION, target: req.originalUrl.slice(0, 191), detail, remoteIp: req.ip ?? req.socket.remoteAddress ?? 'unknown' })
      .catch((error: unknown) => log.error({ err: error, path: req.originalUrl, username: user.username }, 'a forbidden console request could not be recorded'));
  });
}

/** The console audit's action of a request refused for its user's role (requireRoleRecorded). */
export const FORBIDDEN_ACTION = 'forbidden';

function roleGate(roles: ConsoleRole[], refused?: (req: Request, user: { username: string; role: ConsoleRole }) => Promise<void>): RequestHandler {
  return async (req, res, next) => {
    const { user, session, t, lang, sandbox } = signedIn(res);
    if (!roles.includes(user.role)) {
      await refused?.(req, user);
      res.status(403).type('html').send(messagePage({ t, lang, user, sandbox, here: req.originalUrl, csrfToken: session.csrfToken }, t('pageForbidden'), t('forbidden')));
      return;
    }
    next();
  };
}

/** Roles that see message bodies and full account numbers. */
export function seesBodies(role: ConsoleRole): boolean {
  return role === 'auditor' || role === 'admin';
}
