import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkpointer, verifyAudit } from '../../src/audit/index.js';
import { migrate, openDb, type AuditChainBreak, type Db, type SqlValue, type Store } from '../../src/store/index.js';
import { COVERAGE_IN_PROGRESS } from '../../src/store/repositories/chain-coverage.js';
import { paymentMac } from '../../src/store/repositories/payment-repository.js';
import { recordMac } from '../../src/store/repositories/record-macs.js';
import { paymentPlace, ValueSealer } from '../../src/store/repositories/sealed-values.js';
import { TEST_AUDIT_KEY, TEST_AUDIT_KEYS } from '../support/audit-keys.js';
import { startReceiver, type CallbackReceiver } from '../support/callback-receiver.js';
import { runCli } from '../support/cli.js';
import { ConsoleClient } from '../support/console-client.js';
import { TestConsole } from '../support/console-harness.js';
import { createMariaDbDatabase, createSqliteDatabase, forEachBackend, migrateBelow } from '../support/databases.js';
import { eventually, sampleTransfer, TestGateway, type TestClient } from '../support/gateway-harness.js';
import { copyRow, insertKeylessVerificationLink, keylessLinkHash, writeBack, writtenColumns } from '../support/sql-rows.js';

/**
 * The attacker of docs/security/threat-model.md: can write to the database (a DBA, a SQL shell,
 * a restored backup) but holds no key. Every attack is done here in SQL, as they would do it,
 * never through the gateway's own code.
 */

/** Tables an attacker would copy for a "dump", and restore over the database later. */
const DUMPED = ['audit_exchanges', 'audit_completions', 'audit_bank_calls', 'audit_chain', 'audit_writers', 'payments', 'payment_events', 'callback_deliveries', 'audit_verifications', 'console_audit'];

async function takeDump(db: Db, name: string): Promise<void> {
  for (const table of DUMPED) {
    await db.execute(`DROP TABLE IF EXISTS ${name}_${table}`);
    await db.execute(`CREATE TABLE ${name}_${table} AS SELECT * FROM ${table}`);
  }
}

async function restoreDump(db: Db, name: string): Promise<void> {
  // Children before parents out, parents before children back in (completions and bank calls refer to their exchange).
  for (const table of [...DUMPED].reverse()) await db.execute(`DELETE FROM ${table}`);
  for (const table of DUMPED) {
    const columns = await writtenColumns(db, table);
    await db.execute(`INSERT INTO ${table} ${columns === '*' ? '' : `(${columns}) `}SELECT ${columns} FROM ${name}_${table}`);
  }
}

/**
 * Deletes the records the given links name, bank calls first (they refer to their exchange). A bank
 * call may sit in another writer's chain than its exchange; the foreign key makes the attacker
 * delete it too, so it goes as well.
 */
async function deleteRecords(db: Db, links: { kind: string; record_id: number | string }[]): Promise<void> {
  const ordered = [...links.filter((l) => l.kind === 'bank_call'), ...links.filter((l) => l.kind !== 'bank_call')];
  for (const link of ordered) {
    if (link.kind === 'bank_call') {
      await db.execute('DELETE FROM audit_bank_calls WHERE id = ?', [Number(link.record_id)]);
    } else {
      await db.execute('DELETE FROM audit_bank_calls WHERE exchange_id = ?', [Number(link.record_id)]);
      await db.execute('DELETE FROM audit_completions WHERE exchange_id = ?', [Number(link.record_id)]);
      await db.execute('DELETE FROM audit_exchanges WHERE id = ?', [Number(link.record_id)]);
    }
  }
}

const problems = (breaks: AuditChainBreak[]) => breaks.map((b) => `${b.problem.toUpperCase()}: ${b.detail}`).join('\n');

