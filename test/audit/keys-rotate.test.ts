import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate, openDb, openStore, type Db } from '../../src/store/index.js';
import { ringOf, testKeySpec } from '../support/audit-keys.js';
import { startReceiver, type CallbackReceiver } from '../support/callback-receiver.js';
import { runCli } from '../support/cli.js';
import { createMariaDbDatabase, createSqliteDatabase, forEachBackend } from '../support/databases.js';
import { eventually, sampleTransfer, TestGateway } from '../support/gateway-harness.js';
import { CHAIN_COVERAGE } from '../../src/store/repositories/chain-coverage.js';
import { signUnsignedRows } from '../../src/store/repositories/record-macs.js';
import { ValueSealer } from '../../src/store/repositories/sealed-values.js';

const OLD = testKeySpec('k-old');
const NEW = testKeySpec('k-new');

/** The load must not be throttled: it measures the rotation, not the rate limits. */
const UNTHROTTLED = { GERBANG_RATE_LIMIT_PER_CLIENT: '100000', GERBANG_RATE_LIMIT_PER_IP: '100000' };

/** The tables with sealed values (src/store/repositories/sealed-values.ts) and their sealed columns. */
const SEALED = {
  audit_exchanges: ['request_headers', 'request_body', 'response_body'],
  audit_bank_calls: ['url', 'request_headers', 'request_body', 'response_body'],
  payments: ['result_json'],
  transfer_batch_lines: ['request_json', 'result_json'],
  callback_deliveries: ['body'],
};

/** A rotation's report line, as numbers. */
const REPORT = /keys rotate: (\d+) exchanges, (?:\d+) exchange completions, (\d+) bank calls, (\d+) payments, (?:\d+) payment events, (\d+) payment-run lines, (\d+) callbacks and (\d+) client signing keys re-encrypted to key k-new in (\d+) batches/;

async function pay(gw: TestGateway, token: string, remark: string, ids?: string[]): Promise<number> {
  const transfer = sampleTransfer({ remark });
  ids?.push(transfer.transactionId as string);
  const answer = await gw.request('/v1/transfers', { headers: { authorization: `Bearer ${token}` }, json: transfer });
  return answer.status;
}

/** Every row of the sealed tables, as stored. */
async function sealedRows(db: Db): Promise<Record<string, Record<string, unknown>[]>> {
  const rows: Record<string, Record<string, unknown>[]> = {};
  for (const table of Object.keys(SEALED)) rows[table] = await db.query(`SELECT * FROM ${table}`);
  return rows;
}

