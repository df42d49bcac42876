import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate, openDb, openStore, type Db, type InboundCompletion, type InboundExchange } from '../../src/store/index.js';
import { TEST_AUDIT_KEY, TEST_AUDIT_KEYS, testKeySpec } from '../support/audit-keys.js';
import { runCli } from '../support/cli.js';
import { createMariaDbDatabase, createSqliteDatabase, forEachBackend } from '../support/databases.js';

const DAY = 86_400_000;

/** A request from a caller no client was identified for, refused at the door. */
const anonymous = (receivedAt: number, extra: Partial<InboundExchange> = {}): InboundExchange => ({
  requestId: `req-${randomBytes(6).toString('hex')}`,
  receivedAt,
  remoteIp: '198.51.100.9',
  origin: 'https://flood.example',
  method: 'POST',
  path: '/v1/auth/token',
  clientId: null,
  transactionId: null,
  amount: null,
  requestHeaders: { 'content-type': 'application/json' },
  requestBody: '{"client_id":"nobody","client_secret":"[REDACTED]"}',
  ...extra,
});

const refused = (at: number, extra: Partial<InboundCompletion> = {}): InboundCompletion => ({
  outcome: 'rejected',
  statusCode: 401,
  errorCode: 'INVALID_CLIENT',
  clientId: null,
  transactionId: null,
  amount: null,
  responseBody: '{"title":"Unauthorized"}',
  completedAt: at + 3,
  ...extra,
});

/** The audit a flood leaves beside real work; ids by role. */
interface Written {
  /** When the old requests were received (100 days ago). */
  old: number;
  oldAnonymous: number[];
  recentAnonymous: number;
  oldClient: number;
  oldPaymentLinked: number;
  oldCompleted: number;
  oldWithBankCall: number;
}

async function writeAudit(url: string): Promise<Written> {
  const store = await openStore(url, { auditKeys: TEST_AUDIT_KEYS });
  const old = Date.now() - 100 * DAY;
  try {
    const oldAnonymous: number[] = [];
    for (let i = 0; i < 5; i += 1) oldAnonymous.push(await store.audit.record(anonymous(old + i), refused(old + i)));
    const recentAnonymous = await store.audit.record(anonymous(Date.now() - 10 * DAY), refused(Date.now() - 10 * DAY));
    const oldClient = await store.audit.record(anonymous(old, { clientId: 'gbc_partner' }), refused(old, { clientId: 'gbc_partner' }));
    const oldPaymentLinked = await store.audit.record(anonymous(old, { path: '/v1/transfers', transactionId: 'INV-7' }), refused(old, { statusCode: 403, errorCode: 'IP_NOT_ALLOWED' }));
    // A bank's notification: anonymous (no client) and completed, but evidence of a payment's outcome.
    const oldCompleted = await store.audit.record(anonymous(old, { path: '/v1/notifications/bi-fast' }), refused(old, { outcome: 'completed', statusCode: 200, errorCode: null }));
    const oldWithBankCall = await store.audit.record(anonymous(old + 50), refused(old + 50));
    await store.audit.recordBankCall({
      exchangeId: oldWithBankCall, requestId: 'req-bank', partner: 'bca', operation: 'token', method: 'POST', url: 'https://bank/token',
      requestHeaders: {}, requestBody: null, statusCode: 401, responseBody: '{}', errorCode: 'BANK_AUTH', startedAt: old + 60, durationMs: 5,
    });
    return { old, oldAnonymous, recentAnonymous, oldClient, oldPaymentLinked, oldCompleted, oldWithBankCall };
  } finally {
    await store.close();
  }
}

