import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditScrub } from '../../src/audit/index.js';
import { ringOf, TEST_AUDIT_KEY } from '../support/audit-keys.js';
import { acceptAsVerified, runCli } from '../support/cli.js';
import { appendCheckpoint } from '../../src/audit/checkpoints.js';
import { forEachBackend } from '../support/databases.js';
import { eventually, sampleTransfer, TestGateway } from '../support/gateway-harness.js';
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
 * A gateway on `url` (its scrub off, its checkpoints in `checkpoints`) with a client of its own:
 * `send` a transfer, or `pay` one (answered 201, its body returned).
 */
async function payingGateway(url: string, checkpoints: string) {
  const gw = await TestGateway.start(url, { GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints, GERBANG_AUDIT_SCRUB_MS: '0', ...UNTHROTTLED });
  const payer = await gw.createClient();
  const auth = { authorization: `Bearer ${await gw.token(payer)}` };
  const send = (body: Record<string, unknown> = sampleTransfer()) => gw.request('/v1/transfers', { json: body, headers: auth });
  const pay = async (body: Record<string, unknown> = sampleTransfer()) => {
    const r = await send(body);
    expect(r.status, r.text).to.equal(201);
    return body;
  };
  return { gw, send, pay, payer };
}

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
    const started = await payingGateway(ctx.url(), checkpoints);
    gw = started.gw;
    const { pay } = started;
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
    // Process B's scrub (it reserves nothing itself): walked to completion, holding nothing at any
    // pass. Its first walk of new links begins inside the accepted cut (at the head's link), which
    // is the cut as accepted, not a new break to hold until the slow walk comes by.
    const scrub = new AuditScrub(gw.store.audit, { ring: ringOf(TEST_AUDIT_KEY), path: checkpoints, store: db.description }, { linksPerPass: 1, confirmMs: 50 });
    for (let i = 0; i < 5_000 && !scrub.complete; i += 1) {
      await scrub.pass();
      expect(scrub.held, `after pass ${i + 1}`).to.equal(null);
    }
    expect(scrub.complete).to.equal(true);
    const [{ hash: beforeCut }] = await db.query<{ hash: string }>('SELECT hash FROM audit_chain WHERE writer_id = ? AND seq = ?', [writerId, S - 1]);
    const linksFrom = async (seq: number) => (await db.query<{ seq: number | string }>('SELECT seq FROM audit_chain WHERE writer_id = ? AND seq >= ? ORDER BY seq', [writerId, seq])).map((l) => Number(l.seq));
    return { gw, db, writerId, head, H, hHash, S, beforeCut, scrub, pay, linksFrom };
  }

  it('links on in a new chain when its head row is set back inside the accepted cut, or deleted: no link made twice at a seq, a chain whose head row is gone named by verify', async function () {
    this.timeout(180_000);
    const { gw, db, writerId, H, hHash, S, beforeCut, pay, linksFrom } = await acceptedCut();
    const verify = () => runCli(['audit', 'verify'], env());
    const ownChains = () => gw.store.audit.ownHeads().map((h) => h.writerId);

    await db.execute('UPDATE audit_writers SET last_seq = ?, last_hash = ? WHERE writer_id = ?', [S - 1, beforeCut, writerId]);
    const setBack = await pay();
    expect(await bankTransfers(gw, setBack.transactionId as string), 'paid once').to.equal(1);
    expect(await linksFrom(S), 'no link made inside the accepted cut').to.deep.equal([]);
    expect(ownChains(), 'linked in a new chain').to.not.include(writerId);
    // It vouched for the head it committed there as it left: the head row behind it is a rollback.
    expect(await gw.gateway.checkCheckpoints()).to.contain(`chain ${writerId} ends at link ${S - 1}`);
    await db.execute('UPDATE audit_writers SET last_seq = ?, last_hash = ? WHERE writer_id = ?', [H, hHash, writerId]);
    expect(await gw.gateway.checkCheckpoints(), 'its head row back as accepted').to.equal(null);
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
 * A running gateway's own chain rolled back with its head row: honestly (a replica behind promoted),
 * or by SQL (the head row set back to the link a checkpoint vouched for, the tail deleted later).
 * The writer links on in a new chain and vouches for the head it committed to the chain it left in
 * a checkpoint at once: the tail is never left unvouched, and a rollback accepted after that
 * checkpoint is served again, in the new chain, nothing linked again inside the old one.
 */
forEachBackend('A running gateway\'s own chain rolled back with its head row (#14)', (ctx) => {
  const checkpoints = join(mkdtempSync(join(tmpdir(), 'gerbang-rollback-')), 'audit-checkpoints.jsonl');
  const env = () => ({ GERBANG_DATABASE_URL: ctx.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints });
  let gw: TestGateway | undefined;
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
  });

  /** A gateway (its scrub off) that paid 4 transfers, a change of who may pay checkpointed; its busiest chain and that chain's head before. */
  async function paying() {
    const started = await payingGateway(ctx.url(), checkpoints);
    gw = started.gw;
    const { send, pay } = started;
    for (let i = 0; i < 4; i += 1) await pay();
    const other = await gw.createClient({ accounts: [] });
    await gw.store.clients.setStatus(other.clientId, 'disabled', Date.now());
    const [busiest] = gw.store.audit.ownHeads().sort((x, y) => y.seq - x.seq);
    return { gw, db: gw.store.db, send, busiest };
  }

  /** Chain `writerId` set back to link `to` (its own hash), the links after it deleted unless `keepLinks`. */
  async function setBack(db: TestGateway['store']['db'], writerId: string, to: number, keepLinks = false) {
    if (!keepLinks) await db.execute('DELETE FROM audit_chain WHERE writer_id = ? AND seq > ?', [writerId, to]);
    const [{ hash }] = await db.query<{ hash: string }>('SELECT hash FROM audit_chain WHERE writer_id = ? AND seq = ?', [writerId, to]);
    await db.execute('UPDATE audit_writers SET last_seq = ?, last_hash = ? WHERE writer_id = ?', [to, hash, writerId]);
  }

  const linksPast = async (db: TestGateway['store']['db'], writerId: string, seq: number) =>
    Number((await db.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM audit_chain WHERE writer_id = ? AND seq > ?', [writerId, seq]))[0].n);

  it('pays again once the rollback is accepted, in a new chain, nothing linked again inside the one rolled back; accepted before the writer met it, it holds once more, then pays', async function () {
    this.timeout(120_000);
    const { gw, db, send, busiest } = await paying();
    const to = busiest.seq - 3;
    await setBack(db, busiest.writerId, to);
    expect(await gw.gateway.checkCheckpoints(), 'held').to.not.equal(null);
    // The ERP's requests while held are refused and recorded: the writer meets its chain rolled back, links on in a new one and vouches for the head it left.
    expect((await send()).status).to.equal(503);
    expect(gw.store.audit.ownHeads().map((h) => h.writerId)).to.not.include(busiest.writerId);
    expect((await acceptAsVerified(env(), 'test: a replica behind promoted, looked at')).code).to.equal(0);
    expect(await gw.gateway.checkCheckpoints(), 'released').to.equal(null);
    for (let i = 0; i < 4; i += 1) expect((await send()).status).to.equal(201);
    expect(await linksPast(db, busiest.writerId, to), 'nothing linked again inside the chain rolled back').to.equal(0);
    expect(await gw.gateway.checkCheckpoints()).to.equal(null);

    // Rolled back again, accepted before the writer met it: the head it vouches for then holds once more (fail closed), and a second acceptance releases it.
    const [next] = gw.store.audit.ownHeads().sort((x, y) => y.seq - x.seq);
    await setBack(db, next.writerId, next.seq - 2);
    expect((await acceptAsVerified(env(), 'test: rolled back again, looked at')).code).to.equal(0);
    await send();
    expect(await gw.gateway.checkCheckpoints(), 'the head it left vouched after the acceptance').to.not.equal(null);
    expect((await acceptAsVerified(env(), 'test: the chain it left, looked at')).code).to.equal(0);
    expect(await gw.gateway.checkCheckpoints()).to.equal(null);
    expect((await send()).status).to.equal(201);
  });

  it('holds when its head row is set back to a link a checkpoint vouched for and the tail it left is deleted later: the head it committed there was vouched as it left', async function () {
    this.timeout(120_000);
    const { gw, db, send, busiest } = await paying();
    // The minute's checkpoint of this chain, then payments after it.
    appendCheckpoint(checkpoints, ringOf(TEST_AUDIT_KEY), { store: db.description, at: Date.now(), by: `gateway ${process.pid}`, heads: [busiest] });
    for (let i = 0; i < 2; i += 1) expect((await send()).status).to.equal(201);
    const [moved] = gw.store.audit.ownHeads().filter((h) => h.writerId === busiest.writerId);
    expect(moved.seq).to.be.greaterThan(busiest.seq);
    // SQL: the head row set back to the vouched link (its links left); the writer links on in a new chain.
    await setBack(db, busiest.writerId, busiest.seq, true);
    // Below the head the gateway's head file vouched for as it committed: held at once (before the head files, nothing was seen until the writer met it).
    expect(await gw.gateway.checkCheckpoints(), 'the head row set back below what its head file vouched for').to.contain(busiest.writerId);
    await send();
    expect(gw.store.audit.ownHeads().map((h) => h.writerId)).to.not.include(busiest.writerId);
    expect(await gw.gateway.checkCheckpoints(), 'the head it left vouched at once: its head row is behind it').to.contain(busiest.writerId);
    // Later: the tail it left deleted (links; a chain that ends where its head row says).
    await db.execute('DELETE FROM audit_chain WHERE writer_id = ? AND seq > ?', [busiest.writerId, busiest.seq]);
    const held = await gw.gateway.checkCheckpoints();
    expect(held, 'the tail it left was vouched').to.contain(busiest.writerId);
    const verify = await runCli(['audit', 'verify'], env());
    expect(verify.code).to.equal(1);
    expect(verify.stdout).to.contain(busiest.writerId);
  });
});

/**
 * A tail cut whose head row was moved forward in SQL (no link deleted: the chain ends
 * at link C, its head row says C+100 with a made-up hash) is what an operator is shown and accepts
 * ("ends at link C but its head records link C+100", no payment lost). Its writer is still alive and
 * committed only up to C: with the head row put back at C it links the next payment P inside the
 * accepted cut (C+1..). P deleted whole with those links and the head row put back at C+100, a writer
 * that followed it linked on at C+101, the accepted cut's `next`, and every walk took the chain for
 * the cut as accepted, rejoined: a process that did not see P's links (started after, its memory file
 * older or absent) paid P's resend again. The writer leaves a chain whose head row is at any other
 * seq than the link it committed last (ChainWriter.loadHead), vouching for that link.
 * (On MariaDB a process links on several chains: each of its chains is treated so.)
 */
forEachBackend('A writer steered inside an accepted tail cut whose head was moved forward (#14)', (ctx) => {
  const checkpoints = join(mkdtempSync(join(tmpdir(), 'gerbang-review-fwd-')), 'audit-checkpoints.jsonl');
  const env = () => ({ GERBANG_DATABASE_URL: ctx.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints });
  const gateways: TestGateway[] = [];
  afterEach(async () => {
    while (gateways.length > 0) await gateways.pop()!.close();
  });

  it('holds (or refuses the resend) once a payment linked inside the accepted cut was deleted whole and the head row put back', async function () {
    this.timeout(180_000);
    const started = await payingGateway(ctx.url(), checkpoints);
    const gw = started.gw;
    gateways.push(gw);
    const { pay, send } = started;
    // Every lane of the process committed once (MariaDB: four), so P's links land in chains cut below.
    await Promise.all(Array.from({ length: 8 }, () => pay()));
    const db = gw.store.db;
    const own = gw.store.audit.ownHeads();
    const setHead = (writerId: string, seq: number, hash: string) => db.execute('UPDATE audit_writers SET last_seq = ?, last_hash = ? WHERE writer_id = ?', [seq, hash, writerId]);
    const linksPast = async (writerId: string, seq: number) => (await db.query<{ seq: number | string }>('SELECT seq FROM audit_chain WHERE writer_id = ? AND seq > ? ORDER BY seq', [writerId, seq])).map((l) => Number(l.seq));
    const FORGED = 'f'.repeat(64);

    // 1. Each head row moved forward (the writer idle): a "tail cut" of links that never were. Accepted as looked at.
    for (const h of own) await setHead(h.writerId, h.seq + 100, FORGED);
    const accepted = await acceptAsVerified(env(), 'review: chains end before their heads, no payment lost, looked at');
    expect(accepted.code, accepted.stdout + accepted.stderr).to.equal(0);

    // 2. The head rows put back where the writer committed: it links the next payment inside the accepted cuts.
    for (const h of own) await setHead(h.writerId, h.seq, h.hash);
    const P = await pay();
    const [{ id: paymentId }] = await db.query<{ id: number | string }>('SELECT id FROM payments WHERE transaction_id = ?', [P.transactionId as string]);
    const pLinks = await db.query<{ writer_id: string; seq: number | string }>("SELECT writer_id, seq FROM audit_chain WHERE kind = 'payment_event' AND record_id IN (SELECT id FROM payment_events WHERE payment_id = ?)", [paymentId]);
    for (const l of pLinks) {
      const cut = own.find((h) => h.writerId === l.writer_id);
      expect(cut, `P's link ${l.writer_id} ${l.seq} is in a chain cut`).to.not.equal(undefined);
      expect(Number(l.seq)).to.be.within(cut!.seq + 1, cut!.seq + 99);
    }
    expect(await bankTransfers(gw, P.transactionId as string), 'P paid once').to.equal(1);
    // The minute's checkpoint taken while P's links stand (vouches heads inside the cuts).
    appendCheckpoint(checkpoints, ringOf(TEST_AUDIT_KEY), { store: db.description, at: Date.now(), by: `gateway ${process.pid}`, heads: gw.store.audit.ownHeads() });

    // 3. P deleted whole with every link made inside the cuts (and their records), the head rows back as accepted.
    for (const h of own) {
      for (const l of await db.query<{ kind: string; record_id: number | string }>('SELECT kind, record_id FROM audit_chain WHERE writer_id = ? AND seq > ? ORDER BY seq DESC', [h.writerId, h.seq])) {
        await db.execute(`DELETE FROM ${TABLE_OF[l.kind]} WHERE ${l.kind === 'complete' ? 'exchange_id' : 'id'} = ?`, [l.record_id]);
      }
      await db.execute('DELETE FROM audit_chain WHERE writer_id = ? AND seq > ?', [h.writerId, h.seq]);
    }
    await db.execute('DELETE FROM payment_search_grams WHERE payment_id = ?', [paymentId]);
    await db.execute('DELETE FROM payments WHERE id = ?', [paymentId]);
    for (const h of own) await setHead(h.writerId, h.seq + 100, FORGED);

    // 4. The writer links on: its head moved under it above what it committed, it follows to the cut's `next`.
    await send();
    // (Today it rejoins at C+101 in each chain it links on; a writer that left a chain whose head row moved past what it committed would not.)
    const rejoined = await Promise.all(own.map(async (h) => (await linksPast(h.writerId, h.seq))[0] ?? null));
    // The next minute's checkpoint vouches its heads past what the one before did.
    appendCheckpoint(checkpoints, ringOf(TEST_AUDIT_KEY), { store: db.description, at: Date.now(), by: `gateway ${process.pid}`, heads: gw.store.audit.ownHeads() });

    const verified = await runCli(['audit', 'verify'], env());
    const rollback = await gw.gateway.checkCheckpoints();
    const scrub = new AuditScrub(gw.store.audit, { ring: ringOf(TEST_AUDIT_KEY), path: checkpoints, store: db.description }, { linksPerPass: 1_000, confirmMs: 50, quiet: true });
    for (let i = 0; i < 1_000 && !scrub.complete; i += 1) await scrub.pass();

    // A process started now, scrubbing (no memory file: the payer's scrub is off), gets P's resend.
    const later = await TestGateway.start(ctx.url(), { GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints, GERBANG_AUDIT_SCRUB_MS: '100', ...UNTHROTTLED });
    gateways.push(later);
    await eventually(async () => later.gateway.scrub.complete || later.gateway.scrub.held !== null, 60_000);
    // Held, it serves nothing (not even a token): the resend is refused.
    const token = await later.request('/v1/auth/token', { method: 'POST', json: { client_id: started.payer.clientId, client_secret: started.payer.clientSecret } });
    const resend = token.status === 200 ? await later.request('/v1/transfers', { json: P, headers: { authorization: `Bearer ${token.body.access_token as string}` } }) : token;
    const paid = (await bankTransfers(gw, P.transactionId as string)) + (await bankTransfers(later, P.transactionId as string));
    const seen = `first links after C: ${rejoined}; verify exit ${verified.code} ${verified.stdout.slice(0, 300)}; later held: ${later.gateway.scrub.held}; rollback watch: ${rollback}; fresh scrub held: ${scrub.held}; resend: ${resend.status} ${resend.text.slice(0, 120)}; bank transfers of P: ${paid}`;
    expect(paid, seen).to.equal(1);
    expect(verified.code !== 0 || rollback !== null || scrub.held !== null, seen).to.equal(true);
  });
});
