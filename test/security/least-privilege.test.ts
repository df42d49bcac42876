import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb, type Db } from '../../src/store/index.js';
import { packageRoot } from '../../src/store/package-root.js';
import { TEST_AUDIT_KEY } from '../support/audit-keys.js';
import { startReceiver, signatureOf, signedUnder, type CallbackReceiver } from '../support/callback-receiver.js';
import { acceptAsVerified, runCli } from '../support/cli.js';
import { createMariaDbDatabase } from '../support/databases.js';
import { ConsoleClient } from '../support/console-client.js';
import { TestConsole } from '../support/console-harness.js';
import { eventually, sampleTransfer, TestGateway } from '../support/gateway-harness.js';
import { bankTransfers } from '../support/left-behind.js';
import { deleteWhole, payInsideChains, UNTHROTTLED } from '../support/payment-deletion.js';

/** The SQL block that follows `<!-- marker -->` in docs/operator-guide.md, as the operator would paste it. */
function guideSql(marker: string): string {
  const guide = readFileSync(join(packageRoot(), 'docs', 'operator-guide.md'), 'utf8');
  const match = new RegExp(`<!-- ${marker} -->\\n\`\`\`sql\\n([\\s\\S]*?)\\n\`\`\``).exec(guide);
  if (!match) throw new Error(`docs/operator-guide.md has no sql block after <!-- ${marker} -->`);
  return match[1];
}

/** The guide's statements for this test's database, users and passwords (the server resolves no names: 127.0.0.1). */
function statements(sql: string, names: { database: string; migrate: string; app: string; migratePassword: string; appPassword: string }): string[] {
  return sql
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.trim().startsWith('--'))
    .join('\n')
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) =>
      s
        .replaceAll("'gerbang_migrate'@'localhost' IDENTIFIED BY '…'", `'${names.migrate}'@'127.0.0.1' IDENTIFIED BY '${names.migratePassword}'`)
        .replaceAll("'gerbang_app'@'localhost' IDENTIFIED BY '…'", `'${names.app}'@'127.0.0.1' IDENTIFIED BY '${names.appPassword}'`)
        .replaceAll("'gerbang_migrate'@'localhost'", `'${names.migrate}'@'127.0.0.1'`)
        .replaceAll("'gerbang_app'@'localhost'", `'${names.app}'@'127.0.0.1'`)
        .replaceAll(' gerbang.', ` ${names.database}.`),
    );
}

function urlAs(base: string, user: string, password: string): string {
  const url = new URL(base);
  url.username = user;
  url.password = password;
  return url.toString();
}

/** The server's error code of a refused statement (e.g. ER_TABLEACCESS_DENIED_ERROR), or null when it ran. */
async function refusal(db: Db, sql: string, params: (string | number)[] = []): Promise<string | null> {
  try {
    await db.execute(sql, params);
    return null;
  } catch (error) {
    const e = error as { code?: string; cause?: { code?: string } };
    return e.code ?? e.cause?.code ?? String(error);
  }
}

