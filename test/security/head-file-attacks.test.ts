import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { acceptRollback, HeadFile, RollbackWatch, verifyAudit, whatToAccept } from '../../src/audit/index.js';
import { openStore, type Db, type Store } from '../../src/store/index.js';
import { TEST_AUDIT_KEY, TEST_AUDIT_KEYS } from '../support/audit-keys.js';
import { acceptAsVerified, acceptInProcess, runCli, type CliResult } from '../support/cli.js';
import { forEachBackend } from '../support/databases.js';
import { eventually, sampleTransfer, TestGateway } from '../support/gateway-harness.js';
import { UNTHROTTLED } from '../support/payment-deletion.js';
import { recordExchanges } from '../support/recorded-exchanges.js';
import { freePort, spawnGerbang } from '../support/processes.js';
import { startTestBank, type TestBank } from '../support/test-bank.js';
import { missingTool } from '../support/missing-tool.js';

/**
 * The attacker of docs/security/threat-model.md (writes the database, holds no key) after a gateway
 * process was killed (SIGKILL: no checkpoint line at stop): the links it committed since the last
 * checkpoint line (a minute apart) are deleted with their records, its paid payment whole, and its
 * chains' head rows set back to the last links a line vouched for. Every remaining link holds and
 * every head row ends where a line saw it; only the process's head file (beside the checkpoint
 * file, overwritten at every commit) still vouches for what it committed.
 */

/** The table each link kind's record is in, and its id column (a completion is keyed by its exchange). */
const RECORD_OF: Record<string, [string, string]> = {
  open: ['audit_exchanges', 'id'],
  record: ['audit_exchanges', 'id'],
  complete: ['audit_completions', 'exchange_id'],
  bank_call: ['audit_bank_calls', 'id'],
  payment_event: ['payment_events', 'id'],
  record_change: ['record_changes', 'id'],
  console_audit: ['console_audit', 'id'],
  verification: ['audit_verifications', 'id'],
  purge: ['audit_purges', 'id'],
};

/** The furthest head of each chain the checkpoint file's lines vouched for (not its head files), as an attacker who read it would take it. */
function linesVouched(checkpoints: string): Map<string, { seq: number; hash: string }> {
  const heads = new Map<string, { seq: number; hash: string }>();
  for (const line of readFileSync(checkpoints, 'utf8').split('\n').filter((l) => l.trim() !== '')) {
    for (const h of (JSON.parse(line) as { heads: { writerId: string; seq: number; hash: string }[] }).heads) {
      if ((heads.get(h.writerId)?.seq ?? -1) < h.seq) heads.set(h.writerId, { seq: h.seq, hash: h.hash });
    }
  }
  return heads;
}

/** The chains of process `pid` of this host, as their head rows stand. */
async function chainsOf(db: Db, pid: number): Promise<{ writerId: string; seq: number }[]> {
  const rows = await db.query<{ writer_id: string; last_seq: number | string }>('SELECT writer_id, last_seq FROM audit_writers WHERE writer_id LIKE ? ORDER BY writer_id', [`${hostname().slice(0, 40)}-${pid}-%`]);
  return rows.map((r) => ({ writerId: r.writer_id, seq: Number(r.last_seq) }));
}

/** Every chain of `pid` cut back, in SQL, to the link the lines vouched for: its later links and their records deleted, its head row set back (deleted when no line saw the chain). */
async function cutToCheckpoints(db: Db, pid: number, vouched: Map<string, { seq: number; hash: string }>): Promise<string[]> {
  const cut: string[] = [];
  for (const { writerId, seq } of await chainsOf(db, pid)) {
    const kept = vouched.get(writerId);
    if (kept && kept.seq === seq) continue;
    cut.push(writerId);
    const links = await db.query<{ kind: string; record_id: number | string }>('SELECT kind, record_id FROM audit_chain WHERE writer_id = ? AND seq > ?', [writerId, kept?.seq ?? 0]);
    // An exchange's bank calls and completion before the exchange (their foreign keys).
    const order = (kind: string) => (RECORD_OF[kind][0] === 'audit_exchanges' ? 1 : 0);
    for (const link of links.sort((a, b) => order(a.kind) - order(b.kind))) {
      const [table, column] = RECORD_OF[link.kind];
      await db.execute(`DELETE FROM ${table} WHERE ${column} = ?`, [Number(link.record_id)]);
    }
    await db.execute('DELETE FROM audit_chain WHERE writer_id = ? AND seq > ?', [writerId, kept?.seq ?? 0]);
    if (kept) await db.execute('UPDATE audit_writers SET last_seq = ?, last_hash = ? WHERE writer_id = ?', [kept.seq, kept.hash, writerId]);
    else await db.execute('DELETE FROM audit_writers WHERE writer_id = ?', [writerId]);
  }
  return cut;
}

