import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { openStore } from '../../src/store/index.js';
import { ringOf, testKeySpec } from '../support/audit-keys.js';
import { runCli } from '../support/cli.js';
import { forEachBackend } from '../support/databases.js';
import { sampleTransfer, TestGateway } from '../support/gateway-harness.js';

const OLD = testKeySpec('k-old');
const NEW = testKeySpec('k-new');

/** The load must not be throttled: it measures the rotation, not the rate limits. */
const UNTHROTTLED = { GERBANG_RATE_LIMIT_PER_CLIENT: '100000', GERBANG_RATE_LIMIT_PER_IP: '100000' };

async function pay(gw: TestGateway, token: string, remark: string): Promise<number> {
  const answer = await gw.request('/v1/transfers', { headers: { authorization: `Bearer ${token}` }, json: sampleTransfer({ remark }) });
  return answer.status;
}

forEachBackend('gerbang keys rotate', (db) => {
  const remark = `Rot ${randomBytes(4).toString('hex')}`;
  let rotation: Awaited<ReturnType<typeof runCli>>;
  /** When each answer of the load that ran during the rotation arrived, and its status. */
  const answers: { at: number; status: number }[] = [];
  const rotationWindow = { start: 0, end: 0 };

  before(async function () {
    this.timeout(120_000);
    // Phase 1: a gateway with only the old key writes a history.
    const before = await TestGateway.start(db.url(), { GERBANG_AUDIT_KEYS: OLD, ...UNTHROTTLED });
    const client = await before.createClient();
    const oldToken = await before.token(client);
    for (let i = 0; i < 8; i += 1) await Promise.all([0, 1, 2, 3].map(async () => expect(await pay(before, oldToken, remark)).to.equal(201)));
    await before.close();

    // Phase 2: the gateway is reloaded with the new key last, and keeps serving while the rotation runs.
    const gw = await TestGateway.start(db.url(), { GERBANG_AUDIT_KEYS: `${OLD},${NEW}`, ...UNTHROTTLED, GERBANG_JWT_SECRET: before.jwtSecret });
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

  it('re-encrypts every record in batches and exits 0', () => {
    expect(rotation.code, rotation.stderr).to.equal(0);
    const match = /keys rotate: (\d+) exchanges and (\d+) bank calls re-encrypted to key k-new in (\d+) batches/.exec(rotation.stdout);
    expect(match, rotation.stdout).to.not.equal(null);
    const [, exchanges, bankCalls, batches] = match!.map(Number);
    expect(exchanges).to.be.at.least(33, 'the token exchange and 32 payments of phase 1');
    expect(bankCalls).to.be.at.least(32);
    expect(batches).to.be.at.least(Math.ceil((exchanges + bankCalls) / 5));
  });

  it('leaves no value sealed with the old key in the database', async () => {
    const rows = [...(await db.store().db.query('SELECT * FROM audit_exchanges')), ...(await db.store().db.query('SELECT * FROM audit_bank_calls'))];
    const raw = JSON.stringify(rows);
    expect(raw).to.contain('gcm1.k-new.');
    expect(raw).to.not.contain('gcm1.k-old.');
    expect(new Set(rows.map((row) => (row as { key_id: string }).key_id))).to.deep.equal(new Set(['k-new']));
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

  it('a second run finds nothing left to do', async () => {
    const again = await runCli(['keys', 'rotate'], { GERBANG_DATABASE_URL: db.url(), GERBANG_AUDIT_KEYS: `${OLD},${NEW}` });
    expect(again.code, again.stderr).to.equal(0);
    expect(again.stdout).to.contain('keys rotate: 0 exchanges and 0 bank calls re-encrypted to key k-new in 0 batches');
  });
});

forEachBackend('gerbang keys rotate while a process without the new key has an exchange open', (db) => {
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
      expect(rotated.request_body).to.match(/^gcm1\.k-new\./);

      // This process knows only the old key, yet its completion must not be lost.
      await store.audit.complete(id, {
        outcome: 'completed', statusCode: 201, errorCode: null, clientId: null, transactionId: null, amount: null, responseBody: '{"status":"SUCCESS"}', completedAt: 2,
      });
      const [completed] = await db.store().db.query<{ outcome: string; key_id: string }>('SELECT outcome, key_id FROM audit_exchanges WHERE id = ?', [id]);
      expect(completed).to.deep.equal({ outcome: 'completed', key_id: null }, 'its request is under k-new, its answer under k-old: rotate it again');

      const second = await runCli(['keys', 'rotate'], env);
      expect(second.stdout).to.contain('keys rotate: 1 exchanges and 0 bank calls re-encrypted to key k-new');
      const verified = await runCli(['audit', 'verify'], { ...env, GERBANG_AUDIT_KEYS: NEW });
      expect(verified.stdout).to.contain('INTACT');
      expect(verified.code).to.equal(0);
    } finally {
      await store.close();
    }
  });
});

forEachBackend('gerbang keys rotate over records written before migration 003', (db) => {
  it('reads their clear values as they are, then seals them with the newest key', async () => {
    const raw = db.store().db;
    const { insertId } = await raw.execute(
      "INSERT INTO audit_exchanges (request_id, received_at, remote_ip, method, path, outcome, request_headers, request_body, response_body) VALUES ('legacy', 1, '127.0.0.1', 'POST', '/v1/transfers', 'completed', ?, ?, ?)",
      ['{"content-type":"application/json"}', '{"remark":"legacy body"}', '{"status":"SUCCESS"}'],
    );
    const store = await openStore(db.url(), { auditKeys: ringOf(OLD, NEW) });
    try {
      const [before] = await store.audit.list({ requestId: 'legacy' });
      expect(before).to.include({ id: insertId, requestBody: '{"remark":"legacy body"}', responseBody: '{"status":"SUCCESS"}' });

      const rotated = await runCli(['keys', 'rotate'], { GERBANG_DATABASE_URL: db.url(), GERBANG_AUDIT_KEYS: `${OLD},${NEW}` });
      expect(rotated.code, rotated.stderr).to.equal(0);
      const [row] = await raw.query<Record<string, string>>('SELECT key_id, request_headers, request_body, response_body FROM audit_exchanges WHERE id = ?', [insertId]);
      expect(row.key_id).to.equal('k-new');
      for (const column of ['request_headers', 'request_body', 'response_body']) expect(row[column]).to.match(/^gcm1\.k-new\./);
      const [after] = await store.audit.list({ requestId: 'legacy' });
      expect(after.requestBody).to.equal('{"remark":"legacy body"}');
      expect(after.requestHeaders).to.deep.equal({ 'content-type': 'application/json' });
    } finally {
      await store.close();
    }
  });
});
