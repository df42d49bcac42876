import { Router, type Request, type Response } from 'express';
import { createClient, changeAccountGrants, rotateClientSecret, setClientAllowlists } from '../../domain/clients/index.js';
import { AppError, isAppError, type FieldError } from '../../errors/index.js';
import { createHash } from 'node:crypto';
import { CONSOLE_ROLES, type ClientRecord, type ConsoleRole, type Store } from '../../store/types.js';
import { signedIn } from '../console-locals.js';
import { BASE } from '../console-sessions.js';
import { createConsoleUser, resetConsolePassword } from '../console-users.js';
import { unlockConsoleUser } from '../sign-in-use-case.js';
import { adminPage, confirmPage, type AdminView } from '../views/admin-page.js';
import { messagePage } from '../views/message-page.js';
import { remoteIp } from './sign-in-routes.js';

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

  /** Runs a change; a VALIDATION_FAILED redraws the page with the fields named, status 400. */
  async function attempt(req: Request, res: Response, change: () => Promise<Partial<AdminView> | 'missing'>): Promise<void> {
    try {
      const result = await change();
      if (result === 'missing') return render(req, res, 404, { errors: [{ field: 'id', message: signedIn(res).t('notFound') }] });
      await render(req, res, 200, { notice: signedIn(res).t('saved'), ...result });
    } catch (error) {
      if (!isAppError(error) || error.code !== 'VALIDATION_FAILED') throw error;
      await render(req, res, 400, { errors: error.fields.length > 0 ? error.fields : [{ field: 'form', message: error.message }] });
    }
  }

  router.get(`${BASE}/admin`, (req, res) => render(req, res, 200));

  router.post(`${BASE}/admin/clients`, (req, res) =>
    attempt(req, res, async () => {
      const name = field(req, 'name').trim();
      if (!name || name.length > 191) throw invalid([{ field: 'name', message: 'name is required (at most 191 characters)' }]);
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
    attempt(req, res, async () => {
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
    attempt(req, res, async () => {
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
    attempt(req, res, async () => {
      const origins = list(req, 'origins');
      const cidrs = list(req, 'cidrs');
      if (!(await setClientAllowlists(store.clients, req.params.id, origins, cidrs, clock()))) return 'missing';
      await audited(req, res, 'admin_client_allowlists', `client:${req.params.id}`, `origins=${origins.join(' ')} cidrs=${cidrs.join(' ')}`);
      return {};
    }),
  );

  // The company accounts the client may use (balance, statement, paying from): some granted, some withdrawn.
  router.post(`${BASE}/admin/clients/:id/accounts`, (req, res) =>
    attempt(req, res, async () => {
      const change = { grant: list(req, 'grant'), revoke: list(req, 'revoke') };
      if (!(await changeAccountGrants(store, req.params.id, change, clock()))) return 'missing';
      // Masked in the console audit too: no account number is stored in clear.
      const masked = (numbers: string[]) => numbers.map((n) => `******${n.slice(-4)}`).join(' ');
      await audited(req, res, 'admin_client_accounts', `client:${req.params.id}`, `grant=${masked(change.grant)} revoke=${masked(change.revoke)}`);
      return {};
    }),
  );

  router.post(`${BASE}/admin/users`, (req, res) =>
    attempt(req, res, async () => {
      const user = await createConsoleUser(store.consoleUsers, { username: field(req, 'username').trim(), password: field(req, 'password'), role: field(req, 'role') }, clock());
      await audited(req, res, 'admin_user_create', `user:${user.username}`, user.role);
      return {};
    }),
  );

  router.post(`${BASE}/admin/users/:id`, (req, res) =>
    attempt(req, res, async () => {
      const id = /^\d{1,15}$/.test(req.params.id) ? Number(req.params.id) : NaN;
      const target = Number.isNaN(id) ? null : await store.consoleUsers.findById(id);
      if (!target) return 'missing';
      // An admin cannot demote or disable themself: the last admin would lock everyone out.
      if (target.id === signedIn(res).user.id) throw invalid([{ field: 'user', message: 'you cannot change your own role or status' }]);
      const role = field(req, 'role');
      const status = field(req, 'status');
      const change: { role?: ConsoleRole; status?: 'active' | 'disabled' } = {};
      if (role) {
        if (!CONSOLE_ROLES.includes(role as ConsoleRole)) throw invalid([{ field: 'role', message: `role must be one of ${CONSOLE_ROLES.join(', ')}` }]);
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
    attempt(req, res, async () => {
      const target = await userOf(req);
      if (!target) return 'missing';
      const lifted = await unlockConsoleUser(store.lockouts, target.username);
      await audited(req, res, 'admin_user_unlock', `user:${target.username}`, `${lifted} lockout counter(s) removed`);
      return { notice: signedIn(res).t('userUnlocked') };
    }),
  );

  // A forgotten password: the admin sets a new one (told to the user out of band); the user's sessions end.
  router.post(`${BASE}/admin/users/:id/password`, (req, res) =>
    attempt(req, res, async () => {
      const target = await userOf(req);
      if (!target) return 'missing';
      if (target.id === signedIn(res).user.id) throw invalid([{ field: 'user', message: 'change your own password with another admin or gerbang user reset-password' }]);
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
