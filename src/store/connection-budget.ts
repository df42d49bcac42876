import { mysqlPoolOptions } from './mysql/mysql-options.js';
import { parseDatabaseUrl } from './database-url.js';
import type { Db } from './types.js';

/**
 * Whether this node's API workers fit in the database's connection limit: each worker's pool
 * may open `connectionLimit` connections (default 10), and the finance console one pool more.
 * Past `max_connections` MySQL refuses connections under load, which the API can only answer
 * with 503s in the middle of a payment run. Null when they fit (or for the embedded store),
 * else the problem, naming both settings. Other nodes on the same database count too; only
 * this node's share can be checked here.
 */
export async function connectionBudgetProblem(db: Db, databaseUrl: string, workers: number): Promise<string | null> {
  const target = parseDatabaseUrl(databaseUrl);
  if (target.kind !== 'mysql') return null;
  const perWorker = mysqlPoolOptions(target.url).connectionLimit ?? 10;
  const [row] = await db.query<{ max_connections: number | string }>('SELECT @@max_connections AS max_connections');
  const max = Number(row?.max_connections);
  const needed = perWorker * (workers + 1);
  if (!Number.isFinite(max) || needed <= max) return null;
  return (
    `GERBANG_API_INSTANCES, GERBANG_DATABASE_URL connectionLimit: ${workers} API worker(s) and the console may open ` +
    `${perWorker} connections each (${needed}), more than the database's max_connections (${max}). ` +
    `Lower GERBANG_API_INSTANCES or connectionLimit, or raise max_connections (remember the other gateway nodes).`
  );
}