forEachBackend('An attacker who can write the database but holds no key', (ctx) => {
  const checkpoints = join(mkdtempSync(join(tmpdir(), 'gerbang-attacks-')), 'audit-checkpoints.jsonl');
  let gw: TestGateway;
  let client: TestClient;
  let auth: Record<string, string>;
  let receiver: CallbackReceiver;
  let refused: string;
  let paid: string;
  let db: Db;
  let store: Store;
  /**
   * `audit verify` as the CLI runs it: a store of its own each time, whose chain the result is
   * recorded on (a `verification` link), closed after, so no live writer of this process holds a
   * chain the attacks below rewrite.
   */
  const check = async () => {
    const own = await openTestStore(ctx.url());
    try {
      return await verifyAudit(own, TEST_AUDIT_KEYS, checkpoints);
    } finally {
      await own.close();
    }
  };

  before(async () => {
    receiver = await startReceiver();
    // The scrub off: these attacks ask the API, the console and verify about rows forged for a
    // moment, and a scrub pass landing inside that moment would hold the gateway (503) instead;
    // the scrub's holds on the same forgeries are scrub-hold's and scrub-memory's.
    gw = await TestGateway.start(ctx.url(), { GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints, GERBANG_CALLBACK_INTERVAL_MS: '50', GERBANG_AUDIT_SCRUB_MS: '0' });
    client = await gw.createClient();
    await gw.store.callbacks.setEndpoint(client.clientId, receiver.url, Date.now());
    auth = { authorization: `Bearer ${await gw.token(client)}` };
    const refusedBody = sampleTransfer({ remark: 'SIM ESB-82-019' });
    expect((await gw.request('/v1/transfers', { json: refusedBody, headers: auth })).status).to.equal(422);
    refused = refusedBody.transactionId as string;
    const paidBody = sampleTransfer();
    expect((await gw.request('/v1/transfers', { json: paidBody, headers: auth })).status).to.equal(201);
    paid = paidBody.transactionId as string;
    db = gw.store.db;
    store = ctx.store();
  });

  let closed = false;
  const closeGateway = async () => {
    if (closed || !gw) return;
    closed = true;
    await gw.close();
  };

  after(async () => {
    await closeGateway();
    receiver?.server.close();
  });

  describe('the API', () => {
    /** Runs `attack` on the payment row of `transactionId`, then puts the row back as it was. */
    async function onPayment(transactionId: string, attack: () => Promise<void>, then: () => Promise<void>): Promise<void> {
      const [saved] = await db.query<Record<string, string | number | null>>('SELECT result_json, key_id, amount FROM payments WHERE transaction_id = ?', [transactionId]);
      await attack();
      try {
        await then();
      } finally {
        await db.execute('UPDATE payments SET result_json = ?, key_id = ?, amount = ? WHERE transaction_id = ?', [saved.result_json, saved.key_id, saved.amount, transactionId]);
      }
    }

    it('refuses a clear-text answer written with an empty key id into a refused payment: 500 AUDIT_INTEGRITY, never the forged SUCCESS', async () => {
      const forged = JSON.stringify({ transactionId: refused, status: 'SUCCESS', bankReference: 'FORGED-REF-1', bank: 'BCA' });
      await onPayment(
        refused,
        () => db.execute('UPDATE payments SET result_json = ?, key_id = NULL WHERE transaction_id = ?', [forged, refused]).then(() => undefined),
        async () => {
          const answer = await gw.request(`/v1/transfers/${refused}`, { headers: auth });
          expect(answer.status).to.equal(500);
          expect(answer.body.code).to.equal('AUDIT_INTEGRITY');
          expect(answer.text).to.not.contain('FORGED-REF-1').and.to.not.contain('SUCCESS');
          const report = await check();
          expect(problems(report.breaks)).to.match(/payments\.result_json of row \[\d+\] is not a value sealed for it/);
        },
      );
      expect((await gw.request(`/v1/transfers/${refused}`, { headers: auth })).body.status, 'restored').to.equal('FAILED');
    });

    it('refuses a valid ciphertext moved from another payment row', async () => {
      const [other] = await db.query<{ result_json: string }>('SELECT result_json FROM payments WHERE transaction_id = ?', [paid]);
      await onPayment(
        refused,
        () => db.execute('UPDATE payments SET result_json = ? WHERE transaction_id = ?', [other.result_json, refused]).then(() => undefined),
        async () => {
          const answer = await gw.request(`/v1/transfers/${refused}`, { headers: auth });
          expect(answer.status).to.equal(500);
          expect(answer.body.code).to.equal('AUDIT_INTEGRITY');
        },
      );
    });

    it('refuses a payment whose amount was changed, and audit verify names it', async () => {
      await onPayment(
        paid,
        () => db.execute("UPDATE payments SET amount = '999999999.00' WHERE transaction_id = ?", [paid]).then(() => undefined),
        async () => {
          const answer = await gw.request(`/v1/transfers/${paid}`, { headers: auth });
          expect(answer.status).to.equal(500);
          expect(answer.body.code).to.equal('AUDIT_INTEGRITY');
          const report = await check();
          expect(problems(report.breaks)).to.match(new RegExp(`payments id \\d+ \\(${client.clientId} / ${paid}\\) was altered`));
        },
      );
    });

    it('refuses a payment whose state was set to SUCCESS in SQL without an event in its history, and audit verify names it', async () => {
      const [saved] = await db.query<{ state: string; bank_reference: string | null }>('SELECT state, bank_reference FROM payments WHERE transaction_id = ?', [refused]);
      expect(saved.state).to.equal('FAILED');
      await db.execute("UPDATE payments SET state = 'SUCCESS', bank_reference = 'FORGED-REF-3' WHERE transaction_id = ?", [refused]);
      try {
        const answer = await gw.request(`/v1/transfers/${refused}`, { headers: auth });
        expect(answer.status).to.equal(500);
        expect(answer.body.code).to.equal('AUDIT_INTEGRITY');
        expect(answer.text).to.not.contain('FORGED-REF-3');
        const report = await check();
        expect(problems(report.breaks)).to.match(
          new RegExp(`payments id \\d+ \\(${client.clientId} / ${refused}\\) was changed without an event in its history: state "SUCCESS" where its last event \\(seq \\d+\\) says "FAILED"`),
        );
      } finally {
        await db.execute('UPDATE payments SET state = ?, bank_reference = ? WHERE transaction_id = ?', [saved.state, saved.bank_reference, refused]);
      }
      expect((await gw.request(`/v1/transfers/${refused}`, { headers: auth })).body.status, 'restored').to.equal('FAILED');
    });

    it('refuses a payment whose state and last event were both forged in SQL (the event has no link the gateway made)', async () => {
      const [payment] = await db.query<{ id: number | string; state: string }>('SELECT id, state FROM payments WHERE transaction_id = ?', [refused]);
      const [last] = await db.query<{ id: number | string; state: string }>('SELECT id, state FROM payment_events WHERE payment_id = ? ORDER BY seq DESC LIMIT 1', [Number(payment.id)]);
      await db.execute("UPDATE payments SET state = 'SUCCESS' WHERE id = ?", [Number(payment.id)]);
      await db.execute("UPDATE payment_events SET state = 'SUCCESS' WHERE id = ?", [Number(last.id)]);
      try {
        const answer = await gw.request(`/v1/transfers/${refused}`, { headers: auth });
        expect(answer.status).to.equal(500);
        expect(answer.body.code).to.equal('AUDIT_INTEGRITY');
      } finally {
        await db.execute('UPDATE payments SET state = ? WHERE id = ?', [payment.state, Number(payment.id)]);
        await db.execute('UPDATE payment_events SET state = ? WHERE id = ?', [last.state, Number(last.id)]);
      }
    });

    it('never signs nor sends a forged queued callback, and sends a queued one only to the registered endpoint', async () => {
      const evil = await startReceiver();
      const forgedId = `INV-${randomBytes(6).toString('hex')}`;
      try {
        const now = Date.now();
        const forgedBody = JSON.stringify({ event: 'transfer.final', transfer: { transactionId: forgedId, status: 'SUCCESS', bankReference: 'FORGED-REF-2' } });
        await db.execute(
          "INSERT INTO callback_deliveries (client_id, transaction_id, url, body, key_id, state, attempts, next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, NULL, 'PENDING', 0, ?, ?, ?)",
          [client.clientId, forgedId, evil.url, forgedBody, now, now, now],
        );
        // Delivery goes on for the genuine ones.
        const genuine = sampleTransfer();
        expect((await gw.request('/v1/transfers', { json: genuine, headers: auth })).status).to.equal(201);
        // The row is not the gateway's (no MAC, no change record, migration 038): refused and audited, left as it is for verify to name.
        const [refusal] = await eventually(async () => {
          const rows = (await gw.store.audit.list({ transactionId: forgedId })).filter((r) => r.method === 'CALLBACK' && r.errorCode === 'AUDIT_INTEGRITY');
          return rows.length > 0 ? rows : null;
        });
        expect(refusal.responseBody).to.contain('NOT SENT').and.to.contain('carries no MAC: it was not written by the gateway');
        await eventually(async () => receiver.received.some((r) => r.body.includes(genuine.transactionId as string)));
        expect(evil.received, 'nothing reaches the URL from the forged row').to.have.length(0);
        expect(receiver.received.some((r) => r.body.includes('FORGED-REF-2'))).to.equal(false);
      } finally {
        await db.execute('DELETE FROM callback_deliveries WHERE transaction_id = ?', [forgedId]);
        evil.server.close();
      }
    });

    it('audit verify names a queued callback whose body was replaced in SQL, with clear text or with another delivery\'s ciphertext', async () => {
      const other = sampleTransfer();
      expect((await gw.request('/v1/transfers', { json: other, headers: auth })).status).to.equal(201);
      const bodyOf = async (transactionId: string) => {
        const rows = await eventually(async () => {
          const found = await db.query<{ body: string }>('SELECT body FROM callback_deliveries WHERE client_id = ? AND transaction_id = ?', [client.clientId, transactionId]);
          return found.length === 1 ? found : null;
        });
        return rows[0].body;
      };
      const saved = await bodyOf(paid);
      const moved = await bodyOf(other.transactionId as string);
      const named = `callback_deliveries.body of row ["${client.clientId}","${paid}"] is not a value sealed for it`;
      expect(problems((await check()).breaks), 'intact before').to.not.contain('callback_deliveries');
      const clear = JSON.stringify({ event: 'transfer.final', transfer: { transactionId: paid, status: 'FAILED' } });
      try {
        for (const forged of [clear, moved]) {
          await db.execute('UPDATE callback_deliveries SET body = ? WHERE client_id = ? AND transaction_id = ?', [forged, client.clientId, paid]);
          const report = await check();
          expect(report.ok).to.equal(false);
          const broken = report.breaks.find((b) => b.table === 'callback_deliveries');
          expect(broken, problems(report.breaks)).to.include({ problem: 'altered' });
          expect(broken!.detail).to.contain(named);
        }
      } finally {
        await db.execute('UPDATE callback_deliveries SET body = ? WHERE client_id = ? AND transaction_id = ?', [saved, client.clientId, paid]);
      }
      expect(problems((await check()).breaks), 'intact again').to.not.contain('callback_deliveries');
    });

    /** Runs `then` with the client row changed by `attack`, then puts the row back as it was. */
    async function onClient(clientId: string, attack: () => Promise<unknown>, then: () => Promise<void>): Promise<void> {
      const [saved] = await db.query<Record<string, string | number | null>>('SELECT secret_hash, allowed_cidrs, status FROM clients WHERE id = ?', [clientId]);
      await attack();
      try {
        await then();
      } finally {
        await db.execute('UPDATE clients SET secret_hash = ?, allowed_cidrs = ?, status = ? WHERE id = ?', [saved.secret_hash, saved.allowed_cidrs, saved.status, clientId]);
      }
    }

    const tokenFor = (c: TestClient, secret = c.clientSecret) => gw.request('/v1/auth/token', { method: 'POST', json: { client_id: c.clientId, client_secret: secret } });

    /** The token request was answered 500 AUDIT_INTEGRITY and audited so, and audit verify names the client. */
    async function refusedAsForged(c: TestClient, answer: Awaited<ReturnType<typeof tokenFor>>): Promise<void> {
      expect(answer.status, answer.text).to.equal(500);
      expect(answer.body.code).to.equal('AUDIT_INTEGRITY');
      expect(answer.text).to.not.contain('access_token');
      await eventually(async () => {
        const rows = await db.query<{ n: number | string }>("SELECT COUNT(*) AS n FROM audit_exchanges e LEFT JOIN audit_completions c ON c.exchange_id = e.id WHERE e.path = '/v1/auth/token' AND e.client_id = ? AND COALESCE(c.error_code, e.error_code) = 'AUDIT_INTEGRITY'", [c.clientId]);
        return Number(rows[0].n) > 0 ? rows : null;
      });
      expect(problems((await check()).breaks)).to.contain(`clients id ${c.clientId} was altered: its secret hash, allowlists, status or request signing no longer match its MAC`);
    }

    it('gives no token to a client whose address list was widened in SQL: 500 AUDIT_INTEGRITY, audited, and audit verify names it', async () => {
      const elsewhere = await gw.createClient({ cidrs: ['203.0.113.0/24'] });
      expect((await tokenFor(elsewhere)).status, 'not from 127.0.0.1').to.equal(401);
      await onClient(
        elsewhere.clientId,
        () => db.execute('UPDATE clients SET allowed_cidrs = ? WHERE id = ?', ['["0.0.0.0/0","::/0"]', elsewhere.clientId]),
        async () => refusedAsForged(elsewhere, await tokenFor(elsewhere)),
      );
    });

    it('gives no token and passes no request of a disabled client re-enabled in SQL, and audit verify names it', async () => {
      const retired = await gw.createClient();
      const bearer = { authorization: `Bearer ${await gw.token(retired)}` };
      expect(await gw.store.clients.setStatus(retired.clientId, 'disabled', Date.now())).to.equal(true);
      await eventually(async () => ((await gw.request(`/v1/transfers/${paid}`, { headers: bearer })).status === 401 ? true : null));
      await onClient(
        retired.clientId,
        () => db.execute("UPDATE clients SET status = 'active' WHERE id = ?", [retired.clientId]),
        async () => {
          await refusedAsForged(retired, await tokenFor(retired));
          // Its open token, once the row is read again (GERBANG_CACHE_STALENESS_MS).
          const read = await eventually(async () => {
            const answer = await gw.request(`/v1/transfers/${paid}`, { headers: bearer });
            return answer.status === 401 ? null : answer;
          });
          expect(read.status, read.text).to.equal(500);
          expect(read.body.code).to.equal('AUDIT_INTEGRITY');
        },
      );
    });

    it('gives no token for a secret whose hash was copied in SQL from the attacker\'s own client, and audit verify names it', async () => {
      const victim = await gw.createClient();
      const own = await gw.createClient();
      const [{ secret_hash: hash }] = await db.query<{ secret_hash: string }>('SELECT secret_hash FROM clients WHERE id = ?', [own.clientId]);
      await onClient(
        victim.clientId,
        () => db.execute('UPDATE clients SET secret_hash = ? WHERE id = ?', [hash, victim.clientId]),
        async () => refusedAsForged(victim, await tokenFor(victim, own.clientSecret)),
      );
    });

    it('authenticates nobody with an API key inserted in SQL for a client (its scrypt hash made by the attacker), and audit verify names it', async () => {
      const keyId = randomBytes(8).toString('hex');
      const secret = randomBytes(32).toString('base64url');
      await db.execute("INSERT INTO client_credentials (kind, lookup, client_id, secret_hash, created_at) VALUES ('api-key', ?, ?, ?, ?)", [keyId, client.clientId, await scryptHash(secret), Date.now()]);
      try {
        const answer = await gw.request(`/v1/transfers/${paid}`, { headers: { 'x-api-key': `gbk_${keyId}_${secret}` } });
        expect(answer.status, answer.text).to.equal(500);
        expect(answer.body.code).to.equal('AUDIT_INTEGRITY');
        expect(problems((await check()).breaks)).to.contain(`client_credentials api-key ${keyId} (client ${client.clientId}) carries no MAC`);
      } finally {
        await db.execute("DELETE FROM client_credentials WHERE kind = 'api-key' AND lookup = ?", [keyId]);
      }
    });

    it('never signs nor posts to a callback URL rewritten in SQL (a listening server receives nothing), and audit verify names the endpoint', async () => {
      const evil = await startReceiver();
      const [saved] = await db.query<{ url: string }>('SELECT url FROM client_callbacks WHERE client_id = ?', [client.clientId]);
      await gw.gateway.callbacks.stop();
      try {
        // Queued for the registered endpoint; the attacker then points the endpoint at their server.
        const queued = sampleTransfer();
        expect((await gw.request('/v1/transfers', { json: queued, headers: auth })).status).to.equal(201);
        await db.execute('UPDATE client_callbacks SET url = ? WHERE client_id = ?', [evil.url, client.clientId]);
        // Settled after the rewrite: nothing is queued for the forged endpoint.
        const later = sampleTransfer();
        expect((await gw.request('/v1/transfers', { json: later, headers: auth })).status).to.equal(201);
        gw.gateway.callbacks.start();
        const [row] = await eventually(async () => {
          const rows = await db.query<{ state: string; last_error: string | null }>('SELECT state, last_error FROM callback_deliveries WHERE transaction_id = ?', [queued.transactionId as string]);
          return rows[0]?.state === 'FAILED' ? rows : null;
        });
        expect(row.last_error).to.contain(`refused: client_callbacks of client ${client.clientId} was altered: its client or URL no longer match its MAC`);
        expect(await db.query('SELECT id FROM callback_deliveries WHERE transaction_id = ?', [later.transactionId as string]), 'nothing queued for the forged URL').to.have.length(0);
        expect(problems((await check()).breaks)).to.contain(`client_callbacks of client ${client.clientId} was altered`);
        // Both refusals are in the audit, not only in the log: the queued one given up, the later one never queued.
        const exported = await runCli(['audit', 'export', '--format', 'jsonl'], { GERBANG_DATABASE_URL: ctx.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY });
        expect(exported.code, exported.stderr).to.equal(0);
        const records = exported.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
        for (const [transfer, delivery] of [[queued, 'FAILED'], [later, 'NOT QUEUED']] as const) {
          const refusal = records.find((r) => r.path === `/internal/callbacks/${transfer.transactionId as string}`);
          expect(refusal, `the refusal for ${delivery}`).to.include({ method: 'CALLBACK', clientId: client.clientId, transactionId: transfer.transactionId, statusCode: 500, errorCode: 'AUDIT_INTEGRITY' });
          expect(JSON.parse(String(refusal!.requestBody))).to.deep.equal({ endpoint: `client_callbacks of client ${client.clientId}` });
          expect(JSON.parse(String(refusal!.responseBody))).to.deep.equal({ delivery, refused: `client_callbacks of client ${client.clientId} was altered: its client or URL no longer match its MAC` });
        }
        expect(evil.received, 'the forged URL receives nothing').to.have.length(0);
      } finally {
        await db.execute('UPDATE client_callbacks SET url = ? WHERE client_id = ?', [saved.url, client.clientId]);
        gw.gateway.callbacks.start();
        evil.server.close();
      }
    });

    it('sends a genuine queued callback whose URL was rewritten in SQL only to the client\'s registered endpoint', async () => {
      const evil = await startReceiver();
      try {
        await gw.gateway.callbacks.stop();
        const body = sampleTransfer();
        expect((await gw.request('/v1/transfers', { json: body, headers: auth })).status).to.equal(201);
        await db.execute('UPDATE callback_deliveries SET url = ? WHERE transaction_id = ?', [evil.url, body.transactionId as string]);
        const due = await gw.store.callbacks.claimDue({ owner: 'attack-test', now: Date.now() + 60_000, leaseMs: 60_000, limit: 100 });
        const delivery = due.find((d) => d.transactionId === body.transactionId);
        expect(delivery && 'url' in delivery ? delivery.url : delivery).to.equal(receiver.url);
      } finally {
        evil.server.close();
      }
    });

    describe('a payment run, its lines written in SQL', () => {
      const batchId = `RUN-${randomBytes(5).toString('hex')}`;
      let line: { paid: string; refused: string };
      const read = () => gw.request(`/v1/transfer-batches/${batchId}?limit=10`, { headers: auth });
      const verifyCli = () => runCli(['audit', 'verify'], { GERBANG_DATABASE_URL: ctx.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints });
      /** The run answered 500 AUDIT_INTEGRITY with none of its lines, and `audit verify` exits 1 naming `named`. */
      async function refusedAndNamed(named: RegExp): Promise<void> {
        const answer = await read();
        expect(answer.status, answer.text).to.equal(500);
        expect(answer.body.code).to.equal('AUDIT_INTEGRITY');
        expect(answer.body).to.not.have.property('lines');
        expect(answer.text).to.not.contain('REJECTED').and.to.not.contain('SUCCESS');
        const cli = await verifyCli();
        expect(cli.code, cli.stdout).to.equal(1);
        expect(cli.stdout).to.match(named);
      }

      before(async () => {
        // Line 1 is paid, line 2 refused by the bank (the simulator's ESB-82-019), through the real gateway and simulator.
        const paidLine = sampleTransfer({ amount: '1500.00' });
        const refusedLine = sampleTransfer({ remark: 'SIM ESB-82-019' });
        line = { paid: paidLine.transactionId as string, refused: refusedLine.transactionId as string };
        expect((await gw.request('/v1/transfer-batches', { json: { batchId, transfers: [paidLine, refusedLine] }, headers: auth })).status).to.equal(202);
        const done = await eventually(async () => {
          const answer = await read();
          return answer.body.state === 'DONE' ? answer : null;
        }, 15_000);
        expect(done.body.lines.map((l: { transactionId: string; state: string; result: { status: string } }) => [l.transactionId, l.state, l.result.status])).to.deep.equal([
          [line.paid, 'SUBMITTED', 'SUCCESS'],
          [line.refused, 'SUBMITTED', 'FAILED'],
        ]);
      });

      it('refuses a paid line set to REJECTED in SQL (the ERP would pay it again): 500 AUDIT_INTEGRITY, and audit verify exits 1 naming the line', async () => {
        await db.execute("UPDATE transfer_batch_lines SET state = 'REJECTED' WHERE transaction_id = ?", [line.paid]);
        try {
          await refusedAndNamed(new RegExp(`transfer_batch_lines line 1 of run ${batchId} \\(batch_pk \\d+, client ${client.clientId}, transaction ${line.paid}\\) was altered`));
        } finally {
          await db.execute("UPDATE transfer_batch_lines SET state = 'SUBMITTED' WHERE transaction_id = ?", [line.paid]);
        }
        expect((await read()).body.lines[0].state, 'restored').to.equal('SUBMITTED');
      });

      it('refuses two lines whose transaction ids were swapped in SQL (the refused one shown with the paid one\'s SUCCESS), and audit verify names both', async () => {
        const swap = (a: string, b: string) =>
          db.execute('UPDATE transfer_batch_lines SET transaction_id = CASE WHEN transaction_id = ? THEN ? ELSE ? END WHERE transaction_id IN (?, ?)', [a, b, a, a, b]);
        await swap(line.paid, line.refused);
        try {
          await refusedAndNamed(new RegExp(`line 1 of run ${batchId} \\(batch_pk \\d+, client ${client.clientId}, transaction ${line.refused}\\) was altered[\\s\\S]*line 2 of run ${batchId} \\(batch_pk \\d+, client ${client.clientId}, transaction ${line.paid}\\) was altered`));
        } finally {
          await swap(line.refused, line.paid);
        }
        expect((await read()).status, 'restored').to.equal(200);
      });

      it('refuses a run whose refused line was deleted in SQL, and audit verify names the run', async () => {
        const [saved] = await db.query<Record<string, string | number | null>>('SELECT * FROM transfer_batch_lines WHERE transaction_id = ?', [line.refused]);
        await db.execute('DELETE FROM transfer_batch_lines WHERE transaction_id = ?', [line.refused]);
        try {
          await refusedAndNamed(new RegExp(`1 of the 2 transfer_batch_lines of run ${batchId} \\(batch_pk \\d+, client ${client.clientId}\\) were deleted`));
        } finally {
          const columns = Object.keys(saved);
          await db.execute(`INSERT INTO transfer_batch_lines (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`, Object.values(saved));
        }
        expect((await read()).status, 'restored').to.equal(200);
      });
    });
  });

  describe('the coverage of history (chain_coverage)', () => {
    let con: TestConsole;
    let session: ConsoleClient;
    before(async () => {
      con = await TestConsole.start(ctx.url(), { GERBANG_LOG_LEVEL: 'silent' });
      const viewer = await con.createUser(`cora.viewer.${randomBytes(3).toString('hex')}`, 'viewer');
      session = new ConsoleClient(con.origin, '127.0.0.67');
      expect((await session.signIn(viewer.username, viewer.password)).status).to.equal(303);
    });
    after(() => con?.close());

    /**
     * The refused payment is set to SUCCESS with a forged reference and its history hidden (its
     * events moved to no payment), `coverage` then excuses it or removes the rule; the API, the
     * console's list and `audit verify` are asked. Everything is put back after.
     */
    async function forgedWithoutHistory(coverage: () => Promise<unknown>, named: RegExp): Promise<void> {
      const [payment] = await db.query<{ id: number | string; state: string; bank_reference: string | null }>('SELECT id, state, bank_reference FROM payments WHERE transaction_id = ?', [refused]);
      const id = Number(payment.id);
      const [saved] = await db.query<Record<string, string | number | null>>("SELECT * FROM chain_coverage WHERE records = 'payments'");
      await db.execute("UPDATE payments SET state = 'SUCCESS', bank_reference = 'FORGED-REF-4' WHERE id = ?", [id]);
      await db.execute('UPDATE payment_events SET payment_id = ? WHERE payment_id = ?', [-id, id]);
      await coverage();
      try {
        const answer = await gw.request(`/v1/transfers/${refused}`, { headers: auth });
        expect(answer.status, answer.text).to.equal(500);
        expect(answer.body.code).to.equal('AUDIT_INTEGRITY');
        expect(answer.text).to.not.contain('FORGED-REF-4');
        const list = await session.get(`/console/payments?q=${refused}`);
        expect(list.status).to.equal(200);
        expect(list.text, 'the console marks it').to.match(new RegExp(`<tr data-payment-id="${id}" class="integrity-failed">`));
        const cli = await runCli(['audit', 'verify'], { GERBANG_DATABASE_URL: ctx.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints });
        expect(cli.code, cli.stdout).to.equal(1);
        expect(cli.stdout).to.contain(`payments id ${id} (${client.clientId} / ${refused}) has no event in its history`);
        expect(cli.stdout).to.match(named);
      } finally {
        await db.execute('UPDATE payment_events SET payment_id = ? WHERE payment_id = ?', [id, -id]);
        await db.execute('UPDATE payments SET state = ?, bank_reference = ? WHERE id = ?', [payment.state, payment.bank_reference, id]);
        await db.execute("DELETE FROM chain_coverage WHERE records = 'payments'");
        await db.execute(`INSERT INTO chain_coverage (${Object.keys(saved).join(', ')}) VALUES (${Object.keys(saved).map(() => '?').join(', ')})`, Object.values(saved));
      }
      expect((await gw.request(`/v1/transfers/${refused}`, { headers: auth })).body.status, 'restored').to.equal('FAILED');
    }

    it('refuses, marks and names a payment forged without events whose time the coverage row was moved past: the row is named too', async () => {
      await forgedWithoutHistory(
        () => db.execute("UPDATE chain_coverage SET since = ? WHERE records = 'payments'", [Date.now() + 86_400_000]),
        // Signed by migration 028, or unsigned when the store was migrated empty without keys (it then excused nothing).
        /ALTERED: .*chain_coverage row 'payments' (was altered: its kind of records or its since no longer match its MAC|carries no MAC: it was not written by the gateway), so every payment must have its history/,
      );
    });

    it('refuses, marks and names a payment forged without events when the coverage row was deleted: the deletion is named too', async () => {
      await forgedWithoutHistory(
        () => db.execute("DELETE FROM chain_coverage WHERE records = 'payments'"),
        /ALTERED: .*the chain_coverage row 'payments' was deleted, so every payment must have its history/,
      );
    });
  });

  describe('audit verify', () => {
    let consoleEntry = 0;
    before(async () => {
      // The gateway stops (and checkpoints its chains' heads): from here on only the attacker writes.
      await closeGateway();
      db = store.db;
      // An admin's action in the console, as the console writes it.
      consoleEntry = await store.consoleAudit.record({ at: Date.now(), username: 'admin.ayu', action: 'admin_client_disable', target: `client:${client.clientId}`, detail: null, remoteIp: '10.1.2.3' });
      const report = await check();
      expect(report.breaks, problems(report.breaks)).to.deep.equal([]);
      expect(report.checkpoints).to.be.greaterThan(0);
      await takeDump(db, 'base');
    });

    afterEach(async () => {
      await restoreDump(db, 'base');
    });

    it('names a fabricated record appended to a chain, its head moved forward, its link as the chain was before #14 (plain SHA-256: the attacker cannot compute the MAC)', async () => {
      const [head] = await db.query<{ writer_id: string; last_seq: number | string; last_hash: string }>('SELECT writer_id, last_seq, last_hash FROM audit_writers ORDER BY writer_id LIMIT 1');
      const [{ id: keyLike }] = await db.query<{ id: string | null }>('SELECT key_id AS id FROM audit_chain WHERE writer_id = ? AND seq = ?', [head.writer_id, Number(head.last_seq)]);
      // An admin's action that never happened: a console audit entry, every field of it in clear, so its content digest is the attacker's to compute.
      const entry = { at: Date.now(), username: 'admin.ayu', action: 'admin_client_enable', target: `client:${client.clientId}`, detail: null, remoteIp: '10.1.2.3' };
      const { insertId: id } = await db.execute('INSERT INTO console_audit (at, username, action, target, detail, remote_ip) VALUES (?, ?, ?, ?, ?, ?)', [
        entry.at, entry.username, entry.action, entry.target, entry.detail, entry.remoteIp,
      ]);
      const link = { prevHash: head.last_hash, writerId: head.writer_id, seq: Number(head.last_seq) + 1, kind: 'console_audit', recordId: Number(id), recordedAt: Date.now() };
      const hash = keylessLinkHash(link, ['console-audit', Number(id), entry.at, entry.username, entry.action, entry.target, entry.detail, entry.remoteIp]);
      await db.execute('INSERT INTO audit_chain (writer_id, seq, kind, record_id, recorded_at, prev_hash, hash, key_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [
        link.writerId, link.seq, link.kind, link.recordId, link.recordedAt, link.prevHash, hash, keyLike,
      ]);
      await db.execute('UPDATE audit_writers SET last_seq = ?, last_hash = ? WHERE writer_id = ?', [link.seq, hash, head.writer_id]);
      const report = await check();
      expect(problems(report.breaks)).to.match(new RegExp(`ALTERED: console_audit id ${id} \\(chain ${head.writer_id} seq ${link.seq}, console_audit\\) was altered or fabricated`));
    });

    /** The completion of the paid transfer's exchange (opened before the bank call, completed after), with its link. */
    async function paidCompletion(): Promise<{ id: number; writerId: string; seq: number }> {
      const [row] = await db.query<{ id: number | string; writer_id: string; seq: number | string }>(
        "SELECT x.exchange_id AS id, c.writer_id, c.seq FROM audit_completions x JOIN audit_exchanges e ON e.id = x.exchange_id JOIN audit_chain c ON c.kind = 'complete' AND c.record_id = x.exchange_id WHERE e.transaction_id = ? AND e.method = 'POST'",
        [paid],
      );
      expect(row, 'the paid transfer was completed by a completion row').to.not.equal(undefined);
      return { id: Number(row.id), writerId: row.writer_id, seq: Number(row.seq) };
    }

    it('names a completion row whose outcome and status were changed in SQL', async () => {
      const completion = await paidCompletion();
      await db.execute("UPDATE audit_completions SET outcome = 'failed', status_code = 502 WHERE exchange_id = ?", [completion.id]);
      const report = await check();
      expect(problems(report.breaks)).to.contain(`ALTERED: audit_completions id ${completion.id} (chain ${completion.writerId} seq ${completion.seq}, complete) was altered or fabricated`);
    });

    it('names a completion row whose answer was swapped for another completion\'s', async () => {
      const completion = await paidCompletion();
      const [other] = await db.query<{ response_body: string }>('SELECT response_body FROM audit_completions WHERE exchange_id <> ? AND response_body IS NOT NULL ORDER BY exchange_id LIMIT 1', [completion.id]);
      await db.execute('UPDATE audit_completions SET response_body = ?, key_id = NULL WHERE exchange_id = ?', [other.response_body, completion.id]);
      const report = await check();
      expect(problems(report.breaks)).to.match(new RegExp(`ALTERED: audit_completions id ${completion.id} \\(chain ${completion.writerId} seq ${completion.seq}\\) was altered: audit_completions\\.response_body of row \\[${completion.id}\\] is not a value sealed for it`));
    });

    it('names a completion row deleted in SQL (the exchange reads as in progress again)', async () => {
      const completion = await paidCompletion();
      await db.execute('DELETE FROM audit_completions WHERE exchange_id = ?', [completion.id]);
      const report = await check();
      expect(problems(report.breaks)).to.contain(`DELETED: audit_completions id ${completion.id} (chain ${completion.writerId} seq ${completion.seq}, complete) was deleted`);
    });

    it('names a completion row no completion link covers (its link deleted, or the row inserted in SQL)', async () => {
      const completion = await paidCompletion();
      await db.execute("DELETE FROM audit_chain WHERE kind = 'complete' AND record_id = ?", [completion.id]);
      const report = await check();
      expect(problems(report.breaks)).to.match(new RegExp(`UNCHAINED: 1 exchange completions without a completion link \\(inserted directly\\), first ids: ${completion.id}$`, 'm'));
    });

    it('names a payment event altered in SQL (a FAILED history rewritten to SUCCESS, the payment with it)', async () => {
      const [payment] = await db.query<{ id: number | string }>('SELECT id FROM payments WHERE transaction_id = ?', [refused]);
      const [last] = await db.query<{ id: number | string }>('SELECT id FROM payment_events WHERE payment_id = ? ORDER BY seq DESC LIMIT 1', [Number(payment.id)]);
      await db.execute("UPDATE payment_events SET state = 'SUCCESS' WHERE id = ?", [Number(last.id)]);
      await db.execute("UPDATE payments SET state = 'SUCCESS' WHERE id = ?", [Number(payment.id)]);
      const report = await check();
      expect(problems(report.breaks)).to.match(new RegExp(`ALTERED: payment_events id ${last.id} \\(chain \\S+ seq \\d+, payment_event\\) was altered or fabricated`));
    });

    it('names a payment event inserted in SQL to cover a forged state', async () => {
      const [payment] = await db.query<{ id: number | string }>('SELECT id FROM payments WHERE transaction_id = ?', [refused]);
      const columns = 'payment_id, seq, cause, state, bank, operation, bank_transaction_id, bank_transaction_date, bank_reference, bank_external_id, http_status, review_since, result_json, recorded_at, key_id';
      await db.execute(
        `INSERT INTO payment_events (${columns}) SELECT payment_id, seq + 1, 'settle', 'SUCCESS', bank, operation, bank_transaction_id, bank_transaction_date, bank_reference, bank_external_id, http_status, review_since, result_json, recorded_at, key_id ` +
          'FROM payment_events WHERE payment_id = ? ORDER BY seq DESC LIMIT 1',
        [Number(payment.id)],
      );
      await db.execute("UPDATE payments SET state = 'SUCCESS' WHERE id = ?", [Number(payment.id)]);
      const report = await check();
      expect(problems(report.breaks)).to.match(/UNCHAINED: 1 payment events without a link \(inserted directly\)/);
    });

    it('names a payment deleted in SQL, its history kept', async () => {
      const [payment] = await db.query<{ id: number | string }>('SELECT id FROM payments WHERE transaction_id = ?', [paid]);
      await db.execute('DELETE FROM payments WHERE id = ?', [Number(payment.id)]);
      const report = await check();
      expect(problems(report.breaks)).to.match(new RegExp(`payments id ${payment.id} was deleted: its history \\(last event seq \\d+, SUCCESS\\) does not end in its release`));
    });

    it('names a console audit entry altered in SQL (an admin\'s action rewritten)', async () => {
      await db.execute("UPDATE console_audit SET action = 'sign_in', target = NULL WHERE id = ?", [consoleEntry]);
      const report = await check();
      expect(problems(report.breaks)).to.match(new RegExp(`ALTERED: console_audit id ${consoleEntry} \\(chain \\S+ seq \\d+, console_audit\\) was altered or fabricated`));
    });

    it('names a console audit entry deleted in SQL', async () => {
      await db.execute('DELETE FROM console_audit WHERE id = ?', [consoleEntry]);
      const report = await check();
      expect(problems(report.breaks)).to.match(new RegExp(`DELETED: console_audit id ${consoleEntry} \\(chain \\S+ seq \\d+, console_audit\\) was deleted`));
    });

    it('names a console audit entry inserted in SQL', async () => {
      await db.execute("INSERT INTO console_audit (at, username, action, target, detail, remote_ip) VALUES (?, 'admin.ayu', 'sign_in', NULL, NULL, '10.1.2.3')", [Date.now()]);
      const report = await check();
      expect(problems(report.breaks)).to.match(/UNCHAINED: 1 console audit entries without a link \(inserted directly\)/);
    });

    it('names a console audit entry inserted in SQL with the coverage row moved past it to excuse it, and the row', async () => {
      const [saved] = await db.query<Record<string, string | number | null>>("SELECT * FROM chain_coverage WHERE records = 'console_audit'");
      await db.execute("INSERT INTO console_audit (at, username, action, target, detail, remote_ip) VALUES (?, 'admin.ayu', 'sign_in', NULL, NULL, '10.1.2.3')", [Date.now()]);
      await db.execute("UPDATE chain_coverage SET since = (SELECT MAX(id) + 1 FROM console_audit) WHERE records = 'console_audit'");
      try {
        const report = problems((await check()).breaks);
        expect(report).to.match(/UNCHAINED: 1 console audit entries without a link \(inserted directly\)/);
        expect(report).to.match(/chain_coverage row 'console_audit' (was altered|carries no MAC)[^;]*, so every console audit entry must have its chain link/);
      } finally {
        await db.execute('UPDATE chain_coverage SET since = ? WHERE records = ?', [saved.since, saved.records]);
      }
    });

    it('names the newest records deleted with their links and the head moved back (a trimmed tail), from the checkpoint', async () => {
      const [head] = await db.query<{ writer_id: string; last_seq: number | string }>('SELECT writer_id, last_seq FROM audit_writers WHERE last_seq > 2 ORDER BY writer_id LIMIT 1');
      const keep = Number(head.last_seq) - 2;
      const gone = await db.query<{ kind: string; record_id: number | string }>('SELECT kind, record_id FROM audit_chain WHERE writer_id = ? AND seq > ?', [head.writer_id, keep]);
      await deleteRecords(db, gone);
      await db.execute('DELETE FROM audit_chain WHERE writer_id = ? AND seq > ?', [head.writer_id, keep]);
      const [last] = await db.query<{ hash: string }>('SELECT hash FROM audit_chain WHERE writer_id = ? AND seq = ?', [head.writer_id, keep]);
      await db.execute('UPDATE audit_writers SET last_seq = ?, last_hash = ? WHERE writer_id = ?', [keep, last.hash, head.writer_id]);
      const report = await check();
      expect(problems(report.breaks)).to.contain(`ROLLED-BACK: chain ${head.writer_id} ends at link ${keep} but was checkpointed at link ${head.last_seq}`);
    });

    it('names a whole writer\'s chain deleted (records, links and head), from the checkpoint', async () => {
      // A chain of the gateway's exchanges (not one of verify's own results).
      const [head] = await db.query<{ writer_id: string }>("SELECT DISTINCT writer_id FROM audit_chain WHERE kind IN ('open', 'record') ORDER BY writer_id LIMIT 1");
      await deleteRecords(db, await db.query<{ kind: string; record_id: number | string }>('SELECT kind, record_id FROM audit_chain WHERE writer_id = ?', [head.writer_id]));
      await db.execute('DELETE FROM audit_chain WHERE writer_id = ?', [head.writer_id]);
      await db.execute('DELETE FROM audit_writers WHERE writer_id = ?', [head.writer_id]);
      const report = await check();
      expect(problems(report.breaks)).to.match(new RegExp(`VANISHED: chain ${head.writer_id}, checkpointed at link \\d+ on \\S+, has vanished from the database`));
    });

    it('names the rollback when an older dump is restored over the database after more payments, exit 1 from the CLI', async () => {
      await takeDump(db, 'older');
      const later = await openTestStore(ctx.url());
      try {
        for (let n = 0; n < 3; n += 1) {
          const transactionId = `INV-${randomBytes(6).toString('hex')}`;
          await later.payments.reserve({ clientId: client.clientId, transactionId, requestHash: 'h'.repeat(64), amount: '10.00', currency: 'IDR' }, Date.now());
          await later.audit.record(
            { requestId: `req-${n}-${randomBytes(4).toString('hex')}`, receivedAt: Date.now(), remoteIp: '127.0.0.1', origin: null, method: 'POST', path: '/v1/transfers', clientId: client.clientId, transactionId, amount: '10.00', requestHeaders: {}, requestBody: '{}' },
            { outcome: 'completed', statusCode: 201, errorCode: null, clientId: null, transactionId: null, amount: null, responseBody: '{}', completedAt: Date.now() },
          );
        }
      } finally {
        await later.close();
      }
      const before = await check();
      expect(before.breaks, problems(before.breaks)).to.deep.equal([]);
      await restoreDump(db, 'older');
      const cli = await runCli(['audit', 'verify'], { GERBANG_DATABASE_URL: ctx.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints });
      expect(cli.code, cli.stdout).to.equal(1);
      // The chain of the process that made the three later payments (each reservation's event and its exchange: 6 links) is in the checkpoints, not in the older copy.
      expect(cli.stdout).to.match(/VANISHED: chain \S+, checkpointed at link 6 on \S+, has vanished from the database/);
    });

    it('does not let a future-dated "verified OK" row keep the console overview green', async () => {
      await db.execute("UPDATE audit_chain SET recorded_at = recorded_at + 1 WHERE seq = 1");
      const broken = await check();
      expect(broken.breaks).to.not.deep.equal([]);
      expect((await store.auditVerifications.latest())?.ok).to.equal(false);
      await db.execute('INSERT INTO audit_verifications (checked_at, ok, links, breaks, first_break) VALUES (?, 1, 10, 0, NULL)', [Date.now() + 86_400_000]);
      const shown = await store.auditVerifications.latest();
      expect(shown?.ok).to.equal(false);
      expect(shown?.firstBreak).to.match(/^FORGED: /);
      // Copying the signature of a genuine row onto the forged one does not help either.
      const [genuine] = await db.query<{ key_id: string; mac: string }>('SELECT key_id, mac FROM audit_verifications WHERE mac IS NOT NULL ORDER BY id LIMIT 1');
      await db.execute('UPDATE audit_verifications SET key_id = ?, mac = ? WHERE mac IS NULL', [genuine.key_id, genuine.mac]);
      expect((await store.auditVerifications.latest())?.ok).to.equal(false);
    });
  });

  describe('the console', () => {
    let con: TestConsole;
    before(async () => {
      con = await TestConsole.start(ctx.url(), { GERBANG_LOG_LEVEL: 'silent' });
    });
    after(() => con?.close());

    it('refuses a viewer whose role was raised to admin in SQL, on its open session and at sign-in, and audit verify names it', async () => {
      const viewer = await con.createUser(`vera.viewer.${randomBytes(3).toString('hex')}`, 'viewer');
      const session = new ConsoleClient(con.origin, '127.0.0.61');
      expect((await session.signIn(viewer.username, viewer.password)).status).to.equal(303);
      expect((await session.get('/console/admin')).status, 'a viewer is no admin').to.not.equal(200);
      await db.execute("UPDATE console_users SET role = 'admin' WHERE username = ?", [viewer.username]);
      try {
        expect((await session.get('/console/admin')).status, 'the raised role is never used').to.not.equal(200);
        expect((await new ConsoleClient(con.origin, '127.0.0.62').signIn(viewer.username, viewer.password)).status, 'no sign-in').to.not.equal(303);
        const report = await check();
        expect(problems(report.breaks)).to.match(new RegExp(`console_users id \\d+ \\(${viewer.username.replaceAll('.', '\\.')}\\) was altered: its username, password hash, role or status no longer match its MAC`));
      } finally {
        await db.execute("UPDATE console_users SET role = 'viewer' WHERE username = ?", [viewer.username]);
      }
      expect((await new ConsoleClient(con.origin, '127.0.0.63').signIn(viewer.username, viewer.password)).status, 'restored').to.equal(303);
    });

    it('marks in the payment list a payment whose state was set to SUCCESS in SQL, instead of showing it as paid', async () => {
      const viewer = await con.createUser(`vita.viewer.${randomBytes(3).toString('hex')}`, 'viewer');
      const session = new ConsoleClient(con.origin, '127.0.0.66');
      expect((await session.signIn(viewer.username, viewer.password)).status).to.equal(303);
      const [{ id }] = await db.query<{ id: number | string }>('SELECT id FROM payments WHERE transaction_id = ?', [refused]);
      const marked = (text: string) => new RegExp(`<tr data-payment-id="${Number(id)}" class="integrity-failed">`).test(text);
      const genuine = await session.get(`/console/payments?q=${refused}`);
      expect(genuine.text, 'the payment is listed').to.contain(refused);
      expect(marked(genuine.text), 'a genuine payment is not marked').to.equal(false);
      await db.execute("UPDATE payments SET state = 'SUCCESS' WHERE id = ?", [Number(id)]);
      try {
        for (const path of ['/console/payments', `/console/payments?q=${refused}`]) {
          const page = await session.get(path);
          expect(page.status).to.equal(200);
          expect(marked(page.text), path).to.equal(true);
        }
      } finally {
        await db.execute("UPDATE payments SET state = 'FAILED' WHERE id = ?", [Number(id)]);
      }
    });

    it('marks on the run page a paid payment-run line set to REJECTED in SQL, instead of showing it as it stands', async () => {
      const viewer = await con.createUser(`rina.viewer.${randomBytes(3).toString('hex')}`, 'viewer');
      const session = new ConsoleClient(con.origin, '127.0.0.67');
      expect((await session.signIn(viewer.username, viewer.password)).status).to.equal(303);
      // A paid line of the run the API tests paid.
      const [line] = await db.query<{ batch_pk: number | string; line_no: number | string }>("SELECT batch_pk, line_no FROM transfer_batch_lines WHERE state = 'SUBMITTED' AND http_status = 201 ORDER BY batch_pk, line_no LIMIT 1");
      const row = (text: string) => new RegExp(`<tr data-line="${Number(line.line_no)}" class="outcome-([a-z]+)">`).exec(text)?.[1];
      const page = () => session.get(`/console/runs/${Number(line.batch_pk)}`);
      expect(row((await page()).text), 'a genuine line').to.equal('paid');
      await db.execute("UPDATE transfer_batch_lines SET state = 'REJECTED' WHERE batch_pk = ? AND line_no = ?", [line.batch_pk, line.line_no]);
      try {
        const forged = await page();
        expect(forged.status).to.equal(200);
        expect(row(forged.text), 'the forged line is marked').to.equal('forged');
      } finally {
        await db.execute("UPDATE transfer_batch_lines SET state = 'SUBMITTED' WHERE batch_pk = ? AND line_no = ?", [line.batch_pk, line.line_no]);
      }
    });

    it('marks on the admin page a client whose address list was widened in SQL, instead of showing it as normal', async () => {
      const admin = await con.createUser(`ada.admin.${randomBytes(3).toString('hex')}`, 'admin');
      const session = new ConsoleClient(con.origin, '127.0.0.65');
      expect((await session.signIn(admin.username, admin.password)).status).to.equal(303);
      const row = (text: string) => new RegExp(`<tr data-client-id="${client.clientId}">(?:(?!</tr>)[\\s\\S])*</tr>\\s*<tr class="integrity-failed">`).test(text);
      expect(row((await session.get('/console/admin')).text), 'a genuine client is not marked').to.equal(false);
      const [saved] = await db.query<{ allowed_cidrs: string }>('SELECT allowed_cidrs FROM clients WHERE id = ?', [client.clientId]);
      await db.execute('UPDATE clients SET allowed_cidrs = ? WHERE id = ?', ['["0.0.0.0/0"]', client.clientId]);
      try {
        const page = await session.get('/console/admin');
        expect(page.status).to.equal(200);
        expect(row(page.text), 'the forged client is marked').to.equal(true);
      } finally {
        await db.execute('UPDATE clients SET allowed_cidrs = ? WHERE id = ?', [saved.allowed_cidrs, client.clientId]);
      }
    });

    it('refuses an admin inserted in SQL with a password hash of the attacker\'s (copied from a real user), and audit verify names it', async () => {
      const known = await con.createUser(`kiki.known.${randomBytes(3).toString('hex')}`, 'viewer');
      const forged = `mallory.${randomBytes(3).toString('hex')}`;
      await db.execute(
        "INSERT INTO console_users (username, password_hash, role, status, created_at, updated_at, mac_key_id, mac) SELECT ?, password_hash, 'admin', 'active', created_at, updated_at, mac_key_id, mac FROM console_users WHERE username = ?",
        [forged, known.username],
      );
      try {
        expect((await new ConsoleClient(con.origin, '127.0.0.64').signIn(forged, known.password)).status).to.not.equal(303);
        const report = await check();
        expect(problems(report.breaks)).to.contain(`(${forged}) was altered`);
      } finally {
        await db.execute('DELETE FROM console_users WHERE username = ?', [forged]);
      }
    });
  });
});

