import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RollbackWatch, vouchingOptions } from '../../src/audit/index.js';
import { provedLeftBehind, type LeftBehindDeps } from '../../src/domain/transfers/left-behind.js';
import { requestHash } from '../../src/domain/transfers/request-hash.js';
import { transferRequestSchema, type TransferRequest } from '../../src/domain/transfers/transfer-schema.js';
import { IntegrityError } from '../../src/errors/index.js';
import { createStore, openDb, openStore, type Db, type PaymentRecord, type Store } from '../../src/store/index.js';
import { TEST_AUDIT_KEYS } from '../support/audit-keys.js';
import { writeAfterRead } from '../support/counting-db.js';
import { forEachBackend } from '../support/databases.js';
import { sampleTransfer, TestGateway } from '../support/gateway-harness.js';
import { attackerDb } from '../support/later-events.js';
import { bankTransfers, resendLogged } from '../support/left-behind.js';
import { copyRow, insertRow, type Row } from '../support/sql-rows.js';

/**
 * The attacker of docs/security/threat-model.md (writes the database, holds no key) against the
 * proof that a reservation was left behind (#14).
 *
 * What happened to it after its reservation is the tail of a chain: another gateway process sent
 * and paid it, then fell idle. Its later events deleted with their links and that chain's head row
 * set back to the reservation's link, the chain is whole from the reservation to its head, and its
 * row written back as it stood (RECEIVED, untouched for a minute) agrees with its last event: only
 * the audit checkpoints outside the database, which vouched for the tail, tell the cut. An
 * attacker who puts the tail back and takes it out again can show a comparison with the
 * checkpoints read apart from the proof's walk the tail whole and the walk the tail cut; here the
 * cut lands right after the rollback watch read the heads.
 *
 * A chain head set back behind links its chain still holds is found before any walk: named, even
 * when the walk would read more links than the proof's bound.
 */
/** The transfer of `body` reserved by `store` a minute ago and left RECEIVED (its process stopped before routing it). */
function reservedBy(store: Store, clientId: string, body: Record<string, unknown>): Promise<PaymentRecord> {
  const request = transferRequestSchema.validate(body).value as TransferRequest;
  return store.payments.reserve(
    { clientId, transactionId: request.transactionId, requestHash: requestHash(request), amount: request.amount, currency: request.currency, sourceAccount: request.sourceAccountNumber },
    Date.now() - 60_000,
  );
}

/** A paid transfer's tail, cut in SQL by `attacker`. */
interface PaidTail {
  /** The payment, paid, its row written back as its reservation left RECEIVED a minute ago. */
  reservation: PaymentRecord;
  /** The chain whose tail holds its later events. */
  chain: string;
  /** Its later events and their links deleted, the chain's head row set back to the reservation's link. */
  cut(): Promise<void>;
}

/**
 * The transfer of `body` reserved by `payer` a minute ago, sent and paid by it (SENDING, SUCCESS:
 * the tail of its chain, which falls idle), its row then written back by `attacker` as it was
 * while RECEIVED; the tail left whole for now.
 */
async function paidTail(payer: Store, attacker: Db, clientId: string, body: Record<string, unknown>): Promise<PaidTail> {
  const transactionId = body.transactionId as string;
  const reserved = await reservedBy(payer, clientId, body);
  const reservationRow = await copyRow(attacker, 'payments', 'id = ?', [reserved.id]);
  const day = new Date().toISOString().slice(0, 10);
  expect(await payer.payments.update(reserved.id, { state: 'SENDING', bank: 'bca', operation: 'transfer', bankTransactionId: '00000042', bankTransactionDate: day }, Date.now())).to.equal(true);
  const result = JSON.stringify({ transactionId, status: 'SUCCESS', bankReference: 'REF-42' });
  expect(await payer.payments.storeSendOutcome(reserved.id, { state: 'SUCCESS', bankReference: 'REF-42', resultJson: result, httpStatus: 201 }, Date.now(), (await payer.payments.findById(reserved.id))!)).to.equal(true);

  const [first, ...later] = await attacker.query<Row>('SELECT * FROM payment_events WHERE payment_id = ? ORDER BY seq', [reserved.id]);
  const linkOf = async (event: Row) => (await attacker.query<Row>("SELECT * FROM audit_chain WHERE kind = 'payment_event' AND record_id = ?", [event.id]))[0];
  const reservationLink = await linkOf(first);
  const links = await Promise.all(later.map(linkOf));
  const chain = String(reservationLink.writer_id);
  const [head] = await attacker.query<Row>('SELECT last_seq, last_hash FROM audit_writers WHERE writer_id = ?', [chain]);
  // The paid events are the very tail of the reservation's chain.
  expect(links.map((l) => String(l.writer_id))).to.deep.equal(later.map(() => chain));
  expect(Number(head.last_seq)).to.equal(Math.max(...links.map((l) => Number(l.seq))));

  await attacker.execute('DELETE FROM payments WHERE id = ?', [reserved.id]);
  await insertRow(attacker, 'payments', reservationRow);
  return {
    reservation: reserved,
    chain,
    cut: () =>
      attacker.withTransaction(async (tx) => {
        await tx.execute('UPDATE audit_writers SET last_seq = ?, last_hash = ? WHERE writer_id = ?', [reservationLink.seq, reservationLink.hash, chain]);
        for (const link of links) await tx.execute('DELETE FROM audit_chain WHERE writer_id = ? AND seq = ?', [chain, link.seq]);
        for (const event of later) await tx.execute('DELETE FROM payment_events WHERE id = ?', [event.id]);
      }),
  };
}

