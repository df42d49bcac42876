import { expect } from 'chai';
import type { Db } from '../../src/store/index.js';
import { sampleTransfer, type TestGateway } from './gateway-harness.js';
import { bankTransfers } from './left-behind.js';

/**
 * The attack of docs/security/threat-model.md on a paid payment, as a database writer without a key
 * makes it: the payment deleted whole in SQL (its row, its events and their links from the middle of
 * the audit chains, every chain head left as it was).
 */

/** Limits high enough that a test's traffic is never throttled. */
export const UNTHROTTLED = { GERBANG_RATE_LIMIT_PER_CLIENT: '100000', GERBANG_RATE_LIMIT_PER_IP: '100000' };

/**
 * The links of payment `transactionId`'s events: chain, seq, and whether a later link follows each
 * in its chain (its head row's link; a chain whose head row is gone, its newest link).
 */
export async function paymentLinks(db: Db, transactionId: string): Promise<{ paymentId: number; links: { writerId: string; seq: number; midChain: boolean }[] }> {
  const [payment] = await db.query<{ id: number | string }>('SELECT id FROM payments WHERE transaction_id = ?', [transactionId]);
  const links = await db.query<{ writer_id: string; seq: number | string; last_seq: number | string }>(
    "SELECT c.writer_id, c.seq, COALESCE(w.last_seq, (SELECT MAX(n.seq) FROM audit_chain n WHERE n.writer_id = c.writer_id)) AS last_seq FROM audit_chain c LEFT JOIN audit_writers w ON w.writer_id = c.writer_id WHERE c.kind = 'payment_event' AND c.record_id IN (SELECT id FROM payment_events WHERE payment_id = ?)",
    [Number(payment.id)],
  );
  return { paymentId: Number(payment.id), links: links.map((l) => ({ writerId: l.writer_id, seq: Number(l.seq), midChain: Number(l.seq) < Number(l.last_seq) })) };
}

/**
 * The attack, in SQL: the payment, its events and their links deleted, the chain heads as they
 * were. Returns where each chain it cut breaks first (`chain W link S`: on MariaDB a process links
 * on several chains).
 */
export async function deleteWhole(db: Db, transactionId: string): Promise<string[]> {
  const { paymentId, links } = await paymentLinks(db, transactionId);
  expect(links.length, 'the payment has linked events').to.be.above(1);
  expect(links.every((l) => l.midChain), 'every link of the payment is inside its chain, not its head').to.equal(true);
  const heads = () => db.query('SELECT writer_id, last_seq, last_hash FROM audit_writers ORDER BY writer_id');
  const before = await heads();
  await db.execute("DELETE FROM audit_chain WHERE kind = 'payment_event' AND record_id IN (SELECT id FROM payment_events WHERE payment_id = ?)", [paymentId]);
  await db.execute('DELETE FROM payment_events WHERE payment_id = ?', [paymentId]);
  await db.execute('DELETE FROM payments WHERE id = ?', [paymentId]);
  expect(await heads(), 'no chain head moved').to.deep.equal(before);
  const first = new Map<string, number>();
  for (const { writerId, seq } of links) first.set(writerId, Math.min(seq, first.get(writerId) ?? seq));
  return [...first].map(([writerId, seq]) => `chain ${writerId} link ${seq}`);
}

/** Pays `body` through the gateway over HTTP, then pays others until each of its links has one after it in its chain. */
export async function payInsideChains(gw: TestGateway, auth: Record<string, string>, body: Record<string, unknown>): Promise<void> {
  const paid = await gw.request('/v1/transfers', { json: body, headers: auth });
  expect([paid.status, paid.body?.status], paid.text).to.deep.equal([201, 'SUCCESS']);
  for (let i = 0; i < 20 && !(await paymentLinks(gw.store.db, body.transactionId as string)).links.every((l) => l.midChain); i += 1) {
    expect((await gw.request('/v1/transfers', { json: sampleTransfer(), headers: auth })).status).to.equal(201);
  }
  expect(await bankTransfers(gw, body.transactionId as string)).to.equal(1);
}
