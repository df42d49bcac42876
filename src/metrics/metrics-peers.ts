import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { createServer, get, type Server } from 'node:http';
import { join } from 'node:path';
import { AggregatorRegistry, Gauge, type MetricObjectWithValues, type MetricValue, type Registry, type RegistryContentType } from 'prom-client';
import { ConfigError } from '../config/index.js';
import { processAlive } from '../host/index.js';
import { getLogger } from '../log/index.js';

const log = getLogger('metrics');

export type Snapshot = MetricObjectWithValues<MetricValue<string>>[];

const SETTING = 'GERBANG_METRICS_PEERS_DIR';
/** Linux allows 108 bytes in a Unix socket path; keep a margin for the pid. */
const MAX_SOCKET_PATH = 100;
/** A peer whose snapshot takes longer is left out of this scrape (its own store read has a 2 s deadline). */
const PEER_TIMEOUT_MS = 3_000;
/** A snapshot is tens of kilobytes; anything near this is not one. */
const MAX_SNAPSHOT_BYTES = 8 * 1024 * 1024;
/** PM2 runs at most 256 API workers (GERBANG_API_INSTANCES). */
const MAX_PEERS = 256;
/** A worker's socket: its pid and a random part, so a pid the system hands out again is a new name. */
const SOCKET_NAME = /^\d{1,10}-[0-9a-f]{8}\.sock$/;
const LEDGER = 'retired.json';
const LEDGER_LOCK = 'retired.lock';
/** Only these only ever grow, so only these carry on after their worker stopped. */
const MONOTONIC_TYPES = new Set(['counter', 'histogram']);

/** The counts of the workers that stopped, and the sockets they had (skipped while the file outlives them for a moment). */
interface Ledger {
  retired: string[];
  metrics: Snapshot;
}

/**
 * The processes that share one metrics port (the workers of a PM2 cluster) hand their metrics to
 * whichever of them holds the port. prom-client's AggregatorRegistry asks the workers through the
 * Node cluster primary, which under PM2 is PM2's own daemon, so that channel is not ours to use.
 * Instead each process answers `GET /snapshot` (its registry as `getMetricsAsJSON()`) on a Unix
 * socket named after its pid in one owner-only folder, and the port holder reads every socket
 * there and sums them with `AggregatorRegistry.aggregate()` (each metric's `aggregator` decides:
 * counters and histograms add up, store readings take the max).
 *
 * The folder is the trust boundary: it must belong to this user and be closed to everyone else,
 * or another local user could add a socket and make up metrics. A socket nobody answers on is a
 * process that is gone (a crash, a replaced worker): it is removed.
 */
export class MetricsPeers {
  readonly socketPath: string;
  private readonly socketName: string;
  private server: Server | undefined;

  constructor(
    private readonly dir: string,
    private readonly snapshot: () => Promise<Snapshot>,
  ) {
    this.socketName = `${process.pid}-${randomBytes(4).toString('hex')}.sock`;
    this.socketPath = join(dir, this.socketName);
  }

