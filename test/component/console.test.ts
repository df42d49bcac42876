import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifySecret } from '../../src/security/index.js';
import { ConsoleClient } from '../support/console-client.js';
import { TestConsole } from '../support/console-harness.js';
import { forEachBackend } from '../support/databases.js';

forEachBackend('Finance console sessions and admin', (db) => {
  let con: TestConsole;
  let now = Date.now();
  const clock = () => now;

  before(async () => {
    con = await TestConsole.start(db.url(), { GERBANG_LOG_LEVEL: 'silent', GERBANG_CONSOLE_IDLE_TIMEOUT_SECONDS: '600', GERBANG_LOGIN_MAX_FAILURES: '3' }, { clock });
  });
  after(() => con.close());

  async function signedIn(role: 'viewer' | 'auditor' | 'admin'): Promise<{ client: ConsoleClient; user: { username: string; password: string } }> {
    const user = await con.createUser(`${role}-${Math.random().toString(36).slice(2, 8)}`, role);
    const client = new ConsoleClient(con.origin);
    const answer = await client.signIn(user.username, user.password);
    expect(answer.status, answer.text).to.equal(303);
    await client.get('/console/payments');
    return { client, user };
  }

  describe('signing in', () => {
    it('sets an HttpOnly, SameSite=Strict session cookie on /console, not Secure over plain HTTP', async () => {
      const user = await con.createUser('cookie-check', 'viewer');
      const answer = await new ConsoleClient(con.origin).signIn(user.username, user.password);
      expect(answer.status).to.equal(303);
      expect(answer.location).to.equal('/console/payments');
      const cookie = answer.setCookies.find((c) => c.startsWith('gerbang_console='))!;
      expect(cookie).to.match(/; HttpOnly/).and.to.match(/; SameSite=Strict/).and.to.match(/; Path=\/console/);
      expect(cookie).not.to.match(/; Secure/);
      expect(cookie).not.to.contain(user.password);
    });

    it('refuses a sign-in form posted from another origin (login CSRF)', async () => {
      const user = await con.createUser('cross-site', 'viewer');
      const answer = await new ConsoleClient(con.origin).post('/console/sign-in', { username: user.username, password: user.password }, { origin: 'https://evil.example' });
      expect(answer.status).to.equal(403);
      expect(answer.setCookies).to.deep.equal([]);
    });

    it('answers a wrong password with 401 and records the attempt', async () => {
      const user = await con.createUser('typo-user', 'viewer');
      const answer = await new ConsoleClient(con.origin).signIn(user.username, 'wrong-password-123');
      expect(answer.status).to.equal(401);
      expect(answer.text).to.contain('Nama pengguna atau kata sandi salah.');
      const entries = await con.store.consoleAudit.list({ username: user.username });
      expect(entries.map((e) => [e.action, e.detail])).to.deep.equal([['sign_in_failed', 'wrong password']]);
    });

    it('records each list page a user sees, with its filters', async () => {
      const { client, user } = await signedIn('viewer');
      expect((await client.get('/console/payments?status=FAILED&txn=NONE-1')).status).to.equal(200);
      const [entry] = await con.store.consoleAudit.list({ username: user.username, action: 'list_payments' });
      expect(entry).to.deep.include({ target: 'payments:none', detail: 'status=FAILED txn=NONE-1' });
    });

    it('sends a request without a session to the sign-in page', async () => {
      const answer = await new ConsoleClient(con.origin).get('/console/payments');
      expect(answer.status).to.equal(303);
      expect(answer.location).to.equal('/console/sign-in');
    });
  });

  describe('CSRF', () => {
    it('refuses a form post without the session’s token, and accepts it with the token', async () => {
      const { client } = await signedIn('viewer');
      const forged = await client.post('/console/sign-out', {});
      expect(forged.status).to.equal(403);
      expect((await client.get('/console/payments')).status).to.equal(200);
      const wrong = await client.post('/console/sign-out', { _csrf: 'x'.repeat(client.csrf.length) });
      expect(wrong.status).to.equal(403);
      const real = await client.post('/console/sign-out', { _csrf: client.csrf });
      expect(real.status).to.equal(303);
      expect(real.location).to.equal('/console/sign-in?out=1');
    });
  });

  describe('the idle timeout', () => {
    it('ends a session unused for longer than GERBANG_CONSOLE_IDLE_TIMEOUT_SECONDS, but not one in use', async () => {
      const { client } = await signedIn('viewer');
      now += 500_000;
      expect((await client.get('/console/payments')).status).to.equal(200);
      now += 500_000;
      expect((await client.get('/console/payments')).status).to.equal(200);
      now += 600_001;
      const expired = await client.get('/console/payments');
      expect(expired.status).to.equal(303);
      expect(expired.location).to.equal('/console/sign-in?expired=1');
    });
  });

  describe('roles', () => {
    it('keeps viewers and auditors out of the admin pages', async () => {
      for (const role of ['viewer', 'auditor'] as const) {
        const { client } = await signedIn(role);
        expect((await client.get('/console/admin')).status, role).to.equal(403);
        const { client: other } = await signedIn(role);
        expect((await other.post('/console/admin/users', { _csrf: other.csrf, username: 'sneaky', role: 'admin', password: 'p'.repeat(20) })).status).to.equal(403);
      }
      expect(await con.store.consoleUsers.findByUsername('sneaky')).to.equal(null);
    });
  });

  describe('admin', () => {
    it('creates a client, showing its secret once, and edits its allowlists, naming a bad CIDR', async () => {
      const { client } = await signedIn('admin');
      const created = await client.post('/console/admin/clients', { _csrf: client.csrf, name: 'ERP <test> & co', origins: 'https://erp.example.com', cidrs: '203.0.113.0/24\n198.51.100.7/32' });
      expect(created.status).to.equal(200);
      const clientId = /class="client-id">([^<]+)</.exec(created.text)![1];
      const clientSecret = /class="client-secret">([^<]+)</.exec(created.text)![1];
      expect(created.text).to.contain('ERP &lt;test&gt; &amp; co');
      const stored = (await con.store.clients.findById(clientId))!;
      expect(stored.allowedCidrs).to.deep.equal(['203.0.113.0/24', '198.51.100.7/32']);
      expect(await verifySecret(clientSecret, stored.secretHash)).to.equal(true);
      expect((await client.get('/console/admin')).text).not.to.contain(clientSecret);

      const bad = await client.post(`/console/admin/clients/${clientId}/allowlists`, { _csrf: client.csrf, origins: '', cidrs: '300.1.1.1/8' });
      expect(bad.status).to.equal(400);
      expect(bad.text).to.contain('data-field="cidr"').and.to.contain('300.1.1.1/8');
      const good = await client.post(`/console/admin/clients/${clientId}/allowlists`, { _csrf: client.csrf, origins: '*.dynamics.com', cidrs: '10.0.0.0/8' });
      expect(good.status).to.equal(200);
      expect((await con.store.clients.findById(clientId))!).to.deep.include({ allowedOrigins: ['*.dynamics.com'], allowedCidrs: ['10.0.0.0/8'] });

      const rotated = await client.post(`/console/admin/clients/${clientId}/rotate`, { _csrf: client.csrf });
      const newSecret = /class="client-secret">([^<]+)</.exec(rotated.text)![1];
      expect(newSecret).not.to.equal(clientSecret);
      expect((await con.store.clients.findById(clientId))!.secretVersion).to.equal(2);

      await client.post(`/console/admin/clients/${clientId}/status`, { _csrf: client.csrf, status: 'disabled' });
      expect((await con.store.clients.findById(clientId))!.status).to.equal('disabled');
      const actions = (await con.store.consoleAudit.list({ action: undefined, limit: 50 })).filter((e) => e.target === `client:${clientId}`).map((e) => e.action);
      expect(actions.sort()).to.deep.equal(['admin_client_allowlists', 'admin_client_create', 'admin_client_rotate', 'admin_client_status']);
    });

    it('creates a user who can sign in, and disabling a user ends their session at once', async () => {
      const { client } = await signedIn('admin');
      const short = await client.post('/console/admin/users', { _csrf: client.csrf, username: 'new.auditor', role: 'auditor', password: 'short' });
      expect(short.status).to.equal(400);
      expect(short.text).to.contain('data-field="password"');
      const created = await client.post('/console/admin/users', { _csrf: client.csrf, username: 'new.auditor', role: 'auditor', password: 'a-long-enough-password' });
      expect(created.status).to.equal(200);
      const newcomer = new ConsoleClient(con.origin);
      expect((await newcomer.signIn('new.auditor', 'a-long-enough-password')).status).to.equal(303);
      expect((await newcomer.get('/console/payments')).status).to.equal(200);

      const id = (await con.store.consoleUsers.findByUsername('new.auditor'))!.id;
      expect((await client.post(`/console/admin/users/${id}`, { _csrf: client.csrf, status: 'disabled' })).status).to.equal(200);
      expect((await newcomer.get('/console/payments')).location).to.equal('/console/sign-in');
      expect((await newcomer.signIn('new.auditor', 'a-long-enough-password')).status).to.equal(401);
    });

    it('refuses to let an admin disable themself', async () => {
      const { client, user } = await signedIn('admin');
      const me = (await con.store.consoleUsers.findByUsername(user.username))!;
      const answer = await client.post(`/console/admin/users/${me.id}`, { _csrf: client.csrf, status: 'disabled' });
      expect(answer.status).to.equal(400);
      expect((await con.store.consoleUsers.findById(me.id))!.status).to.equal('active');
    });
  });
});

describe('Finance console under TLS', () => {
  let dir: string;
  let con: TestConsole;

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'gerbang-console-tls-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
        '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    } catch {
      if (process.env.CI === 'true') throw new Error('openssl is required under CI=true');
      console.warn('\n*** SKIPPED: console TLS test (no openssl) ***\n');
      this.skip();
    }
    con = await TestConsole.start(`sqlite:${join(dir, 'g.sqlite')}`, {
      GERBANG_LOG_LEVEL: 'silent',
      GERBANG_CONSOLE_TLS_CERT_FILE: join(dir, 'cert.pem'),
      GERBANG_CONSOLE_TLS_KEY_FILE: join(dir, 'key.pem'),
    });
  });
  after(async () => {
    await con?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves HTTPS and marks the session cookie Secure', async () => {
    expect(con.url).to.match(/^https:\/\//);
    const user = await con.createUser('tls-user', 'viewer');
    const answer = await new ConsoleClient(con.origin).signIn(user.username, user.password);
    expect(answer.status).to.equal(303);
    expect(answer.setCookies.find((c) => c.startsWith('gerbang_console='))).to.match(/; Secure/);
  });
});
