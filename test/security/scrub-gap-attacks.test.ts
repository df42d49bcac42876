import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditScrub } from '../../src/audit/index.js';
import { ringOf, TEST_AUDIT_KEY } from '../support/audit-keys.js';
import { acceptAsVerified, runCli } from '../support/cli.js';
import { forEachBackend } from '../support/databases.js';
import { sampleTransfer, TestGateway } from '../support/gateway-harness.js';
import { bankTransfers } from '../support/left-behind.js';
import { UNTHROTTLED } from '../support/payment-deletion.js';
import { createStore, openDb, type Store } from '../../src/store/index.js';

const TABLE_OF: Record<string, string> = {
  open: 'audit_exchanges',
  complete: 'audit_completions',
  record: 'audit_exchanges',
  bank_call: 'audit_bank_calls',
  purge: 'audit_purges',
  payment_event: 'payment_events',
  console_audit: 'console_audit',
  record_change: 'record_changes',
  verification: 'audit_verifications',
};

/**
 * An accepted tail cut leaves links S..H of a live writer's chain free. The attacker (SQL, no key)
 * sets the head row to link S-1 (its own hash), or deletes it: a writer that followed the head it
 * re-reads would make the next payments' links, with good MACs, at S.. inside the accepted cut;
 * once one was paid, deleting it whole with the links after it (the earlier ones left) and putting
 * the head row back made a gap that ends where the accepted one did. The writer refuses instead:
 * it never links after a head below the highest link it committed (HeadSetBackError), so nothing is
 * written and nothing sent until the head row is back.
 *
 * The scrub holds such a gap all the same (its check that the accepted gap is still empty before
 * the walk's start): shown with a second writer given the same chain id that never committed past
 * the set-back head (two processes started with one writer id), writing inside the cut.
 */
