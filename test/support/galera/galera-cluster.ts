import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { openDb } from '../../../src/store/index.js';
import { freePort } from '../processes.js';

/** Debian's galera-4 package puts the wsrep provider here. */
export const GALERA_PROVIDER = '/usr/lib/galera/libgalera_smm.so';
const MARIADBD = '/usr/sbin/mariadbd';
const INSTALL_DB = '/usr/bin/mariadb-install-db';

/**
 * Why a Galera cluster cannot be started on this machine, or null when it can: the galera-4
 * provider, MariaDB's server and installer, rsync (the state transfer) and a `mysql` user to run
 * the servers as (rsync state transfer refuses to run as root).
 */
export function galeraMissing(): string | null {
  if (!existsSync(GALERA_PROVIDER)) return `${GALERA_PROVIDER} (Debian package galera-4)`;
  if (!existsSync(MARIADBD) || !existsSync(INSTALL_DB)) return 'mariadbd / mariadb-install-db (Debian package mariadb-server)';
  if (spawnSync('rsync', ['--version']).status !== 0) return 'rsync (Debian package rsync)';
  if (spawnSync('id', ['-u', 'mysql']).status !== 0) return 'the mysql system user';
  if (userInfo().uid !== 0) return 'root (to start mariadbd --user=mysql)';
  return null;
}

/**
 * A new folder under the temp folder (`prefix`), readable by the mysql user, holding `template`:
 * a datadir mariadb-install-db made (root with an empty password, no test database), owned by mysql.
 */
export function installedDataDir(prefix: string): { base: string; template: string } {
  const base = mkdtempSync(join(tmpdir(), prefix));
  // mariadbd runs as mysql and must reach its datadir under this folder.
  chmodSync(base, 0o755);
  const template = join(base, 'template');
  mkdirSync(template);
  const mysql = Number(spawnSync('id', ['-u', 'mysql']).stdout.toString().trim());
  const mysqlGroup = Number(spawnSync('id', ['-g', 'mysql']).stdout.toString().trim());
  chownSync(template, mysql, mysqlGroup);
  const install = spawnSync(
    INSTALL_DB,
    ['--no-defaults', '--user=mysql', `--datadir=${template}`, '--auth-root-authentication-method=normal', '--skip-test-db'],
    { encoding: 'utf8' },
  );
  if (install.status !== 0) throw new Error(`mariadb-install-db failed: ${install.stderr}${install.stdout}`);
  return { base, template };
}

/** The arguments of a mariadbd (as mysql) on loopback `port` with datadir `dir`, small, as the test machine is shared. */
export function serverArgs(dir: string, port: number): string[] {
  return [
    '--no-defaults',
    '--user=mysql',
    `--datadir=${dir}`,
    `--socket=${join(dir, 'mysqld.sock')}`,
    `--pid-file=${join(dir, 'mysqld.pid')}`,
    `--log-error=${join(dir, 'error.log')}`,
    `--port=${port}`,
    '--bind-address=127.0.0.1',
    '--skip-name-resolve',
    '--performance-schema=OFF',
    '--innodb-buffer-pool-size=32M',
    '--innodb-log-file-size=16M',
    '--max-connections=200',
  ];
}

interface NodePorts {
  sql: number;
  group: number;
  ist: number;
  sst: number;
}

/** One node: a mariadbd process with its own datadir and loopback ports. */
export class GaleraNode {
  child: ChildProcess | undefined;
  exited: Promise<void> = Promise.resolve();

  constructor(
    readonly index: number,
    readonly dir: string,
    readonly ports: NodePorts,
  ) {}

  /** `127.0.0.1:<port>` of the node's SQL port. */
  get address(): string {
    return `127.0.0.1:${this.ports.sql}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The last lines of the node's error log, for a failure message. */
  logTail(lines = 30): string {
    try {
      return readFileSync(join(this.dir, 'error.log'), 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no error log)';
    }
  }

  /** Spawns the node's server with `args` (killed if the test process exits without stopping it). */
  start(args: string[]): void {
    const child = spawn(MARIADBD, args, { stdio: 'ignore' });
    this.child = child;
    this.exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    live.add(child);
    child.once('exit', () => live.delete(child));
  }

  /** Sends `signal` to the node's server (SIGKILL: a crash; SIGSTOP/SIGCONT: a hang and its end). */
  signal(signal: NodeJS.Signals): void {
    this.child?.kill(signal);
  }
}

/**
 * A three-node MariaDB Galera cluster on loopback, for the cluster suite and `npm run bench`:
 * each node a `mariadbd --user=mysql` with its own datadir (copied from one mariadb-install-db
 * run) and ports picked free at run time; the first node bootstraps with --wsrep-new-cluster, the
 * others join it by rsync state transfer. Root has an empty password on every node (throwaway
 * datadirs under the temp folder, removed by stop()).
 */
export class GaleraCluster {
  private constructor(
    readonly base: string,
    readonly nodes: GaleraNode[],
  ) {}

  /** Starts the cluster and waits until every node is synced; throws with the nodes' logs otherwise. */
  static async start(size = 3): Promise<GaleraCluster> {
    const missing = galeraMissing();
    if (missing) throw new Error(`cannot start a Galera cluster: missing ${missing}`);
    const { base, template } = installedDataDir('gerbang-galera-');
    const nodes: GaleraNode[] = [];
    for (let i = 0; i < size; i++) {
      const dir = join(base, `node${i + 1}`);
      cpSync(template, dir, { recursive: true, preserveTimestamps: true });
      spawnSync('chown', ['-R', 'mysql:mysql', dir]);
      nodes.push(new GaleraNode(i, dir, { sql: await freePort(), group: await freePort(), ist: await freePort(), sst: await freePort() }));
    }
    const cluster = new GaleraCluster(base, nodes);
    try {
      await cluster.startNode(0, { bootstrap: true });
      // Joiners one after the other: two state transfers at once from one donor are slower.
      for (let i = 1; i < size; i++) await cluster.startNode(i);
      await cluster.waitForSize(size);
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** mysql:// URL of one node (root), optionally with a database; several nodes give a several-host URL. */
  url(nodes: number | number[], database = ''): string {
    const list = (Array.isArray(nodes) ? nodes : [nodes]).map((i) => this.nodes[i].address).join(',');
    return `mysql://root@${list}${database ? `/${database}` : ''}`;
  }