/** `audit verify`'s environment as the CLI reads it: the database, the keys and the checkpoint file. */
const verifyEnv = (url: string, checkpoints: string) => ({ GERBANG_DATABASE_URL: url, GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints });

/**
 * One transfer, an intact `audit verify`, then one that fails (a payment altered in SQL, put back
 * after), each run by the CLI (a process of its own, its result on its own chain, checkpointed as
 * it closes): the ids of the intact result and of the failed one.
 */
async function intactThenFailedVerification(url: string, db: Db, checkpoints: string): Promise<{ intact: number; failed: number }> {
  const gw = await TestGateway.start(url, { GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints, GERBANG_LOG_LEVEL: 'silent' });
  try {
    const auth = { authorization: `Bearer ${await gw.token(await gw.createClient())}` };
    expect((await gw.request('/v1/transfers', { json: sampleTransfer(), headers: auth })).status).to.equal(201);
  } finally {
    await gw.close();
  }
  const first = await runCli(['audit', 'verify'], verifyEnv(url, checkpoints));
  expect(first.code, first.stdout).to.equal(0);
  // Something broken, a verification that fails and records so, then the break put back.
  const [{ amount }] = await db.query<{ amount: string }>('SELECT amount FROM payments');
  await db.execute("UPDATE payments SET amount = '999999.00'");
  expect((await runCli(['audit', 'verify'], verifyEnv(url, checkpoints))).code).to.equal(1);
  await db.execute('UPDATE payments SET amount = ?', [amount]);
  const results = await db.query<{ id: number | string; ok: number | string }>('SELECT id, ok FROM audit_verifications ORDER BY id');
  expect(results.map((r) => Number(r.ok))).to.deep.equal([1, 0]);
  const [intact, failed] = results.map((r) => Number(r.id));
  return { intact, failed };
}

