import { isAbsolute, resolve } from 'node:path';
import { MEMORY_PATH } from './sqlite/index.js';

export type DatabaseTarget = { kind: 'mysql'; url: URL } | { kind: 'sqlite'; path: string };

const ALLOWED = '`mysql://user:password@host:3306/database` (MySQL 8 / MariaDB 10.11) or `sqlite:path/file.sqlite` / `sqlite::memory:` (embedded)';

/**
 * Reads GERBANG_DATABASE_URL. A `sqlite:` path is relative to the working directory.
 * Throws an Error naming the variable and the accepted forms when the URL is not one of them
 * (the message never repeats the URL, which may hold a password).
 */
export function parseDatabaseUrl(raw: string): DatabaseTarget {
  const text = raw.trim();
  if (text.startsWith('mysql://')) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new Error(`GERBANG_DATABASE_URL is not a valid mysql:// URL; expected ${ALLOWED}`);
    }
    if (!url.hostname) throw new Error(`GERBANG_DATABASE_URL has no host; expected ${ALLOWED}`);
    const socketPath = url.searchParams.get('socketPath');
    if (socketPath !== null && !isAbsolute(socketPath)) {
      throw new Error('GERBANG_DATABASE_URL: socketPath must be the absolute path of the MySQL server socket, e.g. mysql://gerbang:password@localhost/gerbang?socketPath=/run/mysqld/mysqld.sock');
    }
    return { kind: 'mysql', url };
  }
  if (text.startsWith('sqlite:')) {
    // sqlite:file, sqlite:/abs/file, sqlite:///abs/file (URL style) and sqlite::memory:.
    const rest = text.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (rest === MEMORY_PATH) return { kind: 'sqlite', path: MEMORY_PATH };
    if (rest === '') throw new Error(`GERBANG_DATABASE_URL has an empty sqlite: path; expected ${ALLOWED}`);
    return { kind: 'sqlite', path: isAbsolute(rest) ? rest : resolve(process.cwd(), rest) };
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(text)?.[1];
  throw new Error(`GERBANG_DATABASE_URL has an unsupported scheme${scheme ? ` "${scheme}:"` : ''}; expected ${ALLOWED}`);
}

/** The URL with its password (and any query string) left out, for logs and CLI output. */
export function describeDatabaseUrl(raw: string): string {
  try {
    const target = parseDatabaseUrl(raw);
    if (target.kind === 'sqlite') return `sqlite:${target.path}`;
    const user = target.url.username ? `${decodeURIComponent(target.url.username)}@` : '';
    return `mysql://${user}${target.url.host}${target.url.pathname}`;
  } catch {
    return '(invalid GERBANG_DATABASE_URL)';
  }
}

/**
 * Why the store at `raw` cannot be used, for an operator: `GERBANG_DATABASE_URL (mysql://gerbang@db:3306/gerbang)
 * does not answer: ECONNREFUSED connect ECONNREFUSED 10.0.0.5:3306`. The password never appears.
 */
export function describeStoreFailure(raw: string, error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const why = cause ? `${cause.code ?? ''} ${cause.message ?? ''}`.trim() : (error as Error).message || String(error);
  return `GERBANG_DATABASE_URL (${describeDatabaseUrl(raw)}) does not answer: ${why}`;
}
