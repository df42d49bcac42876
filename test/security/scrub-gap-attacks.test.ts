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
 * sets the head row to link S-1 (its own hash): the writer follows the head it re-reads, so the next
 * payments' links are made, with good MACs, at S.. inside the accepted cut. Once one is paid, the
 * attacker deletes it whole with the links after it, leaving the earlier ones (Q0's), and puts the
 * head row back as accepted (H, its hash); the writer links on at H+1 (the cut's `next`). The walk
 * from the chain's first link proves S.. up to the deleted payment and finds the gap after: not the
 * gap accepted (links are there now where it had none), so the scrub holds; a scrub that took it for
 * the accepted cut (it ends where that one did) let the resend of the payment be paid twice.
 */
forEachBackend('Links written inside an accepted tail cut, then some deleted whole (#14)', (ctx) => {
  const checkpoints = join(mkdtempSync(join(tmpdir(), 'gerbang-review-')), 'audit-checkpoints.jsonl');
  const env = () => ({ GERBANG_DATABASE_URL: ctx.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints });
  let gw: TestGateway | undefined;
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
  });

  it('holds on the payment deleted after links made inside the accepted cut, the earlier ones left: the walk from the first link does not take it for the accepted cut', async function () {
    this.timeout(180_000);
    gw = await TestGateway.start(ctx.url(), { GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints, GERBANG_AUDIT_SCRUB_MS: '0', ...UNTHROTTLED });
    const payer = await gw.createClient();
    const auth = { authorization: `Bearer ${await gw.token(payer)}` };
    const pay = async (body = sampleTransfer()) => {
      const r = await gw!.request('/v1/transfers', { json: body, headers: auth });
      expect(r.status, r.text).to.equal(201);
      return body;
    };
    for (let i = 0; i < 10; i += 1) await pay();
    const db = gw.store.db;
    const [writerId] = gw.store.audit.ownHeads().map((h) => h.writerId);
    const head0 = async () => (await db.query<{ last_seq: number | string; last_hash: string }>('SELECT last_seq, last_hash FROM audit_writers WHERE writer_id = ?', [writerId]))[0];
    const { last_seq: hSeq, last_hash: hHash } = await head0();
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

    // The window: head row set to link S-1; the writer re-reads it and links P (and Q) at S..
    const [{ hash: before }] = await db.query<{ hash: string }>('SELECT hash FROM audit_chain WHERE writer_id = ? AND seq = ?', [writerId, S - 1]);
    await db.execute('UPDATE audit_writers SET last_seq = ?, last_hash = ? WHERE writer_id = ?', [S - 1, before, writerId]);
    const Q0 = await pay();
    const pFirst = Number((await head0()).last_seq) + 1;
    const P = await pay();
    expect(await bankTransfers(gw, P.transactionId as string)).to.equal(1);
    await pay(); // Q: so P's links are not at the head when B reads it
    const windowHead = Number((await head0()).last_seq);
    expect(windowHead, 'the window fits inside the accepted cut').to.be.lessThan(H);
    // B runs a pass during the window (its walk of new links reads the head moved back and resets there).
    expect(scrub.held, 'nothing is wrong with the chain in the window').to.equal(null);

    // The attacker: every link written in the window deleted with its record, the payments whole, the head back as accepted.
    const [payment] = await db.query<{ id: number | string; client_id: string; transaction_id: string }>('SELECT id, client_id, transaction_id FROM payments WHERE transaction_id = ?', [P.transactionId as string]);
    const cutFrom = pFirst;
    const links = await db.query<{ seq: number | string; kind: string; record_id: number | string }>('SELECT seq, kind, record_id FROM audit_chain WHERE writer_id = ? AND seq >= ?', [writerId, cutFrom]);
    const paymentIds = new Set<number>();
    for (const l of links) {
      if (l.kind === 'payment_event') {
        const [e] = await db.query<{ payment_id: number | string }>('SELECT payment_id FROM payment_events WHERE id = ?', [l.record_id]);
        if (e) paymentIds.add(Number(e.payment_id));
      }
    }
    // Children before parents: rounds until every delete went through.
    const deletes: [string, unknown[]][] = [
      ...links.map((l): [string, unknown[]] => [`DELETE FROM ${TABLE_OF[l.kind]} WHERE ${l.kind === "complete" ? "exchange_id" : "id"} = ?`, [l.record_id]]),
      ...[...paymentIds].flatMap((id): [string, unknown[]][] => [['DELETE FROM payment_events WHERE payment_id = ?', [id]], ['DELETE FROM payments WHERE id = ?', [id]]]),
    ];
    for (let round = 0; round < 10 && deletes.length > 0; round += 1) {
      for (const d of [...deletes]) {
        try {
          await db.execute(d[0], d[1] as never);
          deletes.splice(deletes.indexOf(d), 1);
        } catch (error) {
          if (round === 9) throw error;
        }
      }
    }
    await db.execute('DELETE FROM audit_chain WHERE writer_id = ? AND seq >= ?', [writerId, cutFrom]);
    await db.execute('UPDATE audit_writers SET last_seq = ?, last_hash = ? WHERE writer_id = ?', [H, hHash, writerId]);
    expect((await db.query('SELECT id FROM payments WHERE transaction_id = ?', [Q0.transactionId as string])).length, 'Q0 kept').to.equal(1);
    expect((await db.query('SELECT id FROM payments WHERE id = ?', [payment.id])).length, 'P deleted whole').to.equal(0);
    // The writer links on: it re-reads the head (H) and appends at H+1, the accepted cut's `next`.
    await pay();
    await pay();
    expect(Number((await db.query<{ seq: number | string }>('SELECT MIN(seq) AS seq FROM audit_chain WHERE writer_id = ? AND seq >= ?', [writerId, cutFrom]))[0].seq)).to.equal(H + 1);

    // B walks on: a full cycle more, and many passes.
    const cycles = scrub.cycles;
    const heldAt: string[] = [];
    let was: string | null = null;
    for (let i = 0; i < 5_000 && scrub.cycles < cycles + 2; i += 1) {
      await scrub.pass();
      if (scrub.held !== was) heldAt.push(`pass ${i}: ${(was = scrub.held)}`);
    }
    const held = scrub.held;
    const known = scrub.memory.recall(payment.client_id, payment.transaction_id);
    const verdict = await scrub.beforeNewPayment(payment.client_id, payment.transaction_id, 999_999, Date.now());
    expect(held ?? verdict ?? known, `the deletion of the payment (inside the accepted cut, never accepted) is held, or the payment is remembered (${heldAt.join('; ')})`).to.not.equal(null);
    expect(held, 'the scrub holds').to.be.a('string');
    // verify names it as not accepted.
    const verify = await runCli(['audit', 'verify'], env());
    expect(verify.code).to.equal(1);
    expect(verify.stdout).to.match(new RegExp(`DELETED: link ${pFirst} of chain ${writerId}`));
  });
});