forEachBackend('gerbang keys rotate', (db) => {
  // Each test runs the CLI as its own processes, each loading the whole gateway: slow on a busy machine.
  beforeEach(function () {
    this.currentTest?.timeout(60_000);
  });
  const remark = `Rot ${randomBytes(4).toString('hex')}`;
  const runId = `RUN-${randomBytes(5).toString('hex')}`;
  let rotation: Awaited<ReturnType<typeof runCli>>;
  let receiver: CallbackReceiver;
  let jwtSecret = '';
  let client: Awaited<ReturnType<TestGateway['createClient']>>;
  /** The payments of phase 1, sealed with the old key only. */
  const oldIds: string[] = [];
  /** When each answer of the load that ran during the rotation arrived, and its status. */
  const answers: { at: number; status: number }[] = [];
  const rotationWindow = { start: 0, end: 0 };

  before(async function () {
    this.timeout(120_000);
    receiver = await startReceiver();
    // The coverage rows as migration 028 run with the old key signs them (this store was migrated empty without keys).
    await signUnsignedRows(db.store().db, CHAIN_COVERAGE, new ValueSealer(ringOf(OLD)));
    // Phase 1: a gateway with only the old key writes a history: payments, a payment run, and
    // their callbacks, left queued (delivery off) for a gateway with only the new key to send.
    const before = await TestGateway.start(db.url(), { GERBANG_AUDIT_KEYS: OLD, GERBANG_CALLBACK_INTERVAL_MS: '0', ...UNTHROTTLED });
    jwtSecret = before.jwtSecret;
    client = await before.createClient();
    await before.store.callbacks.setEndpoint(client.clientId, receiver.url, Date.now());
    const oldToken = await before.token(client);
    for (let i = 0; i < 8; i += 1) await Promise.all([0, 1, 2, 3].map(async () => expect(await pay(before, oldToken, remark, oldIds)).to.equal(201)));
    const run = await before.request('/v1/transfer-batches', {
      headers: { authorization: `Bearer ${oldToken}` },
      json: { batchId: runId, transfers: Array.from({ length: 5 }, () => sampleTransfer({ remark, amount: '1000.00' })) },
    });
    expect(run.status, run.text).to.equal(202);
    await eventually(async () => (await before.request(`/v1/transfer-batches/${runId}`, { headers: { authorization: `Bearer ${oldToken}` } })).body.state === 'DONE', 15_000);
    await before.close();

    // Phase 2: the gateway is reloaded with the new key last, and keeps serving while the rotation runs.
    const gw = await TestGateway.start(db.url(), { GERBANG_AUDIT_KEYS: `${OLD},${NEW}`, GERBANG_CALLBACK_INTERVAL_MS: '0', ...UNTHROTTLED, GERBANG_JWT_SECRET: jwtSecret });
    const token = await gw.token(client);
    let stop = false;
    const load = (async () => {
      while (!stop) answers.push({ status: await pay(gw, token, 'during rotation'), at: Date.now() });
    })();
    try {
      rotationWindow.start = Date.now();
      rotation = await runCli(['keys', 'rotate', '--batch-size', '5'], { GERBANG_DATABASE_URL: db.url(), GERBANG_AUDIT_KEYS: `${OLD},${NEW}` });
      rotationWindow.end = Date.now();
    } finally {
      stop = true;
      await load;
      await gw.close();
    }
  });

  after(() => receiver?.server.close());

  it('re-encrypts every record in batches and exits 0', () => {
    expect(rotation.code, rotation.stderr).to.equal(0);
    const match = REPORT.exec(rotation.stdout);
    expect(match, rotation.stdout).to.not.equal(null);
    const [, exchanges, bankCalls, payments, lines, callbacks, , batches] = match!.map(Number);
    expect(exchanges).to.be.at.least(33 + 1, 'the token exchange, 32 payments and the run of phase 1');
    expect(bankCalls).to.be.at.least(32 + 5);
    expect(payments).to.be.at.least(32 + 5, 'the payments and the run lines of phase 1');
    expect(lines).to.equal(5);
    expect(callbacks).to.be.at.least(32 + 5);
    expect(batches).to.be.at.least(Math.ceil((exchanges + bankCalls + payments + lines + callbacks) / 5));
  });

  it('leaves no value sealed with the old key in the database', async () => {
    const rows = await sealedRows(db.store().db);
    for (const [table, columns] of Object.entries(SEALED)) {
      const raw = JSON.stringify(rows[table]);
      expect(raw, table).to.contain('gcm2.k-new.');
      expect(raw, table).to.not.contain('gcm2.k-old.');
      expect(new Set(rows[table].map((row) => row.key_id)), table).to.deep.equal(new Set(['k-new']));
      for (const row of rows[table]) for (const column of columns) if (row[column] !== null) expect(row[column], `${table}.${column}`).to.match(/^gcm2\.k-new\./);
    }    // The MACs of the clients, their grants and callback endpoints (and of console users) too, and of the coverage of history.
    for (const table of ['clients', 'client_account_grants', 'client_callbacks', 'chain_coverage']) {
      const macKeys = await db.store().db.query<{ mac_key_id: string | null }>(`SELECT DISTINCT mac_key_id FROM ${table}`);
      expect(macKeys.map((r) => r.mac_key_id), table).to.deep.equal(['k-new']);
    }
  });

  it('kept the gateway serving: every payment during the rotation succeeded', () => {
    const during = answers.filter((a) => a.at >= rotationWindow.start && a.at <= rotationWindow.end);
    expect(during.length, 'payments answered while the rotation ran').to.be.at.least(1);
    expect(answers.every((a) => a.status === 201), JSON.stringify(answers)).to.equal(true);
  });

  it('the old key is no longer needed: export and verify work with the new key alone, chains intact', async () => {
    const env = { GERBANG_DATABASE_URL: db.url(), GERBANG_AUDIT_KEYS: NEW };
    const verified = await runCli(['audit', 'verify'], env);
    expect(verified.stdout).to.contain('INTACT');
    expect(verified.code).to.equal(0);
    const exported = await runCli(['audit', 'export', '--format', 'jsonl'], env);
    expect(exported.code, exported.stderr).to.equal(0);
    expect(exported.stdout).to.contain(remark).and.to.contain('during rotation');
  });

  it('the old key is no longer needed: a gateway with the new key alone answers old payments and runs, and delivers their callbacks', async function () {
    this.timeout(60_000);
    const gw = await TestGateway.start(db.url(), { GERBANG_AUDIT_KEYS: NEW, GERBANG_CALLBACK_INTERVAL_MS: '50', ...UNTHROTTLED, GERBANG_JWT_SECRET: jwtSecret });
    try {
      const auth = { authorization: `Bearer ${await gw.token(client)}` };
      const status = await gw.request(`/v1/transfers/${oldIds[0]}`, { headers: auth });
      expect(status.status, status.text).to.equal(200);
      expect(status.body).to.include({ transactionId: oldIds[0], status: 'SUCCESS', amount: '100000.00' });
      const run = await gw.request(`/v1/transfer-batches/${runId}`, { headers: auth });
      expect(run.body.lines.map((l: { state: string; result: { status: string } }) => `${l.state} ${l.result.status}`)).to.deep.equal(Array(5).fill('SUBMITTED SUCCESS'));
      // Every queued callback (phase 1 and the load) goes out, opened with the new key alone.
      const [{ n }] = await gw.store.db.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM callback_deliveries');
      await eventually(async () => receiver.received.length >= Number(n), 30_000);
      const notices = receiver.received.map((r) => JSON.parse(r.body) as { event: string; transfer: { transactionId: string; status: string } });
      expect(notices.map((x) => x.transfer.transactionId)).to.include.members(oldIds);
      expect(notices.find((x) => x.transfer.transactionId === oldIds[0])).to.deep.equal({ event: 'transfer.final', transfer: status.body });
    } finally {
      await gw.close();
    }
  });

  it('a second run finds nothing left to do', async () => {
    const again = await runCli(['keys', 'rotate'], { GERBANG_DATABASE_URL: db.url(), GERBANG_AUDIT_KEYS: `${OLD},${NEW}` });
    expect(again.code, again.stderr).to.equal(0);
    expect(again.stdout).to.contain('keys rotate: 0 exchanges, 0 exchange completions, 0 bank calls, 0 payments, 0 payment events, 0 payment-run lines, 0 callbacks and 0 client signing keys re-encrypted to key k-new in 0 batches');
  });
});

