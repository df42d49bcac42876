import { expect } from 'chai';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendCheckpoint } from '../../src/audit/index.js';
import { createStore, migrate, openDb, openStore, type Db, type Store } from '../../src/store/index.js';
import { GENESIS } from '../../src/store/repositories/audit-chain.js';
import { TEST_AUDIT_KEY, TEST_AUDIT_KEYS } from '../support/audit-keys.js';
import { runCli } from '../support/cli.js';
import { createMariaDbDatabase, createSqliteDatabase, forEachBackend } from '../support/databases.js';
import { writeAfterRead } from '../support/counting-db.js';
import { attackerDb } from '../support/later-events.js';
import { done, exchange } from '../support/recorded-exchanges.js';
import { refusedWrites } from '../support/sql-rows.js';

/**
 * Two writers (two processes' stores) on one database:
 *   writer A: #1 opened, its bank call, #1 completed; #2 recorded whole; #3 recorded whole
 *   writer B: #4 recorded whole; #5 recorded whole
 * Returns the exchange ids in that order.
 */
async function writeAudit(url: string): Promise<number[]> {
  const [a, b] = [await openStore(url, { auditKeys: TEST_AUDIT_KEYS }), await openStore(url, { auditKeys: TEST_AUDIT_KEYS })];
  try {
    const first = await a.audit.open(exchange(1));
    await a.audit.recordBankCall({
      exchangeId: first, requestId: 'req-bank', partner: 'bca', operation: 'transfer', method: 'POST', url: 'https://bank/transfers',
      requestHeaders: { 'x-bca-key': '[REDACTED]' }, requestBody: '{"Amount":"1.00"}', statusCode: 200, responseBody: '{"Status":"Success"}',
      errorCode: null, startedAt: 1_500, durationMs: 40,
    });
    await a.audit.complete(first, done(1));
    const ids = [first];
    for (const [store, n] of [[a, 2], [a, 3], [b, 4], [b, 5]] as [Store, number][]) ids.push(await store.audit.record(exchange(n), done(n)));
    return ids;
  } finally {
    await a.close();
    await b.close();
  }
}

async function verify(url: string) {
  return runCli(['audit', 'verify'], { GERBANG_DATABASE_URL: url, GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY });
}

