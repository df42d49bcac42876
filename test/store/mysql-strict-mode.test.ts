import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { createStore, migrate, openDb, type Db, type Store } from '../../src/store/index.js';
import { TEST_AUDIT_KEYS } from '../support/audit-keys.js';
import { galeraMissing } from '../support/galera/galera-cluster.js';
import { startPrivateMariaDb } from '../support/private-mariadb.js';

/**
 * A server whose sql_mode has no STRICT_ALL_TABLES / STRICT_TRANS_TABLES (`sql_mode = ''`, as an
 * operator may set it) cuts a value its column cannot hold and stores it with a warning; an audit
 * record's digest and MAC cover the value given. The store's sessions are strict whatever the
 * server's mode: such a write fails, naming the column, and nothing of it is stored.
 */
describe('MySQL store on a server whose sql_mode is not strict (a MariaDB server of its own, sql_mode \'\')', function () {
  this.timeout(180_000);
  let server: Awaited<ReturnType<typeof startPrivateMariaDb>> | undefined;
  let db: Db;
  let store: Store;

  before(async function () {
    const missing = galeraMissing();
    if (missing) this.skip();
    server = await startPrivateMariaDb(['--sql-mode=']);
    const admin = openDb(server.url);
    await admin.execute('CREATE DATABASE gerbang_loose CHARACTER SET utf8mb4 COLLATE utf8mb4_bin');
    await admin.close();
    db = openDb(`${server.url}/gerbang_loose`);
    await migrate(db);
    store = createStore(db, { auditKeys: TEST_AUDIT_KEYS, sealPaymentsAtInsert: true });
  });

  after(async () => {
    await db?.close();
    await server?.stop();
  });

  const sending = { bank: 'bca', operation: 'transfer-intrabank', bankTransactionId: '00000046', bankTransactionDate: '2026-12-05' };
  const newPayment = () => ({ clientId: 'gbc_loose', transactionId: `INV-${randomBytes(6).toString('hex')}`, requestHash: 'f'.repeat(64), amount: '10.00', currency: 'IDR', sending });
  const events = async (paymentId: number) =>
    (await db.query<{ seq: number | string; state: string }>('SELECT seq, state FROM payment_events WHERE payment_id = ? ORDER BY seq', [paymentId])).map((e) => [Number(e.seq), e.state]);

  /** `write` with payment_events.bank_reference narrower than the payment's (the event's value would be cut); its error. */
  async function withNarrowEvents(write: () => Promise<unknown>): Promise<unknown> {
    await db.execute('ALTER TABLE payment_events MODIFY bank_reference VARCHAR(4) NULL');
    try {
      return await write().then(() => null, (e: unknown) => e);
    } finally {
      await db.execute('ALTER TABLE payment_events MODIFY bank_reference VARCHAR(191) NULL');
    }
  }

  it('runs the store\'s sessions strict, the server\'s mode otherwise kept', async () => {
    const [server] = await db.query<{ mode: string }>('SELECT @@GLOBAL.sql_mode AS mode');
    expect(server.mode).to.equal('');
    const [pooled] = await db.query<{ mode: string }>('SELECT @@SESSION.sql_mode AS mode');
    const [writer] = await db.session().run((tx) => tx.query<{ mode: string }>('SELECT @@SESSION.sql_mode AS mode'));
    expect(pooled.mode.split(','), 'pooled').to.include('STRICT_ALL_TABLES');
    expect(writer.mode.split(','), 'writer session').to.include('STRICT_ALL_TABLES');
  });

  it('fails an event written from the row read back (a plain INSERT) with a value its column cannot hold, storing nothing', async () => {
    const reserved = await store.payments.reserve(newPayment(), 1);
    // No view of the row given: the event is built from the row read back and inserted on its own.
    const error = await withNarrowEvents(() => store.payments.storeSendOutcome(reserved.id, { state: 'SUCCESS', bankReference: 'REF-LONGER', resultJson: '{}', httpStatus: 201 }, 3, { ...reserved, eventSeq: undefined }));
    expect(error).to.be.instanceOf(Error).with.property('message').that.matches(/bank_reference/);
    expect(await events(reserved.id)).to.deep.equal([[1, 'SENDING']]);
    expect(await store.payments.find(reserved.clientId, reserved.transactionId)).to.deep.include({ state: 'SENDING', bankReference: null, eventSeq: 1 });
  });

  it('fails an event written from the view the writer holds (INSERT IGNORE, sent with the UPDATE) with such a value, storing nothing', async () => {
    const reserved = await store.payments.reserve(newPayment(), 1);
    const error = await withNarrowEvents(() => store.payments.storeSendOutcome(reserved.id, { state: 'SUCCESS', bankReference: 'REF-LONGER', resultJson: '{}', httpStatus: 201 }, 3, reserved));
    expect(error).to.be.instanceOf(Error).with.property('message').that.contains('was not stored as given');
    expect(await events(reserved.id)).to.deep.equal([[1, 'SENDING']]);
    expect(await store.payments.find(reserved.clientId, reserved.transactionId)).to.deep.include({ state: 'SENDING', bankReference: null, eventSeq: 1 });
  });

  it('fails any other audit record with such a value (an inbound exchange), storing nothing', async () => {
    const requestId = `req-${randomBytes(6).toString('hex')}`;
    await db.execute('ALTER TABLE audit_exchanges MODIFY remote_ip VARCHAR(4) NOT NULL');
    let error: unknown;
    try {
      error = await store.audit
        .open({ requestId, receivedAt: 1, remoteIp: '203.0.113.7', origin: null, method: 'GET', path: '/v1/health', clientId: null, transactionId: null, amount: null, requestHeaders: {}, requestBody: '' })
        .then(() => null, (e: unknown) => e);
    } finally {
      await db.execute('ALTER TABLE audit_exchanges MODIFY remote_ip VARCHAR(64) NOT NULL');
    }
    expect(error).to.be.instanceOf(Error).with.property('message').that.matches(/remote_ip/);
    expect(await store.audit.list({ requestId })).to.deep.equal([]);
  });
});