forEachBackend('gerbang keys rotate while a process without the new key has an exchange open', (db) => {
  // Each test runs the CLI as its own processes, each loading the whole gateway: slow on a busy machine.
  beforeEach(function () {
    this.currentTest?.timeout(60_000);
  });
  it('that process still completes it, and a second rotation seals the completion with the new key', async () => {
    const store = await openStore(db.url(), { auditKeys: ringOf(OLD) });
    const env = { GERBANG_DATABASE_URL: db.url(), GERBANG_AUDIT_KEYS: `${OLD},${NEW}` };
    try {
      const id = await store.audit.open({
        requestId: 'req-open', receivedAt: 1, remoteIp: '127.0.0.1', origin: null, method: 'POST', path: '/v1/transfers',
        clientId: 'gbc_x', transactionId: 'INV-open', amount: '5.00', requestHeaders: { 'content-type': 'application/json' }, requestBody: '{"amount":"5.00"}',
      });
      const first = await runCli(['keys', 'rotate'], env);
      expect(first.code, first.stderr).to.equal(0);
      const [rotated] = await db.store().db.query<{ request_body: string }>('SELECT request_body FROM audit_exchanges WHERE id = ?', [id]);
      expect(rotated.request_body).to.match(/^gcm2\.k-new\./);

      // This process knows only the old key, yet its completion must not be lost.
      await store.audit.complete(id, {
        outcome: 'completed', statusCode: 201, errorCode: null, clientId: null, transactionId: null, amount: null, responseBody: '{"status":"SUCCESS"}', completedAt: 2,
      });
      // The completion is its own row (023), its answer under the only key this process has.
      const [completed] = await db.store().db.query<{ outcome: string; key_id: string }>('SELECT outcome, key_id FROM audit_completions WHERE exchange_id = ?', [id]);
      expect(completed).to.deep.equal({ outcome: 'completed', key_id: 'k-old' }, 'its request is under k-new, its answer under k-old: rotate it again');

      const second = await runCli(['keys', 'rotate'], env);
      expect(second.stdout).to.contain('keys rotate: 0 exchanges, 1 exchange completions, 0 bank calls, 0 payments, 0 payment events, 0 payment-run lines, 0 callbacks and 0 client signing keys re-encrypted to key k-new');
      const verified = await runCli(['audit', 'verify'], { ...env, GERBANG_AUDIT_KEYS: NEW });
      expect(verified.stdout).to.contain('INTACT');
      expect(verified.code).to.equal(0);
    } finally {
      await store.close();
    }
  });
});