forEachBackend('Links written inside an accepted tail cut, then some deleted whole (#14)', (ctx) => {
  const checkpoints = join(mkdtempSync(join(tmpdir(), 'gerbang-review-')), 'audit-checkpoints.jsonl');
  const env = () => ({ GERBANG_DATABASE_URL: ctx.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints });
  let gw: TestGateway | undefined;
  let twin: Store | undefined;
  afterEach(async () => {
    await twin?.close();
    twin = undefined;
    await gw?.close();
    gw = undefined;
  });

  /** A gateway that paid 10 transfers, its chain's newest 30 links deleted and that cut accepted, a scrub walked to completion. */
  async function acceptedCut() {
    gw = await TestGateway.start(ctx.url(), { GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints, GERBANG_AUDIT_SCRUB_MS: '0', ...UNTHROTTLED });
    const payer = await gw.createClient();
    const auth = { authorization: `Bearer ${await gw.token(payer)}` };
    const send = (body = sampleTransfer()) => gw!.request('/v1/transfers', { json: body, headers: auth });
    const pay = async (body = sampleTransfer()) => {
      const r = await send(body);
      expect(r.status, r.text).to.equal(201);
      return body;
    };
    for (let i = 0; i < 10; i += 1) await pay();
    const db = gw.store.db;
    const [writerId] = gw.store.audit.ownHeads().map((h) => h.writerId);
    const head = async () => (await db.query<{ last_seq: number | string; last_hash: string }>('SELECT last_seq, last_hash FROM audit_writers WHERE writer_id = ?', [writerId]))[0];
    const { last_seq: hSeq, last_hash: hHash } = await head();
    const H = Number(hSeq);
    // The accepted tail cut: the newest 30 links (records left), head left at H.
    const S = H - 29;
    await db.execute('DELETE FROM audit_chain WHERE writer_id = ? AND seq >= ?', [writerId, S]);
    const accepted = await acceptAsVerified(env(), 'review: newest links deleted, looked at');
    expect(accepted.code, accepted.stdout + accepted.stderr).to.equal(0);
    // Process B's scrub (it reserves nothing itself): walked to completion, holding nothing.
    const scrub = new AuditScrub(gw.store.audit, { ring: ringOf(TEST_AUDIT_KEY), path: checkpoints, store: db.description }, { linksPerPass: 1, confirmMs: 50 });
    for (let i = 0; i < 5_000 && !scrub.complete; i += 1) await scrub.pass();
    expect(scrub.complete).to.equal(true);
    expect(scrub.held).to.equal(null);
    const [{ hash: beforeCut }] = await db.query<{ hash: string }>('SELECT hash FROM audit_chain WHERE writer_id = ? AND seq = ?', [writerId, S - 1]);
    const linksFrom = async (seq: number) => (await db.query<{ seq: number | string }>('SELECT seq FROM audit_chain WHERE writer_id = ? AND seq >= ? ORDER BY seq', [writerId, seq])).map((l) => Number(l.seq));
    return { gw, db, writerId, head, H, hHash, S, beforeCut, scrub, pay, linksFrom };
  }

  it('links on in a new chain when its head row is set back inside the accepted cut, or deleted: no link made twice at a seq, a chain whose head row is gone named by verify', async function () {
    this.timeout(180_000);
    const { gw, db, writerId, S, beforeCut, pay, linksFrom } = await acceptedCut();
    const verify = () => runCli(['audit', 'verify'], env());
    const ownChains = () => gw.store.audit.ownHeads().map((h) => h.writerId);

    await db.execute('UPDATE audit_writers SET last_seq = ?, last_hash = ? WHERE writer_id = ?', [S - 1, beforeCut, writerId]);
    const setBack = await pay();
    expect(await bankTransfers(gw, setBack.transactionId as string), 'paid once').to.equal(1);
    expect(await linksFrom(S), 'no link made inside the accepted cut').to.deep.equal([]);
    expect(ownChains(), 'linked in a new chain').to.not.include(writerId);
    // The head row of the chain it links on now deleted: it leaves that one too, its links as they were.
    const [newChain] = ownChains().filter((w) => (db.dialect === 'mysql' ? w.endsWith('-0') : true));
    const before = await db.query<{ seq: number | string; hash: string }>('SELECT seq, hash FROM audit_chain WHERE writer_id = ? ORDER BY seq', [newChain]);
    expect(before.length).to.be.greaterThan(0);
    await db.execute('DELETE FROM audit_writers WHERE writer_id = ?', [newChain]);
    const headGone = await pay();
    expect(await bankTransfers(gw, headGone.transactionId as string)).to.equal(1);
    expect(await db.query('SELECT seq, hash FROM audit_chain WHERE writer_id = ? ORDER BY seq', [newChain]), 'no link made twice, none added').to.deep.equal(before);
    expect(await db.query('SELECT writer_id FROM audit_writers WHERE writer_id = ?', [newChain]), 'no new head row started at link 0').to.deep.equal([]);
    const gone = await verify();
    expect(gone.code).to.equal(1);
    expect(gone.stdout).to.contain(`the head of chain ${newChain} was deleted from audit_writers`);
    // Its head row back, so the next case starts from a store whose only break is the one it accepts.
    const last = before[before.length - 1];
    await db.execute('INSERT INTO audit_writers (writer_id, host, pid, started_at, last_seq, last_hash, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)', [newChain, 'h', 1, Date.now(), Number(last.seq), last.hash, Date.now()]);
  });

  it('holds on a record deleted after links a second writer of the chain made inside the accepted cut, the earlier ones left: the walk from the first link does not take it for the accepted cut', async function () {
    this.timeout(180_000);
    const { db, writerId, head, H, hHash, S, beforeCut, scrub, pay, linksFrom } = await acceptedCut();

    // The window: head row set to link S-1; a second writer of this chain id (it never committed
    // past S-1, so it follows the head it reads) links Q0, P and Q at S..
    await db.execute('UPDATE audit_writers SET last_seq = ?, last_hash = ? WHERE writer_id = ?', [S - 1, beforeCut, writerId]);
    const base = db.dialect === 'mysql' ? writerId.replace(/-0$/, '') : writerId;
    twin = createStore(openDb(ctx.url()), { auditKeys: ringOf(TEST_AUDIT_KEY), auditWriterId: base });
    const entry = (target: string) => twin!.consoleAudit.record({ at: Date.now(), username: 'twin', action: 'payments.view', target, detail: null, remoteIp: '127.0.0.1' });
    await entry('Q0');
    const pFirst = Number((await head()).last_seq) + 1;
    const P = await entry('P');
    await entry('Q'); // so P's link is not at the head when B reads it
    const windowHead = Number((await head()).last_seq);
    expect(windowHead, 'the window fits inside the accepted cut').to.be.lessThan(H);
    expect(await linksFrom(S), 'the twin linked inside the cut').to.deep.equal(Array.from({ length: windowHead - S + 1 }, (_, i) => S + i));
    await scrub.pass();
    expect(scrub.held, 'nothing is wrong with the chain in the window').to.equal(null);

    // The attacker: P and every link after it deleted with its record, the earlier one (Q0's) left, the head back as accepted.
    for (const l of await db.query<{ kind: string; record_id: number | string }>('SELECT kind, record_id FROM audit_chain WHERE writer_id = ? AND seq >= ?', [writerId, pFirst])) {
      await db.execute(`DELETE FROM ${TABLE_OF[l.kind]} WHERE id = ?`, [l.record_id]);
    }
    await db.execute('DELETE FROM audit_chain WHERE writer_id = ? AND seq >= ?', [writerId, pFirst]);
    await db.execute('UPDATE audit_writers SET last_seq = ?, last_hash = ? WHERE writer_id = ?', [H, hHash, writerId]);
    expect((await db.query('SELECT id FROM console_audit WHERE id = ?', [P])).length, 'P deleted').to.equal(0);
    // The gateway's writer links on: its head is back at H, it appends at H+1, the accepted cut's `next`.
    await pay();
    expect((await linksFrom(pFirst))[0]).to.equal(H + 1);

    // B walks on: a full cycle more, and many passes.
    const cycles = scrub.cycles;
    const heldAt: string[] = [];
    let was: string | null = null;
    for (let i = 0; i < 5_000 && scrub.cycles < cycles + 2; i += 1) {
      await scrub.pass();
      if (scrub.held !== was) heldAt.push(`pass ${i}: ${(was = scrub.held)}`);
    }
    expect(scrub.held, `the gap inside the accepted cut (links there now where it had none) is held (${heldAt.join('; ')})`).to.be.a('string');
    // verify names it as not accepted.
    const verify = await runCli(['audit', 'verify'], env());
    expect(verify.code).to.equal(1);
    expect(verify.stdout).to.match(new RegExp(`DELETED: link ${pFirst} of chain ${writerId}`));
  });
});

