import { openAuditStore } from './audit-command.js';
import { loadReviewStatementConfig } from '../../config/index.js';
import { apiStatementReader, NO_STATEMENTS, statementLines } from '../../console/index.js';
import { outboxNotifier } from '../../domain/callbacks/index.js';
import { ADMIN_EVIDENCE_KINDS, isReservationInReview, listReviewQueue, resolveReview, showReviewItem, type AdminEvidenceKind, type ReviewCrossCheck } from '../../domain/transfers/index.js';
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
  const store = await openAuditStore(io);
  try {
    // Payments are read as the console reads them (paymentSearch): one changed outside Gerbang
    // is marked, never shown as if real nor refused with the whole list, and the exit status says so.
    if (action === 'list') {
      const items = await listReviewQueue(store.paymentSearch, Date.now());
      if (values.json) io.out(JSON.stringify(items.map(({ payment, result }) => summary(payment, result.status)), null, 2));
      else if (items.length === 0) io.out('The review queue is empty.');
      else for (const { payment } of items) io.out(line(payment));
      return reportForged(items.map((i) => i.payment), io);
    }
    const id = paymentId(positionals[0]);
    if (action === 'show') {
      const item = await showReviewItem(store.paymentSearch, id, Date.now());
      if (!item) throw new UsageError(`no payment #${id}`);
      const shown = item.payment.integrityProblem === undefined ? { ...summary(item.payment, item.result.status), inReview: item.inReview, result: item.result } : summary(item.payment, item.result.status);
      io.out(values.json ? JSON.stringify(shown, null, 2) : Object.entries(shown).map(([k, v]) => `${k.padEnd(20)} ${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`).join('\n'));
      return reportForged([item.payment], io);
    }
    const marked = await store.paymentSearch.findById(id);
    if (marked?.integrityProblem !== undefined) {
      io.err(`Not resolved: ${forgedText(marked)}`);
      return 1;
    }
    const outcome = required(values.outcome, '--outcome');
    if (outcome !== 'SUCCESS' && outcome !== 'FAILED') throw new UsageError('--outcome must be SUCCESS or FAILED');
    const evidenceKind = required(values['evidence-kind'], '--evidence-kind');
    if (!(ADMIN_EVIDENCE_KINDS as readonly string[]).includes(evidenceKind)) throw new UsageError(`--evidence-kind must be one of ${ADMIN_EVIDENCE_KINDS.join(', ')}`);
    // The statement is read as the console reads it, through Gerbang's API as the client of
    // GERBANG_CONSOLE_API_*: the CLI holds no bank credential, and the gateway routes the read to
    // the partner holding the account, from the fixed address, and audits it.
    const { api, dayCloseWib } = loadReviewStatementConfig(io.env);
    const statements = { lines: statementLines(api ? apiStatementReader(api) : NO_STATEMENTS), dayCloseWib };
    const result = await resolveReview(
      { payments: store.payments, audit: store.audit, consoleUsers: store.consoleUsers, batches: store.batches, clock: Date.now, finals: outboxNotifier(store.callbacks, store.audit, Date.now), statements },
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
    const told = result.status === 'RELEASED' ? 'the ERP\'s resend of this transactionId is paid as a new transfer' : 'the ERP is told';
    io.out(values.json ? JSON.stringify(result, null, 2) : `Payment #${id} (${result.transactionId}) resolved ${result.status}; ${told}.\n${crossCheckLine(result.crossCheck)}`);
    return 0;
  } finally {
    await store.close();
  }
}

/** What the paying account's statement said of the resolution, in one line. */
function crossCheckLine(check: ReviewCrossCheck): string {
  return check.result === 'unchecked' ? `NOT CROSS-CHECKED with the paying account's statement: ${check.reason}.` : `Cross-checked: the paying account's statement agrees (${check.found}).`;
}

function paymentId(raw: string | undefined): number {
  if (!raw || !/^#?\d{1,15}$/.test(raw)) throw new UsageError('expected the payment ID (the number `review list` shows)');
  return Number(raw.replace('#', ''));
}

/** What the payments marked among `payments` are, on stderr; 1 when there is one (scripts notice), else 0. */
function reportForged(payments: PaymentRecord[], io: CliIo): number {
  const forged = payments.filter((p) => p.integrityProblem !== undefined);
  for (const payment of forged) io.err(forgedText(payment));
  return forged.length === 0 ? 0 : 1;
}

/** A marked payment in words, naming the record as `audit verify` and the console do. */
function forgedText(payment: PaymentRecord): string {
  return `payment #${payment.id} was changed outside Gerbang (its integrity check failed): ${payment.integrityProblem}. Its status and values cannot be trusted and are not shown; restore its record, then run gerbang audit verify.`;
}

/** A marked payment shows only what names it and what was found, never its failed values. */
function summary(payment: PaymentRecord, status: string) {
  if (payment.integrityProblem !== undefined) return { id: payment.id, transactionId: payment.transactionId, clientId: payment.clientId, integrityProblem: payment.integrityProblem };
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
    ...(isReservationInReview(payment) ? { reserved: RESERVED } : {}),
  };
}

/** The mark of a reservation in review: FAILED releases it (the ERP's resend is paid), SUCCESS settles it paid. */
const RESERVED = 'RESERVED, NEVER PROVED SENT OR UNSENT: check with the bank; FAILED releases it for the ERP\'s resend, SUCCESS records it paid';

function line(payment: PaymentRecord): string {
  if (payment.integrityProblem !== undefined) return `#${String(payment.id).padEnd(8)} ${payment.transactionId.padEnd(24)} CHANGED OUTSIDE GERBANG, do not trust: ${payment.integrityProblem}`;
  const since = payment.reviewSince === null ? '' : new Date(payment.reviewSince).toISOString();
  return `#${String(payment.id).padEnd(8)} ${payment.transactionId.padEnd(24)} ${payment.state.padEnd(8)} ${payment.amount.padStart(18)} ${String(payment.bank ?? '-').padEnd(12)} in review since ${since}${isReservationInReview(payment) ? ` ${RESERVED}` : ''}`;
}
