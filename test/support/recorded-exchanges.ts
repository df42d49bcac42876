import { randomBytes } from 'node:crypto';
import { migrate, openDb, openStore, type Db, type InboundExchange, type Store } from '../../src/store/index.js';
import { TEST_AUDIT_KEYS } from './audit-keys.js';
import { copyOfMariaDb, createMariaDbDatabase, createSqliteDatabase } from './databases.js';

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

/** `count` exchanges recorded one after another by a store of its own on `url` (closed after), all in one chain. */
export async function recordInOneChain(url: string, count: number): Promise<{ id: number; writerId: string; seq: number }[]> {
  const store = await openStore(url, { auditKeys: TEST_AUDIT_KEYS });
  try {
    const links = await recordExchanges(store, count);
    if (links.some((l) => l.writerId !== links[0].writerId)) throw new Error('the records were linked in more than one chain');
    return links;
  } finally {
    await store.close();
  }
}

/**
 * Hooks that give each test of the suite its own migrated database of `backend` (dropped after it)
 * and the attacker's connection to it: plain SQL, no key.
 */
export function databasePerTest(backend: 'sqlite' | 'mariadb'): { url: () => string; db: () => Db } {
  let database: { url: string; drop: () => Promise<void> } | undefined;
  let db: Db | undefined;
  // MariaDB: the suite's migrated database, copied for each test (a copy instead of a migration each).
  let template: { url: string; drop: () => Promise<void> } | undefined;
  const migrated = async (url: string) => {
    const store = await openStore(url, { auditKeys: TEST_AUDIT_KEYS });
    try {
      await migrate(store.db, { keys: TEST_AUDIT_KEYS });
    } finally {
      await store.close();
    }
  };
  before(async function () {
    if (backend === 'sqlite') return;
    template = await createMariaDbDatabase(this);
    await migrated(template.url);
  });
  after(async () => template?.drop());
  beforeEach(async function () {
    database = backend === 'sqlite' ? createSqliteDatabase() : await copyOfMariaDb(template!.url, this);
    // On a copy, the migrations' ledger is checked and nothing applied.
    await migrated(database.url);
    db = openDb(database.url);
  });
  afterEach(async () => {
    await db?.close();
    await database?.drop();
  });
  return { url: () => database!.url, db: () => db! };
}
