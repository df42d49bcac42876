import { randomBytes } from 'node:crypto';
import { migrate, openStore, type InboundExchange, type Store } from '../../src/store/index.js';
import { TEST_AUDIT_KEYS } from './audit-keys.js';
import { createMariaDbDatabase, createSqliteDatabase } from './databases.js';

/** Inbound exchange `n` of a client's transfer, as the audit records it. */
export const exchange = (n: number): InboundExchange => ({
  requestId: `req-${randomBytes(6).toString('hex')}`,
  receivedAt: 1_000 + n,
  remoteIp: '203.0.113.7',
  origin: null,
  method: 'POST',
  path: '/v1/transfers',
  clientId: 'gbc_audit',
  transactionId: `INV-${n}`,
  amount: `${n}.00`,
  sourceAccount: '0201245680',
  requestHeaders: { 'content-type': 'application/json' },
  requestBody: `{"transactionId":"INV-${n}"}`,
});

/** Its completion (201). */
export const done = (n: number) => ({
  outcome: 'completed' as const,
  statusCode: 201,
  errorCode: null,
  clientId: null,
  transactionId: null,
  amount: null,
  beneficiaryAccount: '0201245681',
  responseBody: `{"status":"SUCCESS","n":${n}}`,
  completedAt: 2_000 + n,
});

/** `count` exchanges recorded one after another by `store`, each with its link (chain and seq). */
export async function recordExchanges(store: Store, count: number, from = 1): Promise<{ id: number; writerId: string; seq: number }[]> {
  const out: { id: number; writerId: string; seq: number }[] = [];
  for (let n = from; n < from + count; n += 1) {
    const id = await store.audit.record(exchange(n), done(n));
    const [link] = await store.db.query<{ writer_id: string; seq: number | string }>("SELECT writer_id, seq FROM audit_chain WHERE kind = 'record' AND record_id = ?", [id]);
    out.push({ id, writerId: link.writer_id, seq: Number(link.seq) });
  }
  return out;
}

/** A fresh migrated database of `backend` for one test, and its drop. */
export async function freshDatabase(backend: 'sqlite' | 'mariadb', ctx: Mocha.Context): Promise<{ url: string; drop: () => Promise<void> }> {
  const database = backend === 'sqlite' ? createSqliteDatabase() : await createMariaDbDatabase(ctx);
  const db = await openStore(database.url, { auditKeys: TEST_AUDIT_KEYS });
  try {
    await migrate(db.db, { keys: TEST_AUDIT_KEYS });
  } finally {
    await db.close();
  }
  return database;
}

