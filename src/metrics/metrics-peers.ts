import { chmodSync, lstatSync, mkdirSync, readdirSync, unlinkSync } from 'node:fs';
import { createServer, get, type Server } from 'node:http';
import { join } from 'node:path';
import { AggregatorRegistry, Gauge, type MetricObjectWithValues, type MetricValue, type Registry, type RegistryContentType } from 'prom-client';
import { ConfigError } from '../config/index.js';
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
  private server: Server | undefined;

  constructor(
    private readonly dir: string,
    private readonly snapshot: () => Promise<Snapshot>,
  ) {
    this.socketPath = join(dir, `${process.pid}.sock`);
  }

  /** Makes the folder (0700) and opens this process's socket. Throws ConfigError naming GERBANG_METRICS_PEERS_DIR. */
  async open(): Promise<void> {
    if (this.socketPath.length > MAX_SOCKET_PATH) {
      throw new ConfigError([`${SETTING}: ${this.socketPath} is longer than ${MAX_SOCKET_PATH} characters, too long for a Unix socket: choose a shorter folder`]);
    }
    ownerOnlyFolder(this.dir);
    // A socket left by an earlier process that had this pid (before a reboot).
    removeQuietly(this.socketPath);
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

  /** This process's metrics and every other live process's, summed into one registry with `gerbang_metrics_processes` added. */
  async aggregate(): Promise<Registry<RegistryContentType>> {
    const [own, others] = await Promise.all([this.snapshot(), this.others()]);
    const registry = AggregatorRegistry.aggregate([own, ...others]);
    new Gauge({
      name: 'gerbang_metrics_processes',
      help: 'Processes whose metrics this scrape sums (the PM2 workers that answered, this one included). Below the worker count: a worker did not answer in time and its counts are missing from this scrape.',
      registers: [registry],
    }).set(1 + others.length);
    return registry;
  }

  /** True when another process answers on its socket in the folder. */
  async anyOtherAlive(): Promise<boolean> {
    return (await this.others()).length > 0;
  }

  /** Closes and removes this process's socket. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    removeQuietly(this.socketPath);
  }

  /** The snapshots of the other processes that answered. */
  private async others(): Promise<Snapshot[]> {
    let names: string[];
    try {
      names = readdirSync(this.dir).filter((name) => /^\d{1,10}\.sock$/.test(name) && name !== `${process.pid}.sock`);
    } catch (error) {
      log.error({ err: error }, 'metrics peers folder could not be read');
      return [];
    }
    const answers = await Promise.all(names.slice(0, MAX_PEERS).map((name) => this.ask(join(this.dir, name))));
    return answers.filter((answer): answer is Snapshot => answer !== null);
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

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}