forEachBackend('a payment-run line whose result is sealed under another key than its request', (db) => {
  // Each test runs the CLI as its own processes, each loading the whole gateway: slow on a busy machine.
  beforeEach(function () {
    this.currentTest?.timeout(60_000);
  });
  it('is marked for rotation (key id NULL), stays readable, and keys rotate seals it whole under the new key', async () => {
    const before = await openStore(db.url(), { auditKeys: ringOf(OLD) });
    const after = await openStore(db.url(), { auditKeys: ringOf(OLD, NEW) });
    try {
      const requestJson = JSON.stringify(sampleTransfer({ transactionId: 'MIXED-1' }));
      const batch = await before.batches.create(
        { clientId: 'gbc_mixed', batchId: 'RUN-MIXED', requestHash: 'c'.repeat(64), lines: [{ transactionId: 'MIXED-1', requestJson, sourceAccount: '0201245680', beneficiaryAccount: '0201245681' }] },
        1,
      );
      // Paid by a process that already seals with the new key.
      await after.batches.recordLine(batch, { lineNo: 1, transactionId: 'MIXED-1' }, { state: 'SUBMITTED', httpStatus: 201, resultJson: '{"status":"SUCCESS"}' }, 2);
      const [mixed] = await db.store().db.query<Record<string, string | null>>('SELECT request_json, result_json, key_id FROM transfer_batch_lines WHERE batch_pk = ?', [batch.id]);
      expect([mixed.request_json?.slice(0, 10), mixed.result_json?.slice(0, 10), mixed.key_id]).to.deep.equal(['gcm2.k-old', 'gcm2.k-new', null]);
      expect(await after.batches.lines(batch.id, 0, 1)).to.deep.equal([{ lineNo: 1, transactionId: 'MIXED-1', requestJson, state: 'SUBMITTED', httpStatus: 201, resultJson: '{"status":"SUCCESS"}' }]);

      const rotated = await runCli(['keys', 'rotate'], { GERBANG_DATABASE_URL: db.url(), GERBANG_AUDIT_KEYS: `${OLD},${NEW}` });
      expect(REPORT.exec(rotated.stdout)?.[4], rotated.stdout).to.equal('1');
      const [sealed] = await db.store().db.query<Record<string, string | null>>('SELECT request_json, result_json, key_id FROM transfer_batch_lines WHERE batch_pk = ?', [batch.id]);
      expect([sealed.request_json?.slice(0, 10), sealed.result_json?.slice(0, 10), sealed.key_id]).to.deep.equal(['gcm2.k-new', 'gcm2.k-new', 'k-new']);
    } finally {
      await before.close();
      await after.close();
    }
  });
});