/** A console signed in as a viewer, from its own address. */
async function viewerSession(con: TestConsole, ip: string): Promise<ConsoleClient> {
  const viewer = await con.createUser(`vic.viewer.${randomBytes(3).toString('hex')}`, 'viewer');
  const session = new ConsoleClient(con.origin, ip);
  expect((await session.signIn(viewer.username, viewer.password)).status).to.equal(303);
  return session;
}

/** The overview's audit-chain verification box: its class and its text. */
async function chainStatus(session: ConsoleClient): Promise<{ className: string | undefined; text: string }> {
  const page = await session.get('/console/overview');
  expect(page.status).to.equal(200);
  const status = /<p id="chain-status" class="([^"]*)">([\s\S]*?)<\/p>/.exec(page.text);
  expect(status, page.text).to.not.equal(null);
  return { className: status?.[1], text: status?.[2] ?? '' };
}

forEachBackend('An attacker who hides the newest (failed) verification result in SQL', (ctx) => {
  const checkpoints = join(mkdtempSync(join(tmpdir(), 'gerbang-verifications-')), 'audit-checkpoints.jsonl');
  const env = () => verifyEnv(ctx.url(), checkpoints);
  let db: Db;
  let con: TestConsole;
  let session: ConsoleClient;
  /** The intact result, then the failed one that followed it. */
  let intact: number;
  let failed: number;

  /**
   * A console of its own for each case, with a checkpoint file of its own: it links every page
   * viewed (the console's access log) and checkpoints its chain, so the dump written back after a
   * case cuts that chain behind the checkpoints of the console that wrote it, which would then say
   * the database was rolled back (sooner or later, as its checkpoints fall) instead of what the case looks at.
   */
  const viewing = async (): Promise<void> => {
    const own = join(mkdtempSync(join(tmpdir(), 'gerbang-console-')), 'audit-checkpoints.jsonl');
    con = await TestConsole.start(ctx.url(), { GERBANG_LOG_LEVEL: 'silent', GERBANG_AUDIT_CHECKPOINT_FILE: own });
    session = await viewerSession(con, '127.0.0.71');
  };

  before(async () => {
    db = ctx.store().db;
    ({ intact, failed } = await intactThenFailedVerification(ctx.url(), db, checkpoints));
    await takeDump(db, 'failed');
  });

  beforeEach(async () => {
    await viewing();
    expect((await chainStatus(session)).className, 'the failed result shown').to.equal('error');
  });

  afterEach(async () => {
    await con?.close();
    await restoreDump(db, 'failed');
  });

  it('does not turn the console overview green again: it says the result cannot be proved, and audit verify names the deleted result', async () => {
    expect((await db.execute('DELETE FROM audit_verifications WHERE id = ?', [failed])).affectedRows).to.equal(1);
    const status = await chainStatus(session);
    expect(status.className, status.text).to.equal('error');
    expect(status.text).to.contain('CANNOT BE PROVED').and.to.contain('was deleted');
    const named = await runCli(['audit', 'verify'], env());
    expect(named.code, named.stdout).to.equal(1);
    expect(named.stdout).to.match(/DELETED: audit_verifications id \d+ \(chain \S+ seq 1, verification\) was deleted/);
    // Its link and its chain's head deleted too: the chain was checkpointed outside the database when the failed run closed.
    const [{ writer_id: writer }] = await db.query<{ writer_id: string }>("SELECT writer_id FROM audit_chain WHERE kind = 'verification' AND record_id NOT IN (SELECT id FROM audit_verifications)");
    await db.execute('DELETE FROM audit_chain WHERE writer_id = ?', [writer]);
    await db.execute('DELETE FROM audit_writers WHERE writer_id = ?', [writer]);
    const vanished = await runCli(['audit', 'verify'], env());
    expect(vanished.code, vanished.stdout).to.equal(1);
    expect(vanished.stdout).to.contain(`VANISHED: chain ${writer}`);
  });

  it('does not turn the console overview green with a link inserted for the intact result, newer than the failed one\'s (no key: plain SHA-256): it says FORGED, and audit verify names the link', async () => {
    const [link] = await db.query<{ recorded_at: number | string; key_id: string }>("SELECT recorded_at, key_id FROM audit_chain WHERE kind = 'verification' AND record_id = ?", [failed]);
    await db.execute('DELETE FROM audit_verifications WHERE id = ?', [failed]);
    await insertKeylessVerificationLink(db, { recordId: intact, writerId: 'zzzz-forged', recordedAt: Number(link.recorded_at) + 1, keyId: link.key_id });
    const status = await chainStatus(session);
    expect(status.className, status.text).to.equal('error');
    expect(status.text).to.match(/^<strong>[^<]+<\/strong> · .*FORGED: /);
    const named = await runCli(['audit', 'verify'], env());
    expect(named.code, named.stdout).to.equal(1);
    expect(named.stdout).to.match(new RegExp(`: audit_verifications id ${intact} \\(chain zzzz-forged seq 1, verification\\)`));
    expect(named.stdout).to.contain(`DELETED: audit_verifications id ${failed} `);
  });

  it('does not turn the console overview green with the failed result\'s own link re-pointed at the intact result: it says FORGED, and audit verify names the link', async () => {
    await db.execute('DELETE FROM audit_verifications WHERE id = ?', [failed]);
    expect((await db.execute("UPDATE audit_chain SET record_id = ? WHERE kind = 'verification' AND record_id = ?", [intact, failed])).affectedRows).to.equal(1);
    const status = await chainStatus(session);
    expect(status.className, status.text).to.equal('error');
    expect(status.text).to.match(/^<strong>[^<]+<\/strong> · .*FORGED: /);
    const named = await runCli(['audit', 'verify'], env());
    expect(named.code, named.stdout).to.equal(1);
    expect(named.stdout).to.match(new RegExp(`ALTERED: audit_verifications id ${intact} \\(chain \\S+ seq 1, verification\\)`));
  });

  it('does not turn the console overview green with a copy of the intact result re-inserted, its signature with it: it says CANNOT BE PROVED (no link names the copy)', async () => {
    await db.execute('DELETE FROM audit_verifications WHERE id = ?', [failed]);
    await db.execute('INSERT INTO audit_verifications (checked_at, ok, links, breaks, first_break, key_id, mac) SELECT checked_at, ok, links, breaks, first_break, key_id, mac FROM audit_verifications WHERE id = ?', [intact]);
    const status = await chainStatus(session);
    expect(status.className, status.text).to.equal('error');
    expect(status.text).to.contain('CANNOT BE PROVED');
  });

  it('does not turn the console overview green with the failed result\'s link re-pointed at a result inserted in SQL, dated before the intact one: it says FORGED', async () => {
    await db.execute('DELETE FROM audit_verifications WHERE id = ?', [failed]);
    const older = await db.execute('INSERT INTO audit_verifications (checked_at, ok, links, breaks, first_break) VALUES (?, 0, 1, 1, ?)', [1_000, 'ALTERED: nothing']);
    expect((await db.execute("UPDATE audit_chain SET record_id = ? WHERE kind = 'verification' AND record_id = ?", [older.insertId, failed])).affectedRows).to.equal(1);
    const status = await chainStatus(session);
    expect(status.className, status.text).to.equal('error');
    expect(status.text).to.match(new RegExp(`FORGED: the newest verification link in the audit chain \\(chain \\S+ seq 1\\) does not vouch for the result it names \\(id ${older.insertId}\\)`));
  });
});

