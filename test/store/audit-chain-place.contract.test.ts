import { expect } from 'chai';
import { chainPlaceProblems, type PageLink } from '../../src/store/repositories/audit-chain-place.js';
import { EXCHANGE_FROM, EXCHANGE_SELECT, type ExchangeRow } from '../../src/store/repositories/audit-records.js';
import type { Db } from '../../src/store/types.js';
import { TEST_AUDIT_KEYS } from '../support/audit-keys.js';
import { forEachBackend } from '../support/databases.js';

/**
 * Which exchanges of an exported page a break of their chains is told to (audit-chain-place.ts),
 * on chains written here in SQL: two lanes of one gateway process (ChainLanes), whose links
 * interleave as concurrent requests append them. What each link's MAC covers is
 * audit-record-links.ts' to check, so the hashes here only have to follow one another.
 */
forEachBackend('The export page held to its place in its chains', (ctx) => {
  const lane = (i: number) => `gw-host-4242-a1b2c3d4-${i}`;
  const hash = (n: number) => String(n).padStart(64, '0');

  async function exchange(db: Db, requestId: string, at: number): Promise<number> {
    const { insertId } = await db.execute(
      "INSERT INTO audit_exchanges (request_id, received_at, remote_ip, method, path, outcome, request_headers) VALUES (?, ?, '127.0.0.1', 'POST', '/v1/transfers', 'completed', '{}')",
      [requestId, at],
    );
    return insertId;
  }

  /** Links of one lane, each following the one before. */
  async function chain(db: Db, writerId: string, links: { kind: PageLink['kind']; recordId: number; at: number }[]): Promise<void> {
    for (const [i, link] of links.entries()) {
      await db.execute('INSERT INTO audit_chain (writer_id, seq, kind, record_id, recorded_at, prev_hash, hash, key_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [
        writerId, i + 1, link.kind, link.recordId, link.at, i === 0 ? hash(0) : hash(i), hash(i + 1), 'k1',
      ]);
    }
  }

  const pageOf = async (db: Db, ids: number[]) => {
    const rows = await db.query<ExchangeRow>(`SELECT ${EXCHANGE_SELECT} FROM ${EXCHANGE_FROM} WHERE e.id IN (${ids.map(() => '?').join(', ')}) ORDER BY e.id`, ids);
    const links = await db.query<PageLink>(
      `SELECT kind, writer_id, seq, record_id, recorded_at, prev_hash, hash, key_id FROM audit_chain WHERE kind IN ('open', 'complete', 'record') AND record_id IN (${ids.map(() => '?').join(', ')})`,
      ids,
    );
    return { rows, links };
  };

  it('tells a bank call deleted on another lane to the exchange open on the same process when it was linked, and no other', async () => {
    const db = ctx.store().db;
    const paid = await exchange(db, 'req-paid', 1000);
    const token = await exchange(db, 'req-token', 1100);
    // Lane 0: the transfer opened and completed. Lane 1: its bank call (id 99, deleted: no row), then a token request recorded whole.
    await chain(db, lane(0), [
      { kind: 'open', recordId: paid, at: 1000 },
      { kind: 'complete', recordId: paid, at: 1300 },
    ]);
    await chain(db, lane(1), [
      { kind: 'bank_call', recordId: 99, at: 1150 },
      { kind: 'record', recordId: token, at: 1200 },
    ]);
    const { rows, links } = await pageOf(db, [paid, token]);
    const found = await chainPlaceProblems(db, TEST_AUDIT_KEYS, rows, [], links);
    expect([...found.keys()]).to.deep.equal([paid]);
    expect(found.get(paid)).to.equal(`audit_bank_calls id 99 (chain ${lane(1)} seq 1, bank_call) was deleted: its chain link is still there`);
  });

  it('tells a gap to the exchanges in progress across it on that chain, and finds nothing where the chain is whole', async () => {
    const db = ctx.store().db;
    const first = await exchange(db, 'req-first', 2000);
    const second = await exchange(db, 'req-second', 2010);
    const writer = lane(2);
    await chain(db, writer, [
      { kind: 'open', recordId: first, at: 2000 },
      { kind: 'open', recordId: second, at: 2010 },
      { kind: 'complete', recordId: second, at: 2020 },
      { kind: 'bank_call', recordId: 77, at: 2030 },
      { kind: 'complete', recordId: first, at: 2040 },
    ]);
    const { rows, links } = await pageOf(db, [first, second]);
    // Bank call 77 is not in the database either: present it to the check as the page's own.
    const call = { id: 77, exchange_id: first } as never;
    expect(await chainPlaceProblems(db, TEST_AUDIT_KEYS, rows, [call], links)).to.deep.equal(new Map());
    await db.execute('DELETE FROM audit_chain WHERE writer_id = ? AND seq = 4', [writer]);
    const found = await chainPlaceProblems(db, TEST_AUDIT_KEYS, rows, [], links);
    expect([...found.keys()], 'only the exchange open across the gap').to.deep.equal([first]);
    expect(found.get(first)).to.equal(`link 4 of chain ${writer} is missing (the next one is 5): a record and its link were deleted`);
  });
});
