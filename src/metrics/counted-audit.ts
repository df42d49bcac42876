import { DependencyRefusedError, type AuditRepository } from '../store/types.js';
import type { AuditOperation } from './gateway-metrics.js';

/**
 * The audit repository with every refused write counted (and rethrown unchanged: the callers
 * keep deciding what a failure means). One wrapper covers the API's AuditTrail and the
 * in-doubt resolver alike.
 */
export function withAuditFailureCount(repository: AuditRepository, count: (operation: AuditOperation) => void): AuditRepository {
  const counted =
    <A extends unknown[], R>(operation: AuditOperation, write: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        return await write(...args);
      } catch (error) {
        // A write not made because the record it depended on was refused: that refusal was counted.
        if (!(error instanceof DependencyRefusedError)) count(operation);
        throw error;
      }
    };
  return {
    open: counted('open', (exchange) => repository.open(exchange)),
    complete: counted('complete', (id, completion, after) => repository.complete(id, completion, after)),
    record: counted('record', (exchange, completion) => repository.record(exchange, completion)),
    recordBankCall: counted('bank_call', (call, spoolEntry, as) => repository.recordBankCall(call, spoolEntry, as)),
    list: (query) => repository.list(query),
    verify: (options) => repository.verify(options),
    purgeAnonymous: (purge) => repository.purgeAnonymous(purge),
    linksAt: (wanted) => repository.linksAt(wanted),
    ownHeads: () => repository.ownHeads(),
    chainRemains: (writerId) => repository.chainRemains(writerId),
    remainsPage: (writerId, fromSeq, maxLinks) => repository.remainsPage(writerId, fromSeq, maxLinks),
    chainHeads: () => repository.chainHeads(),
    chainGaps: (options) => repository.chainGaps(options),
    chains: () => repository.chains(),
    walkChain: (writerId, from, maxLinks) => repository.walkChain(writerId, from, maxLinks),
    resumeAfterBreak: (writerId, seq) => repository.resumeAfterBreak(writerId, seq),
    lostPayments: (range, limit) => repository.lostPayments(range, limit),
    lastPaymentEventId: () => repository.lastPaymentEventId(),
    linkCounts: (ranges) => repository.linkCounts(ranges),
    paymentKeys: (eventIds) => repository.paymentKeys(eventIds),
    lostPayment: (id, key) => repository.lostPayment(id, key),
    lostPaymentFacts: (lost) => repository.lostPaymentFacts(lost),
    checkKeys: () => repository.checkKeys(),
    readingOn: (q) => repository.readingOn(q),
    inSnapshot: (fn, options) => repository.inSnapshot(fn, options),
  };
}