forEachBackend('An attacker who deletes the newest (failed) verification run whole in SQL: its result, its link and its chain\'s head', (ctx) => {
  const checkpoints = join(mkdtempSync(join(tmpdir(), 'gerbang-verifications-')), 'audit-checkpoints.jsonl');
  let con: TestConsole | undefined;

  after(async () => {
    await con?.close();
  });

  it('does not turn the console overview green again: it says the database is behind its checkpoints, naming the vanished chain, though the rows left hold by themselves', async () => {
    const db = ctx.store().db;
    const { failed } = await intactThenFailedVerification(ctx.url(), db, checkpoints);
    // The console reads the checkpoint file the CLI wrote to (one GERBANG_AUDIT_CHECKPOINT_FILE, as in production).
    con = await TestConsole.start(ctx.url(), { GERBANG_LOG_LEVEL: 'silent', GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints });
    const session = await viewerSession(con, '127.0.0.72');
    const [{ writer_id: writer }] = await db.query<{ writer_id: string }>("SELECT writer_id FROM audit_chain WHERE kind = 'verification' AND record_id = ?", [failed]);
    expect((await db.execute('DELETE FROM audit_verifications WHERE id = ?', [failed])).affectedRows).to.equal(1);
    expect((await db.execute('DELETE FROM audit_chain WHERE writer_id = ?', [writer])).affectedRows).to.equal(1);
    expect((await db.execute('DELETE FROM audit_writers WHERE writer_id = ?', [writer])).affectedRows).to.equal(1);
    // What the database alone says: the intact result, its one link the newest, and holding.
    const left = await con.store.auditVerifications.latest();
    expect(left?.ok, left?.firstBreak ?? '').to.equal(true);
    expect(left?.integrityProblem).to.equal(undefined);
    const status = await chainStatus(session);
    expect(status.className, status.text).to.equal('error');
    expect(status.text).to.match(/^<strong>Dimundurkan<\/strong> · Database tidak lagi memuat catatan audit yang dijamin oleh checkpoint di luar database/);
    expect(status.text).to.contain(`chain ${writer}, checkpointed at link 1 on `).and.to.contain('has vanished from the database');
    // By the line the run's process appended as it closed (its head file, which held the link from its commit, removed then).
    expect(status.text).to.not.contain('(head file ');
    expect(status.text, 'nothing of the intact result shown').to.not.contain('Utuh').and.to.not.contain('Terakhir dijalankan');
  });
});

