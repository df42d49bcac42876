import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, renameSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditSpool, migrate, openStore, withAuditSpool, type Store } from '../../src/store/index.js';
import type { BankCallAudit, InboundCompletion, InboundExchange } from '../../src/store/types.js';
import { TEST_AUDIT_KEY, TEST_AUDIT_KEYS } from '../support/audit-keys.js';
import { createMariaDbBehindProxy, createMariaDbDatabase } from '../support/databases.js';

const WORKER = join(__dirname, '..', 'support', 'spool-worker.js');

function exchange(requestId: string): InboundExchange {
  return {
    requestId,
    receivedAt: Date.now(),
    remoteIp: '127.0.0.1',
    origin: null,
    method: 'POST',
    path: '/v1/transfers',
    clientId: null,
    transactionId: null,
    amount: null,
    requestHeaders: { 'content-type': 'application/json' },
    requestBody: '{"refused":"database down"}',
  };
}

const completion: InboundCompletion = {
  outcome: 'failed',
  statusCode: 503,
  errorCode: 'STORE_UNAVAILABLE',
  clientId: null,
  transactionId: null,
  amount: null,
  responseBody: '{"code":"STORE_UNAVAILABLE"}',
  completedAt: Date.now(),
};

function bankCall(requestId: string): BankCallAudit {
  return {
    exchangeId: null,
    requestId,
    partner: 'bca',
    operation: 'transfer',
    method: 'POST',
    url: 'https://bank.test/banking/corporates/transfers',
    requestHeaders: {},
    requestBody: '{}',
    statusCode: 200,
    responseBody: '{"Status":"Success"}',
    errorCode: null,
    startedAt: Date.now(),
    durationMs: 12,
  } as BankCallAudit;
}

/**
 * The audit spool (src/store/audit-spool.ts) is what keeps an answered request's record while
 * the database is away. Its replay must survive the death of the process doing it: a killed
 * replayer's claim is taken over, and whatever it wrote already is not written twice.
 */
