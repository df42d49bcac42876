import { isAbsolute, resolve } from 'node:path';
import { MEMORY_PATH } from './sqlite/index.js';

/** One MySQL server of a `mysql://` URL. */
export interface MysqlHost {
  host: string;
  port: number;
}

/**
 * `url` carries the credentials, database and options with the FIRST host; `hosts` lists every
 * host of the URL in the order written (`mysql://u:p@db1:3306,db2:3306,db3:3306/gerbang`: the
 * nodes of a Galera cluster, tried in that order when one cannot be reached).
 */
export type DatabaseTarget = { kind: 'mysql'; url: URL; hosts: MysqlHost[] } | { kind: 'sqlite'; path: string };

const ALLOWED = '`mysql://user:password@host:3306/database` (MySQL 8 / MariaDB 10.11; several hosts `mysql://user:password@db1:3306,db2:3306/database` for a Galera cluster) or `sqlite:path/file.sqlite` / `sqlite::memory:` (embedded)';

/**
 * Reads GERBANG_DATABASE_URL. A `sqlite:` path is relative to the working directory.
 * Throws an Error naming the variable and the accepted forms when the URL is not one of them
 * (the message never repeats the URL, which may hold a password).
 */
export function parseDatabaseUrl(raw: string): DatabaseTarget {
  const text = raw.trim();
  if (text.startsWith('mysql://')) {
    const { first, hostList } = splitHosts(text);
    let url: URL;
    let hosts: MysqlHost[];
    try {
      url = new URL(first);
      hosts = hostList.map((authority) => {
        const one = new URL(`mysql://${authority}`);
        if (!one.hostname || one.username || one.pathname) throw new Error('bad host');
        return { host: one.hostname.replace(/^\[(.*)\]$/, '$1'), port: one.port ? Number(one.port) : 3306 };
      });
    } catch {
      throw new Error(`GERBANG_DATABASE_URL is not a valid mysql:// URL; expected ${ALLOWED}`);
    }
    if (!url.hostname) throw new Error(`GERBANG_DATABASE_URL has no host; expected ${ALLOWED}`);
    hosts[0] = { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: url.port ? Number(url.port) : 3306 };
    const socketPath = url.searchParams.get('socketPath');
    if (socketPath !== null && !isAbsolute(socketPath)) {
      throw new Error('GERBANG_DATABASE_URL: socketPath must be the absolute path of the MySQL server socket, e.g. mysql://gerbang:password@localhost/gerbang?socketPath=/run/mysqld/mysqld.sock');
    }
    if (socketPath !== null && hosts.length > 1) throw new Error('GERBANG_DATABASE_URL: socketPath names one local server; it cannot be combined with several hosts');
    return { kind: 'mysql', url, hosts };
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

/**
 * Splits `mysql://cred@h1:p1,h2:p2/db?q` into a URL with the first host only (which WHATWG URL
 * can parse) and the list of host authorities, first one included.
 */
function splitHosts(text: string): { first: string; hostList: string[] } {
  const rest = text.slice('mysql://'.length);
  const end = rest.search(/[/?#]/);
  const authority = end === -1 ? rest : rest.slice(0, end);
  const tail = end === -1 ? '' : rest.slice(end);
  const at = authority.lastIndexOf('@');
  const credentials = at === -1 ? '' : authority.slice(0, at + 1);
  const hostList = authority.slice(at + 1).split(',');
  return { first: `mysql://${credentials}${hostList[0]}${tail}`, hostList };
}

/** The URL with its password (and any query string) left out, for logs and CLI output. */
export function describeDatabaseUrl(raw: string): string {
  try {
    const target = parseDatabaseUrl(raw);
    if (target.kind === 'sqlite') return `sqlite:${target.path}`;
    const user = target.url.username ? `${decodeURIComponent(target.url.username)}@` : '';
    return `mysql://${user}${describeHosts(target.hosts)}${target.url.pathname}`;
  } catch {
    return '(invalid GERBANG_DATABASE_URL)';
  }
}

/** `h1:3306,h2:3306`, for descriptions of a (possibly several-host) MySQL target. */
export function describeHosts(hosts: MysqlHost[]): string {
  return hosts.map(({ host, port }) => `${host.includes(':') ? `[${host}]` : host}:${port}`).join(',');
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