forEachBackend('gerbang audit purge-anonymous', (ctx) => {
  // Each test runs the CLI as its own processes, each loading the whole gateway: slow on a busy machine.
  beforeEach(function () {
    this.currentTest?.timeout(60_000);
  });
  let url = '';
  let drop: () => Promise<void> = async () => undefined;
  let db: Db;
  let work = '';
  let written: Written;
  let env: Record<string, string>;

  const ids = async () => (await db.query<{ id: number | string }>('SELECT id FROM audit_exchanges ORDER BY id')).map((r) => Number(r.id));
  const cli = (...args: string[]) => runCli(['audit', ...args], env);

  beforeEach(async function () {
    const database = ctx.backend === 'sqlite' ? createSqliteDatabase() : await createMariaDbDatabase(this);
    ({ url, drop } = database);
    db = openDb(url);
    await migrate(db);
    written = await writeAudit(url);
    work = mkdtempSync(join(tmpdir(), 'gerbang-purge-'));
    env = { GERBANG_DATABASE_URL: url, GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_AUDIT_CHECKPOINT_FILE: join(work, 'checkpoints.jsonl'), GERBANG_AUDIT_ANONYMOUS_RETENTION_DAYS: '90' };
  });

  afterEach(async () => {
    await db?.close();
    await drop();
    rmSync(work, { recursive: true, force: true });
  });

  it('deletes only anonymous exchanges older than the retention, and verify reports the purge, exit 0', async () => {
    const before = await ids();
    const result = await cli('purge-anonymous', '--json');
    expect(result.code, result.stderr).to.equal(0);
    const report = JSON.parse(result.stdout);
    expect(report).to.include({ records: 5, kept: 0, purges: 1, dryRun: false, retentionDays: 90 });
    expect(Date.parse(report.receivedBefore)).to.be.within(Date.now() - 90 * DAY - 60_000, Date.now() - 90 * DAY);
    expect(await ids()).to.deep.equal(before.filter((id) => !written.oldAnonymous.includes(id)));

    const verify = await cli('verify');
    expect(verify.code, verify.stdout).to.equal(0);
    expect(verify.stdout).to.contain('audit verify: INTACT');
    expect(verify.stdout).to.match(/purged: 5 anonymous exchanges in 1 purge records; the latest, on \S+Z by gerbang audit purge-anonymous on \S+ as \S+, purged 5 received before \S+Z \(retention 90 days\)/);
    const json = JSON.parse((await cli('verify', '--format', 'json')).stdout);
    expect(json.purged).to.include({ purges: 1, records: 5 });
    expect(json.purged.latest.receivedBefore).to.equal(Date.parse(report.receivedBefore));
    // The purged records' links are left in their chain: the export takes them as the purge names them.
    const exported = await cli('export', '--format', 'jsonl');
    expect(exported.code, exported.stderr).to.equal(0);
    expect(exported.stdout.trim().split('\n')).to.have.length(before.length - 5);
  });

  it('deletes old CORS preflights and anonymous GETs of the API documents and probes too, never a failed exchange or another completed one', async () => {
    const store = await openStore(url, { auditKeys: TEST_AUDIT_KEYS });
    const at = written.old + 10;
    const answered = (statusCode: number) => refused(at, { outcome: 'completed', statusCode, errorCode: null, responseBody: null });
    let purgeable: number[];
    let kept: number[];
    try {
      purgeable = [
        await store.audit.record(anonymous(at, { method: 'OPTIONS', path: '/v1/transfers', requestBody: null, requestHeaders: { 'access-control-request-method': 'POST', 'x-padding': 'x'.repeat(8000) } }), answered(204)),
        await store.audit.record(anonymous(at, { method: 'GET', path: '/v1/openapi.json', requestBody: null }), answered(200)),
        await store.audit.record(anonymous(at, { method: 'GET', path: '/v1/swagger.json?x=1', requestBody: null }), answered(200)),
        await store.audit.record(anonymous(at, { method: 'GET', path: '/docs', requestBody: null }), answered(200)),
        await store.audit.record(anonymous(at, { method: 'GET', path: '/readyz', requestBody: null }), answered(200)),
      ];
      kept = [
        // A failed exchange (a 5xx) is kept for its investigation.
        await store.audit.record(anonymous(at), refused(at, { outcome: 'failed', statusCode: 500, errorCode: 'INTERNAL_ERROR' })),
        // A client's preflight-looking request, and a completed anonymous POST, are kept.
        await store.audit.record(anonymous(at, { method: 'OPTIONS', clientId: 'gbc_partner' }), answered(204)),
        await store.audit.record(anonymous(at, { method: 'POST', path: '/v1/openapi.json' }), answered(200)),
        await store.audit.record(anonymous(at, { method: 'GET', path: '/v1/openapi.json.bak' }), answered(200)),
      ];
    } finally {
      await store.close();
    }
    const before = await ids();
    const result = await cli('purge-anonymous', '--json');
    expect(result.code, result.stderr).to.equal(0);
    expect(JSON.parse(result.stdout)).to.include({ records: 5 + purgeable.length, kept: 0 });
    expect(await ids()).to.deep.equal(before.filter((id) => !written.oldAnonymous.includes(id) && !purgeable.includes(id)));
    expect(await ids()).to.include.members([...kept, written.oldCompleted, written.oldClient, written.oldPaymentLinked, written.oldWithBankCall]);
    const verify = await cli('verify');
    expect(verify.code, verify.stdout).to.equal(0);
  });

  it('counts with --dry-run and deletes nothing, creating no chain', async () => {
    const before = await ids();
    const result = await cli('purge-anonymous', '--dry-run');
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.match(/^audit purge-anonymous: would purge 5 anonymous exchanges received before \S+Z \(retention 90 days\)\n$/);
    expect(await ids()).to.deep.equal(before);
    expect(await db.query('SELECT * FROM audit_purges')).to.deep.equal([]);
  });

  it('refuses a --before inside the retention period, exit 2, deleting nothing', async () => {
    const before = await ids();
    const result = await cli('purge-anonymous', '--before', new Date(Date.now() - 30 * DAY).toISOString());
    expect(result.code).to.equal(2);
    expect(result.stderr).to.contain('is inside the retention period');
    expect(await ids()).to.deep.equal(before);
    const notIso = await cli('purge-anonymous', '--before', '01/08/2026');
    expect(notIso.code).to.equal(2);
    expect(notIso.stderr).to.contain('--before must be an ISO-8601 date');
  });

  it('takes an earlier --before: only what was received before it', async () => {
    const cut = written.old + 2; // between the 2nd and the 3rd old anonymous request
    const result = await cli('purge-anonymous', '--before', new Date(cut).toISOString(), '--json');
    expect(result.code, result.stderr).to.equal(0);
    expect(JSON.parse(result.stdout)).to.include({ records: 2 });
    const left = await ids();
    expect(left).to.not.include.members(written.oldAnonymous.slice(0, 2));
    expect(left).to.include.members(written.oldAnonymous.slice(2));
  });

  it('keeps an anonymous record altered before the purge, so verify still names it, exit 1', async () => {
    const altered = written.oldAnonymous[1];
    await db.execute('UPDATE audit_exchanges SET remote_ip = ? WHERE id = ?', ['10.0.0.1', altered]);
    const result = await cli('purge-anonymous', '--json');
    expect(JSON.parse(result.stdout)).to.include({ records: 4, kept: 1 });
    expect(await ids()).to.include(altered);
    const verify = await cli('verify');
    expect(verify.code).to.equal(1);
    expect(verify.stdout).to.match(new RegExp(`ALTERED: audit_exchanges id ${altered} \\(chain \\S+ seq \\d+, record\\) was altered`));
  });

  it('still names an exchange deleted by SQL after a purge, exit 1', async () => {
    expect((await cli('purge-anonymous')).code).to.equal(0);
    await db.execute('DELETE FROM audit_exchanges WHERE id = ?', [written.recentAnonymous]);
    const verify = await cli('verify');
    expect(verify.code).to.equal(1);
    expect(verify.stdout).to.match(new RegExp(`DELETED: audit_exchanges id ${written.recentAnonymous} \\(chain \\S+ seq \\d+, record\\) was deleted`));
    // The export names it too, on an exchange beside it in its chain (the purged ones are not breaks).
    const exported = await cli('export', '--format', 'jsonl');
    expect(exported.code).to.equal(1);
    expect(exported.stderr).to.match(new RegExp(`audit_exchanges id ${written.recentAnonymous} \\(chain \\S+ seq \\d+, record\\) was deleted: its chain link is still there`));
    expect(exported.stderr).to.not.contain('does not follow');
  });

  it('names a deletion passed off as part of a real purge (an entry added to it), exit 1', async () => {
    expect((await cli('purge-anonymous')).code).to.equal(0);
    const [purge] = await db.query<{ id: number | string }>('SELECT id FROM audit_purges');
    const [link] = await db.query<{ writer_id: string; seq: number | string; hash: string }>("SELECT writer_id, seq, hash FROM audit_chain WHERE kind = 'record' AND record_id = ?", [written.oldClient]);
    await db.execute('DELETE FROM audit_exchanges WHERE id = ?', [written.oldClient]);
    await db.execute('INSERT INTO audit_purged_exchanges (exchange_id, purge_id, received_at, writer_id, seq, link_hash) VALUES (?, ?, ?, ?, ?, ?)', [
      written.oldClient, purge.id, Date.now() - 100 * DAY, link.writer_id, link.seq, link.hash,
    ]);
    const verify = await cli('verify');
    expect(verify.code).to.equal(1);
    expect(verify.stdout).to.match(new RegExp(`ALTERED: audit_purges id ${purge.id} \\(chain \\S+ seq 1, purge\\) was altered or fabricated`));
  });

  it('names a deletion passed off as a purge of its own (a purge row without a link), exit 1', async () => {
    const [link] = await db.query<{ writer_id: string; seq: number | string; hash: string }>("SELECT writer_id, seq, hash FROM audit_chain WHERE kind = 'record' AND record_id = ?", [written.oldClient]);
    await db.execute('DELETE FROM audit_exchanges WHERE id = ?', [written.oldClient]);
    const { insertId } = await db.execute('INSERT INTO audit_purges (purged_at, received_before, retention_days, purged_by, records) VALUES (?, ?, ?, ?, ?)', [Date.now(), Date.now() - 90 * DAY, 90, 'gerbang audit purge-anonymous', 1]);
    await db.execute('INSERT INTO audit_purged_exchanges (exchange_id, purge_id, received_at, writer_id, seq, link_hash) VALUES (?, ?, ?, ?, ?, ?)', [
      written.oldClient, insertId, Date.now() - 100 * DAY, link.writer_id, link.seq, link.hash,
    ]);
    const verify = await cli('verify');
    expect(verify.code).to.equal(1);
    expect(verify.stdout).to.contain(`UNCHAINED: 1 purges without a link (inserted directly), first ids: ${insertId}`);
    expect(verify.stdout).to.contain(`UNCHAINED: 1 purged exchanges named by no purge with a link (deletions passed off as a purge), first ids: ${written.oldClient}`);
  });

  it('names the purge record deleted with its link and head moved back (checkpointed outside the database), exit 1', async () => {
    expect((await cli('purge-anonymous')).code).to.equal(0);
    const [purgeLink] = await db.query<{ writer_id: string; seq: number | string }>("SELECT writer_id, seq FROM audit_chain WHERE kind = 'purge'");
    await db.execute('DELETE FROM audit_purged_exchanges');
    await db.execute('DELETE FROM audit_purges');
    await db.execute('DELETE FROM audit_chain WHERE writer_id = ?', [purgeLink.writer_id]);
    await db.execute('DELETE FROM audit_writers WHERE writer_id = ?', [purgeLink.writer_id]);
    const verify = await cli('verify');
    expect(verify.code).to.equal(1);
    expect(verify.stdout).to.contain(`VANISHED: chain ${purgeLink.writer_id}, checkpointed at link 1`);
    expect(verify.stdout).to.match(new RegExp(`DELETED: audit_exchanges id ${written.oldAnonymous[0]} \\(chain \\S+ seq 1, record\\) was deleted`));
  });

  it('stays verifiable after keys rotate retires the key the purged links were made with', async function () {
    this.timeout(60_000); // four CLI runs
    expect((await cli('purge-anonymous')).code).to.equal(0);
    const next = testKeySpec('k-next');
    const rotate = await runCli(['keys', 'rotate'], { ...env, GERBANG_AUDIT_KEYS: `${TEST_AUDIT_KEY},${next}` });
    expect(rotate.code, rotate.stderr).to.equal(0);
    // Only the purged records' links stay under the old key (their content is gone, so no MAC can be made again).
    const stale = await db.query<{ record_id: number | string }>("SELECT record_id FROM audit_chain WHERE key_id <> 'k-next' ORDER BY record_id");
    expect(stale.map((r) => Number(r.record_id))).to.deep.equal(written.oldAnonymous);
    const verify = await runCli(['audit', 'verify'], { ...env, GERBANG_AUDIT_KEYS: next });
    expect(verify.code, verify.stdout).to.equal(0);
    expect(verify.stdout).to.contain('purged: 5 anonymous exchanges');
  });
});