describe('Audit spool replay, crash-safe (MariaDB)', function () {
  this.timeout(120_000);
  let database: Awaited<ReturnType<typeof createMariaDbDatabase>>;
  let store: Store;

  before(async function () {
    database = await createMariaDbDatabase(this);
    store = await openStore(database.url, { auditKeys: TEST_AUDIT_KEYS });
    await migrate(store.db);
  });

  after(async () => {
    await store?.close();
    await database?.drop();
  });

  const count = async (table: string, prefix: string): Promise<{ rows: number; distinct: number }> => {
    const [row] = await store.db.query<{ rows: number; ids: number }>(
      `SELECT COUNT(*) AS \`rows\`, COUNT(DISTINCT request_id) AS ids FROM ${table} WHERE request_id LIKE ?`,
      [`${prefix}%`],
    );
    return { rows: Number(row.rows), distinct: Number(row.ids) };
  };

  function startWorker(dir: string): { pid: number; kill: () => void; exited: Promise<{ code: number | null; stdout: string; stderr: string }> } {
    const child = spawn(process.execPath, [WORKER, database.url, dir], { env: { ...process.env, GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_LOG_LEVEL: 'silent' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
    return { pid: child.pid!, kill: () => child.kill('SIGKILL'), exited };
  }

  it('loses nothing when the replaying worker is SIGKILLed mid-replay: another process takes its claim over and every record is written once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gerbang-spool-'));
    const spool = new AuditSpool(dir, database.url, TEST_AUDIT_KEYS);
    const records = 200;
    const legs = 100;
    for (let i = 0; i < records; i++) spool.append({ op: 'record', exchange: exchange(`crash-x-${i}`), completion });
    for (let i = 0; i < legs; i++) spool.append({ op: 'bank-call', call: bankCall(`crash-b-${i}`) });

    const victim = startWorker(dir);
    // Kill it once it has written some records back, well before it is through.
    for (;;) {
      const { rows } = await count('audit_exchanges', 'crash-x-');
      if (rows >= 20) break;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    victim.kill();
    const killed = await victim.exited;
    expect(killed.code, killed.stderr).to.equal(null);
    const before = await count('audit_exchanges', 'crash-x-');
    expect(before.rows, 'killed mid-replay').to.be.below(records);
    expect(readdirSync(dir).filter((name) => name.includes(`.replaying-${victim.pid}-`)), 'the dead worker’s claim is left behind').to.have.length(1);

    const rescuer = startWorker(dir);
    const done = await rescuer.exited;
    expect(done.code, done.stderr).to.equal(0);
    expect(Number(done.stdout), 'lines the second process wrote back').to.be.greaterThan(0);

    expect(await count('audit_exchanges', 'crash-x-')).to.deep.equal({ rows: records, distinct: records });
    expect(await count('audit_bank_calls', 'crash-b-')).to.deep.equal({ rows: legs, distinct: legs });
    expect(readdirSync(dir), 'nothing left in the journal').to.deep.equal([]);
    expect((await store.audit.verify()).breaks, 'audit chains intact').to.deep.equal([]);
  });

  it('writes a journal replayed twice (its replayer died after writing, before forgetting it) as one record each', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gerbang-spool-'));
    const spool = new AuditSpool(dir, database.url, TEST_AUDIT_KEYS);
    for (let i = 0; i < 20; i++) spool.append({ op: 'bank-call', call: bankCall(`twice-b-${i}`) });
    for (let i = 0; i < 20; i++) spool.append({ op: 'record', exchange: exchange(`twice-x-${i}`), completion });
    const [journal] = readdirSync(dir);
    copyFileSync(join(dir, journal), join(dir, 'kept'));
    expect(await spool.replay(store.audit)).to.equal(40);
    // The same lines back in the journal, as if the replay had never been done.
    renameSync(join(dir, 'kept'), join(dir, journal));
    await spool.replay(store.audit);
    expect(await count('audit_bank_calls', 'twice-b-')).to.deep.equal({ rows: 20, distinct: 20 });
    expect(await count('audit_exchanges', 'twice-x-')).to.deep.equal({ rows: 20, distinct: 20 });
  });

  it('writes a bank leg whose COMMIT answer was lost (the server committed it) once, though it was spooled and replayed', async () => {
    const behind = await createMariaDbBehindProxy();
    const proxied = await openStore(behind.url, { auditKeys: TEST_AUDIT_KEYS });
    try {
      await migrate(proxied.db);
      const dir = mkdtempSync(join(tmpdir(), 'gerbang-spool-'));
      const spool = new AuditSpool(dir, behind.url, TEST_AUDIT_KEYS);
      const audit = withAuditSpool(proxied.audit, spool);
      const lost = behind.proxy.loseCommitAnswerAfter('INSERT INTO audit_bank_calls');
      // Told it failed (CommitUnknownError), so the leg goes to the spool: the gateway cannot know it committed.
      await audit.recordBankCall(bankCall('lost-leg'));
      await lost;
      expect(spool.backlog()).to.equal(1);
      const legs = async () => Number((await proxied.db.query<{ n: number }>('SELECT COUNT(*) AS n FROM audit_bank_calls WHERE request_id = ?', ['lost-leg']))[0].n);
      // The server carries out the lost connection's COMMIT on its own time.
      for (const until = Date.now() + 10_000; (await legs()) === 0 && Date.now() < until; ) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await legs(), 'the server committed the first write').to.equal(1);
      await spool.replay(proxied.audit);
      expect(await legs(), 'the replay is refused by the entry id the first write carried').to.equal(1);
      expect(spool.backlog()).to.equal(0);
    } finally {
      await proxied.close();
      await behind.drop();
    }
  });

  it('takes over a claim whose lease lapsed although its process lives, and leaves a fresh one alone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gerbang-spool-'));
    const spool = new AuditSpool(dir, database.url, TEST_AUDIT_KEYS);
    spool.append({ op: 'bank-call', call: bankCall('lease-b-lapsed') });
    const [journal] = readdirSync(dir);
    // Claimed by a live process (pid 1 always lives) that stopped renewing a minute ago.
    const lapsed = join(dir, `${journal}.replaying-1-aaaaaa`);
    renameSync(join(dir, journal), lapsed);
    const old = new Date(Date.now() - 60_000);
    utimesSync(lapsed, old, old);
    spool.append({ op: 'bank-call', call: bankCall('lease-b-fresh') });
    renameSync(join(dir, journal), join(dir, `${journal}.replaying-1-bbbbbb`));

    expect(await spool.replay(store.audit)).to.equal(1);
    expect((await count('audit_bank_calls', 'lease-b-lapsed')).rows).to.equal(1);
    expect((await count('audit_bank_calls', 'lease-b-fresh')).rows, 'a live, renewed claim is its holder’s').to.equal(0);
    expect(readdirSync(dir)).to.deep.equal([`${journal}.replaying-1-bbbbbb`]);
  });
});