/** The payment of `transactionId` deleted whole in SQL (its events went with their links): its row and search trigrams. */
async function deletePayment(db: Db, transactionId: string): Promise<void> {
  const [payment] = await db.query<{ id: number | string }>('SELECT id FROM payments WHERE transaction_id = ?', [transactionId]);
  await db.execute('DELETE FROM payment_events WHERE payment_id = ?', [Number(payment.id)]);
  await db.execute('DELETE FROM payment_search_grams WHERE payment_id = ?', [Number(payment.id)]);
  await db.execute('DELETE FROM payments WHERE id = ?', [Number(payment.id)]);
}

/** Until the head rows of `pid`'s chains stand still (its answers are sent before some of its audit commits). */
async function settled(db: Db, pid: number): Promise<void> {
  let last = '';
  await eventually(async () => {
    await new Promise((resolve) => setTimeout(resolve, 300));
    const now = JSON.stringify(await chainsOf(db, pid));
    const same = now === last && now !== '[]';
    last = now;
    return same;
  }, 20_000);
}

/** Whether this host lets a test start a process in a PID namespace of its own (root, util-linux unshare). */
function ownPidNamespaces(): boolean {
  return spawnSync('unshare', ['--pid', '--fork', 'true']).status === 0;
}

/**
 * `gerbang audit verify` in a PID namespace of its own on this host (a container beside the
 * gateway's, a Kubernetes pod's sidecar or CronJob sharing the host name and the checkpoint
 * volume, `docker compose run` of a service with a set `hostname:`): the same host name, other pids.
 */
function verifyInOtherPidNamespace(env: Record<string, string>): Promise<CliResult> {
  return runCli(['audit', 'verify'], env, undefined, ['unshare', '--pid', '--fork']);
}

/**
 * The ERP's client (granted its account) and a real gateway process serving it (`serve`, its scrub
 * off), its token fetched: `pay` makes a transfer the bank executes, `kill` SIGKILLs the process
 * (no checkpoint line at stop).
 */
