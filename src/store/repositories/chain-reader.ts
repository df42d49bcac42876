import type { ChainReader, Queryable } from '../types.js';
import { verifyChainPiece } from './audit-verify.js';
import { toNumber } from './row-values.js';
import type { ValueSealer } from './sealed-values.js';

/** Links read by one statement of linksAt: 500 placeholders, under SQLite's oldest limit of 999. */
const LINKS_A_STATEMENT = 250;

/**
 * The chains' heads, links and walks as `q` reads them: the pool's (SqlAuditRepository), or one
 * snapshot's, where the checkpoints are compared with the very chains a proof walks
 * (PaymentRepository.laterHistory).
 */
export function chainReader(q: Queryable, sealer: ValueSealer): ChainReader {
  return {
    chainHeads: () => chainHeads(q),
    linksAt: (wanted) => linksAt(q, wanted),
    walkChain: (writerId, from, maxLinks) => verifyChainPiece(q, sealer, writerId, from, maxLinks),
  };
}

async function chainHeads(q: Queryable): Promise<{ writerId: string; seq: number; hash: string }[]> {
  const rows = await q.query<{ writer_id: string; last_seq: number | string; last_hash: string }>('SELECT writer_id, last_seq, last_hash FROM audit_writers');
  return rows.map((r) => ({ writerId: r.writer_id, seq: toNumber(r.last_seq), hash: r.last_hash }));
}

async function linksAt(q: Queryable, wanted: { writerId: string; seq: number }[]): Promise<{ writerId: string; seq: number; hash: string; keyId: string | null }[]> {
  const found: { writerId: string; seq: number; hash: string; keyId: string | null }[] = [];
  // Each link found by the primary key, many a statement: the rollback watch asks for every
  // chain grown since its checkpoint every 2 s, and one statement a link cost a round trip each.
  for (let from = 0; from < wanted.length; from += LINKS_A_STATEMENT) {
    const some = wanted.slice(from, from + LINKS_A_STATEMENT);
    const rows = await q.query<{ writer_id: string; seq: number | string; hash: string; key_id: string | null }>(
      `SELECT writer_id, seq, hash, key_id FROM audit_chain WHERE ${some.map(() => '(writer_id = ? AND seq = ?)').join(' OR ')}`,
      some.flatMap((link) => [link.writerId, link.seq]),
    );
    for (const row of rows) found.push({ writerId: row.writer_id, seq: toNumber(row.seq), hash: row.hash, keyId: row.key_id });
  }
  return found;
}