forEachBackend('migration 012 over values stored before it (clear text from before 003 and 009, gcm1 values)', (db) => {
  // Each test runs the CLI as its own processes, each loading the whole gateway: slow on a busy machine.
  beforeEach(function () {
    this.currentTest?.timeout(60_000);
  });
  it('seals each for its row, signs the payments, and the store reads them; clear text written afterwards is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gerbang-mig-'));
    const database = db.backend === 'sqlite' ? createSqliteDatabase() : await createMariaDbDatabase();
    const url = database.url;
    const files = join(dir, 'sql');
    mkdirSync(files);
    for (const file of readdirSync(join('sql', db.backend === 'sqlite' ? 'sqlite' : 'mysql'))) {
      if (Number(file.slice(0, 3)) < 12) copyFileSync(join('sql', db.backend === 'sqlite' ? 'sqlite' : 'mysql', file), join(files, file));
    }
    const raw = openDb(url);
    try {
      await migrate(raw, { directory: files });
      await raw.execute(
        "INSERT INTO audit_exchanges (request_id, received_at, remote_ip, method, path, outcome, request_headers, request_body, response_body) VALUES ('legacy', 1, '127.0.0.1', 'POST', '/v1/transfers', 'completed', ?, ?, ?)",
        ['{"content-type":"application/json"}', '{"remark":"legacy body"}', '{"status":"SUCCESS"}'],
      );
      await raw.execute(
        'INSERT INTO payments (client_id, transaction_id, request_hash, state, amount, amount_minor, currency, result_json, key_id, created_at, updated_at) ' +
          "VALUES ('gbc_legacy', 'LEGACY-1', ?, 'FAILED', '750.00', 75000, 'IDR', ?, 'k-old', 1, 1)",
        ['a'.repeat(64), ringOf(OLD).encrypt('{"status":"FAILED"}')],
      );
      const refused = await migrate(raw).then(() => null, (e: Error) => e);
      expect(refused?.message, 'without the keys the migration names the setting').to.match(/GERBANG_AUDIT_KEYS/);
      expect((await migrate(raw, { keys: ringOf(OLD, NEW) })).applied[0]).to.equal('012_keyed_audit');
      const store = await openStore(url, { auditKeys: ringOf(OLD, NEW) });
      try {
        const [exchange] = await store.audit.list({ requestId: 'legacy' });
        expect(exchange).to.include({ requestBody: '{"remark":"legacy body"}', responseBody: '{"status":"SUCCESS"}' });
        expect((await store.payments.find('gbc_legacy', 'LEGACY-1'))?.resultJson).to.equal('{"status":"FAILED"}');
        await raw.execute("UPDATE payments SET result_json = '{\"status\":\"SUCCESS\"}', key_id = NULL WHERE transaction_id = 'LEGACY-1'");
        const error = await store.payments.find('gbc_legacy', 'LEGACY-1').then(() => null, (e: { code?: string }) => e);
        expect(error?.code).to.equal('AUDIT_INTEGRITY');
      } finally {
        await store.close();
      }
    } finally {
      await raw.close();
      await database.drop();
    }
  });
});