forEachBackend('gerbang audit verify', (ctx) => {
  let url = '';
  let drop: () => Promise<void> = async () => undefined;
  let db: Db;
  let ids: number[] = [];

  beforeEach(async function () {
    const database = ctx.backend === 'sqlite' ? createSqliteDatabase() : await createMariaDbDatabase(this);
    ({ url, drop } = database);
    db = openDb(url);
    await migrate(db);
    ids = await writeAudit(url);
  });

  afterEach(async () => {
    await db?.close();
    await drop();
  });

  it('exits 0 and says INTACT when nothing was touched', async () => {
    const result = await verify(url);
    expect(result.stdout).to.contain('audit verify: INTACT (2 chains, 7 links, 5 exchanges, 1 bank calls, ');
    expect(result.code).to.equal(0);
    const json = await runCli(['audit', 'verify', '--format', 'json'], { GERBANG_DATABASE_URL: url, GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY });
    const report = JSON.parse(json.stdout);
    expect(report.breaks).to.deep.equal([]);
    // The first run's result is a record of that run's own chain (one link): its head is verified too.
    expect(report.heads.map((h: { seq: number }) => h.seq).sort()).to.deep.equal([1, 2, 5]);
    expect(report.heads[0].hash).to.match(/^[0-9a-f]{64}$/);
    const store = await openStore(url, { auditKeys: TEST_AUDIT_KEYS });
    try {
      // The last run (--format json) verified the first run's link too.
      expect(await store.auditVerifications.latest(), 'the console shows the last run').to.include({ ok: true, links: 8, breaks: 0, firstBreak: null });
    } finally {
      await store.close();
    }
  });

  it('stays INTACT when one process writes many records at once (on MySQL over several chains)', async () => {
    const store = await openStore(url, { auditKeys: TEST_AUDIT_KEYS });
    try {
      await Promise.all(Array.from({ length: 24 }, async (_, i) => {
        const id = await store.audit.open(exchange(100 + i));
        await store.audit.complete(id, done(100 + i));
      }));
    } finally {
      await store.close();
    }
    const result = await verify(url);
    expect(result.code, result.stdout).to.equal(0);
    const chains = Number(/INTACT \((\d+) chains, 55 links, 29 exchanges/.exec(result.stdout)?.[1]);
    expect(chains).to.be.at.least(ctx.backend === 'mariadb' ? 3 : 2);
  });

  it('names a record whose clear column was changed by SQL UPDATE, exit 1', async () => {
    await db.execute('UPDATE audit_exchanges SET amount = ? WHERE id = ?', ['999999.00', ids[2]]);
    const result = await verify(url);
    expect(result.code).to.equal(1);
    expect(result.stdout).to.contain('BROKEN').and.to.match(new RegExp(`ALTERED: audit_exchanges id ${ids[2]} \\(chain \\S+ seq 5, record\\) was altered`));
    const store = await openStore(url, { auditKeys: TEST_AUDIT_KEYS });
    try {
      expect((await store.auditVerifications.latest())?.firstBreak).to.match(new RegExp(`^ALTERED: audit_exchanges id ${ids[2]} `));
    } finally {
      await store.close();
    }
  });

  it('names a record whose sealed body was replaced by another valid ciphertext (moved from another row), exit 1', async () => {
    const [other] = await db.query<{ response_body: string }>('SELECT response_body FROM audit_exchanges WHERE id = ?', [ids[4]]);
    await db.execute('UPDATE audit_exchanges SET response_body = ? WHERE id = ?', [other.response_body, ids[3]]);
    const result = await verify(url);
    expect(result.code).to.equal(1);
    expect(result.stdout).to.match(new RegExp(`ALTERED: audit_exchanges id ${ids[3]} \\(chain \\S+ seq 1\\) was altered: audit_exchanges\\.response_body of row \\S+ is not a value sealed for it`));
  });

  it('names a bank call whose ciphertext was tampered with, exit 1', async () => {
    const tail = ctx.backend === 'sqlite' ? "substr(request_body, 1, length(request_body) - 2) || 'AA'" : "CONCAT(SUBSTR(request_body, 1, LENGTH(request_body) - 2), 'AA')";
    await db.execute(`UPDATE audit_bank_calls SET request_body = ${tail}`);
    const result = await verify(url);
    expect(result.code).to.equal(1);
    expect(result.stdout).to.match(/ALTERED: audit_bank_calls id \d+ \(chain \S+ seq 2\) was altered: audit_bank_calls\.request_body of row \S+ is not a value sealed for it/);
  });

  it('names a record deleted by SQL DELETE, exit 1', async () => {
    await db.execute('DELETE FROM audit_exchanges WHERE id = ?', [ids[1]]);
    const result = await verify(url);
    expect(result.code).to.equal(1);
    expect(result.stdout).to.match(new RegExp(`DELETED: audit_exchanges id ${ids[1]} \\(chain \\S+ seq 4, record\\) was deleted`));
  });

  it('notices a record deleted together with its chain link (a gap in the chain), exit 1', async () => {
    const [link] = await db.query<{ writer_id: string; seq: number }>("SELECT writer_id, seq FROM audit_chain WHERE kind = 'record' AND record_id = ?", [ids[1]]);
    await db.execute('DELETE FROM audit_chain WHERE writer_id = ? AND seq = ?', [link.writer_id, link.seq]);
    await db.execute('DELETE FROM audit_exchanges WHERE id = ?', [ids[1]]);
    const result = await verify(url);
    expect(result.code).to.equal(1);
    expect(result.stdout).to.contain(`DELETED: link 4 of chain ${link.writer_id} is missing (the next one is 5)`);
  });

  it('notices the newest record deleted with its link (a chain shorter than its head), exit 1', async () => {
    const [link] = await db.query<{ writer_id: string }>("SELECT writer_id FROM audit_chain WHERE kind = 'record' AND record_id = ?", [ids[4]]);
    await db.execute('DELETE FROM audit_chain WHERE writer_id = ? AND seq = 2', [link.writer_id]);
    await db.execute('DELETE FROM audit_exchanges WHERE id = ?', [ids[4]]);
    const result = await verify(url);
    expect(result.code).to.equal(1);
    expect(result.stdout).to.contain(`TRUNCATED: chain ${link.writer_id} ends at link 1 but its head records link 2`);
  });

  it('names both of two records swapped by SQL UPDATE of their ids (every break of a chain, not only its first), exit 1', async () => {
    await db.execute('UPDATE audit_exchanges SET id = ? WHERE id = ?', [999_999, ids[1]]);
    await db.execute('UPDATE audit_exchanges SET id = ? WHERE id = ?', [ids[1], ids[2]]);
    await db.execute('UPDATE audit_exchanges SET id = ? WHERE id = ?', [ids[2], 999_999]);
    const result = await verify(url);
    expect(result.code).to.equal(1);
    expect(result.stdout).to.match(new RegExp(`ALTERED: audit_exchanges id ${ids[1]} \\(chain \\S+ seq 4, record\\) was altered`));
    expect(result.stdout, 'the walk goes on past the first break').to.match(new RegExp(`ALTERED: audit_exchanges id ${ids[2]} \\(chain \\S+ seq 5, record\\) was altered`));
  });

  it('notices two chain links swapped (reordered), exit 1', async () => {
    const [link] = await db.query<{ writer_id: string }>("SELECT writer_id FROM audit_chain WHERE kind = 'record' AND record_id = ?", [ids[1]]);
    await db.execute('UPDATE audit_chain SET seq = 99 WHERE writer_id = ? AND seq = 4', [link.writer_id]);
    await db.execute('UPDATE audit_chain SET seq = 4 WHERE writer_id = ? AND seq = 5', [link.writer_id]);
    await db.execute('UPDATE audit_chain SET seq = 5 WHERE writer_id = ? AND seq = 99', [link.writer_id]);
    const result = await verify(url);
    expect(result.code).to.equal(1);
    expect(result.stdout).to.match(new RegExp(`REORDERED: audit_exchanges id ${ids[2]} \\(chain \\S+ seq 4\\) does not follow the link before it`));
  });

  it('names a record inserted directly, outside any chain, exit 1', async () => {
    await db.execute(
      "INSERT INTO audit_exchanges (request_id, received_at, remote_ip, method, path, outcome, request_headers) VALUES ('forged', 1, '1.2.3.4', 'GET', '/', 'completed', '{}')",
    );
    const result = await verify(url);
    expect(result.code).to.equal(1);
    expect(result.stdout).to.match(/UNCHAINED: 1 exchanges without an open or record link \(inserted directly\), first ids: \d+/);
  });

  describe('against its checkpoints', () => {
    let checkpoints = '';
    const checked = () => runCli(['audit', 'verify'], { GERBANG_DATABASE_URL: url, GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints });
    const intact = async () => {
      const result = await checked();
      expect(result.code, result.stdout + result.stderr).to.equal(0);
      expect(result.stdout).to.contain('INTACT');
    };

    beforeEach(async () => {
      checkpoints = join(mkdtempSync(join(tmpdir(), 'gerbang-verify-')), 'audit-checkpoints.jsonl');
      await intact();
    });

    /**
     * A CLI process whose first audit write the database refuses (a trigger on audit_exchanges):
     * its chain's head row is written at link 0 before the append that fails, and no link follows.
     * That chain's writer id.
     */
    async function emptyChain(): Promise<string> {
      const before = new Set((await db.query<{ writer_id: string }>('SELECT writer_id FROM audit_writers')).map((w) => w.writer_id));
      const drop = await refusedWrites(db, 'INSERT', 'audit_exchanges', "NEW.method = 'CALLBACK-REQUEUE'");
      try {
        const refused = await runCli(['callback', 'requeue', '--client', 'gbc_any', '--transaction-id', 'INV-1', '--admin', 'ops', '--reason', 'test'], { GERBANG_DATABASE_URL: url, GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints });
        expect(refused.code, refused.stdout + refused.stderr).to.equal(1);
        expect(refused.stderr).to.contain('its audit record could not be written').and.to.contain('refused by a trigger');
      } finally {
        await drop();
      }
      const added = (await db.query<{ writer_id: string; last_seq: number | string }>('SELECT writer_id, last_seq FROM audit_writers')).filter((w) => !before.has(w.writer_id));
      expect(added.map((w) => Number(w.last_seq)), 'one head row, at link 0').to.deep.equal([0]);
      expect(await db.query('SELECT seq FROM audit_chain WHERE writer_id = ?', [added[0].writer_id]), 'no link').to.deep.equal([]);
      return added[0].writer_id;
    }

    /** Every head the checkpoint lines vouch for, as `writer@seq`. */
    const checkpointedHeads = () =>
      readFileSync(checkpoints, 'utf8').trim().split('\n').flatMap((line) => (JSON.parse(line) as { heads: { writerId: string; seq: number }[] }).heads.map((h) => `${h.writerId}@${h.seq}`));

    it('stays INTACT, verified again and again, after a CLI process whose first audit write the database refused (a chain with its head row at link 0 and no link), and vouches for no link 0', async () => {
      const empty = await emptyChain();
      await intact();
      await intact();
      expect(checkpointedHeads(), 'a head at link 0 vouches for nothing').to.not.include(`${empty}@0`);
    });

    it('takes a checkpoint of a chain at link 0 (as verify wrote them before) for nothing vouched: INTACT with its empty chain\'s head row there, or deleted', async () => {
      const empty = await emptyChain();
      const [head] = await db.query<{ last_hash: string }>('SELECT last_hash FROM audit_writers WHERE writer_id = ?', [empty]);
      appendCheckpoint(checkpoints, TEST_AUDIT_KEYS, { store: db.description, at: Date.now(), by: 'verify', heads: [{ writerId: empty, seq: 0, hash: head.last_hash }] });
      await intact();
      await db.execute('DELETE FROM audit_writers WHERE writer_id = ?', [empty]);
      await intact();
    });

    it('still names a chain checkpointed at a link whose links were all deleted with their records, its head row set back to link 0, or deleted', async () => {
      // Writer A's chain: #1 opened, its bank call, #1 completed, #2 and #3 recorded (5 links).
      const [chain] = await db.query<{ writer_id: string; last_seq: number | string }>(
        "SELECT w.writer_id, w.last_seq FROM audit_writers w JOIN audit_chain c ON c.writer_id = w.writer_id WHERE c.kind = 'open' AND c.record_id = ?",
        [ids[0]],
      );
      expect(Number(chain.last_seq)).to.equal(5);
      const mine = ids.slice(0, 3);
      const marks = mine.map(() => '?').join(', ');
      for (const sql of [`DELETE FROM audit_bank_calls WHERE exchange_id IN (${marks})`, `DELETE FROM audit_completions WHERE exchange_id IN (${marks})`, `DELETE FROM audit_exchanges WHERE id IN (${marks})`]) await db.execute(sql, mine);
      await db.execute('DELETE FROM audit_chain WHERE writer_id = ?', [chain.writer_id]);
      await db.execute('UPDATE audit_writers SET last_seq = 0, last_hash = ? WHERE writer_id = ?', [GENESIS, chain.writer_id]);
      let result = await checked();
      expect(result.code, result.stdout).to.equal(1);
      expect(result.stdout).to.contain(`ROLLED-BACK: chain ${chain.writer_id} ends at link 0 but was checkpointed at link 5`);
      await db.execute('DELETE FROM audit_writers WHERE writer_id = ?', [chain.writer_id]);
      result = await checked();
      expect(result.code, result.stdout).to.equal(1);
      expect(result.stdout).to.contain(`VANISHED: chain ${chain.writer_id}, checkpointed at link 5 on `);
    });
  });
});

forEachBackend('audit verify while the gateway moves a payment on', (ctx) => {
  it('does not call a payment forged when it moved on between the read of its row and of its last event', async function () {
    this.timeout(60_000);
    const database = ctx.backend === 'sqlite' ? createSqliteDatabase() : await createMariaDbDatabase(this);
    const store = await openStore(database.url, { auditKeys: TEST_AUDIT_KEYS });
    // The gateway: another process's connection (SQLite: one of its own, as verify's snapshot holds this one's).
    const gateway = createStore(attackerDb({ ...ctx, url: () => database.url }), { auditKeys: TEST_AUDIT_KEYS });
    let verifier: Store | undefined;
    try {
      await migrate(store.db, { keys: TEST_AUDIT_KEYS });
      const payment = await store.payments.reserve({ clientId: 'gbc_busy', transactionId: 'INV-BUSY-1', requestHash: 'h'.repeat(64), amount: '10.00', currency: 'IDR' }, Date.now());
      // The interleaving, made certain: verify has read the page of payments, and the gateway
      // appends the payment's next event before verify reads the last events.
      let moved = false;
      verifier = createStore(
        writeAfterRead(openDb(database.url), /FROM payments WHERE id > \? ORDER BY id LIMIT/, async () => {
          moved = true;
          expect(await gateway.payments.update(payment.id, { bankReference: 'REF-BUSY-1' }, Date.now())).to.equal(true);
        }),
        { auditKeys: TEST_AUDIT_KEYS },
      );
      const report = await verifier.audit.verify();
      expect(moved, 'the payment moved on during the verification').to.equal(true);
      expect(report.breaks.map((b) => b.detail)).to.deep.equal([]);
      // A state written in SQL without its event is still named.
      await store.db.execute("UPDATE payments SET bank_reference = 'FORGED-REF' WHERE id = ?", [payment.id]);
      expect((await store.audit.verify()).breaks.map((b) => b.detail).join('\n')).to.contain(`payments id ${payment.id}`);
    } finally {
      await verifier?.close();
      await gateway.close();
      await store.close();
      await database.drop();
    }
  });
});