  /** Makes the folder (0700) and opens this process's socket. Throws ConfigError naming GERBANG_METRICS_PEERS_DIR. */
  async open(): Promise<void> {
    if (this.socketPath.length > MAX_SOCKET_PATH) {
      throw new ConfigError([`${SETTING}: ${this.socketPath} is longer than ${MAX_SOCKET_PATH} characters, too long for a Unix socket: choose a shorter folder`]);
    }
    ownerOnlyFolder(this.dir);
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || req.url !== '/snapshot') {
        res.writeHead(404).end();
        return;
      }
      this.snapshot().then(
        (json) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(json)),
        (error: unknown) => {
          log.error({ err: error }, 'metrics snapshot could not be collected');
          res.writeHead(500).end();
        },
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) => reject(new ConfigError([`${SETTING}: cannot open the socket ${this.socketPath} (${error.code ?? error.message})`])));
      server.listen(this.socketPath, () => resolve());
    });
    chmodSync(this.socketPath, 0o600);
    this.server = server;
  }

  /** This process's metrics, every other live process's and the stopped ones' counts, summed into one registry with `gerbang_metrics_processes` added. */
  async aggregate(): Promise<Registry<RegistryContentType>> {
    const ledger = this.readLedger();
    const [own, others] = await Promise.all([this.snapshot(), this.others(new Set(ledger.retired))]);
    const registry = AggregatorRegistry.aggregate([own, ...others, ledger.metrics]);
    new Gauge({
      name: 'gerbang_metrics_processes',
      help: 'Processes whose metrics this scrape sums (the PM2 workers that answered, this one included). Below the worker count: a worker did not answer in time and its counts are missing from this scrape.',
      registers: [registry],
    }).set(1 + others.length);
    return registry;
  }

  /** True when another process answers on its socket in the folder. */
  async anyOtherAlive(): Promise<boolean> {
    return (await this.others(new Set())).length > 0;
  }

  /** Adds this process's final counts to the ledger, then closes and removes its socket. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    try {
      await this.retire(await this.snapshot());
    } catch (error) {
      log.error({ err: error }, 'final metrics could not be added to the ledger: the cluster sum drops by this worker (a counter reset)');
    }
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    removeQuietly(this.socketPath);
  }

  /** The snapshots of the other processes that answered, but for those the ledger already holds. */
  private async others(retired: Set<string>): Promise<Snapshot[]> {
    let names: string[];
    try {
      names = readdirSync(this.dir).filter((name) => SOCKET_NAME.test(name) && name !== this.socketName && !retired.has(name));
    } catch (error) {
      log.error({ err: error }, 'metrics peers folder could not be read');
      return [];
    }
    const answers = await Promise.all(names.slice(0, MAX_PEERS).map((name) => this.ask(join(this.dir, name))));
    return answers.filter((answer): answer is Snapshot => answer !== null);
  }

  /** The ledger, empty when there is none yet. One that cannot be read is left out (logged): the sum drops, as at a reset. */
  private readLedger(): Ledger {
    let text: string;
    try {
      text = readFileSync(join(this.dir, LEDGER), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') log.error({ err: error }, 'metrics ledger could not be read');
      return { retired: [], metrics: [] };
    }
    try {
      const parsed = JSON.parse(text) as { retired?: unknown; metrics?: unknown };
      const metrics = parseSnapshot(JSON.stringify(parsed.metrics));
      if (Array.isArray(parsed.retired) && parsed.retired.every((name) => typeof name === 'string') && metrics) return { retired: parsed.retired as string[], metrics };
    } catch {
      // Reported below.
    }
    log.error('metrics ledger is not valid: left out');
    return { retired: [], metrics: [] };
  }

  /**
   * Adds `final` (its counters and histograms) to the ledger and names this socket in it, under a
   * lock file, since workers stopped together (`pm2 stop`) would otherwise overwrite each other.
   * The new ledger replaces the old by rename, so a reader sees one or the other, never half.
   */
  private async retire(final: Snapshot): Promise<void> {
    const lock = join(this.dir, LEDGER_LOCK);
    await takeLock(lock);
    try {
      const ledger = this.readLedger();
      const monotonic = final.filter((metric) => MONOTONIC_TYPES.has(String(metric.type)));
      const metrics = await AggregatorRegistry.aggregate([ledger.metrics, monotonic]).getMetricsAsJSON();
      // Sockets whose file is gone need no skipping any more.
      const retired = [...ledger.retired.filter((name) => existsSync(join(this.dir, name))), this.socketName];
      const next = join(this.dir, `${LEDGER}.${this.socketName}.tmp`);
      writeFileSync(next, JSON.stringify({ retired, metrics }), { mode: 0o600 });
      renameSync(next, join(this.dir, LEDGER));
    } finally {
      removeQuietly(lock);
    }
  }

  private ask(socketPath: string): Promise<Snapshot | null> {
    return new Promise((resolve) => {
      const request = get({ socketPath, path: '/snapshot', timeout: PEER_TIMEOUT_MS }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_SNAPSHOT_BYTES) res.destroy(new Error('snapshot too large'));
          else chunks.push(chunk);
        });
        res.on('error', (error) => {
          log.warn({ socketPath, err: error }, 'metrics peer left out of this scrape');
          resolve(null);
        });
        res.on('end', () => {
          const snapshot = res.statusCode === 200 ? parseSnapshot(Buffer.concat(chunks).toString('utf8')) : null;
          if (!snapshot) log.warn({ socketPath, status: res.statusCode }, 'metrics peer left out of this scrape: no valid snapshot');
          resolve(snapshot);
        });
      });
      request.on('timeout', () => request.destroy(new Error(`no answer in ${PEER_TIMEOUT_MS} ms`)));
      request.on('error', (error: NodeJS.ErrnoException) => {
        // Nobody listens there any more: the process is gone, its socket file stayed behind.
        if (error.code === 'ECONNREFUSED' || error.code === 'ENOENT') removeQuietly(socketPath);
        else log.warn({ socketPath, err: error }, 'metrics peer left out of this scrape');
        resolve(null);
      });
    });
  }
}

/** A snapshot as `getMetricsAsJSON()` gives it, checked enough that `aggregate()` cannot trip on it. */
function parseSnapshot(text: string): Snapshot | null {
  try {
    const parsed: unknown = JSON.parse(text);
    if (!Array.isArray(parsed)) return null;
    const valid = parsed.every(
      (metric: unknown) =>
        typeof metric === 'object' &&
        metric !== null &&
        typeof (metric as { name?: unknown }).name === 'string' &&
        typeof (metric as { type?: unknown }).type === 'string' &&
        typeof (metric as { aggregator?: unknown }).aggregator === 'string' &&
        Array.isArray((metric as { values?: unknown }).values),
    );
    return valid ? (parsed as Snapshot) : null;
  } catch {
    return null;
  }
}

/** Creates `dir` as 0700 and refuses one that is a symlink, another user's, or open to others. */
function ownerOnlyFolder(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new ConfigError([`${SETTING}: cannot create ${dir} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`]);
  }
  const stat = lstatSync(dir);
  const uid = process.getuid?.();
  if (!stat.isDirectory() || (uid !== undefined && stat.uid !== uid) || (stat.mode & 0o077) !== 0) {
    throw new ConfigError([`${SETTING}: ${dir} must be a folder of this user that no one else can open (mode 0700): another user could hand in made-up metrics through it`]);
  }
}

/** Creates `path` exclusively, holding this pid; a lock whose holder is gone is taken over; waits up to 2 s. */
async function takeLock(path: string): Promise<void> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let holder = NaN;
    try {
      holder = Number(readFileSync(path, 'utf8'));
    } catch {
      // Released meanwhile.
    }
    const named = Number.isInteger(holder) && holder > 0;
    // A holder that is gone, or (after 2 s) a lock left empty by one that died before writing its pid.
    if ((named && !processAlive(holder)) || (!named && attempt >= 100)) removeQuietly(path);
    else if (attempt >= 100) throw new Error(`${path} held by process ${holder} for 2 s`);
    if (attempt >= 150) throw new Error(`${path} could not be taken`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}
