import type { Db, Queryable, SqlValue } from '../../src/store/index.js';

/** The takeover proof's read of a page of one chain's links (verifyChain in audit-verify.ts). */
const CHAIN_PAGE = /FROM audit_chain WHERE writer_id = \? AND seq >= \? AND seq <= \?/;

/**
 * Watches the chain walks made through `db` (a gateway's own handle), in a snapshot of it too
 * (withSnapshot): `onPage` is awaited before each page of links is read (it may run something at
 * that moment), and the returned function tells how many links those pages held so far. The
 * database stays the real one.
 */
export function watchChainWalks(db: Db, onPage: () => Promise<void> = async () => undefined): () => number {
  let links = 0;
  const watched = (q: Pick<Db, 'query'>): Db['query'] => {
    const query = q.query.bind(q);
    return (async (sql: string, params?: SqlValue[]) => {
      if (!CHAIN_PAGE.test(sql)) return query(sql, params);
      await onPage();
      const rows = await query(sql, params);
      links += rows.length;
      return rows;
    }) as Db['query'];
  };
  db.query = watched(db);
  const withSnapshot = db.withSnapshot.bind(db);
  db.withSnapshot = (fn, options) =>
    withSnapshot((q) => {
      const seen = Object.create(q) as Queryable;
      seen.query = watched(q);
      return fn(seen);
    }, options);
  return () => links;
}
