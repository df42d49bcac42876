import type { PoolOptions } from 'mysql2';
import type { MysqlHost } from '../database-url.js';

/** Fail fast: a dead database should answer 503 in seconds, not hang requests for a minute. */
const CONNECT_TIMEOUT_MS = 5_000;
const DEFAULT_CONNECTION_LIMIT = 10;

/**
 * Pool options from a `mysql://user:password@host:port/database` URL. Query parameters:
 * `connectionLimit` (default 10 per process; mind max_connections x PM2 workers x nodes),
 * `ssl=true` (TLS with certificate verification, for a managed MySQL) and `socketPath` (the
 * server's Unix socket, e.g. `/run/mysqld/mysqld.sock`, for a MySQL on the same machine: each
 * statement then costs the gateway less CPU than over TCP loopback; host and port are ignored).
 * `server` picks one host of a several-host URL (default: the URL's own, first, host).
 */
export function mysqlPoolOptions(url: URL, server?: MysqlHost): PoolOptions {
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  const limit = url.searchParams.get('connectionLimit');
  const socketPath = url.searchParams.get('socketPath');
  return {
    host: server?.host ?? (url.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1'),
    port: server?.port ?? (url.port ? Number(url.port) : 3306),
    socketPath: socketPath ?? undefined,
    user: decodeURIComponent(url.username) || undefined,
    password: decodeURIComponent(url.password) || undefined,
    database: database || undefined,
    connectionLimit: limit ? Math.max(1, Number.parseInt(limit, 10) || DEFAULT_CONNECTION_LIMIT) : DEFAULT_CONNECTION_LIMIT,
    waitForConnections: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    // Times are BIGINT epoch ms, so this only pins the session zone for anything that might
    // still format a date (NOW() in an ad-hoc query): UTC, the same on every node.
    timezone: 'Z',
    charset: 'utf8mb4_bin',
    // BIGINT columns come back as JS numbers while they are exact (epoch ms, ids, cents all
    // are), and as strings beyond 2^53 instead of silently losing precision.
    supportBigNumbers: true,
    bigNumberStrings: false,
    // One statement per call: an injected `; DROP …` can never run. Migrations are split on ';'.
    // (A writer session's own connection takes several, written by inlineValues only: mysql-db.ts.)
    multipleStatements: false,
    // affectedRows counts matched rows, not changed rows, so an UPDATE that writes the values
    // already there still reports the row (SQLite's behaviour, and what the repositories expect).
    flags: ['FOUND_ROWS'],
    enableKeepAlive: true,
    queryFormat: asWritten,
    ssl: url.searchParams.get('ssl') === 'true' ? { rejectUnauthorized: true } : undefined,
  };
}

/**
 * The driver's client-side formatting of a text query (`connection.query`), replaced: the text is
 * sent as written. This store gives the text protocol no values: a value goes prepared (execute)
 * or written in by inlineValues (mysql-db.ts), so the driver's own formatting only scanned each
 * text for a `?` to replace, a pass over every query, a writer's batch of records and its COMMIT
 * included (about 1 % of the gateway's CPU a transfer). A text query given values is refused
 * rather than sent with its `?` unreplaced.
 */
function asWritten(sql: string, values: unknown): string {
  if (Array.isArray(values) ? values.length > 0 : values !== undefined && values !== null) {
    throw new Error('a text query was given values: values go in a prepared statement (execute), never into query text');
  }
  return sql;
}
