import { createHash, createPrivateKey, createPublicKey, createSign, generateKeyPairSync, randomInt, type KeyObject } from 'node:crypto';
import { jakartaTimestamp } from '../../../time/index.js';
import type { SnapSimPartner } from './snap-auth.js';
import type { SnapTransferRecord } from './snap-transfers.js';

export interface SentNotification {
  url: string;
  externalId: string;
  latestTransactionStatus: string;
  /** The partner's HTTP status; null when it could not be reached. */
  status: number | null;
}

const STATUS_TEXT: Record<string, string> = { '00': 'Success', '06': 'Failed' };

/**
 * The bank's notifications of RTGS/SKN final outcomes (bank-apis.md §6), written from BCA's
 * pages: `POST {partner}/openapi/v1.0/transfer-rtgs/notify` (or `…/transfer-skn/notify`) with
 * `originalPartnerReferenceNo`, `originalReferenceNo`, `latestTransactionStatus`,
 * `transactionStatusDesc` and `amount`, signed SHA256withRSA with the bank's own private key over
 * `POST:<path>:<lowercase hex sha256 of the minified body>:<X-TIMESTAMP>` (SNAP's asymmetric
 * signature). The key pair is the simulated bank's, made on first use.
 */
export class SnapNotifier {
  readonly sent: SentNotification[] = [];
  private keys: { privateKey: KeyObject; publicKeyPem: string } | null;

  /** `privateKeyPem`: the bank's key pair's private half, when the test gives one; else one is made on first use. */
  constructor(privateKeyPem?: string) {
    if (!privateKeyPem) {
      this.keys = null;
      return;
    }
    const privateKey = createPrivateKey(privateKeyPem);
    this.keys = { privateKey, publicKeyPem: createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }) as string };
  }

  get publicKeyPem(): string {
    return this.keyPair().publicKeyPem;
  }

  async send(partner: SnapSimPartner, service: 'transfer-rtgs' | 'transfer-skn', record: SnapTransferRecord, now: number): Promise<void> {
    const path = `/openapi/v1.0/${service}/notify`;
    const body = JSON.stringify({
      originalPartnerReferenceNo: record.partnerReferenceNo,
      originalReferenceNo: record.referenceNo,
      latestTransactionStatus: record.status,
      transactionStatusDesc: STATUS_TEXT[record.status] ?? record.status,
      amount: { value: record.amount, currency: 'IDR' },
    });
    const timestamp = jakartaTimestamp(now, false);
    const digest = createHash('sha256').update(body, 'utf8').digest('hex');
    const signature = createSign('RSA-SHA256').update(`POST:${path}:${digest}:${timestamp}`, 'utf8').sign(this.keyPair().privateKey, 'base64');
    const externalId = String(randomInt(1e11, 1e12 - 1));
    const url = `${(partner.notifyUrl ?? '').replace(/\/+$/, '')}${path}`;
    const sent: SentNotification = { url, externalId, latestTransactionStatus: record.status, status: null };
    this.sent.push(sent);
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-TIMESTAMP': timestamp, 'X-SIGNATURE': signature, 'X-EXTERNAL-ID': externalId, 'X-PARTNER-ID': partner.partnerId, 'CHANNEL-ID': partner.channelId ?? '95051' },
        body,
        signal: AbortSignal.timeout(5_000),
      });
      await res.arrayBuffer();
      sent.status = res.status;
    } catch {
      sent.status = null;
    }
  }

  private keyPair(): { privateKey: KeyObject; publicKeyPem: string } {
    if (!this.keys) {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      this.keys = { privateKey, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) as string };
    }
    return this.keys;
  }
}