async function killableGateway(env: Record<string, string>, jwtSecret: string) {
  const client = JSON.parse((await runCli(['client', 'create', '--name', 'erp', '--cidr', '127.0.0.1/32', '--json'], env)).stdout) as { clientId: string; clientSecret: string };
  expect((await runCli(['client', 'grant-account', '--id', client.clientId, '--account', '0201245680'], env)).code).to.equal(0);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const killed = spawnGerbang(['serve'], { ...env, ...UNTHROTTLED, PORT: String(port), GERBANG_JWT_SECRET: jwtSecret, GERBANG_LOG_LEVEL: 'warn', GERBANG_AUDIT_SCRUB_MS: '0' });
  const kill = async () => {
    killed.child.kill('SIGKILL');
    await killed.exited;
  };
  let token: string;
  try {
    await eventually(async () => (await fetch(`${base}/healthz`).catch(() => null))?.status === 200, 30_000);
    token = ((await (await fetch(`${base}/v1/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ client_id: client.clientId, client_secret: client.clientSecret }) })).json()) as { access_token: string }).access_token;
  } catch (error) {
    await kill();
    throw error;
  }
  const pay = async (transfer: Record<string, unknown>) => {
    const res = await fetch(`${base}/v1/transfers`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(transfer) });
    expect([res.status, ((await res.json()) as { status: string }).status]).to.deep.equal([201, 'SUCCESS']);
  };
  return { client, pid: killed.child.pid!, token, pay, kill };
}

/**
 * A suite's test bank, and the fresh gateway a test starts on it (closed after each test): `bank()`,
 * the transfers it executed (`bankTransfers`), and `startFresh` (the gateway as `fresh()`).
 */
function bankAndFreshGateway() {
  let bank: TestBank;
  let fresh: TestGateway | undefined;
  before(async () => {
    bank = await startTestBank();
  });
  after(() => bank?.simulator.close());
  afterEach(async () => {
    await fresh?.close();
    fresh = undefined;
  });
  return {
    bank: () => bank,
    bankTransfers: () => bank.simulator.calls.filter((c) => c.method === 'POST' && c.path === '/banking/corporates/transfers').length,
    startFresh: async (url: string, env: Record<string, string>) => (fresh = await TestGateway.start(url, env)),
  };
}

forEachBackend('Links no checkpoint line vouched for yet, of a gateway killed, cut in SQL (#14)', (ctx) => {
  // One checkpoint file for the suite's database: each test leaves it as an operator accepted it.
  const checkpoints = join(mkdtempSync(join(tmpdir(), 'gerbang-headfile-')), 'audit-checkpoints.jsonl');
  const suite = bankAndFreshGateway();
  const bankTransfers = suite.bankTransfers;

  it('verify names each chain cut back behind the head its head file vouched for (exit 1); a fresh gateway holds and never pays the resend; once accepted it serves, and verify removes the file', async function () {
    this.timeout(180_000);
    const env = { GERBANG_DATABASE_URL: ctx.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints, ...suite.bank().env() };
    const db = ctx.store().db;
    const jwtSecret = randomBytes(32).toString('hex');
    const { client, pid, token, pay, kill } = await killableGateway(env, jwtSecret);
    const body = sampleTransfer();
    try {
      await pay(sampleTransfer());
      await settled(db, pid);
      // A checkpoint line of every head (the process's own comes a minute apart).
      const verified = await runCli(['audit', 'verify'], env);
      expect(verified.code, verified.stdout).to.equal(0);
      await pay(body);
      await settled(db, pid);
    } finally {
      await kill();
    }
    expect(bankTransfers(), 'paid once').to.equal(2);

    const vouched = linesVouched(checkpoints);
    await deletePayment(db, body.transactionId as string);
    const cut = await cutToCheckpoints(db, pid, vouched);
    expect(cut, 'the links committed after the last line were cut').to.not.deep.equal([]);

    const verify = await runCli(['audit', 'verify'], env);
    expect(verify.code, verify.stdout).to.equal(1);
    for (const writerId of cut) {
      const at = vouched.get(writerId)?.seq ?? 0;
      expect(verify.stdout).to.match(new RegExp(vouched.has(writerId) ? `chain ${writerId} ends at link ${at} but was checkpointed at link \\d+ on \\S+ \\(head file ` : `chain ${writerId}, checkpointed at link \\d+ on \\S+ \\(head file [^)]*\\), has vanished`));
    }

    // A fresh gateway on the same checkpoints: held at start, the ERP's resend of the deleted payment never sent.
    // (The ERP's token from before, still valid: a held gateway hands out none.)
    const fresh = await suite.startFresh(ctx.url(), { GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints, ...suite.bank().env(), ...UNTHROTTLED, GERBANG_AUDIT_SCRUB_MS: '60000', GERBANG_JWT_SECRET: jwtSecret });
    for (let i = 0; i < 50 && !fresh.gateway.scrub.complete; i += 1) await fresh.gateway.scrub.pass();
    const held = await fresh.gateway.checkCheckpoints();
    expect(held).to.contain(cut[0]);
    const resent = await fresh.request('/v1/transfers', { json: body, headers: { authorization: `Bearer ${token}` } });
    expect([resent.status, resent.body.code], resent.text).to.deep.equal([503, 'STORE_UNAVAILABLE']);
    expect(resent.body.detail).to.contain(cut[0]);
    expect(bankTransfers(), 'the resend was not paid').to.equal(2);

    // The operator looks and accepts the database as it stands: the head file's heads, committed before, no longer hold.
    const accepted = await acceptAsVerified(env, 'test: a killed gateway\'s tail cut, looked at');
    expect(accepted.code, accepted.stdout + accepted.stderr).to.equal(0);
    expect(await fresh.gateway.checkCheckpoints()).to.equal(null);
    for (let i = 0; i < 50 && !fresh.gateway.scrub.complete; i += 1) await fresh.gateway.scrub.pass();
    const next = await fresh.request('/v1/transfers', { json: sampleTransfer(), headers: { authorization: `Bearer ${await fresh.token(client)}` } });
    expect(next.status, next.text).to.equal(201);
    const headFiles = () => readdirSync(dirname(checkpoints)).filter((name) => name.includes(`.head-${hostname().slice(0, 40)}-${pid}-`));
    expect(headFiles(), 'the killed process\'s head file').to.have.length(1);
    const again = await runCli(['audit', 'verify'], env);
    expect(again.code, again.stdout).to.equal(0);
    expect(headFiles(), 'absorbed by verify: its process ended, its line covers it').to.deep.equal([]);
  });

  it('verify names a head file not signed with a ring key (exit 1), and a gateway is not held by it', async function () {
    this.timeout(60_000);
    const env = { GERBANG_DATABASE_URL: ctx.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints };
    const before = await runCli(['audit', 'verify'], env);
    expect(before.code, before.stdout).to.equal(0);
    const forged = `${checkpoints}.head-forged`;
    const [head] = await ctx.store().db.query<{ writer_id: string }>('SELECT writer_id FROM audit_writers LIMIT 1');
    writeFileSync(forged, JSON.stringify({ v: 1, store: ctx.store().db.description, host: hostname(), pid: 1, heads: [{ writerId: head.writer_id, seq: 999, hash: 'f'.repeat(64), at: Date.now() }], keyId: TEST_AUDIT_KEYS.currentKeyId, mac: '0'.repeat(64) }));
    const verify = await runCli(['audit', 'verify'], env);
    expect(verify.code, verify.stdout).to.equal(1);
    expect(verify.stdout).to.contain(`head file ${forged} is not a record of chain heads signed with a ring key`);
    expect(existsSync(forged)).to.equal(true);
    const fresh = await suite.startFresh(ctx.url(), { GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints });
    expect(await fresh.gateway.checkCheckpoints()).to.equal(null);
    rmSync(forged);
  });

  it('verify and a new rollback watch name the links a writer made after an accepted tail cut, deleted with the head row put back as accepted before a line vouched for them', async function () {
    this.timeout(120_000);
    const env = { GERBANG_DATABASE_URL: ctx.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints };
    const db = ctx.store().db;
    // A writer as a gateway's: its heads in a head file at every commit (its minute's line not come yet).
    const store = await openStore(ctx.url(), { auditKeys: TEST_AUDIT_KEYS, vouch: new HeadFile(checkpoints, TEST_AUDIT_KEYS) });
    let writer = '';
    let accepted = { seq: 0, hash: '' };
    try {
      const links = await recordExchanges(store, 12);
      writer = links[0].writerId;
      expect(links.every((l) => l.writerId === writer)).to.equal(true);
      expect((await runCli(['audit', 'verify'], env)).code).to.equal(0);
      // A tail cut (the head row left), accepted.
      const cutFrom = links[9].seq;
      for (const r of await db.query<{ record_id: number | string }>("SELECT record_id FROM audit_chain WHERE writer_id = ? AND seq >= ? AND kind = 'record'", [writer, cutFrom])) await db.execute('DELETE FROM audit_exchanges WHERE id = ?', [Number(r.record_id)]);
      await db.execute('DELETE FROM audit_chain WHERE writer_id = ? AND seq >= ?', [writer, cutFrom]);
      const [head] = await db.query<{ last_seq: number | string; last_hash: string }>('SELECT last_seq, last_hash FROM audit_writers WHERE writer_id = ?', [writer]);
      accepted = { seq: Number(head.last_seq), hash: head.last_hash };
      const acceptance = await acceptAsVerified(env, 'test: tail cut, looked at');
      expect(acceptance.code, acceptance.stdout + acceptance.stderr).to.equal(0);
      // The writer links on after the cut, at its next link.
      const later = await recordExchanges(store, 4, 100);
      expect(later.map((l) => [l.writerId, l.seq])).to.deep.equal([13, 14, 15, 16].map((seq) => [writer, seq]));
      // The attacker: those links deleted with their records, the head row put back as the acceptance saw it.
      for (const l of later) await db.execute('DELETE FROM audit_exchanges WHERE id = ?', [l.id]);
      await db.execute('DELETE FROM audit_chain WHERE writer_id = ? AND seq > ?', [writer, accepted.seq]);
      await db.execute('UPDATE audit_writers SET last_seq = ?, last_hash = ? WHERE writer_id = ?', [accepted.seq, accepted.hash, writer]);

      const verify = await runCli(['audit', 'verify'], env);
      expect(verify.code, verify.stdout).to.equal(1);
      expect(verify.stdout).to.match(new RegExp(`chain ${writer} ends at link 12 but was checkpointed at link 16 on \\S+ \\(head file `));
      const watch = new RollbackWatch(ctx.store().audit, TEST_AUDIT_KEYS, checkpoints, db.description, 0);
      await watch.check();
      expect(watch.held).to.contain(`chain ${writer} ends at link 12`);
      // Looked at and accepted: vouched for at the link before the accepted cut (link 12 is gone), so the next verify holds.
      const again = await acceptAsVerified(env, 'test: links after the accepted cut, cut, looked at');
      expect(again.code, again.stdout + again.stderr).to.equal(0);
      const after = await runCli(['audit', 'verify'], env);
      expect(after.code, after.stdout).to.equal(0);
      await watch.check();
      expect(watch.held).to.equal(null);
    } finally {
      // (Last of the suite: its line at close vouches for link 16 too, and the database is left as the attacker left it.)
      await store.close();
    }
  });
});

forEachBackend('Head files a verify removes under a running or dying gateway, its links then cut in SQL (#14)', (ctx) => {
  const suite = bankAndFreshGateway();
  const bankTransfers = suite.bankTransfers;

  /**
   * The attacker after `pid` was killed: its links since the last line, the paid payment of `body`
   * with them, cut and its head rows set back. Verify names the cut (exit 1; `why`: what the test
   * did to its head file), a fresh gateway holds, the ERP's resend is not paid; then accepted as it
   * stands, for the next test.
   */
  const cutAndResent = async (pid: number, checkpoints: string, env: Record<string, string>, body: Record<string, unknown>, token: string, jwtSecret: string, paidBefore: number, why: string) => {
    const db = ctx.store().db;
    const vouched = linesVouched(checkpoints);
    await deletePayment(db, body.transactionId as string);
    const cut = await cutToCheckpoints(db, pid, vouched);
    expect(cut, 'the links committed after the last line were cut').to.not.deep.equal([]);
    const verify = await runCli(['audit', 'verify'], env);
    expect(verify.stdout, `the cut named (${why})`).to.contain(`chain ${cut[0]}`);
    expect(verify.code, verify.stdout).to.equal(1);
    const fresh = await suite.startFresh(ctx.url(), { GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints, ...suite.bank().env(), ...UNTHROTTLED, GERBANG_AUDIT_SCRUB_MS: '60000', GERBANG_JWT_SECRET: jwtSecret });
    for (let i = 0; i < 50 && !fresh.gateway.scrub.complete; i += 1) await fresh.gateway.scrub.pass();
    expect(await fresh.gateway.checkCheckpoints()).to.contain(cut[0]);
    const resent = await fresh.request('/v1/transfers', { json: body, headers: { authorization: `Bearer ${token}` } });
    expect(resent.status, resent.text).to.equal(503);
    expect(bankTransfers() - paidBefore, 'the resend was not paid').to.equal(2);
    expect((await acceptAsVerified(env, 'test: a killed gateway\'s tail cut, looked at')).code).to.equal(0);
  };

  it('a verify run where the gateway\'s pid is not seen (another PID namespace, the same host name) leaves a running gateway\'s head file vouching: its links committed after, of a payment, cut in SQL once it is killed, are named and the resend held', async function () {
    this.timeout(180_000);
    const checkpoints = join(mkdtempSync(join(tmpdir(), 'gerbang-headfile-')), 'audit-checkpoints.jsonl');
    const env = { GERBANG_DATABASE_URL: ctx.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints, ...suite.bank().env() };
    if (!ownPidNamespaces()) missingTool(this, 'unshare --pid --fork (util-linux, as root): a verify in a PID namespace of its own');
    const db = ctx.store().db;
    const jwtSecret = randomBytes(32).toString('hex');
    const { pid, token, pay, kill } = await killableGateway(env, jwtSecret);
    const headFiles = () => readdirSync(dirname(checkpoints)).filter((name) => name.includes(`.head-${hostname().slice(0, 40)}-${pid}-`));
    const body = sampleTransfer();
    const paidBefore = bankTransfers();
    let kept = 0;
    try {
      await pay(sampleTransfer());
      await settled(db, pid);
      expect(headFiles(), 'the running gateway\'s head file').to.have.length(1);
      // The operator's scheduled verify, in a container of its own: intact, its line appended.
      const verified = await verifyInOtherPidNamespace(env);
      expect(verified.code, verified.stdout + verified.stderr).to.equal(0);
      await pay(body);
      await settled(db, pid);
      kept = headFiles().length;
    } finally {
      await kill();
    }
    expect(bankTransfers() - paidBefore, 'paid once').to.equal(2);

    await cutAndResent(pid, checkpoints, env, body, token, jwtSecret, paidBefore, `head files of the gateway while it ran after that verify: ${kept}`);
  });

  it('a gateway killed while verify walks the database (after it read the head files, before it appends its line): its links committed meanwhile, of a payment, cut in SQL, are named and the resend held', async function () {
    this.timeout(180_000);
    const checkpoints = join(mkdtempSync(join(tmpdir(), 'gerbang-headfile-')), 'audit-checkpoints.jsonl');
    const env = { GERBANG_DATABASE_URL: ctx.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints, ...suite.bank().env() };
    const db = ctx.store().db;
    const jwtSecret = randomBytes(32).toString('hex');
    const { pid, token, pay, kill } = await killableGateway(env, jwtSecret);
    const body = sampleTransfer();
    const paidBefore = bankTransfers();
    try {
      await pay(sampleTransfer());
      await settled(db, pid);
      // The operator's verify, its walk of a large database long: meanwhile the gateway pays and is killed (a SIGKILL, an OOM kill, a crash).
      const store = ctx.store();
      const audit = Object.create(store.audit) as Store['audit'];
      // verify reads all it judges in one snapshot: the gateway pays once it has ended.
      audit.inSnapshot = async (fn, options) => {
        const walked = await store.audit.inSnapshot(fn, options);
        await pay(body);
        await settled(db, pid);
        await kill();
        return walked;
      };
      const verified = await verifyAudit({ ...store, audit }, TEST_AUDIT_KEYS, checkpoints);
      expect(verified.breaks, 'intact as walked').to.deep.equal([]);
    } finally {
      await kill();
    }
    expect(bankTransfers() - paidBefore, 'paid once').to.equal(2);

    await cutAndResent(pid, checkpoints, env, body, token, jwtSecret, paidBefore, 'its head file as verify read it removed once it was killed');
  });

  it('an operator on a host whose clock is behind the gateway\'s accepts a database restored behind a killed writer\'s head file: the rollback watch serves again', async function () {
    this.timeout(60_000);
    const checkpoints = join(mkdtempSync(join(tmpdir(), 'gerbang-headfile-')), 'audit-checkpoints.jsonl');
    const db = ctx.store().db;
    // A writer as a gateway's (no line of its own yet: killed before its minute), its heads in its head file.
    const store = await openStore(ctx.url(), { auditKeys: TEST_AUDIT_KEYS, vouch: new HeadFile(checkpoints, TEST_AUDIT_KEYS) });
    try {
      const links = await recordExchanges(store, 6, 500);
      const writer = links[0].writerId;
      // The database restored from a copy taken at its third link (honest: a disk lost).
      const kept = links[2].seq;
      for (const l of links.slice(3)) await db.execute('DELETE FROM audit_exchanges WHERE id = ?', [l.id]);
      await db.execute('DELETE FROM audit_chain WHERE writer_id = ? AND seq > ?', [writer, kept]);
      const [link] = await db.query<{ hash: string }>('SELECT hash FROM audit_chain WHERE writer_id = ? AND seq = ?', [writer, kept]);
      await db.execute('UPDATE audit_writers SET last_seq = ?, last_hash = ? WHERE writer_id = ?', [kept, link.hash, writer]);
      const watch = new RollbackWatch(ctx.store().audit, TEST_AUDIT_KEYS, checkpoints, db.description, 0);
      await watch.check();
      expect(watch.held, 'held on the restore').to.contain(`chain ${writer} ends at link ${kept}`);
      // The operator looks and accepts, from a host whose clock is two minutes behind the gateway's.
      const { digest } = await whatToAccept(ctx.store(), TEST_AUDIT_KEYS, checkpoints);
      const accepted = await acceptRollback(ctx.store(), TEST_AUDIT_KEYS, checkpoints, 'test: restored from a backup, looked at', () => Date.now() - 120_000, { confirmMs: 0, expect: digest ?? undefined });
      expect(accepted.accepted.map((b) => b.writerId)).to.include(writer);
      await watch.check();
      expect(watch.held, 'serves again once accepted').to.equal(null);
    } finally {
      await store.close();
      await acceptInProcess(ctx.store(), checkpoints, 'test: cleanup');
    }
  });
});