/**
 * Honest (operator guide, "Payments held while the database is behind its checkpoints"): the
 * database rolled back under a running gateway (a replica behind promoted: its chains' newest links
 * and head rows lost); the gateway holds; the operator accepts. The gateways serve again: the
 * writer, its head rows below what it committed, links on in new chains (it never follows them).
 */
forEachBackend('A running gateway\'s own chains rolled back with their head rows, and accepted (#14)', (ctx) => {
  const checkpoints = join(mkdtempSync(join(tmpdir(), 'gerbang-rollback-')), 'audit-checkpoints.jsonl');
  const env = () => ({ GERBANG_DATABASE_URL: ctx.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints });
  let gw: TestGateway | undefined;
  after(async () => gw?.close());

  it('pays again once the rollback is accepted, in new chains, the rolled-back ones left as accepted', async function () {
    this.timeout(120_000);
    gw = await TestGateway.start(ctx.url(), { GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints, GERBANG_AUDIT_SCRUB_MS: '0' });
    const payer = await gw.createClient();
    const auth = { authorization: `Bearer ${await gw.token(payer)}` };
    const send = () => gw!.request('/v1/transfers', { json: sampleTransfer(), headers: auth });
    for (let i = 0; i < 3; i += 1) expect((await send()).status).to.equal(201);
    const db = gw.store.db;
    // A change of who may pay: this process's heads checkpointed outside the database as it commits.
    const other = await gw.createClient({ accounts: [] });
    await gw.store.clients.setStatus(other.clientId, 'disabled', Date.now());
    const heads = gw.store.audit.ownHeads().filter((h) => h.seq >= 4);
    expect(heads.length).to.be.greaterThan(0);
    for (const h of heads) {
      const S = h.seq - 2;
      await db.execute('DELETE FROM audit_chain WHERE writer_id = ? AND seq >= ?', [h.writerId, S]);
      const [{ hash }] = await db.query<{ hash: string }>('SELECT hash FROM audit_chain WHERE writer_id = ? AND seq = ?', [h.writerId, S - 1]);
      await db.execute('UPDATE audit_writers SET last_seq = ?, last_hash = ? WHERE writer_id = ?', [S - 1, hash, h.writerId]);
    }
    expect(await gw.gateway.checkCheckpoints(), 'held').to.not.equal(null);
    const accepted = await acceptAsVerified(env(), 'test: a replica behind promoted, looked at');
    expect(accepted.code, accepted.stdout + accepted.stderr).to.equal(0);
    expect(await gw.gateway.checkCheckpoints(), 'released').to.equal(null);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await send()).status);
    expect(statuses, 'serves again').to.deep.equal([201, 201, 201, 201]);
    for (const h of heads) {
      const [{ n }] = await db.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM audit_chain WHERE writer_id = ? AND seq >= ?', [h.writerId, h.seq - 2]);
      expect(Number(n), `nothing linked again inside chain ${h.writerId}'s accepted rollback`).to.equal(0);
    }
  });
});
