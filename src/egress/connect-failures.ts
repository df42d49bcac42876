import { subscribe } from 'node:diagnostics_channel';

/**
 * Errors undici raised while OPENING a connection (DNS, TCP, TLS handshake, proxy CONNECT),
 * before any byte of a request was written. undici publishes each one on
 * `undici:client:connectError` just before it fails the queued requests with that same error
 * object, so membership here is a structural proof of "not sent" that does not depend on
 * guessing from error codes (a TLS failure has dozens of codes; a reset can happen at any time).
 * A WeakSet, so remembered errors are collected with the request that failed.
 */
const failures = new WeakSet<object>();

subscribe('undici:client:connectError', (message) => {
  const error = (message as { error?: unknown }).error;
  if (error !== null && typeof error === 'object') failures.add(error);
});

/**
 * A second, belt-and-braces test of "not sent", by code: a connect timeout, or an error of the
 * `connect` system call or of the name lookup before it. The same codes on an established socket
 * (Linux reports "read EHOSTUNREACH" when an ICMP unreachable arrives while a written request is
 * retransmitted) come after the request went out, and count as sent.
 */
const CONNECT_TIMEOUT = 'UND_ERR_CONNECT_TIMEOUT';
const CONNECT_PHASE_SYSCALLS = new Set(['connect', 'getaddrinfo']);

/** True when `error` (or its cause) certainly happened before the request was sent. */
export function failedBeforeSending(error: unknown): boolean {
  for (let current = error, depth = 0; current !== null && typeof current === 'object' && depth < 4; depth += 1) {
    if (failures.has(current)) return true;
    const { code, syscall } = current as { code?: unknown; syscall?: unknown };
    if (code === CONNECT_TIMEOUT || (typeof syscall === 'string' && CONNECT_PHASE_SYSCALLS.has(syscall))) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
