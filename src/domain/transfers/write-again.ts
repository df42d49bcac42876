import { getLogger, type RequestContext } from '../../log/index.js';

const log = getLogger('transfers');

/** Pauses before each further try: about a minute in all, the time a database failover takes. */
const PAUSES_MS = [100, 250, 500, 1_000, 2_000, 4_000, 8_000, 15_000, 30_000];

/**
 * Runs a store write again in the background after the store refused it (a dead database node,
 * a failover under way), until it is done or has nothing left to do. For writes whose answer the
 * process already knows and that must not wait for the store: the bank's outcome of a transfer
 * (so a resend gets the stored answer instead of 409 until the resolver catches up) and the
 * release of a reservation that was certainly never sent (so the ERP may pay it again with the
 * same transactionId). Each write must be conditional, so running it late is safe: it returns
 * false when the row has moved on (settled by another process, taken over), which ends the tries.
 * The timers never keep the process alive; if it stops first, the resolver or the reservation's
 * staleness takes over, as after a crash. Its lines carry `request`: the request the write was for.
 */
export function writeAgainLater(what: string, transactionId: string, write: () => Promise<boolean>, request?: RequestContext, pausesMs: readonly number[] = PAUSES_MS): void {
  const attempt = (index: number): void => {
    if (index >= pausesMs.length) {
      log.error({ ...request, what, transactionId, tries: pausesMs.length + 1 }, 'store write still refused; left to the resolver');
      return;
    }
    const timer = setTimeout(() => {
      write().then(
        (done) => log.info({ ...request, what, transactionId, tries: index + 2, done }, done ? 'store write done on a later try' : 'store write no longer needed'),
        (error: unknown) => {
          log.warn({ ...request, err: error, what, transactionId, tries: index + 2 }, 'store write refused again');
          attempt(index + 1);
        },
      );
    }, pausesMs[index]);
    timer.unref();
  };
  attempt(0);
}

/**
 * Runs a store write now; when the store refuses it, logs that (with `request` and `fields`) and
 * runs it again in the background (writeAgainLater). For the same writes, whose caller must not
 * wait for the store.
 */
export async function writeNowOrLater(what: string, transactionId: string, write: () => Promise<boolean>, request?: RequestContext, fields: Record<string, unknown> = {}): Promise<void> {
  try {
    await write();
  } catch (error) {
    log.error({ ...request, err: error, what, transactionId, ...fields }, `${what}: the store refused it now; trying again in the background`);
    writeAgainLater(what, transactionId, write, request);
  }
}
