import pino, { type Logger } from 'pino';
import { isPm2ClusterWorker } from './pm2-worker.js';
import { REDACTED, SECRET_HEADERS, SECRET_KEYS } from './redaction.js';

/**
 * What every log line written for a request carries: its id and, when the caller sent a valid
 * W3C `traceparent`, its trace (which joins our lines to the ERP's or the proxy's trace). The
 * request id step puts it on `res.locals.requestContext`; the exchange's audit trail hands it to
 * the use cases (ExchangeAudit.requestContext), they to the bank adapters (BankCallContext), and
 * each spreads it into its lines: `log.warn({ ...requestContext, partner }, '…')`.
 *
 * Handed on explicitly, not carried by an AsyncLocalStorage: on Node 20 and 22 (without
 * --experimental-async-context-frame) an AsyncLocalStorage in use installs async_hooks' promise
 * hooks for the whole process, and every promise then pays for them (about 250 promises a
 * transfer, 4.6 % of the gateway's CPU: docs/performance.md).
 */
export interface RequestContext {
  requestId: string;
  traceId?: string;
  parentSpanId?: string;
}

// What a log line must never hold in clear: the value of a secret key (SECRET_KEYS, SECRET_HEADERS,
// in any case) at the top level of the logged object, one level down (a `headers` or `body` object,
// an error's own properties) and in `req.headers`, which is where our own log calls put them.
// Done here rather than by pino's `redact` paths: pino looks up each of its 150 paths in every
// top-level value of every line (about 50 µs a line), where this looks at each key once.
const SECRET = new Set([...SECRET_KEYS, ...SECRET_HEADERS]);

function isSecret(key: string): boolean {
  return SECRET.has(key.toLowerCase());
}

/**
 * `value` with its own secret keys' values replaced by REDACTED: a copy (same prototype and
 * property flags, so an Error stays one for pino's serializer) when it has any, else `value`
 * itself. The caller's object is never changed.
 */
function withoutSecrets<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const secrets = Object.getOwnPropertyNames(value).filter(isSecret);
  if (secrets.length === 0) return value;
  const copy = Object.create(Object.getPrototypeOf(value) as object | null, Object.getOwnPropertyDescriptors(value)) as Record<string, unknown>;
  for (const key of secrets) Object.defineProperty(copy, key, { value: REDACTED, writable: true, enumerable: true, configurable: true });
  return copy as T;
}

/** The object of a log line (or a logger's bindings) as it may be written: see SECRET above. */
export function redactLogObject(object: Record<string, unknown>): Record<string, unknown> {
  let out = object;
  for (const key of Object.keys(object)) {
    const value = object[key];
    let next = isSecret(key) ? REDACTED : withoutSecrets(value);
    if (key === 'req' && next !== null && typeof next === 'object') {
      const headers = withoutSecrets((next as { headers?: unknown }).headers);
      if (headers !== (next as { headers?: unknown }).headers) next = { ...(next as object), headers };
    }
    if (next === value) continue;
    if (out === object) out = { ...object };
    out[key] = next;
  }
  return out;
}

/** The levels GERBANG_LOG_LEVEL accepts (the configuration schema checks it and names it). */
const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

// Before the configuration is read, a bad GERBANG_LOG_LEVEL must not crash the import: info
// until configureLogger, and the configuration check then names the variable.
let root: Logger = createRootLogger(LEVELS.includes(process.env.GERBANG_LOG_LEVEL ?? '') ? process.env.GERBANG_LOG_LEVEL! : 'info');
/** Bumped by configureLogger, so loggers handed out earlier follow the new root. */
let generation = 0;

function createRootLogger(level: string, destination?: pino.DestinationStream): Logger {
  const logger = pino(
    {
      level,
      base: { service: 'gerbang', pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { log: redactLogObject },
    },
    destination ?? standardOutput(),
  );
  // A child's bindings are written as they are given (pino's bindings formatter reaches the base
  // only): redacted here, once per child. Children inherit `child` from the root (Object.create).
  const child = logger.child;
  logger.child = function (this: Logger, bindings, options) {
    return child.call(this, redactLogObject(bindings), options);
  } as Logger['child'];
  return logger;
}

/**
 * Where log lines go unless told otherwise: file descriptor 1, written synchronously, as Node's
 * own stdout to a file or pipe on Linux. A line is out before the call returns, so none is lost
 * when the process dies, a reader that stalls blocks the writer rather than growing its memory,
 * and no write goes through the thread pool, whose completion woke the event loop once more per
 * line (about 50 µs of CPU a line on a busy machine, two lines a transfer).
 *
 * Except in a PM2 cluster worker: there fd 1 is the stdout of PM2's daemon (its own pm2.log),
 * inherited through cluster.fork, and the app's output reaches its log files and `pm2 logs` only
 * through process.stdout.write, which PM2's wrapper replaces by a send to the daemon and an
 * append to the app's out log. Those are asynchronous: what PM2 has not written yet when the
 * worker is killed is lost, as for any app PM2 runs in cluster mode.
 */
function standardOutput(): pino.DestinationStream {
  return isPm2ClusterWorker() ? process.stdout : pino.destination({ dest: 1, sync: true });
}

/** Replaces the root logger (at start-up with the configured level, or in tests with a capture stream). */
export function configureLogger(level: string, destination?: pino.DestinationStream): Logger {
  root = createRootLogger(level, destination);
  generation += 1;
  return root;
}

/**
 * The logger to use everywhere; adds `component` when given. Modules take theirs at load time,
 * before start-up has read the configured level, so what they get is a thin proxy that always
 * writes through the current root (created again by configureLogger).
 */
export function getLogger(component?: string): Logger {
  let current: Logger = root;
  let seen = -1;
  const resolve = (): Logger => {
    if (seen !== generation) {
      current = component ? root.child({ component }) : root;
      seen = generation;
    }
    return current;
  };
  return new Proxy({} as Logger, {
    get(_target, property) {
      const logger = resolve();
      const value = Reflect.get(logger, property, logger) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(logger) : value;
    },
  });
}