forEachBackend('An attacker who can write the database but holds no key, on records from before migration 024', (ctx) => {
  const secret = `legacy-secret-${randomBytes(8).toString('hex')}`;
  const clientId = `gbc_legacy${randomBytes(3).toString('hex')}`;
  let database: { url: string; drop: () => Promise<void> };
  let checkpoints: string;
  let gw: TestGateway | undefined;
  let paymentId = 0;
  let entryId = 0;
  let coverageBefore037: Record<string, string | number | null> = {};

  before(async function () {
    this.timeout(60_000);
    database = ctx.backend === 'sqlite' ? createSqliteDatabase() : await createMariaDbDatabase(this);
    checkpoints = join(mkdtempSync(join(tmpdir(), 'gerbang-legacy-')), 'audit-checkpoints.jsonl');
    ({ paymentId, entryId, coverageBefore037 } = await upgradedLegacyDatabase(database.url, clientId, secret));
    gw = await TestGateway.start(database.url, { GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints, GERBANG_AUDIT_SCRUB_MS: '0' });
  });

  after(async () => {
    await gw?.close();
    await database?.drop();
  });

  const verify = () => runCli(['audit', 'verify'], { GERBANG_DATABASE_URL: database.url, GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints });
  const legacyAuth = async () => ({ authorization: `Bearer ${await gw!.token({ clientId, clientSecret: secret })}` });

  /** The refused payment written SUCCESS with a forged reference in SQL (`hidden`: its events moved to no payment too): the API refuses it, verify names it with `named`. */
  async function forgeLegacyPayment(hidden: () => Promise<unknown>, ...named: string[]): Promise<void> {
    await gw!.store.db.execute("UPDATE payments SET state = 'SUCCESS', bank_reference = 'FORGED-REF', result_json = NULL WHERE id = ?", [paymentId]);
    await hidden();
    const forged = await gw!.request('/v1/transfers/INV-LEGACY-1', { headers: await legacyAuth() });
    expect(forged.status, forged.text).to.equal(500);
    expect(forged.body.code).to.equal('AUDIT_INTEGRITY');
    expect(forged.text).to.not.contain('FORGED-REF');
    const report = await verify();
    expect(report.code, report.stdout).to.equal(1);
    for (const words of named) expect(report.stdout).to.contain(words);
  }

  it('the refused payment written SUCCESS in SQL: the API answers 500 AUDIT_INTEGRITY, not the forged state, and `audit verify` names it', async () => {
    const before = await gw!.request('/v1/transfers/INV-LEGACY-1', { headers: await legacyAuth() });
    expect(before.status, before.text).to.equal(200);
    expect(before.body.status).to.equal('FAILED');
    expect((await verify()).code, 'INTACT after the upgrade').to.equal(0);
    await forgeLegacyPayment(
      () => Promise.resolve(),
      `payments id ${paymentId} (${clientId} / INV-LEGACY-1) was changed without an event in its history: state "SUCCESS" where its last event (seq 1) says "FAILED"`,
    );
  });

  it('the forged payment with its history hidden and the coverage row from before 037 written back: still 500 AUDIT_INTEGRITY, and both named', async () => {
    expect(Number(coverageBefore037.since), 'it excused this payment').to.be.above(1000);
    await forgeLegacyPayment(
      async () => {
        const db = gw!.store.db;
        await db.execute('UPDATE payment_events SET payment_id = ? WHERE payment_id = ?', [-paymentId, paymentId]);
        // Its since and MAC as 028 wrote them.
        await db.execute("UPDATE chain_coverage SET since = ?, mac_key_id = ?, mac = ? WHERE records = 'payments'", [coverageBefore037.since, coverageBefore037.mac_key_id, coverageBefore037.mac]);
      },
      `payments id ${paymentId} (${clientId} / INV-LEGACY-1) has no event in its history`,
      "chain_coverage row 'payments' was altered",
    );
  });

  it('the forged payment with its history hidden and a coverage row 037 wrote on its way down written back (MySQL commits one a batch): still 500 AUDIT_INTEGRITY, and both named', async () => {
    // The row as 037's step() commits it below the payment (since 1001) after a batch, MAC included: a reader noted it while 037 ran.
    const sealer = new ValueSealer(TEST_AUDIT_KEYS);
    const { keyId, mac } = recordMac(TEST_AUDIT_KEYS, COVERAGE_IN_PROGRESS.purpose, COVERAGE_IN_PROGRESS.fields({ records: 'payments', since: 1001, mac_key_id: null, mac: null }, sealer));
    await forgeLegacyPayment(
      async () => {
        const db = gw!.store.db;
        await db.execute('UPDATE payment_events SET payment_id = ? WHERE payment_id = ?', [-paymentId, paymentId]);
        await db.execute("UPDATE chain_coverage SET since = 1001, mac_key_id = ?, mac = ? WHERE records = 'payments'", [keyId, mac]);
      },
      `payments id ${paymentId} (${clientId} / INV-LEGACY-1) has no event in its history`,
      "chain_coverage row 'payments' is one migration 037 wrote while it ran",
    );
  });

  it('a console audit entry from before 024 changed in SQL: `audit verify` names it', async () => {
    await gw!.store.db.execute("UPDATE console_audit SET username = 'someone.else' WHERE id = ?", [entryId]);
    const named = await verify();
    expect(named.code, named.stdout).to.equal(1);
    expect(named.stdout).to.match(new RegExp(`console_audit id ${entryId}\\b[^\\n]*(altered|does not match)`));
  });
});

