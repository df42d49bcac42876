import type { Db, SqlValue } from '../../src/store/index.js';

/** The takeover proof's read of a page of one chain's links (verifyChain in audit-verify.ts). */
const CHAIN_PAGE = /FROM audit_chain WHERE writer_id = \? AND seq >= \? AND seq <= \?/;

/**
 * Watches the chain walks made through `db` (a gateway's own handle): `onPage` is awaited before
 * each page of links is read (it may run something at that moment), and the returned function
 * tells how many links those pages held so far. The database stays the real one.
 */
export function watchChainWalks(db: Db, onPage: () => Promise<void> = async () => undefined): () => number {
  const query = db.query.bind(db);
  let links = 0;
  db.query = (async (sql: string, params?: SqlValue[]) => {
    if (!CHAIN_PAGE.test(sql)) return query(sql, params);
    await onPage();
    const rows = await query(sql, params);
    links += rows.length;
    return rows;
  }) as Db['query'];
  return () => links;
}