describe('least-privilege database users (docs/operator-guide.md) [mariadb]', function () {
  this.timeout(120_000);
  const suffix = randomBytes(4).toString('hex');
  const names = { database: '', migrate: `gm_${suffix}`, app: `ga_${suffix}`, migratePassword: randomBytes(18).toString('base64url'), appPassword: randomBytes(18).toString('base64url') };
  let root: Db;
  let drop: () => Promise<void> = async () => undefined;
  let migrateUrl = '';
  let appUrl = '';
  let gw: TestGateway | undefined;
  let app: Db;
  let transactionId = '';
  let receiver: CallbackReceiver | undefined;
  // One checkpoint file for the gateway and the CLI, as on a gateway host.
  const checkpoints = join(mkdtempSync(join(tmpdir(), 'gerbang-lp-')), 'audit-checkpoints.jsonl');
  /** The environment of a `gerbang` command run as the runtime user. */
  const asApp = (): Record<string, string> => ({ GERBANG_DATABASE_URL: appUrl, GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints });
  /** The outcome of the completion row of payment `transactionId`'s exchange of `method` (CALLBACK, RESOLVE), undefined while there is none. */
  const completion = async (transactionId: string, method: string): Promise<string | undefined> =>
    (await app.query<{ outcome: string }>('SELECT c.outcome FROM audit_exchanges e JOIN audit_completions c ON c.exchange_id = e.id WHERE e.transaction_id = ? AND e.method = ?', [transactionId, method]))[0]?.outcome;
  const bearer = async (): Promise<Record<string, string>> => ({ authorization: `Bearer ${await gw!.token(await gw!.createClient())}` });

  before(async function () {
    const database = await createMariaDbDatabase(this);
    drop = database.drop;
    names.database = new URL(database.url).pathname.slice(1);
    migrateUrl = urlAs(database.url, names.migrate, names.migratePassword);
    appUrl = urlAs(database.url, names.app, names.appPassword);
    // The database administrator (and, later, the attacker with a SQL shell).
    root = openDb(database.url);
    for (const sql of statements(guideSql('database-users'), names)) await root.execute(sql);
    const migrated = await runCli(['migrate'], { GERBANG_DATABASE_URL: migrateUrl, GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY });
    expect(migrated.code, migrated.stderr).to.equal(0);
    for (const sql of statements(guideSql('runtime-grants'), names)) await root.execute(sql);
    gw = await TestGateway.start(appUrl, {
      GERBANG_MIGRATE_ON_START: 'false',
      GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints,
      GERBANG_AUDIT_SCRUB_MS: '300',
      GERBANG_CALLBACK_INTERVAL_MS: '50',
      // The resolver runs by hand (runOnce), so the in-doubt payment is settled by it and nothing else.
      GERBANG_RESOLVER_INTERVAL_MS: '0',
      GERBANG_BANK_HEADERS_TIMEOUT_MS: '1500',
      ...UNTHROTTLED,
    });
    app = openDb(appUrl);
  });

  after(async () => {
    await gw?.close();
    receiver?.server.close();
    await app?.close();
    for (const user of [names.migrate, names.app]) await root?.execute(`DROP USER IF EXISTS '${user}'@'127.0.0.1'`);
    await root?.close();
    await drop();
  });

  it('the runtime user cannot migrate', async () => {
    const result = await runCli(['migrate'], { GERBANG_DATABASE_URL: appUrl, GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY });
    expect(result.code).to.not.equal(0);
    expect(result.stderr).to.match(new RegExp(`CREATE command denied to user '${names.app}'`));
  });

  it('a gateway running as the runtime user pays through the simulator end to end, and its audit verifies', async () => {
    const client = await gw!.createClient();
    const token = await gw!.token(client);
    const transfer = sampleTransfer();
    transactionId = transfer.transactionId as string;
    const paid = await gw!.request('/v1/transfers', { headers: { authorization: `Bearer ${token}` }, json: transfer });
    expect(paid.status, paid.text).to.equal(201);
    expect(paid.body).to.include({ transactionId, status: 'SUCCESS', bank: 'bca' });
    const status = await gw!.request(`/v1/transfers/${transactionId}`, { headers: { authorization: `Bearer ${token}` } });
    expect(status.status, status.text).to.equal(200);
    expect(status.body).to.include({ transactionId, status: 'SUCCESS' });
    const [exchange] = await app.query<{ own: string; completed: string }>(
      "SELECT e.outcome AS own, c.outcome AS completed FROM audit_exchanges e JOIN audit_completions c ON c.exchange_id = e.id WHERE e.transaction_id = ? AND e.method = 'POST'",
      [transactionId],
    );
    expect(exchange, 'opened before the bank call, then completed by a row of its own').to.deep.equal({ own: 'in_progress', completed: 'completed' });
    const events = await app.query<{ state: string }>('SELECT e.state FROM payment_events e JOIN payments p ON p.id = e.payment_id WHERE p.transaction_id = ? ORDER BY e.seq', [transactionId]);
    // Reserved straight into SENDING with its bank id (one INSERT), then the outcome.
    expect(events.map((e) => e.state), 'each state change appended').to.deep.equal(['SENDING', 'SUCCESS']);
    const verify = await runCli(['audit', 'verify'], asApp());
    expect(verify.code, verify.stdout + verify.stderr).to.equal(0);
    expect(verify.stdout).to.contain('audit verify: INTACT');
  });

  it('the finance console running as the runtime user signs a user in and shows the payment with its audit', async () => {
    const con = await TestConsole.start(appUrl, { GERBANG_MIGRATE_ON_START: 'false', GERBANG_LOG_LEVEL: 'silent' });
    try {
      const auditor = await con.createUser(`auditor-${suffix}`, 'auditor');
      const client = new ConsoleClient(con.origin);
      expect((await client.signIn(auditor.username, auditor.password)).status).to.equal(303);
      const [payment] = await app.query<{ id: number }>('SELECT id FROM payments WHERE transaction_id = ?', [transactionId]);
      const page = await client.get(`/console/payments/${payment.id}`);
      expect(page.status).to.equal(200);
      expect(page.text).to.contain(transactionId);
      expect(await app.query('SELECT id FROM console_audit WHERE username = ?', [auditor.username]), 'the sign-in is in the console audit').to.not.be.empty;
    } finally {
      await con.close();
    }
  });

  it('a payment run (POST /v1/transfer-batches) pays every line as the runtime user, each line its own exchange opened and completed', async () => {
    const auth = await bearer();
    const batchId = `RUN-${suffix}`;
    const lines = [sampleTransfer({ amount: '1000.00' }), sampleTransfer({ amount: '2000.00' }), sampleTransfer({ amount: '3000.00' })];
    const submitted = await gw!.request('/v1/transfer-batches', { json: { batchId, transfers: lines }, headers: auth });
    expect(submitted.status, submitted.text).to.equal(202);
    const done = await eventually(async () => {
      const run = await gw!.request(`/v1/transfer-batches/${batchId}`, { headers: auth });
      return run.body?.state === 'DONE' && run;
    }, 30_000);
    expect(done.body.progress).to.deep.equal({ queued: 0, submitted: 3, rejected: 0 });
    expect(done.body.lines.map((l: { result: { transactionId: string; status: string } }) => [l.result.transactionId, l.result.status])).to.deep.equal(lines.map((l) => [l.transactionId, 'SUCCESS']));
    for (const line of lines) expect(await bankTransfers(gw!, line.transactionId as string), 'each line reached the bank once').to.equal(1);
    const exchanges = await eventually(async () => {
      const rows = await app.query<{ path: string; completed: string }>(
        'SELECT e.path, c.outcome AS completed FROM audit_exchanges e JOIN audit_completions c ON c.exchange_id = e.id WHERE e.path LIKE ? ORDER BY e.path',
        [`/v1/transfer-batches/${batchId}/lines/%`],
      );
      return rows.length === lines.length && rows;
    });
    expect(exchanges.map((e) => e.completed)).to.deep.equal(['completed', 'completed', 'completed']);
  });

  it('a client whose callback URL was set by `gerbang client set-callback` gets the final result signed by the delivery worker, delivered and audited, as the runtime user', async () => {
    receiver = await startReceiver();
    const client = await gw!.createClient();
    const set = await runCli(['client', 'set-callback', '--id', client.clientId, '--url', receiver.url], asApp());
    expect(set.code, set.stderr).to.equal(0);
    const auth = { authorization: `Bearer ${await gw!.token(client)}` };
    const body = sampleTransfer();
    const paid = await gw!.request('/v1/transfers', { json: body, headers: auth });
    expect(paid.status, paid.text).to.equal(201);
    const notice = await eventually(async () => receiver!.received.find((r) => JSON.parse(r.body).transfer.transactionId === body.transactionId), 10_000);
    expect(JSON.parse(notice.body)).to.deep.equal({ event: 'transfer.final', transfer: paid.body });
    const key = await gw!.request('/v1/callbacks/public-key', { headers: auth });
    expect(signatureOf(notice).kid).to.equal(key.body.keyId);
    expect(signedUnder(notice, key.body.publicKeyPem), 'signed with the published key').to.equal(true);
    // The delivery's state is written once the receiver has answered, and its attempt is an exchange opened and completed.
    await eventually(async () => {
      const [delivery] = await app.query<{ state: string }>('SELECT state FROM callback_deliveries WHERE transaction_id = ?', [body.transactionId as string]);
      return delivery?.state === 'DELIVERED';
    });
    await eventually(async () => (await completion(body.transactionId as string, 'CALLBACK')) === 'completed');
  });

  it('a payment in doubt is settled by the in-doubt resolver as the runtime user, its events appended, and only then called back', async () => {
    const client = await gw!.createClient();
    expect((await runCli(['client', 'set-callback', '--id', client.clientId, '--url', receiver!.url], asApp())).code).to.equal(0);
    const auth = { authorization: `Bearer ${await gw!.token(client)}` };
    // The bank executes it and never answers.
    const body = sampleTransfer({ remark: 'SIM TIMEOUT' });
    const paid = await gw!.request('/v1/transfers', { json: body, headers: auth });
    expect(paid.body?.status, paid.text).to.equal('UNKNOWN');
    const noticesFor = () => receiver!.received.filter((r) => JSON.parse(r.body).transfer.transactionId === body.transactionId);
    expect(noticesFor(), 'nothing said while in doubt').to.have.length(0);
    expect(await app.query('SELECT id FROM callback_deliveries WHERE transaction_id = ?', [body.transactionId as string]), 'nothing queued while in doubt').to.have.length(0);
    const { settled } = await gw!.gateway.resolver.runOnce();
    expect(settled).to.be.greaterThan(0);
    const events = await app.query<{ state: string }>('SELECT e.state FROM payment_events e JOIN payments p ON p.id = e.payment_id WHERE p.transaction_id = ? ORDER BY e.seq', [body.transactionId as string]);
    expect(events.map((e) => e.state), 'each state change appended').to.deep.equal(['SENDING', 'UNKNOWN', 'SUCCESS']);
    expect(await bankTransfers(gw!, body.transactionId as string), 'never sent again').to.equal(1);
    expect(await completion(body.transactionId as string, 'RESOLVE'), 'the check is an exchange opened and completed').to.equal('completed');
    const [notice] = await eventually(async () => noticesFor().length > 0 && noticesFor(), 10_000);
    expect(JSON.parse(notice.body).transfer).to.include({ transactionId: body.transactionId, status: 'SUCCESS' });
    expect(signedUnder(notice, (await gw!.request('/v1/callbacks/public-key', { headers: auth })).body.publicKeyPem)).to.equal(true);
  });

  it('a payment deleted whole in SQL holds the gateway (the scrub) until `gerbang audit verify` and `audit accept-rollback --expect`, run as the runtime user, accept it; then it pays again', async () => {
    // Everything the gateway wrote so far under the grants (payments, the payment run, callbacks, the resolver's check) verifies.
    const intact = await runCli(['audit', 'verify'], asApp());
    expect(intact.code, intact.stdout + intact.stderr).to.equal(0);
    const auth = await bearer();
    const body = sampleTransfer();
    await payInsideChains(gw!, auth, body);
    const breaks = await deleteWhole(root, body.transactionId as string);
    await eventually(async () => breaks.every((at) => gw!.gateway.scrub.held?.includes(at)), 30_000);
    const resent = await gw!.request('/v1/transfers', { json: body, headers: auth });
    expect([resent.status, resent.body?.code], resent.text).to.deep.equal([503, 'STORE_UNAVAILABLE']);
    expect(await bankTransfers(gw!, body.transactionId as string), 'the resend is not paid').to.equal(1);
    const broken = await runCli(['audit', 'verify'], asApp());
    expect(broken.code, broken.stdout).to.equal(1);
    const accepted = await acceptAsVerified(asApp(), 'test: payment deleted, looked at');
    expect(accepted.code, accepted.stdout + accepted.stderr).to.equal(0);
    for (const at of breaks) expect(accepted.stdout).to.contain(at.replace(/^chain (\S+) link (\d+)$/, 'link $2 of chain $1'));
    await eventually(async () => (await gw!.request('/readyz')).status === 200, 15_000);
    const next = sampleTransfer();
    const paid = await gw!.request('/v1/transfers', { json: next, headers: auth });
    expect([paid.status, paid.body?.status], paid.text).to.deep.equal([201, 'SUCCESS']);
    const after = await runCli(['audit', 'verify'], asApp());
    expect(after.code, after.stdout).to.equal(0);
  });

  it('MariaDB refuses the runtime user every UPDATE and DELETE of audit records, an exchange\'s outcome and its completion included; the rows stay as they were', async () => {
    const [exchange] = await app.query<{ id: number }>('SELECT id FROM audit_exchanges WHERE transaction_id = ? ORDER BY id LIMIT 1', [transactionId]);
    expect(exchange, 'the payment of the previous test is audited').to.not.equal(undefined);
    const before = await root.query(`SELECT * FROM ${names.database}.audit_exchanges ORDER BY id`);
    const completions = await root.query(`SELECT * FROM ${names.database}.audit_completions ORDER BY exchange_id`);
    expect(completions).to.not.be.empty;
    const attempts: [string, (string | number)[]][] = [
      ["UPDATE audit_exchanges SET outcome = 'completed', status_code = 201, completed_at = 1 WHERE id = ?", [exchange.id]],
      ['UPDATE audit_exchanges SET amount = ? WHERE id = ?', ['1.00', exchange.id]],
      ['UPDATE audit_exchanges SET response_body = NULL, key_id = NULL WHERE id = ?', [exchange.id]],
      ["UPDATE payment_events SET state = 'SUCCESS'", []],
      ['DELETE FROM payment_events', []],
      ['UPDATE chain_coverage SET since = 0', []],
      ["UPDATE audit_completions SET outcome = 'failed'", []],
      ['UPDATE audit_completions SET amount = ?', ['1.00']],
      ['DELETE FROM audit_completions', []],
      ['UPDATE audit_exchanges SET request_body = NULL WHERE id = ?', [exchange.id]],
      ['UPDATE audit_exchanges SET received_at = 0, remote_ip = ? WHERE id = ?', ['10.0.0.1', exchange.id]],
      ['DELETE FROM audit_exchanges WHERE id = ?', [exchange.id]],
      ['UPDATE audit_bank_calls SET status_code = 200', []],
      ['DELETE FROM audit_bank_calls', []],
      ["UPDATE audit_chain SET hash = REPEAT('0', 64)", []],
      ['DELETE FROM audit_chain', []],
      ['DELETE FROM audit_writers', []],
      ['UPDATE audit_verifications SET ok = 1', []],
      ['DELETE FROM audit_verifications', []],
      ['UPDATE audit_purges SET records = 0', []],
      ['DELETE FROM audit_purged_exchanges', []],
      ["UPDATE console_audit SET action = 'x'", []],
      ['DELETE FROM console_audit', []],
      ["UPDATE record_changes SET mac = NULL", []],
      ['DELETE FROM record_changes', []],
      ['DELETE FROM bank_notifications', []],
      ['TRUNCATE TABLE audit_exchanges', []],
      ['DROP TABLE audit_chain', []],
    ];
    for (const [sql, params] of attempts) {
      expect(await refusal(app, sql, params), sql).to.be.oneOf(['ER_TABLEACCESS_DENIED_ERROR', 'ER_COLUMNACCESS_DENIED_ERROR']);
    }
    expect(await root.query(`SELECT * FROM ${names.database}.audit_exchanges ORDER BY id`)).to.deep.equal(before);
    expect(await root.query(`SELECT * FROM ${names.database}.audit_completions ORDER BY exchange_id`)).to.deep.equal(completions);
  });

  it('gerbang audit purge-anonymous is refused as the runtime user and runs as the migration user', async () => {
    const env = { GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints };
    // An anonymous request refused at the door, received long ago (written as the gateway writes it).
    await gw!.store.audit.record(
      { requestId: `req-${suffix}`, receivedAt: Date.now() - 200 * 86_400_000, remoteIp: '198.51.100.9', origin: null, method: 'POST', path: '/v1/auth/token', clientId: null, transactionId: null, amount: null, requestHeaders: {}, requestBody: null },
      { outcome: 'rejected', statusCode: 401, errorCode: 'INVALID_CLIENT', clientId: null, transactionId: null, amount: null, responseBody: null, completedAt: Date.now() - 200 * 86_400_000 },
    );
    const asApp = await runCli(['audit', 'purge-anonymous'], { ...env, GERBANG_DATABASE_URL: appUrl });
    expect(asApp.code).to.not.equal(0);
    expect(asApp.stderr).to.match(new RegExp(`INSERT command denied to user '${names.app}'.*audit_purges`));
    expect(await app.query('SELECT id FROM audit_exchanges WHERE request_id = ?', [`req-${suffix}`])).to.have.length(1);
    const asMigrate = await runCli(['audit', 'purge-anonymous', '--json'], { ...env, GERBANG_DATABASE_URL: migrateUrl });
    expect(asMigrate.code, asMigrate.stderr).to.equal(0);
    expect(JSON.parse(asMigrate.stdout)).to.include({ records: 1 });
    const verify = await runCli(['audit', 'verify'], { ...env, GERBANG_DATABASE_URL: appUrl });
    expect(verify.code, verify.stdout).to.equal(0);
  });

  it('what an UPDATE of the audit cannot do as the runtime user, a writer with a SQL shell still cannot hide: audit verify names a completion changed as root, exit 1', async () => {
    const [completion] = await app.query<{ id: number }>(
      "SELECT c.exchange_id AS id FROM audit_completions c JOIN audit_exchanges e ON e.id = c.exchange_id WHERE e.transaction_id = ? AND e.method = 'POST'",
      [transactionId],
    );
    await root.execute(`UPDATE ${names.database}.audit_completions SET amount = ? WHERE exchange_id = ?`, ['1.00', completion.id]);
    const verify = await runCli(['audit', 'verify'], asApp());
    expect(verify.code).to.equal(1);
    expect(verify.stdout).to.match(new RegExp(`ALTERED: audit_completions id ${completion.id} \\(chain \\S+ seq \\d+, complete\\) was altered`));
  });
});
