import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SqlValue } from '../../src/store/index.js';
import { TEST_AUDIT_KEY, testKeySpec } from '../support/audit-keys.js';
import { runCli, type CliResult } from '../support/cli.js';
import { ConsoleClient } from '../support/console-client.js';
import { TestConsole } from '../support/console-harness.js';
import { forEachBackend } from '../support/databases.js';
import { copyRow, insertRow, writeBack, type Row } from '../support/sql-rows.js';
import { startReceiver } from '../support/callback-receiver.js';
import { eventually, sampleTransfer, TestGateway } from '../support/gateway-harness.js';

/**
 * The attacker of docs/security/threat-model.md against the rows that decide who may do what
 * (console users, clients, credentials, account grants, callback endpoints): a database writer
 * without keys who writes back a copy of a row taken before the gateway changed it (its MAC still
 * holds: it was the gateway's once), or deletes a row. The changes are made through the gateway
 * (the CLI, the console's admin pages); the attacks in SQL only, as the attacker would.
 */

forEachBackend('An attacker without keys who restores an older copy of a row, or deletes one', (ctx) => {
  const checkpoints = join(mkdtempSync(join(tmpdir(), 'gerbang-row-history-')), 'audit-checkpoints.jsonl');
  const env = () => ({ GERBANG_DATABASE_URL: ctx.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints });
  const cli = async (...args: string[]): Promise<string> => {
    const result = await runCli(args, env());
    expect(result.code, `gerbang ${args.join(' ')}: ${result.stderr}`).to.equal(0);
    return result.stdout;
  };
  const verify = (): Promise<CliResult> => runCli(['audit', 'verify'], env());
  const db = () => ctx.store().db;

  /** A client made by `gerbang client create`; its id. */
  async function newClient(): Promise<string> {
    const out = JSON.parse(await cli('client', 'create', '--name', 'ERP history', '--cidr', '127.0.0.0/8', '--json')) as { clientId: string };
    return out.clientId;
  }

  /** `audit verify` exits 1 and its output contains each of `named`. */
  async function expectNamed(...named: string[]): Promise<void> {
    const result = await verify();
    expect(result.code, result.stdout).to.equal(1);
    for (const text of named) expect(result.stdout + result.stderr).to.contain(text);
  }

  async function expectIntact(): Promise<void> {
    const result = await verify();
    expect(result.code, result.stdout + result.stderr).to.equal(0);
    expect(result.stdout).to.contain('INTACT');
  }

  describe('the API, at use', () => {
    let gw: TestGateway;
    before(async () => {
      gw = await TestGateway.start(ctx.url(), { GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints, GERBANG_CALLBACK_INTERVAL_MS: '50' });
    });
    after(() => gw.close());

    it('gives no token to a disabled client whose row from before it was disabled is written back: 500 AUDIT_INTEGRITY', async () => {
      const client = await gw.createClient({ accounts: [] });
      const active = await copyRow(db(), 'clients', 'id = ?', [client.clientId]);
      await cli('client', 'disable', '--id', client.clientId);
      const disabled = await copyRow(db(), 'clients', 'id = ?', [client.clientId]);
      await writeBack(db(), 'clients', active, 'id = ?', [client.clientId]);
      try {
        const answer = await gw.request('/v1/auth/token', { method: 'POST', json: { client_id: client.clientId, client_secret: client.clientSecret } });
        expect(answer.status, answer.text).to.equal(500);
        expect(answer.body.code).to.equal('AUDIT_INTEGRITY');
        expect(answer.text).to.not.contain('access_token');
      } finally {
        await writeBack(db(), 'clients', disabled, 'id = ?', [client.clientId]);
      }
    });

    it('pays nothing from an account whose revoked grant is inserted back: 500 AUDIT_INTEGRITY', async () => {
      const client = await gw.createClient({ accounts: ['0201245680'] });
      const auth = { authorization: `Bearer ${await gw.token(client)}` };
      const grant = await copyRow(db(), 'client_account_grants', 'client_id = ?', [client.clientId]);
      await cli('client', 'revoke-account', '--id', client.clientId, '--account', '0201245680');
      await insertRow(db(), 'client_account_grants', grant);
      try {
        const answer = await gw.request('/v1/transfers', { json: sampleTransfer(), headers: auth });
        expect(answer.status, answer.text).to.equal(500);
        expect(answer.body.code).to.equal('AUDIT_INTEGRITY');
      } finally {
        await db().execute('DELETE FROM client_account_grants WHERE client_id = ?', [client.clientId]);
      }
    });
    it('never posts a callback to an endpoint whose row from before its URL was changed is written back', async () => {
      const [older, current] = [await startReceiver(), await startReceiver()];
      const client = await gw.createClient({ accounts: ['0201245680'] });
      const auth = { authorization: `Bearer ${await gw.token(client)}` };
      await cli('client', 'set-callback', '--id', client.clientId, '--url', older.url);
      const old = await copyRow(db(), 'client_callbacks', 'client_id = ?', [client.clientId]);
      await cli('client', 'set-callback', '--id', client.clientId, '--url', current.url);
      const now = await copyRow(db(), 'client_callbacks', 'client_id = ?', [client.clientId]);
      await gw.gateway.callbacks.stop();
      try {
        // Queued for the current endpoint; then the older endpoint row is written back.
        const queued = sampleTransfer();
        expect((await gw.request('/v1/transfers', { json: queued, headers: auth })).status).to.equal(201);
        await writeBack(db(), 'client_callbacks', old, 'client_id = ?', [client.clientId]);
        gw.gateway.callbacks.start();
        const [row] = await eventually(async () => {
          const rows = await db().query<{ state: string; last_error: string | null }>('SELECT state, last_error FROM callback_deliveries WHERE transaction_id = ?', [queued.transactionId as string]);
          return rows[0]?.state === 'FAILED' ? rows : null;
        });
        expect(row.last_error).to.contain(`refused: client_callbacks of client ${client.clientId} is not its latest state`);
        expect(older.received, 'the older URL receives nothing').to.have.length(0);
        expect(current.received).to.have.length(0);
      } finally {
        await writeBack(db(), 'client_callbacks', now, 'client_id = ?', [client.clientId]);
        gw.gateway.callbacks.start();
        older.server.close();
        current.server.close();
      }
    });
  });

  /**
   * Copies the row `find` names, makes `change` through the gateway, then writes the copy back in
   * SQL (over the row, or inserted again when the change deleted it) and expects verify to name it;
   * then puts the row as the gateway left it back and expects INTACT.
   */
  async function writtenBackIsNamed(table: string, key: string[], find: [string, SqlValue[]], change: () => Promise<void>, named: (old: Row) => string[]): Promise<void> {
    const old = await copyRow(db(), table, ...find);
    const at: [string, SqlValue[]] = [key.map((c) => `${c} = ?`).join(' AND '), key.map((c) => old[c])];
    await change();
    const [current] = await db().query<Row>(`SELECT * FROM ${table} WHERE ${at[0]}`, at[1]);
    if (current) await writeBack(db(), table, old, ...at);
    else await insertRow(db(), table, old);
    try {
      await expectNamed(...named(old));
    } finally {
      if (current) await writeBack(db(), table, current, ...at);
      else await db().execute(`DELETE FROM ${table} WHERE ${at[0]}`, at[1]);
    }
    await expectIntact();
  }

  /** Deletes the row `find` names in SQL and expects verify to name it deleted; then puts it back and expects INTACT. */
  async function deletedIsNamed(table: string, key: string[], find: [string, SqlValue[]], named: (row: Row) => string): Promise<void> {
    const row = await copyRow(db(), table, ...find);
    await db().execute(`DELETE FROM ${table} WHERE ${key.map((c) => `${c} = ?`).join(' AND ')}`, key.map((c) => row[c]));
    try {
      await expectNamed(named(row));
    } finally {
      await insertRow(db(), table, row);
    }
    await expectIntact();
  }

  describe('clients', () => {
    it('names a disabled client whose row from before it was disabled is written back', async () => {
      const id = await newClient();
      await writtenBackIsNamed('clients', ['id'], ['id = ?', [id]], () => cli('client', 'disable', '--id', id).then(() => undefined), () => [`clients id ${id} is not its latest state`]);
    });

    it('names a client whose row from before its secret was rotated is written back', async () => {
      const id = await newClient();
      await writtenBackIsNamed('clients', ['id'], ['id = ?', [id]], () => cli('client', 'rotate-secret', '--id', id).then(() => undefined), () => [`clients id ${id} is not its latest state`]);
    });

    it('names a client deleted in SQL as deleted', async () => {
      const id = await newClient();
      await deletedIsNamed('clients', ['id'], ['id = ?', [id]], () => `clients ["${id}"] was deleted`);
    });
  });

  describe('client_credentials', () => {
    const apiKeyOf = (id: string): [string, SqlValue[]] => ["client_id = ? AND kind = 'api-key'", [id]];

    it('names an API key restored in SQL after it was rotated (the old key would authenticate again)', async () => {
      const id = await newClient();
      await cli('client', 'rotate-api-key', '--id', id);
      await writtenBackIsNamed('client_credentials', ['kind', 'lookup'], apiKeyOf(id), () => cli('client', 'rotate-api-key', '--id', id).then(() => undefined), (old) => [
        `client_credentials api-key ${String(old.lookup)} (client ${id}) was deleted by the gateway`,
        'restored in SQL',
      ]);
    });

    it('names an API key deleted in SQL as deleted', async () => {
      const id = await newClient();
      await cli('client', 'rotate-api-key', '--id', id);
      await deletedIsNamed('client_credentials', ['kind', 'lookup'], apiKeyOf(id), (row) => `client_credentials ["api-key","${String(row.lookup)}"] was deleted`);
    });
  });

  describe('client_account_grants', () => {
    const grantKey = ['client_id', 'account_digest'];

    it('names a revoked grant inserted back in SQL', async () => {
      const id = await newClient();
      await cli('client', 'grant-account', '--id', id, '--account', '0201245680');
      await writtenBackIsNamed('client_account_grants', grantKey, ['client_id = ?', [id]], () => cli('client', 'revoke-account', '--id', id, '--account', '0201245680').then(() => undefined), (old) => [
        `client_account_grants of client ${id} (account ${String(old.account_masked)}) was deleted by the gateway`,
        'restored in SQL',
      ]);
    });

    it('names a grant deleted in SQL as deleted', async () => {
      const id = await newClient();
      await cli('client', 'grant-account', '--id', id, '--account', '0201245681');
      await deletedIsNamed('client_account_grants', grantKey, ['client_id = ?', [id]], (row) => `client_account_grants ["${id}","${String(row.account_digest)}"] was deleted`);
    });
  });

  describe('client_callbacks', () => {
    it('names a callback endpoint whose row from before its URL was changed is written back', async () => {
      const id = await newClient();
      await cli('client', 'set-callback', '--id', id, '--url', 'https://old.example.co.id/hook');
      const change = () => cli('client', 'set-callback', '--id', id, '--url', 'https://new.example.co.id/hook').then(() => undefined);
      await writtenBackIsNamed('client_callbacks', ['client_id'], ['client_id = ?', [id]], change, () => [`client_callbacks of client ${id} is not its latest state`]);
    });

    it('names a callback endpoint deleted in SQL as deleted', async () => {
      const id = await newClient();
      await cli('client', 'set-callback', '--id', id, '--url', 'https://erp.example.co.id/hook');
      await deletedIsNamed('client_callbacks', ['client_id'], ['client_id = ?', [id]], () => `client_callbacks ["${id}"] was deleted`);
    });
  });

  describe('console_users', () => {
    let con: TestConsole;
    let admin: ConsoleClient;
    before(async () => {
      con = await TestConsole.start(ctx.url(), { GERBANG_LOG_LEVEL: 'silent' });
      const user = await con.createUser('hist.admin', 'admin');
      admin = new ConsoleClient(con.origin, '127.0.0.51');
      expect((await admin.signIn(user.username, user.password)).status).to.equal(303);
      await admin.get('/console/admin');
    });
    after(() => con.close());
    const resetPassword = async (username: string, password: string) => {
      const reset = await runCli(['user', 'reset-password', '--username', username, '--password-stdin'], env(), `${password}\n`);
      expect(reset.code, reset.stderr).to.equal(0);
    };

    it('names a console user whose row from before an admin lowered its role is written back', async () => {
      await con.createUser('hist.viewer', 'admin');
      const lower = async () => {
        const [{ id }] = await db().query<{ id: number }>('SELECT id FROM console_users WHERE username = ?', ['hist.viewer']);
        expect((await admin.post(`/console/admin/users/${id}`, { _csrf: admin.csrf, role: 'viewer' })).status).to.equal(303);
        expect((await copyRow(db(), 'console_users', 'id = ?', [id])).role).to.equal('viewer');
      };
      await writtenBackIsNamed('console_users', ['id'], ['username = ?', ['hist.viewer']], lower, (old) => [`console_users id ${String(old.id)} (hist.viewer) is not its latest state`]);
    });

    it('names a console user whose row from before its password was reset is written back', async () => {
      await con.createUser('hist.reset', 'auditor');
      await writtenBackIsNamed('console_users', ['id'], ['username = ?', ['hist.reset']], () => resetPassword('hist.reset', 'a-brand-new-password-27'), (old) => [
        `console_users id ${String(old.id)} (hist.reset) is not its latest state`,
      ]);
    });

    it('signs nobody in with the password from before a reset when the older row is written back', async () => {
      const user = await con.createUser('hist.signin', 'admin');
      const before = await copyRow(db(), 'console_users', 'username = ?', [user.username]);
      await resetPassword(user.username, 'the-password-after-reset-27');
      const current = await copyRow(db(), 'console_users', 'username = ?', [user.username]);
      await writeBack(db(), 'console_users', before, 'id = ?', [before.id]);
      try {
        expect((await new ConsoleClient(con.origin, '127.0.0.52').signIn(user.username, user.password)).status, 'the old password').to.not.equal(303);
      } finally {
        await writeBack(db(), 'console_users', current, 'id = ?', [before.id]);
      }
      expect((await new ConsoleClient(con.origin, '127.0.0.53').signIn(user.username, 'the-password-after-reset-27')).status).to.equal(303);
    });

    it('names a console user deleted in SQL as deleted', async () => {
      await con.createUser('hist.gone', 'viewer');
      await deletedIsNamed('console_users', ['id'], ['username = ?', ['hist.gone']], (row) => `console_users ["${String(row.id)}"] was deleted`);
    });
  });

  describe('an honest history', () => {
    it('stays INTACT through changes of every kind made by the gateway, and through keys rotate', async function () {
      // Twenty-two runs of the CLI, each a process of its own.
      this.timeout(90_000);
      const id = await newClient();
      await cli('client', 'disable', '--id', id);
      await cli('client', 'enable', '--id', id);
      await cli('client', 'rotate-secret', '--id', id);
      await cli('client', 'set-callback', '--id', id, '--url', 'https://a.example.co.id/hook');
      await cli('client', 'set-callback', '--id', id, '--url', 'https://b.example.co.id/hook');
      await cli('client', 'set-callback', '--id', id, '--remove');
      await cli('client', 'set-callback', '--id', id, '--url', 'https://c.example.co.id/hook');
      await cli('client', 'grant-account', '--id', id, '--account', '0201245682');
      await cli('client', 'revoke-account', '--id', id, '--account', '0201245682');
      await cli('client', 'grant-account', '--id', id, '--account', '0201245682');
      await cli('client', 'rotate-api-key', '--id', id);
      await cli('client', 'rotate-api-key', '--id', id);
      await cli('client', 'revoke-api-key', '--id', id);
      await cli('client', 'enable-signing', '--id', id);
      const created = await runCli(['user', 'create', '--username', 'hist.honest', '--role', 'viewer', '--password-stdin'], env(), 'an-honest-password-27\n');
      expect(created.code, created.stderr).to.equal(0);
      const reset = await runCli(['user', 'reset-password', '--username', 'hist.honest', '--password-stdin'], env(), 'another-honest-password-27\n');
      expect(reset.code, reset.stderr).to.equal(0);
      await expectIntact();

      // A newer key: every row is re-MACed under it, each with its record, and verifies with the newer key alone.
      const newer = testKeySpec();
      const rotated = await runCli(['keys', 'rotate'], { ...env(), GERBANG_AUDIT_KEYS: `${TEST_AUDIT_KEY},${newer}` });
      expect(rotated.code, rotated.stderr).to.equal(0);
      const [{ n }] = await db().query<{ n: number | string }>("SELECT COUNT(*) AS n FROM record_changes WHERE change_kind = 'rotate'");
      expect(Number(n), 'rows re-MACed with their records').to.be.greaterThan(0);
      // The checkpoints so far are signed with the older key: this verify starts a file of its own.
      const fresh = join(mkdtempSync(join(tmpdir(), 'gerbang-row-history-')), 'audit-checkpoints.jsonl');
      const after = await runCli(['audit', 'verify'], { ...env(), GERBANG_AUDIT_KEYS: newer, GERBANG_AUDIT_CHECKPOINT_FILE: fresh });
      expect(after.code, after.stdout + after.stderr).to.equal(0);
      expect(after.stdout).to.contain('INTACT');
    });
  });
});
