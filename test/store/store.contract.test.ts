import { expect } from 'chai';
import { AppError } from '../../src/errors/index.js';
import { migrate, openStore, pendingMigrations, UniqueViolationError } from '../../src/store/index.js';
import { forEachBackend } from '../support/databases.js';

const newPayment = (transactionId: string, amount = '1500.25') => ({
  clientId: 'gbc_contract',
  transactionId,
  requestHash: 'a'.repeat(64),
  amount,
  currency: 'IDR',
});

forEachBackend('Store contract', (ctx) => {
  describe('migrations', () => {
    it('are applied, and a second run applies nothing', async () => {
      expect(await pendingMigrations(ctx.store().db)).to.deep.equal([]);
      expect((await migrate(ctx.store().db)).applied).to.deep.equal([]);
    });

    it('refuse to run when an applied file was changed', async () => {
      await ctx.store().db.execute("UPDATE schema_migrations SET checksum = ? WHERE version = 1", ['0'.repeat(64)]);
      try {
        await migrate(ctx.store().db).then(
          () => expect.fail('expected a refusal'),
          (error: Error) => expect(error.message).to.contain('001_initial.sql was changed'),
        );
      } finally {
        const { createHash } = await import('node:crypto');
        const { readFileSync } = await import('node:fs');
        const { join } = await import('node:path');
        const file = join(__dirname, '..', '..', '..', 'sql', ctx.store().db.dialect, '001_initial.sql');
        await ctx.store().db.execute('UPDATE schema_migrations SET checksum = ? WHERE version = 1', [createHash('sha256').update(readFileSync(file, 'utf8')).digest('hex')]);
      }
    });
  });

  describe('ClientRepository', () => {
    it('creates, finds, lists, disables and rotates', async () => {
      const { clients } = ctx.store();
      const created = await clients.create({ id: 'gbc_c1', name: 'ERP', secretHash: 'h1', allowedOrigins: ['*.dynamics.com'], allowedCidrs: ['10.0.0.0/8'] }, 1000);
      expect(created.secretVersion).to.equal(1);
      const found = await clients.findById('gbc_c1');
      expect(found).to.deep.include({ name: 'ERP', allowedOrigins: ['*.dynamics.com'], allowedCidrs: ['10.0.0.0/8'], status: 'active', createdAt: 1000 });
      expect((await clients.list()).map((c) => c.id)).to.include('gbc_c1');
      expect(await clients.setStatus('gbc_c1', 'disabled', 2000)).to.equal(true);
      expect((await clients.findById('gbc_c1'))!.status).to.equal('disabled');
      expect(await clients.rotateSecret('gbc_c1', 'h2', 3000)).to.equal(true);
      expect(await clients.findById('gbc_c1')).to.deep.include({ secretHash: 'h2', secretVersion: 2 });
      expect(await clients.findById('gbc_none')).to.equal(null);
    });

    it('throws UniqueViolationError for an existing id', async () => {
      const { clients } = ctx.store();
      await clients.create({ id: 'gbc_dup', name: 'a', secretHash: 'h', allowedOrigins: [], allowedCidrs: [] }, 1);
      await clients.create({ id: 'gbc_dup', name: 'b', secretHash: 'h', allowedOrigins: [], allowedCidrs: [] }, 1).then(
        () => expect.fail('expected a unique violation'),
        (error) => expect(error).to.be.instanceOf(UniqueViolationError),
      );
    });
  });

  describe('PaymentRepository', () => {
    it('reserves, updates and finds a payment', async () => {
      const { payments } = ctx.store();
      const reserved = await payments.reserve(newPayment('T-1'), 100);
      expect(reserved.state).to.equal('RECEIVED');
      await payments.update(reserved.id, { state: 'SUCCESS', bank: 'bca', bankReference: '00000001', resultJson: '{"a":1}', httpStatus: 201 }, 200);
      const found = await payments.find('gbc_contract', 'T-1');
      expect(found).to.deep.include({ state: 'SUCCESS', bank: 'bca', bankReference: '00000001', resultJson: '{"a":1}', httpStatus: 201, amount: '1500.25', updatedAt: 200 });
      const rows = await ctx.store().db.query<{ amount_minor: number }>('SELECT amount_minor FROM payments WHERE id = ?', [reserved.id]);
      expect(Number(rows[0].amount_minor)).to.equal(150025);
    });

    describe('when the transactionId was already reserved', () => {
      it('throws UniqueViolationError, even for many concurrent reservations (exactly one wins)', async () => {
        const { payments } = ctx.store();
        const results = await Promise.allSettled(Array.from({ length: 20 }, () => payments.reserve(newPayment('T-race'), 1)));
        expect(results.filter((r) => r.status === 'fulfilled')).to.have.length(1);
        for (const r of results.filter((x) => x.status === 'rejected')) expect((r as PromiseRejectedResult).reason).to.be.instanceOf(UniqueViolationError);
      });
    });

    it('releases only reservations that never reached the bank', async () => {
      const { payments } = ctx.store();
      const unsent = await payments.reserve(newPayment('T-rel-1'), 1);
      expect(await payments.release(unsent.id)).to.equal(true);
      expect(await payments.find('gbc_contract', 'T-rel-1')).to.equal(null);
      const done = await payments.reserve(newPayment('T-rel-2'), 1);
      await payments.update(done.id, { state: 'UNKNOWN' }, 2);
      expect(await payments.release(done.id)).to.equal(false);
    });
  });

  describe('AuditRepository', () => {
    const exchange = (requestId: string, receivedAt: number) => ({
      requestId,
      receivedAt,
      remoteIp: '127.0.0.1',
      origin: null,
      method: 'POST',
      path: '/v1/transfers',
      clientId: 'gbc_a',
      transactionId: `tx-${requestId}`,
      amount: '10.00',
      requestHeaders: { 'content-type': 'application/json' },
      requestBody: '{"a":"b"}',
    });
    const completion = { outcome: 'completed' as const, statusCode: 201, errorCode: null, clientId: null, transactionId: null, amount: null, responseBody: '{"ok":true}', completedAt: 5 };

    it('opens, records bank calls, completes, and lists an exchange with its calls', async () => {
      const { audit } = ctx.store();
      const id = await audit.open(exchange('req-1', 1_000));
      for (const operation of ['token', 'transfer-intrabank']) {
        await audit.recordBankCall({
          exchangeId: id, requestId: 'req-1', partner: 'bca', operation, method: 'POST', url: 'https://bank/x',
          requestHeaders: { authorization: '[REDACTED]' }, requestBody: '{}', statusCode: 200, responseBody: '{}', errorCode: null, startedAt: 1_001, durationMs: 12.6,
        });
      }
      await audit.complete(id, completion);
      const [row] = await audit.list({ requestId: 'req-1' });
      expect(row).to.deep.include({ id, outcome: 'completed', statusCode: 201, clientId: 'gbc_a', transactionId: 'tx-req-1', responseBody: '{"ok":true}', completedAt: 5 });
      expect(row.requestHeaders).to.deep.equal({ 'content-type': 'application/json' });
      expect(row.bankCalls.map((c) => c.operation)).to.deep.equal(['token', 'transfer-intrabank']);
      expect(row.bankCalls[0].durationMs).to.equal(13);
    });

    it('records a whole exchange at once and filters by time, client and id', async () => {
      const { audit } = ctx.store();
      const first = await audit.record(exchange('req-2', 50_000), { ...completion, outcome: 'rejected', statusCode: 401, errorCode: 'INVALID_TOKEN' });
      await audit.record(exchange('req-3', 60_000), completion);
      const window = await audit.list({ from: 50_000, to: 60_000 });
      expect(window.map((r) => r.requestId)).to.deep.equal(['req-2']);
      expect(window[0].errorCode).to.equal('INVALID_TOKEN');
      const after = await audit.list({ afterId: first, clientId: 'gbc_a' });
      expect(after.map((r) => r.requestId)).to.include('req-3');
      expect(after.map((r) => r.requestId)).to.not.include('req-2');
    });
  });

  describe('RateLimitRepository', () => {
    it('counts hits in a window and starts a new window after it ends', async () => {
      const { rateLimits } = ctx.store();
      expect(await rateLimits.increment('k1', 1000, 10_000)).to.deep.equal({ hits: 1, resetAt: 11_000 });
      expect(await rateLimits.increment('k1', 1000, 10_500)).to.deep.equal({ hits: 2, resetAt: 11_000 });
      await rateLimits.decrement('k1');
      expect((await rateLimits.increment('k1', 1000, 10_600)).hits).to.equal(2);
      expect(await rateLimits.increment('k1', 1000, 11_000)).to.deep.equal({ hits: 1, resetAt: 12_000 });
      await rateLimits.reset('k1');
      expect((await rateLimits.increment('k1', 1000, 11_100)).hits).to.equal(1);
      expect(await rateLimits.purgeExpired(20_000)).to.be.greaterThan(0);
    });

    it('counts 50 concurrent hits exactly', async () => {
      const { rateLimits } = ctx.store();
      const results = await Promise.all(Array.from({ length: 50 }, () => rateLimits.increment('k-par', 60_000, 1)));
      expect(results.map((r) => r.hits).sort((a, b) => a - b)).to.deep.equal(Array.from({ length: 50 }, (_, i) => i + 1));
    });
  });

  describe('LoginLockoutRepository', () => {
    it('locks a key after maxFailures within the window, and clears it', async () => {
      const { lockouts } = ctx.store();
      const opts = { maxFailures: 3, windowMs: 60_000, lockMs: 30_000 };
      expect((await lockouts.recordFailure('client:x', opts, 1_000)).lockedUntil).to.equal(0);
      expect((await lockouts.recordFailure('client:x', opts, 2_000)).lockedUntil).to.equal(0);
      expect((await lockouts.recordFailure('client:x', opts, 3_000)).lockedUntil).to.equal(33_000);
      expect((await lockouts.get('client:x', 4_000)).lockedUntil).to.equal(33_000);
      await lockouts.clear('client:x');
      expect(await lockouts.get('client:x', 4_000)).to.deep.equal({ failures: 0, lockedUntil: 0 });
    });

    it('forgets failures older than the window', async () => {
      const { lockouts } = ctx.store();
      const opts = { maxFailures: 2, windowMs: 1_000, lockMs: 30_000 };
      await lockouts.recordFailure('ip:y', opts, 1_000);
      expect((await lockouts.recordFailure('ip:y', opts, 5_000)).lockedUntil).to.equal(0);
    });
  });

  describe('BankTokenRepository', () => {
    it('stores, replaces and invalidates only the token it was told about', async () => {
      const { bankTokens } = ctx.store();
      await bankTokens.put({ partner: 'bca', token: 't1', expiresAt: 10, fetchedAt: 1 });
      await bankTokens.put({ partner: 'bca', token: 't2', expiresAt: 20, fetchedAt: 2 });
      expect(await bankTokens.get('bca')).to.deep.equal({ partner: 'bca', token: 't2', expiresAt: 20, fetchedAt: 2 });
      await bankTokens.invalidate('bca', 't1');
      expect((await bankTokens.get('bca'))!.token).to.equal('t2');
      await bankTokens.invalidate('bca', 't2');
      expect(await bankTokens.get('bca')).to.equal(null);
    });
  });

  describe('SequenceRepository', () => {
    it('hands out 1, 2, 3… and 100 concurrent calls get 100 distinct values', async () => {
      const { sequences } = ctx.store();
      expect(await sequences.next('s-a')).to.equal(1);
      expect(await sequences.next('s-a')).to.equal(2);
      const values = await Promise.all(Array.from({ length: 100 }, () => sequences.next('s-b')));
      expect(new Set(values).size).to.equal(100);
      expect(Math.max(...values)).to.equal(100);
    });
  });
});

describe('Store on an unreachable MySQL server', () => {
  it('answers STORE_UNAVAILABLE quickly, without the password', async () => {
    const store = await openStore('mysql://root:hunter2@127.0.0.1:1/gerbang');
    try {
      const started = Date.now();
      await store.db.ping().then(
        () => expect.fail('expected STORE_UNAVAILABLE'),
        (error: AppError) => {
          expect(error).to.be.instanceOf(AppError);
          expect(error.code).to.equal('STORE_UNAVAILABLE');
          expect(error.message).to.not.contain('hunter2');
        },
      );
      expect(Date.now() - started).to.be.lessThan(6000);
    } finally {
      await store.close();
    }
  });
});

describe('openStore', () => {
  it('names GERBANG_DATABASE_URL for an unknown scheme', async () => {
    await openStore('postgres://x').then(
      () => expect.fail('expected an error'),
      (error: Error) => expect(error.message).to.contain('GERBANG_DATABASE_URL'),
    );
  });
});
