import { loadAuditKeys, loadStoreConfig } from '../../config/index.js';
import { outboxNotifier } from '../../domain/callbacks/index.js';
import { ADMIN_EVIDENCE_KINDS, listReviewQueue, resolveReview, showReviewItem, type AdminEvidenceKind } from '../../domain/transfers/index.js';
import { openStore } from '../../store/index.js';
import type { PaymentRecord } from '../../store/types.js';
import { parseOptions, required, UsageError, type CliIo } from '../cli-io.js';


/** `gerbang transfer review …`: the review queue from the command line. */
export async function transferCommand(args: string[], io: CliIo): Promise<number> {
  const [group, action, ...rest] = args;
  if (group !== 'review' || !['list', 'show', 'resolve'].includes(action ?? '')) throw new UsageError('expected: gerbang transfer review list|show|resolve');
  const { values, positionals } = parseOptions(
    rest,
    { json: { type: 'boolean' }, admin: { type: 'string' }, outcome: { type: 'string' }, 'evidence-kind': { type: 'string' }, evidence: { type: 'string' } },
    true,
  );
  const { databaseUrl } = loadStoreConfig(io.env);
  const store = await openStore(databaseUrl, { auditKeys: loadAuditKeys(io.env) });
  try {
    if (action === 'list') {
      const items = await listReviewQueue(store.payments, Date.now());
      if (values.json) io.out(JSON.stringify(items.map(({ payment, result }) => summary(payment, result.status)), null, 2));
      else if (items.length === 0) io.out('The review queue is empty.');
      else for (const { payment } of items) io.out(line(payment));
      return 0;
    }
    const id = paymentId(positionals[0]);
    if (action === 'show') {
      const item = await showReviewItem(store.payments, id, Date.now());
      if (!item) throw new UsageError(`no payment #${id}`);
      const shown = { ...summary(item.payment, item.result.status), inReview: item.inReview, result: item.result };
      io.out(values.json ? JSON.stringify(shown, null, 2) : Object.entries(shown).map(([k, v]) => `${k.padEnd(20)} ${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`).join('\n'));
      return 0;
    }
    const outcome = required(values.outcome, '--outcome');
    if (outcome !== 'SUCCESS' && outcome !== 'FAILED') throw new UsageError('--outcome must be SUCCESS or FAILED');
    const evidenceKind = required(values['evidence-kind'], '--evidence-kind');
    if (!(ADMIN_EVIDENCE_KINDS as readonly string[]).includes(evidenceKind)) throw new UsageError(`--evidence-kind must be one of ${ADMIN_EVIDENCE_KINDS.join(', ')}`);
    const result = await resolveReview(
      { payments: store.payments, audit: store.audit, consoleUsers: store.consoleUsers, clock: Date.now, finals: outboxNotifier(store.callbacks, store.audit, Date.now) },
      {
        paymentId: id,
        outcome,
        evidenceKind: evidenceKind as AdminEvidenceKind,
        evidence: required(values.evidence, '--evidence'),
        admin: required(values.admin, '--admin'),
        via: 'cli',
        remoteIp: 'internal',
      },
    );
    io.out(values.json ? JSON.stringify(result, null, 2) : `Payment #${id} (${result.transactionId}) resolved ${result.status}; the ERP is told.`);
    return 0;
  } finally {
    await store.close();
  }
}

function paymentId(raw: string | undefined): number {
  if (!raw || !/^#?\d{1,15}$/.test(raw)) throw new UsageError('expected the payment ID (the number `review list` shows)');
  return Number(raw.replace('#', ''));
}

function summary(payment: PaymentRecord, status: string) {
  return {
    id: payment.id,
    transactionId: payment.transactionId,
    clientId: payment.clientId,
    status,
    amount: payment.amount,
    bank: payment.bank,
    bankTransactionId: payment.bankTransactionId,
    bankTransactionDate: payment.bankTransactionDate,
    createdAt: new Date(payment.createdAt).toISOString(),
    reviewSince: payment.reviewSince === null ? null : new Date(payment.reviewSince).toISOString(),
  };
}

function line(payment: PaymentRecord): string {
  const since = payment.reviewSince === null ? '' : new Date(payment.reviewSince).toISOString();
  return `#${String(payment.id).padEnd(8)} ${payment.transactionId.padEnd(24)} ${payment.state.padEnd(8)} ${payment.amount.padStart(18)} ${String(payment.bank ?? '-').padEnd(12)} in review since ${since}`;
}
