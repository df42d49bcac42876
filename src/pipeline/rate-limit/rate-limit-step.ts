import type { Request, RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import { AppError } from '../../errors/index.js';
import type { RateLimitRepository } from '../../store/types.js';
import { RateLimitStores } from './store-adapter.js';

export interface RateLimitStepOptions {
  repository: RateLimitRepository;
  clock: () => number;
  windowMs: number;
  limit: number;
  /** Distinguishes this limiter's counters from the others' in the shared table. */
  name: string;
  /** What is counted: the caller's IP (default) or the authenticated client. */
  by?: 'ip' | 'client';
  /** Counted in this process and added to the store at most this often (0, default: every hit in the store). */
  syncMs?: number;
  /** Where the limiter's store is kept, for the gateway to close it before the store (default: its own). */
  stores?: RateLimitStores;
  /** Keys counted in this process at most (GERBANG_RATE_LIMIT_LOCAL_WINDOWS); past it a key is counted in the store on every hit. */
  maxWindows?: number;
}

/**
 * A limiter with standard `RateLimit` headers (IETF draft 8) whose counters live in the shared
 * store. Over the limit it answers 429 as a problem document with Retry-After. If the store
 * cannot count, the request fails (503) instead of passing uncounted: fail closed. It counts a
 * request once however often the request passes it: the caller guard runs the per-IP limiter on
 * the requests it refuses or must read the store for, and the same limiter, next in the pipeline,
 * then lets such a request by without counting it again.
 */
export function rateLimitStep(options: RateLimitStepOptions): RequestHandler {
  const keyOf = options.by === 'client' ? clientKey : ipKey;
  const counted = new WeakSet<Request>();
  return rateLimit({
    windowMs: options.windowMs,
    limit: options.limit,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    identifier: options.name,
    store: (options.stores ?? new RateLimitStores()).create(options.repository, `${options.name}:`, options.clock, options.syncMs ?? 0, options.maxWindows),
    keyGenerator: keyOf,
    skip: (req) => {
      if (counted.has(req)) return true;
      counted.add(req);
      return false;
    },
    passOnStoreError: false,
    handler: (_req, res, next) => {
      const retryAfter = res.getHeader('Retry-After');
      next(
        new AppError('RATE_LIMITED', 'Too many requests; retry after the time given in Retry-After.', {
          headers: retryAfter === undefined ? {} : { 'Retry-After': String(retryAfter) },
        }),
      );
    },
    // Our key generators are IPv6-aware (addressNetwork, which the library's source check cannot
    // see through) and trust proxy is set from configuration.
    validate: { trustProxy: false, xForwardedForHeader: false, keyGeneratorIpFallback: false },
  });
}

/**
 * The network a caller's address is counted as: an IPv4 address as it is (an IPv4-mapped IPv6
 * address as its IPv4 form), an IPv6 address as its /56, so one host cannot rotate through the
 * addresses of its own prefix. Every per-address limit (the API's, the console sign-in's and the
 * token endpoint's lockout) counts by it.
 */
export function addressNetwork(address: string): string {
  return ipKeyGenerator(address);
}

function ipKey(req: Request): string {
  return addressNetwork(req.ip ?? req.socket.remoteAddress ?? 'unknown');
}

function clientKey(req: Request): string {
  const client = req.res?.locals.client;
  return client ? client.id : `ip:${ipKey(req)}`;
}