  /** Creates an empty database (replicated to every node) and returns its name. */
  async createDatabase(): Promise<string> {
    const name = `gerbang_g_${randomBytes(6).toString('hex')}`;
    await this.sql(0, `CREATE DATABASE ${name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
    return name;
  }

  /** Runs one statement on one node and returns its rows. */
  async sql<T = Record<string, unknown>>(node: number, statement: string): Promise<T[]> {
    const db = openDb(this.url(node));
    try {
      return await db.query<T>(statement);
    } finally {
      await db.close();
    }
  }

  /** (Re)starts node `index`: it joins the running cluster (or bootstraps it). Resolves once it is synced. */
  async startNode(index: number, options: { bootstrap?: boolean } = {}): Promise<void> {
    const node = this.nodes[index];
    if (node.running) return;
    const peers = this.nodes.map((n) => `127.0.0.1:${n.ports.group}`).join(',');
    const { dir, ports } = node;
    const args = [
      // Small: three servers share a 2-core test machine with everything else.
      ...serverArgs(dir, ports.sql),
      // What Galera requires of every node.
      '--binlog-format=ROW',
      '--default-storage-engine=InnoDB',
      '--innodb-autoinc-lock-mode=2',
      '--wsrep-on=ON',
      `--wsrep-provider=${GALERA_PROVIDER}`,
      '--wsrep-cluster-name=gerbang-test',
      `--wsrep-cluster-address=gcomm://${peers}`,
      `--wsrep-node-name=node${index + 1}`,
      `--wsrep-node-address=127.0.0.1:${ports.group}`,
      `--wsrep-provider-options=gmcast.listen_addr=tcp://127.0.0.1:${ports.group};ist.recv_addr=127.0.0.1:${ports.ist};gcache.size=32M`,
      '--wsrep-sst-method=rsync',
      `--wsrep-sst-receive-address=127.0.0.1:${ports.sst}`,
    ];
    if (options.bootstrap) args.push('--wsrep-new-cluster');
    node.start(args);
    await this.waitSynced(index);
  }

  /** SIGKILLs node `index` (a crash) and waits for the process to be gone. */
  async killNode(index: number): Promise<void> {
    const node = this.nodes[index];
    node.signal('SIGCONT');
    node.signal('SIGKILL');
    await node.exited;
  }

  /** Stops every node (SIGKILL: the data is thrown away) and removes the folder. */
  async stop(): Promise<void> {
    for (const node of this.nodes) {
      if (!node.running) continue;
      node.signal('SIGCONT');
      node.signal('SIGKILL');
      await node.exited;
    }
    rmSync(this.base, { recursive: true, force: true });
  }

  private async waitSynced(index: number, timeoutMs = 120_000): Promise<void> {
    const node = this.nodes[index];
    const until = Date.now() + timeoutMs;
    for (;;) {
      if (!node.running) throw new Error(`Galera node ${index + 1} exited while starting:\n${node.logTail()}`);
      try {
        const rows = await this.sql<{ Value: string }>(index, "SHOW STATUS LIKE 'wsrep_local_state_comment'");
        if (rows[0]?.Value === 'Synced') return;
      } catch {
        // not accepting connections yet
      }
      if (Date.now() > until) throw new Error(`Galera node ${index + 1} not synced after ${timeoutMs} ms:\n${node.logTail()}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  private async waitForSize(size: number): Promise<void> {
    const until = Date.now() + 60_000;
    for (;;) {
      const rows = await this.sql<{ Value: string }>(0, "SHOW STATUS LIKE 'wsrep_cluster_size'");
      if (Number(rows[0]?.Value) === size) return;
      if (Date.now() > until) throw new Error(`Galera cluster size ${rows[0]?.Value}, expected ${size}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/** Servers still running, killed if the test process exits without stop() (a crash, Ctrl-C). */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});
