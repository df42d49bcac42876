import { createHash } from 'node:crypto';
import Joi from 'joi';
import { parseBankJson } from '../../banks/common/bank-text.js';
import { transferOperation, type SignedNotification } from '../../banks/types.js';
import { AppError } from '../../errors/index.js';
import { getLogger } from '../../log/index.js';
import type { ExchangeAudit } from '../../audit/index.js';
import type { BankNotificationRepository, PaymentRepository } from '../../store/types.js';
import type { FinalStateNotifier } from '../callbacks/index.js';
import type { BankRouter } from '../routing/index.js';
import { settle } from './settlement.js';

const log = getLogger('transfers');

export interface BankNotificationDeps {
  payments: PaymentRepository;
  notifications: BankNotificationRepository;
  router: BankRouter;
  clock: () => number;
  finals?: FinalStateNotifier;
  /** Largest distance between X-TIMESTAMP and the clock: an older notification is a replay. */
  toleranceMs: number;
}

/** The clearing transfers whose final outcome a bank notifies, by the service it notifies for. */
export const NOTIFIED_SERVICES = { 'transfer-rtgs': 'RTGS', 'transfer-skn': 'SKN' } as const;
export type NotifiedService = keyof typeof NOTIFIED_SERVICES;

const bodySchema = Joi.object<{ originalPartnerReferenceNo: string; originalReferenceNo?: string; latestTransactionStatus: string; transactionStatusDesc?: string; amount?: { value: string } }>({
  originalPartnerReferenceNo: Joi.string().max(64).required(),
  originalReferenceNo: Joi.string().allow('').max(64),
  latestTransactionStatus: Joi.string().pattern(/^\d{2}$/).required(),
  transactionStatusDesc: Joi.string().allow('').max(256),
  amount: Joi.object({ value: Joi.string().pattern(/^\d{1,16}\.\d{2}$/).required(), currency: Joi.string().valid('IDR').required() }).unknown(true),
})
  .unknown(true)
  .required();

/**
 * The bank tells the final outcome of an RTGS or SKN transfer (bank-apis.md §6). Believed only
 * when signed by a configured partner bank's key (SHA256withRSA), fresh (X-TIMESTAMP within the
 * tolerance) and not a replay (its X-EXTERNAL-ID never came with another body); the same
 * notification twice is answered twice but acted on once. 00 settles SUCCESS, 04/05/06 FAILED
 * (the bank's word), 01-03 changes nothing. Throws NOTIFICATION_REFUSED (forged, stale, replayed),
 * VALIDATION_FAILED (unreadable, another amount or kind of transfer) or NOT_FOUND.
 */
export async function receiveBankNotification(
  deps: BankNotificationDeps,
  service: NotifiedService,
  notification: SignedNotification & { externalId: string },
  audit: ExchangeAudit,
): Promise<{ acted: boolean }> {
  const now = deps.clock();
  const sentAt = Date.parse(notification.timestamp);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?[+-]\d{2}:\d{2}$/.test(notification.timestamp) || !Number.isFinite(sentAt)) {
    throw new AppError('NOTIFICATION_REFUSED', 'X-TIMESTAMP is missing or not yyyy-MM-ddTHH:mm:ss+07:00.');
  }
  if (Math.abs(now - sentAt) > deps.toleranceMs) throw new AppError('NOTIFICATION_REFUSED', 'X-TIMESTAMP is outside the accepted window: a stale or replayed notification.');
  if (!/^[0-9A-Za-z-]{1,64}$/.test(notification.externalId)) throw new AppError('NOTIFICATION_REFUSED', 'X-EXTERNAL-ID is missing or malformed.');
  const partner = deps.router.all().find((p) => p.adapter.verifyNotification?.(notification) === true);
  if (!partner) throw new AppError('NOTIFICATION_REFUSED', 'The signature does not verify with any configured bank public key.');

  // Every string of it as the bank adapters read the bank's answers: control and bidirectional
  // characters out before the reference and the message are stored, answered and shown.
  const { value, error } = bodySchema.validate(parseBankJson(notification.body), { abortEarly: false });
  if (error) throw new AppError('VALIDATION_FAILED', 'The notification cannot be read.', { fields: error.details.map((d) => ({ field: d.path.join('.'), message: d.message })) });

  const seen = await deps.notifications.record({ partner: partner.name, externalId: notification.externalId, bodyHash: createHash('sha256').update(notification.body).digest('hex') }, now);
  if (seen === 'conflict') throw new AppError('NOTIFICATION_REFUSED', 'This X-EXTERNAL-ID came before with another body: a replay.');

  const payment = await deps.payments.findByBankTransaction(partner.name, value.originalPartnerReferenceNo);
  if (!payment) throw new AppError('NOT_FOUND', `No transfer ${value.originalPartnerReferenceNo} was sent through ${partner.name}.`);
  audit.set({ clientId: payment.clientId, transactionId: payment.transactionId, amount: payment.amount });
  if (payment.operation !== transferOperation(NOTIFIED_SERVICES[service])) {
    throw new AppError('VALIDATION_FAILED', `Transfer ${value.originalPartnerReferenceNo} is not a ${NOTIFIED_SERVICES[service]} transfer.`, { fields: [{ field: 'originalPartnerReferenceNo', message: 'names another kind of transfer' }] });
  }
  if (value.amount && value.amount.value !== payment.amount) {
    throw new AppError('VALIDATION_FAILED', 'The notified amount is not the transfer\'s.', { fields: [{ field: 'amount.value', message: `is not ${payment.amount}` }] });
  }
  if (seen === 'repeat') return { acted: false };

  const status = value.latestTransactionStatus;
  const final = status === '00' ? 'SUCCESS' : ['04', '05', '06'].includes(status) ? 'FAILED' : null;
  if (final === null) return { acted: false };
  await settle(
    deps.payments,
    payment,
    {
      status: final,
      bankReference: value.originalReferenceNo || payment.bankReference,
      bankResponseCode: status,
      bankMessage: value.transactionStatusDesc || `latestTransactionStatus ${status} (the bank's notification)`,
    },
    now,
    deps.finals,
    {
      failureConfirmedBy: 'BANK',
      evidence: { kind: 'BANK_NOTIFICATION', detail: `${partner.name} notified latestTransactionStatus ${status} (X-EXTERNAL-ID ${notification.externalId})`, recordedBy: null, recordedAt: new Date(now).toISOString() },
    },
    audit.requestContext,
  );
  log.info({ ...audit.requestContext, transactionId: payment.transactionId, partner: partner.name, status }, 'final outcome notified by the bank');
  return { acted: true };
}