forEachBackend('Proving a reservation left behind whose paid tail is cut right after the checkpoints were compared (#14)', (ctx) => {
  const checkpoints = join(mkdtempSync(join(tmpdir(), 'gerbang-tail-cut-')), 'audit-checkpoints.jsonl');
  let payer: Store;
  let prover: Store | undefined;
  let attacker: Db;
  before(async () => {
    // The process that paid it: its chain vouched for in the checkpoint file.
    const { checkpoint, vouch } = vouchingOptions(checkpoints, TEST_AUDIT_KEYS, 'gateway payer', Date.now);
    payer = await openStore(ctx.url(), { auditKeys: TEST_AUDIT_KEYS, checkpoint, vouch });
    attacker = attackerDb(ctx);
  });
  after(async () => {
    await prover?.close();
    await attacker?.close();
    await payer?.close();
  });

  it('refuses it with AUDIT_INTEGRITY naming the chain cut behind its checkpoint, and releases nothing', async () => {
    const tail = await paidTail(payer, attacker, `erp-tail-${Date.now()}`, sampleTransfer());
    // The cut right after the rollback watch read the heads: its comparison sees the tail whole.
    prover = createStore(writeAfterRead(openDb(ctx.url()), /^SELECT writer_id, last_seq, last_hash FROM audit_writers$/, () => tail.cut()), { auditKeys: TEST_AUDIT_KEYS });
    const watch = new RollbackWatch(prover.audit, TEST_AUDIT_KEYS, checkpoints, prover.db.description, 0);
    const deps: LeftBehindDeps = { payments: prover.payments, clock: Date.now, checkpoints: async () => (await watch.check(), watch.held), vouched: () => watch.vouched() };
    const error = await provedLeftBehind(deps, tail.reservation, 'taken over').then(
      (proved) => expect.fail(`proved left behind (${String(proved)}): the proof's snapshot lacks the tail the checkpoints vouched for`),
      (e: unknown) => e,
    );
    expect(watch.held, 'the watch compared the tail whole').to.equal(null);
    expect(error).to.be.instanceOf(IntegrityError);
    expect((error as IntegrityError).where).to.match(new RegExp(`was not taken over as a reservation left behind: .*chain ${tail.chain} ends at link \\d+ but was checkpointed at link \\d+`));
    // The cut holds: the watch's next comparison names it too; the row is still the one written back.
    await watch.check();
    expect(watch.held).to.contain(`chain ${tail.chain} ends at link`);
    const [row] = await attacker.query<{ state: string }>('SELECT state FROM payments WHERE id = ?', [tail.reservation.id]);
    expect(row.state).to.equal('RECEIVED');
  });
});

forEachBackend('The resend of a reservation left behind, a chain head set back and the proof longer than its bound (#14)', (ctx) => {
  const checkpoints = join(mkdtempSync(join(tmpdir(), 'gerbang-head-back-')), 'audit-checkpoints.jsonl');
  let gw: TestGateway;
  before(async () => {
    gw = await TestGateway.start(ctx.url(), { GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints, GERBANG_TAKEOVER_PROOF_LINKS: '3', GERBANG_AUDIT_SCRUB_MS: '0' });
  });
  after(() => gw?.close());

  it('answers 500 AUDIT_INTEGRITY naming the chain whose head was set back, not 409 for review, and sends nothing', async () => {
    const client = await gw.createClient();
    const auth = { authorization: `Bearer ${await gw.token(client)}` };
    const body = sampleTransfer();
    const transactionId = body.transactionId as string;
    // Left behind by another process (the suite's store, vouched for by no checkpoint), which went on linking records.
    const other = ctx.store();
    const reservation = await reservedBy(other, client.clientId, body);
    for (let i = 0; i < 6; i += 1) await reservedBy(other, client.clientId, sampleTransfer());
    // The attack, in SQL: one of its chains' head row set back a link, its newest link left where it is.
    const [chain] = other.audit.ownHeads().sort((a, b) => b.seq - a.seq);
    expect(chain.seq).to.be.greaterThan(1);
    const db = gw.store.db;
    const [older] = await db.query<{ hash: string }>('SELECT hash FROM audit_chain WHERE writer_id = ? AND seq = ?', [chain.writerId, chain.seq - 1]);
    await db.execute('UPDATE audit_writers SET last_seq = ?, last_hash = ? WHERE writer_id = ?', [chain.seq - 1, older.hash, chain.writerId]);
    // No checkpoint vouched for that chain: only the proof's own reading of the heads finds it.
    expect(await gw.gateway.checkCheckpoints()).to.equal(null);

    const { answer: again, refusal } = await resendLogged(gw, body, auth);
    expect([again.status, again.body.code], again.text).to.deep.equal([500, 'AUDIT_INTEGRITY']);
    expect(refusal?.msg).to.equal('a reservation left behind was not taken over: its history does not hold');
    expect(refusal?.where).to.contain(`the head of chain ${chain.writerId} records link ${chain.seq - 1} while the chain holds links up to link ${chain.seq}: the head was set back`);
    expect(await bankTransfers(gw, transactionId)).to.equal(0);
    // Not put in the review queue as merely too long to prove: still the reservation as it was left.
    const [row] = await db.query<{ id: number | string; state: string; review_since: number | string | null }>('SELECT id, state, review_since FROM payments WHERE client_id = ? AND transaction_id = ?', [client.clientId, transactionId]);
    expect([Number(row.id), row.state, row.review_since]).to.deep.equal([reservation.id, 'RECEIVED', null]);
  });
});
