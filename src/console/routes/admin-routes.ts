import { Router, type Request, type Response } from 'express';
import { createClient, changeAccountGrants, rotateClientSecret, setClientAllowlists } from '../../domain/clients/index.js';
import { AppError, isAppError, type FieldError } from '../../errors/index.js';
import { createHash } from 'node:crypto';
import { CONSOLE_ROLES, type ClientRecord, type ConsoleRole, type Store } from '../../store/types.js';
import { signedIn } from '../console-locals.js';
import { BASE } from '../console-sessions.js';
import { createConsoleUser, resetConsolePassword } from '../console-users.js';
import { unlockConsoleUser } from '../sign-in-use-case.js';
import { getLogger } from '../../log/index.js';
import { adminPage, confirmPage, type AdminView, type TypedForm } from '../views/admin-page.js';
import { messagePage } from '../views/message-page.js';
import { remoteIp } from './sign-in-routes.js';

const log = getLogger('console');

/** What a change leaves for the next GET of the admin page (kept sealed with the session). */
interface Flash {
  notice: string;
  secret?: { clientId: string; clientSecret: string };
}

function field(req: Request, name: string): string {
  const value = req.body?.[name];
  return typeof value === 'string' ? value : '';
}

/** A textarea with one entry per line (commas accepted too) → the trimmed, non-empty entries. */
function list(req: Request, name: string): string[] {
  return field(req, name)
    .split(/[\n,]/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}

/**
 * Clients (create, enable/disable, rotate secret, edit allowlists and granted accounts) and console users (create,
 * change role, enable/disable), for admins only: the role check sits in front, in console-app.ts.
 * Every change is written to the console audit.
 */
export function adminRoutes(deps: { store: Store; clock: () => number }): Router {
  const { store, clock } = deps;
  const router = Router();

  async function render(req: Request, res: Response, status: number, extra: Partial<AdminView> = {}): Promise<void> {
    const locals = signedIn(res);
    const [clients, users] = await Promise.all([store.clients.list(), store.consoleUsers.list()]);
    const grants = Object.fromEntries(await Promise.all(clients.map(async (c) => [c.id, await store.accountGrants.list(c.id)] as const)));
    res.status(status).type('html').send(adminPage({ ...locals, here: `${BASE}/admin`, csrfToken: locals.session.csrfToken }, { clients, users, grants, ...extra }));
  }

  async function audited(req: Request, res: Response, action: string, target: string, detail: string | null = null): Promise<void> {
    await store.consoleAudit.record({ at: clock(), username: signedIn(res).user.username, action, target, detail, remoteIp: remoteIp(req) });
  }

  /**
   * Runs a change. Done: Post/Redirect/Get — what the page has to say (a new secret included)
   * is kept with the session, sealed, and the browser is sent to GET /console/admin, so a reload
   * re-posts nothing and the secret is never in a URL. A VALIDATION_FAILED redraws the page at
   * once (400) with the fields named and what the admin typed in that form (`typed`, which
   * never holds a password).
   */
  async function attempt(req: Request, res: Response, typed: TypedForm | null, change: () => Promise<Partial<AdminView> | 'missing'>): Promise<void> {
    const locals = signedIn(res);
    try {
      const result = await change();
      if (result === 'missing') return render(req, res, 404, { errors: [{ field: 'id', message: locals.t('notFound') }] });
      const flash: Flash = { notice: result.notice ?? locals.t('saved'), ...(result.secret ? { secret: result.secret } : {}) };
      await store.consoleSessions.setFlash(locals.session.idHash, 'admin', JSON.stringify(flash));
      res.redirect(303, `${BASE}/admin`);
    } catch (error) {
      if (!isAppError(error) || error.code !== 'VALIDATION_FAILED') throw error;
      await render(req, res, 400, { errors: error.fields.length > 0 ? error.fields : [{ field: 'form', message: error.message }], typed: typed ?? undefined });
    }
  }

  /** The message the last change left for this page, shown once; a flash that cannot be opened (its key retired) says it was lost. */
  async function takeFlash(res: Response): Promise<Partial<AdminView>> {
    const locals = signedIn(res);
    let text: string | null;
    try {
      text = await store.consoleSessions.takeFlash(locals.session.idHash, 'admin');
    } catch (error) {
      log.warn({ ...res.locals.requestContext, err: error }, 'a console flash could not be opened');
      return { errors: [{ field: 'form', message: locals.t('flashLost') }] };
    }
    if (text === null) return {};
    const flash = JSON.parse(text) as Flash;
    return { notice: flash.notice, secret: flash.secret };
  }

  router.get(`${BASE}/admin`, async (req, res) => render(req, res, 200, await takeFlash(res)));

  router.post(`${BASE}/admin/clients`, (req, res) =>
    attempt(req, res, { form: 'create-client', values: { name: field(req, 'name'), origins: field(req, 'origins'), cidrs: field(req, 'cidrs') } }, async () => {
      const name = field(req, 'name').trim();
      if (!name || name.length > 191) throw invalid([{ field: 'name', message: 'name is required (at most 191 characters)', rule: 'name-required' }]);
      const { client, clientSecret } = await createClient(store.clients, { name, origins: list(req, 'origins'), cidrs: list(req, 'cidrs') }, clock());
      await audited(req, res, 'admin_client_create', `client:${client.id}`, name);
      return { secret: { clientId: client.id, clientSecret } };
    }),
  );

  /**
   * Rotating a secret and disabling a client stop an ERP from paying: both go through a page that
   * names the client first. Its form carries a fingerprint of the client's current state, so a
   * reload of the answer (the browser re-posting) finds it changed and repeats nothing.
   */
  router.get(`${BASE}/admin/clients/:id/confirm/:action`, async (req, res) => {
    const locals = signedIn(res);
    const ctx = { ...locals, here: req.originalUrl, csrfToken: locals.session.csrfToken };
    const client = await store.clients.findById(req.params.id);
    const action = req.params.action === 'rotate' ? 'rotate' : req.params.action === 'disable' ? 'disable' : null;
    if (!client || !action) {
      res.status(404).type('html').send(messagePage(ctx, locals.t('pageNotFound'), locals.t('notFound')));
      return;
    }
    res.type('html').send(confirmPage(ctx, client, action, fingerprint(client)));
  });

  router.post(`${BASE}/admin/clients/:id/status`, (req, res) =>
    attempt(req, res, null, async () => {
      const status = field(req, 'status') === 'active' ? 'active' : 'disabled';
      if (status === 'disabled') {
        const client = await store.clients.findById(req.params.id);
        if (!client) return 'missing';
        if (field(req, 'fingerprint') !== fingerprint(client)) return { notice: signedIn(res).t('alreadyDone') };
      }
      if (!(await store.clients.setStatus(req.params.id, status, clock()))) return 'missing';
      await audited(req, res, 'admin_client_status', `client:${req.params.id}`, status);
      return {};
    }),
  );

  router.post(`${BASE}/admin/clients/:id/rotate`, (req, res) =>
    attempt(req, res, null, async () => {
      const client = await store.clients.findById(req.params.id);
      if (!client) return 'missing';
      // A reload re-posts the old fingerprint: the secret was already rotated, do not rotate again.
      if (field(req, 'fingerprint') !== fingerprint(client)) return { notice: signedIn(res).t('alreadyDone') };
      const clientSecret = await rotateClientSecret(store.clients, req.params.id, clock());
      if (clientSecret === null) return 'missing';
      await audited(req, res, 'admin_client_rotate', `client:${req.params.id}`);
      return { secret: { clientId: req.params.id, clientSecret } };
    }),
  );

  router.post(`${BASE}/admin/clients/:id/allowlists`, (req, res) =>
    attempt(req, res, { form: `allowlists:${req.params.id}`, values: { origins: field(req, 'origins'), cidrs: field(req, 'cidrs') } }, async () => {
      const origins = list(req, 'origins');
      const cidrs = list(req, 'cidrs');
      if (!(await setClientAllowlists(store.clients, req.params.id, origins, cidrs, clock()))) return 'missing';
      await audited(req, res, 'admin_client_allowlists', `client:${req.params.id}`, `origins=${origins.join(' ')} cidrs=${cidrs.join(' ')}`);
      return {};
    }),
  );

  // The company accounts the client may use (balance, statement, paying from): some granted, some withdrawn.
  router.post(`${BASE}/admin/clients/:id/accounts`, (req, res) =>
    attempt(req, res, { form: `accounts:${req.params.id}`, values: { grant: field(req, 'grant'), revoke: field(req, 'revoke') } }, async () => {
      const change = { grant: list(req, 'grant'), revoke: list(req, 'revoke') };
      if (!(await changeAccountGrants(store, req.params.id, change, clock()))) return 'missing';
      // Masked in the console audit too: no account number is stored in clear.
      const masked = (numbers: string[]) => numbers.map((n) => `******${n.slice(-4)}`).join(' ');
      await audited(req, res, 'admin_client_accounts', `client:${req.params.id}`, `grant=${masked(change.grant)} revoke=${masked(change.revoke)}`);
      return {};
    }),
  );

  // The password typed is never sent back: the admin types it again.
  router.post(`${BASE}/admin/users`, (req, res) =>
    attempt(req, res, { form: 'create-user', values: { username: field(req, 'username'), role: field(req, 'role') } }, async () => {
      const user = await createConsoleUser(store.consoleUsers, { username: field(req, 'username').trim(), password: field(req, 'password'), role: field(req, 'role') }, clock());
      await audited(req, res, 'admin_user_create', `user:${user.username}`, user.role);
      return {};
    }),
  );

  router.post(`${BASE}/admin/users/:id`, (req, res) =>
    attempt(req, res, null, async () => {
      const id = /^\d{1,15}$/.test(req.params.id) ? Number(req.params.id) : NaN;
      const target = Number.isNaN(id) ? null : await store.consoleUsers.findById(id);
      if (!target) return 'missing';
      // An admin cannot demote or disable themself: the last admin would lock everyone out.
      if (target.id === signedIn(res).user.id) throw invalid([{ field: 'user', message: 'you cannot change your own role or status', rule: 'own-role-or-status' }]);
      const role = field(req, 'role');
      const status = field(req, 'status');
      const change: { role?: ConsoleRole; status?: 'active' | 'disabled' } = {};
      if (role) {
        if (!CONSOLE_ROLES.includes(role as ConsoleRole)) throw invalid([{ field: 'role', message: `role must be one of ${CONSOLE_ROLES.join(', ')}`, rule: 'bad-role', value: role }]);
        change.role = role as ConsoleRole;
      }
      if (status) change.status = status === 'active' ? 'active' : 'disabled';
      await store.consoleUsers.update(target.id, change, clock());
      // A disabled user or a changed role takes effect at once: their sessions end.
      await store.consoleSessions.deleteForUser(target.id);
      await audited(req, res, 'admin_user_update', `user:${target.username}`, JSON.stringify(change));
      return {};
    }),
  );

  /** The user named by `:id`, or null. */
  const userOf = async (req: Request<{ id: string }>) => {
    const id = /^\d{1,15}$/.test(req.params.id) ? Number(req.params.id) : NaN;
    return Number.isNaN(id) ? null : store.consoleUsers.findById(id);
  };

  // A locked-out user (from one address or from all) signs in again at once.
  router.post(`${BASE}/admin/users/:id/unlock`, (req, res) =>
    attempt(req, res, null, async () => {
      const target = await userOf(req);
      if (!target) return 'missing';
      const lifted = await unlockConsoleUser(store.lockouts, target.username);
      await audited(req, res, 'admin_user_unlock', `user:${target.username}`, `${lifted} lockout counter(s) removed`);
      return { notice: signedIn(res).t('userUnlocked') };
    }),
  );

  // A forgotten password: the admin sets a new one (told to the user out of band); the user's sessions end.
  router.post(`${BASE}/admin/users/:id/password`, (req, res) =>
    attempt(req, res, null, async () => {
      const target = await userOf(req);
      if (!target) return 'missing';
      if (target.id === signedIn(res).user.id) throw invalid([{ field: 'user', message: 'change your own password with another admin or gerbang user reset-password', rule: 'own-password' }]);
      await resetConsolePassword({ users: store.consoleUsers, sessions: store.consoleSessions, lockouts: store.lockouts }, target.username, field(req, 'password'), clock());
      await audited(req, res, 'admin_user_reset_password', `user:${target.username}`);
      return { notice: signedIn(res).t('passwordReset') };
    }),
  );

  return router;
}

/** What changes when a client's secret is rotated or its status set: a reload of the same form no longer matches. */
function fingerprint(client: ClientRecord): string {
  return createHash('sha256').update(`${client.secretHash}\u0000${client.status}\u0000${client.updatedAt}`).digest('base64url').slice(0, 22);
}

function invalid(fields: FieldError[]): AppError {
  return new AppError('VALIDATION_FAILED', fields.map((f) => f.message).join('; '), { fields });
}
