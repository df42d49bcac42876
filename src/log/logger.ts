import { AsyncLocalStorage } from 'node:async_hooks';
import pino, { type Logger } from 'pino';
import { REDACTED, SECRET_HEADERS, SECRET_KEYS } from './redaction.js';

/** Per-request context carried through async calls, so every log line has the request id. */
export interface RequestContext {
  requestId: string;
  /** From the caller's W3C `traceparent`: joins our log lines to the ERP's or the proxy's trace. */
  traceId?: string;
  parentSpanId?: string;
}

const context = new AsyncLocalStorage<RequestContext>();

// pino's redact takes paths; cover the secret keys at the top level, one level down and in
// the usual carriers (headers, body), which is where our own log calls put them.
const keys = [...SECRET_KEYS, ...SECRET_HEADERS];
const redactPaths = keys.flatMap((key) => [
  `["${key}"]`,
  `*["${key}"]`,
  `req.headers["${key}"]`,
  `headers["${key}"]`,
  `body["${key}"]`,
]);

/** The levels GERBANG_LOG_LEVEL accepts (the configuration schema checks it and names it). */
const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

// Before the configuration is read, a bad GERBANG_LOG_LEVEL must not crash the import: info
// until configureLogger, and the configuration check then names the variable.
let root: Logger = createRootLogger(LEVELS.includes(process.env.GERBANG_LOG_LEVEL ?? '') ? process.env.GERBANG_LOG_LEVEL! : 'info');
/** Bumped by configureLogger, so loggers handed out earlier follow the new root. */
let generation = 0;

function createRootLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'gerbang', pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: redactPaths, censor: REDACTED },
      mixin() {
        const ctx = context.getStore();
        if (!ctx) return {};
        return ctx.traceId ? { requestId: ctx.requestId, traceId: ctx.traceId, parentSpanId: ctx.parentSpanId } : { requestId: ctx.requestId };
      },
    },
    destination,
  );
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

export function runWithRequestContext<T>(ctx: RequestContext, fn: () => T): T {
  return context.run(ctx, fn);
}

export function currentRequestId(): string | undefined {
  return context.getStore()?.requestId;
}
