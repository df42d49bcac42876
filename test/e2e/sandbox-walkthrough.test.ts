import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { eventually } from '../support/gateway-harness.js';
import { runCli } from '../support/cli.js';
import { freePort, spawnGerbang } from '../support/processes.js';

const sh = promisify(execFile);

/**
 * What the README promises a newcomer: `npm start` (here `bin/gerbang sandbox`, which it runs)
 * prints a demo client and a curl walk-through, and that walk-through, run as printed, pays.
 */
describe('gerbang sandbox (npm start)', function () {
  this.timeout(60_000);

  it('prints a demo client and a curl walk-through that succeeds as printed', async () => {
    const port = await freePort();
    const consolePort = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'gerbang-sandbox-'));
    const sandbox = spawnGerbang(['sandbox'], {
      PORT: String(port),
      CONSOLE_PORT: String(consolePort),
      GERBANG_DATABASE_URL: `sqlite:${join(dir, 'g.sqlite')}`,
      GERBANG_AUDIT_KEYS: '',
      GERBANG_AUDIT_KEY_FILES: '',
      GERBANG_LOG_LEVEL: 'info',
    });
    try {
      const banner = await eventually(async () => (sandbox.output().includes('Finance console:') ? sandbox.output() : null), 30_000);
      expect(banner).to.contain('SANDBOX MODE');
      expect(banner).to.match(/client_id: +gbc_[0-9a-f]{16}/);
      const script = banner.slice(banner.indexOf('TOKEN=$(curl'), banner.indexOf(' Stop with Ctrl+C')).replace(/^ {3}/gm, '');
      const { stdout } = await sh('bash', ['-euo', 'pipefail', '-c', script]);
      const answer = JSON.parse(stdout);
      expect(answer).to.include({ transactionId: 'INV-0001', status: 'SUCCESS', bank: 'bca' });

      // The console runs beside it, at the printed address, and the printed admin signs in.
      const [, consoleUrl] = /Finance console: (\S+)/.exec(banner)!;
      expect(consoleUrl).to.equal(`http://127.0.0.1:${consolePort}/console`);
      const [, username, password] = /Sign in as (\S+) \/ (\S+) /.exec(banner)!;
      const signIn = await fetch(`${consoleUrl}/sign-in`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ username, password }),
        redirect: 'manual',
      });
      expect(signIn.status).to.equal(303);
      const cookie = signIn.headers.get('set-cookie')!.split(';')[0];
      const list = await fetch(`${consoleUrl}/payments`, { headers: { cookie } });
      const page = await list.text();
      expect(page).to.contain('INV-0001');
      // …under a banner saying no money moved.
      expect(page).to.contain('class="sandbox-banner"').and.contain('MODE SANDBOX');
      // Zero configuration still encrypts the audit: with a key file of its own, owner-only, and says so.
      expect(statSync(join(dir, 'gerbang.audit-key')).mode & 0o777).to.equal(0o600);
      expect(sandbox.output()).to.contain('sandbox: generated an audit encryption key file (mode 0600)');

      // Every answer says it is the sandbox's.
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(health.headers.get('gerbang-mode')).to.equal('sandbox');
      await health.arrayBuffer();
      // The CLI commands work as printed, with no key or mode given: they read the sandbox's note.
      const asPrinted = { GERBANG_DATABASE_URL: `sqlite:${join(dir, 'g.sqlite')}`, GERBANG_SANDBOX: '', GERBANG_AUDIT_KEYS: '', GERBANG_AUDIT_KEY_FILES: '', GERBANG_JWT_SECRET: '' };
      const verify = await runCli(['audit', 'verify'], asPrinted);
      expect(verify.code, verify.stdout + verify.stderr).to.equal(0);
      expect(verify.stdout).to.contain('audit verify: INTACT');
      const exported = await runCli(['audit', 'export', '--format', 'jsonl'], asPrinted);
      expect(exported.code, exported.stderr).to.equal(0);
      expect(exported.stdout).to.contain('INV-0001');
      const doctor = await runCli(['doctor'], asPrinted);
      expect(doctor.code, doctor.stdout + doctor.stderr).to.equal(0);
      expect(doctor.stdout).to.contain('SANDBOX MODE').and.contain('doctor: every check passed');
    } finally {
      sandbox.child.kill('SIGTERM');
      expect(await sandbox.exited).to.equal(0);
    }
  });
  it('serves again when restarted on a new database file after its own was deleted (the checkpoints of the deleted one are let go)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gerbang-sandbox-reset-'));
    const env = async () => ({
      PORT: String(await freePort()),
      CONSOLE_PORT: String(await freePort()),
      GERBANG_DATABASE_URL: `sqlite:${join(dir, 'g.sqlite')}`,
      GERBANG_AUDIT_CHECKPOINT_FILE: join(dir, 'audit-checkpoints.jsonl'),
      GERBANG_AUDIT_KEYS: '',
      GERBANG_AUDIT_KEY_FILES: '',
      GERBANG_LOG_LEVEL: 'info',
    });
    const readiness = async (settings: Record<string, string>) => {
      const sandbox = spawnGerbang(['sandbox'], settings);
      try {
        await eventually(async () => (sandbox.output().includes('Finance console:') ? true : null), 30_000);
        const ready = await fetch(`http://127.0.0.1:${settings.PORT}/readyz`);
        return { status: ready.status, body: (await ready.json()) as { checks: Record<string, string> }, output: sandbox.output() };
      } finally {
        sandbox.child.kill('SIGTERM');
        expect(await sandbox.exited).to.equal(0);
      }
    };
    const first = await readiness(await env());
    expect(first.status).to.equal(200);
    for (const file of readdirSync(dir).filter((name) => name.startsWith('g.sqlite'))) rmSync(join(dir, file));
    const again = await readiness(await env());
    expect(again.status, JSON.stringify(again.body)).to.equal(200);
    expect(again.body.checks.checkpoints).to.equal('ok');
    expect(again.output).to.contain('sandbox: a new database file; the audit checkpoints of the earlier one are let go');
  });
});
