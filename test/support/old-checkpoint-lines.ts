import { createHmac, hkdfSync } from 'node:crypto';
import { TEST_AUDIT_KEY } from './audit-keys.js';

/**
 * Checkpoint lines in the shapes older gateways wrote (all `v: 1`, each MAC over the fields its
 * writer knew): heads alone (a checkpoint, or an acceptance before `broken`); a chain accepted
 * through its head then, or as gone at link 0 without what remained of it (`broken`); deleted
 * payments by id (`lostPayments`); a break accepted exactly without `next` or `seen` (`skips`).
 * Written by hand as those gateways wrote them, signed with the test run's key (HMAC-SHA256 under
 * HKDF-SHA256 of the ring key, info `gerbang audit checkpoint`), not by the code under test.
 */
const [KEY_ID, RAW_KEY] = TEST_AUDIT_KEY.split(':');
const LINE_KEY = Buffer.from(hkdfSync('sha256', Buffer.from(RAW_KEY, 'base64'), Buffer.alloc(0), 'gerbang audit checkpoint', 32));

export interface OldHead {
  writerId: string;
  seq: number;
  hash: string;
}

export interface OldLine {
  store: string;
  at: number;
  by: string;
  heads: OldHead[];
  broken?: OldHead[];
  lostPayments?: number[];
  skips?: { writerId: string; seq: number; resume: number }[];
}

/** One line as the gateway of its time signed it: the MAC covers the parts it knew, in its order, the later ones tagged. */
export function oldLine(line: OldLine): string {
  const heads = (list: OldHead[]) => list.map((h) => [h.writerId, h.seq, h.hash]);
  const signed = [
    1,
    line.store,
    line.at,
    line.by,
    heads(line.heads),
    ...(line.broken ? [heads(line.broken)] : []),
    ...(line.lostPayments ? [['lostPayments', ...line.lostPayments]] : []),
    ...(line.skips ? [['skips', ...line.skips.map((k) => [k.writerId, k.seq, k.resume])]] : []),
  ];
  const mac = createHmac('sha256', LINE_KEY).update(JSON.stringify(signed)).digest('hex');
  return `${JSON.stringify({ v: 1, ...line, keyId: KEY_ID, mac })}\n`;
}