forEachBackend('An attacker who can write the database but holds no key, who makes a migration that keyed the stored data run again', (ctx) => {
  const secret = `legacy-secret-${randomBytes(8).toString('hex')}`;
  const clientId = `gbc_legacy${randomBytes(3).toString('hex')}`;
  let database: { url: string; drop: () => Promise<void> };
  let checkpoints: string;
  let legacy: LegacyRecords;
  let gw: TestGateway | undefined;

  beforeEach(async function () {
    this.timeout(60_000);
    database = ctx.backend === 'sqlite' ? createSqliteDatabase() : await createMariaDbDatabase(this);
    checkpoints = join(mkdtempSync(join(tmpdir(), 'gerbang-set-back-')), 'audit-checkpoints.jsonl');
    legacy = await upgradedLegacyDatabase(database.url, clientId, secret, checkpoints);
  });

  afterEach(async () => {
    await gw?.close();
    gw = undefined;
    await database?.drop();
  });

  /** A read of the database (no gateway running). */
  async function gwlessQuery<T>(sql: string): Promise<T[]> {
    const db = openDb(database.url);
    try {
      return await db.query<T>(sql);
    } finally {
      await db.close();
    }
  }

  /** SQL without a key, as the attacker writes it. */
  async function inSql(...statements: [string, SqlValue[]][]): Promise<void> {
    const db = openDb(database.url);
    try {
      for (const [sql, params] of statements) await db.execute(sql, params);
    } finally {
      await db.close();
    }
  }

  /** The refused payment written SUCCESS with a forged reference, its history moved to no payment (`deleted`: deleted), and 037's row deleted from schema_migrations. */
  const forgeAndSetBack037 = (deleted = false): [string, SqlValue[]][] => [
    ["UPDATE payments SET state = 'SUCCESS', bank_reference = 'FORGED-REF', result_json = NULL WHERE id = ?", [legacy.paymentId]],
    deleted ? ['DELETE FROM payment_events WHERE payment_id = ?', [legacy.paymentId]] : ['UPDATE payment_events SET payment_id = ? WHERE payment_id = ?', [-legacy.paymentId, legacy.paymentId]],
    ['DELETE FROM schema_migrations WHERE version = 37', []],
  ];

  /** A gateway started on the database (migrating, as by default) refuses to start, naming `migration` and `named`. */
  async function startRefused(migration: string, ...named: string[]): Promise<void> {
    const refused = await TestGateway.start(database.url, { GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints }).then(
      (started) => {
        gw = started;
        return null;
      },
      (error: Error) => error,
    );
    expect(refused?.message, 'the start refused').to.be.a('string');
    expect(refused!.message).to.contain(`migration ${migration}`);
    for (const words of named) expect(refused!.message).to.contain(words);
  }

  /**
   * The next start that migrates refuses, naming the migration and `named`; nothing was recorded
   * of the forged payment; `audit verify` exits 1 naming it; a gateway started without migrating
   * does not answer SUCCESS for it.
   */
  async function expectRefused(migration: string, ...named: string[]): Promise<void> {
    await startRefused(migration, ...named);
    const db = openDb(database.url);
    try {
      const [{ n }] = await db.query<{ n: number | string }>("SELECT COUNT(*) AS n FROM payment_events WHERE bank_reference = 'FORGED-REF'");
      expect(Number(n), 'the forged state recorded in no event').to.equal(0);
    } finally {
      await db.close();
    }
    const report = await runCli(['audit', 'verify'], { GERBANG_DATABASE_URL: database.url, GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints });
    expect(report.code, report.stdout).to.equal(1);
    expect(report.stdout).to.contain(`payments id ${legacy.paymentId} (${clientId} / INV-LEGACY-1)`);
    gw = await TestGateway.start(database.url, { GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints, GERBANG_MIGRATE_ON_START: 'false', GERBANG_AUDIT_SCRUB_MS: '0' });
    const answer = await gw.request('/v1/transfers/INV-LEGACY-1', { headers: { authorization: `Bearer ${await gw.token({ clientId, clientSecret: secret })}` } });
    expect(answer.status, answer.text).to.equal(500);
    expect(answer.body.code).to.equal('AUDIT_INTEGRITY');
    expect(answer.text).to.not.contain('FORGED-REF');
  }

  it('037 deleted from schema_migrations, the forged payment\'s history moved away: the next start refuses, naming 037 and the payment; verify names it; the API does not answer SUCCESS', async function () {
    this.timeout(60_000);
    await inSql(...forgeAndSetBack037());
    await expectRefused('037', `payments id ${legacy.paymentId} (${clientId} / INV-LEGACY-1)`);
  });

  it('and the coverage row from before 037 written back (its since and MAC as 028 wrote them): the next start refuses, naming 037, and records nothing', async function () {
    this.timeout(60_000);
    const before = legacy.coverageBefore037;
    expect(Number(before.since), 'it excused this payment').to.be.above(1000);
    await inSql(...forgeAndSetBack037(), ["UPDATE chain_coverage SET since = ?, mac_key_id = ?, mac = ? WHERE records = 'payments'", [before.since, before.mac_key_id, before.mac]]);
    await expectRefused('037', 'already');
  });

  it('the history deleted and a coverage row 037 wrote on its way down written back (MySQL commits one a batch): the next start refuses, naming 037, and records nothing', async function () {
    this.timeout(60_000);
    const sealer = new ValueSealer(TEST_AUDIT_KEYS);
    const { keyId, mac } = recordMac(TEST_AUDIT_KEYS, COVERAGE_IN_PROGRESS.purpose, COVERAGE_IN_PROGRESS.fields({ records: 'payments', since: 1001, mac_key_id: null, mac: null }, sealer));
    await inSql(...forgeAndSetBack037(true), ["UPDATE chain_coverage SET since = 1001, mac_key_id = ?, mac = ? WHERE records = 'payments'", [keyId, mac]]);
    await expectRefused('037', 'already');
  });

  it('and every link of 037\'s chain deleted with the events, its head row too (nothing in the database shows it ran): the gateway answers 503 to every request, naming the vanished chain, and verify names it', async function () {
    this.timeout(60_000);
    const before = legacy.coverageBefore037;
    const [{ writer_id: chain }] = await gwlessQuery<{ writer_id: string }>("SELECT writer_id FROM audit_writers WHERE writer_id LIKE 'migration-037-%'");
    await inSql(
      ...forgeAndSetBack037(true),
      ['DELETE FROM audit_chain WHERE writer_id = ?', [chain]],
      ['DELETE FROM audit_writers WHERE writer_id = ?', [chain]],
      ["UPDATE chain_coverage SET since = ?, mac_key_id = ?, mac = ? WHERE records = 'payments'", [before.since, before.mac_key_id, before.mac]],
    );
    // 037 runs again and records the forged state: only the checkpoint its first run wrote outside the database shows it.
    gw = await TestGateway.start(database.url, { GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints, GERBANG_AUDIT_SCRUB_MS: '0' });
    const auth = { authorization: `Bearer ${await gw.token({ clientId, clientSecret: secret }).catch(() => 'none')}` };
    const answer = await gw.request('/v1/transfers/INV-LEGACY-1', { headers: auth });
    expect(answer.status, answer.text).to.equal(503);
    expect(answer.body.code).to.equal('STORE_UNAVAILABLE');
    expect(answer.text).to.contain(chain).and.to.not.contain('FORGED-REF');
    const report = await runCli(['audit', 'verify'], { GERBANG_DATABASE_URL: database.url, GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints });
    expect(report.code, report.stdout).to.equal(1);
    expect(report.stdout).to.contain(chain);
  });

  it('027 deleted from schema_migrations and a disabled client\'s row from before it was disabled written back: the next start refuses, naming 027, and the client still gets no token', async function () {
    this.timeout(60_000);
    const env = { GERBANG_DATABASE_URL: database.url, GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints };
    gw = await TestGateway.start(database.url, { GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints });
    const client = await gw.createClient({ accounts: [] });
    const active = await copyRow(gw.store.db, 'clients', 'id = ?', [client.clientId]);
    const disabled = await runCli(['client', 'disable', '--id', client.clientId], env);
    expect(disabled.code, disabled.stderr).to.equal(0);
    await writeBack(gw.store.db, 'clients', active, 'id = ?', [client.clientId]);
    await gw.close();
    gw = undefined;
    await inSql(['DELETE FROM schema_migrations WHERE version = 27', []]);
    await startRefused('027', 'already');
    gw = await TestGateway.start(database.url, { GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints, GERBANG_MIGRATE_ON_START: 'false' });
    const answer = await gw.request('/v1/auth/token', { method: 'POST', json: { client_id: client.clientId, client_secret: client.clientSecret } });
    expect(answer.status, answer.text).to.equal(500);
    expect(answer.body.code).to.equal('AUDIT_INTEGRITY');
    const report = await runCli(['audit', 'verify'], env);
    expect(report.code, report.stdout).to.equal(1);
    expect(report.stdout).to.contain(client.clientId);
  });
});

/** What upgradedLegacyDatabase made: the refused payment and console sign-in from before 024, and the payments' coverage row as it stood before 037. */
interface LegacyRecords {
  paymentId: number;
  entryId: number;
  coverageBefore037: Record<string, string | number | null>;
}

/**
 * The database at `url` as 023 held it (a client with `secret`, a payment the bank refused, with
 * its MAC and its answer sealed for its place as the gateway then wrote them, and a console
 * sign-in), then upgraded with the keys as an operator does (vouching for 037's chain in
 * `checkpoints` when given); an attacker read the coverage row as it stood before 037.
 */
async function upgradedLegacyDatabase(url: string, clientId: string, secret: string, checkpoints?: string): Promise<LegacyRecords> {
  const db = openDb(url);
  try {
    await migrateBelow(db, '024');
    await db.execute(
      "INSERT INTO clients (id, name, secret_hash, secret_version, allowed_origins, allowed_cidrs, status, created_at, updated_at) VALUES (?, 'ERP', ?, 1, '[]', '[\"127.0.0.0/8\",\"::1/128\"]', 'active', 1, 1)",
      [clientId, await scryptHash(secret)],
    );
    const fixed = { clientId, transactionId: 'INV-LEGACY-1', requestHash: 'h'.repeat(64), amount: '10.00', currency: 'IDR', createdAt: 1000 };
    const { keyId, mac } = paymentMac(TEST_AUDIT_KEYS, fixed);
    const { insertId: paymentId } = await db.execute(
      "INSERT INTO payments (client_id, transaction_id, request_hash, state, bank, bank_reference, amount, amount_minor, currency, http_status, created_at, updated_at, key_id, mac_key_id, mac) VALUES (?, ?, ?, 'FAILED', 'bca', NULL, ?, 1000, ?, 422, ?, ?, ?, ?, ?)",
      [fixed.clientId, fixed.transactionId, fixed.requestHash, fixed.amount, fixed.currency, fixed.createdAt, fixed.createdAt, TEST_AUDIT_KEYS.currentKeyId, keyId, mac],
    );
    const answer = JSON.stringify({ transactionId: 'INV-LEGACY-1', status: 'FAILED', bankReference: null, bankResponseCode: 'ESB-82-019', bankMessage: 'Refused' });
    const row = { id: paymentId, client_id: clientId, transaction_id: 'INV-LEGACY-1', created_at: 1000 };
    await db.execute('UPDATE payments SET result_json = ? WHERE id = ?', [new ValueSealer(TEST_AUDIT_KEYS).seal(answer, paymentPlace('result_json', row)), paymentId]);
    const { insertId: entryId } = await db.execute("INSERT INTO console_audit (at, username, action, target, detail, remote_ip) VALUES (1000, 'old.viewer', 'sign-in', NULL, NULL, '10.0.0.9')");
    await migrateBelow(db, '037', TEST_AUDIT_KEYS);
    const [coverageBefore037] = await db.query<Record<string, string | number | null>>("SELECT * FROM chain_coverage WHERE records = 'payments'");
    // As `gerbang migrate` does with GERBANG_AUDIT_CHECKPOINT_FILE: 037's chain vouched for outside the database.
    await migrate(db, { keys: TEST_AUDIT_KEYS, checkpoint: checkpoints === undefined ? undefined : checkpointer(checkpoints, TEST_AUDIT_KEYS, 'migrate') });
    return { paymentId, entryId, coverageBefore037 };
  } finally {
    await db.close();
  }
}

/** An scrypt hash of `secret` in the gateway's stored format, as anyone can make one: it needs no key. */
async function scryptHash(secret: string): Promise<string> {
  const { hashSecret } = await import('../../src/security/index.js');
  return hashSecret(secret);
}

async function openTestStore(url: string): Promise<Store> {
  const { openStore } = await import('../../src/store/index.js');
  return openStore(url, { auditKeys: TEST_AUDIT_KEYS });
}
