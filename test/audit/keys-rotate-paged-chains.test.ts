import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChainGuard } from '../../src/audit/index.js';
import { createStore, openDb, type Db, type SqlStatement, type SqlValue, type Transaction } from '../../src/store/index.js';
import { ringOf, TEST_AUDIT_KEY, testKeySpec } from '../support/audit-keys.js';
import { auditVerify, runCli } from '../support/cli.js';
import { forEachBackend, storedClient } from '../support/databases.js';
import { spawnGerbang } from '../support/processes.js';
import { recordExchanges } from '../support/recorded-exchanges.js';

/**
 * The real database, each transaction's UPDATEs of chain `chain()`'s links counted in `committedPages`
 * as it commits; the third such transaction fails before it writes (the process died there).
 */
function dyingAtThirdPage(real: Db, chain: () => string, committedPages: number[]): Db {
  const db = Object.create(real) as Db;
  const of = (statements: readonly SqlStatement[]) => statements.filter((s) => /^UPDATE audit_chain SET prev_hash/.test(s.sql) && s.params.includes(chain())).length;
  db.withTransaction = (fn) => {
    let updates = 0;
    return real
      .withTransaction((tx) => {
        const counted = Object.create(tx) as Transaction;
        const count = (statements: readonly SqlStatement[]) => {
          updates += of(statements);
          if (updates > 0 && committedPages.length === 2) throw new Error('the rotation died at its third page of the chain');
        };
        counted.execute = (sql: string, params?: SqlValue[]) => {
          count([{ sql, params: params ?? [] }]);
          return tx.execute(sql, params);
        };
        counted.executeAll = (statements) => {
          count(statements);
          return tx.executeAll(statements);
        };
        return fn(counted);
      })
      .then((result) => {
        if (updates > 0) committedPages.push(updates);
        return result;
      });
  };
  return db;
}

/**
 * `keys rotate` re-links an audit chain longer than one page a page a transaction (`--batch-size`
 * links each), never the chain whole in one transaction (its memory and, on Galera, its write-set
 * grew with the chain). A rotation that stops between two pages (the process dies: here the
 * transaction of the chain's third page fails, as a kill rolls it back) leaves a chain that
 * `audit verify` walks as INTACT across the rotation's mark, that a mark altered or removed in SQL
 * breaks, and that a second `keys rotate` finishes.
 */
forEachBackend('keys rotate over an audit chain longer than a page', (ctx) => {
  const NEW = testKeySpec(`k${randomBytes(3).toString('hex')}`);
  const NEW_ID = NEW.split(':')[0];
  const OLD_ID = TEST_AUDIT_KEY.split(':')[0];
  const PAGE = 4;
  const QUEUED = 30;
  let chain = '';
  let links = 0;
  /** audit_chain UPDATEs of `chain` in each transaction of the first rotation that committed. */
  const committedPages: number[] = [];
  let checkpoints = '';
  const env = (keys: string) => ({ GERBANG_DATABASE_URL: ctx.url(), GERBANG_AUDIT_KEYS: keys, GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints });

  const keysOfChain = async () =>
    (await ctx.store().db.query<{ key_id: string; n: number | string }>('SELECT key_id, COUNT(*) AS n FROM audit_chain WHERE writer_id = ? AND seq > 0 GROUP BY key_id ORDER BY key_id', [chain])).map((r) => ({
      key: r.key_id,
      n: Number(r.n),
    }));
  /** `mark` (a row as markOf read it) written in SQL at seq 0 of chain `writerId`. */
  const insertMark = (db: Db, writerId: string, mark: Record<string, unknown>) =>
    db.execute('INSERT INTO audit_chain (writer_id, seq, kind, record_id, recorded_at, prev_hash, hash, key_id) VALUES (?, 0, ?, ?, ?, ?, ?, ?)', [
      writerId,
      mark.kind as string,
      Number(mark.record_id),
      Number(mark.recorded_at),
      mark.prev_hash as string,
      mark.hash as string,
      mark.key_id as string,
    ]);
  const markOf = async () => (await ctx.store().db.query<Record<string, unknown>>('SELECT * FROM audit_chain WHERE writer_id = ? AND seq = 0', [chain]))[0];

  before(async function () {
    this.timeout(120_000);
    checkpoints = join(mkdtempSync(join(tmpdir(), 'gerbang-paged-rotate-')), 'audit-checkpoints.jsonl');
    const store = ctx.store();
    const now = Date.now();
    const clientId = await storedClient(store, now);
    await store.callbacks.setEndpoint(clientId, 'https://erp.example/callbacks', now);
    // One at a time, so each has its own link on one chain of this store.
    for (let i = 0; i < QUEUED; i += 1) await store.callbacks.enqueue({ clientId, transactionId: `INV-PAGED-${i}`, url: 'https://erp.example/callbacks', body: `{"n":${i}}` }, now);
    const [longest] = await store.db.query<{ writer_id: string; n: number | string }>('SELECT writer_id, COUNT(*) AS n FROM audit_chain GROUP BY writer_id ORDER BY COUNT(*) DESC LIMIT 1');
    chain = longest.writer_id;
    links = Number(longest.n);
    expect(links, 'the chain is several pages long').to.be.above(QUEUED);
    const rotating = createStore(dyingAtThirdPage(openDb(ctx.url()), () => chain, committedPages), { auditKeys: ringOf(TEST_AUDIT_KEY, NEW) });
    try {
      await rotating.keyRotation.rotate({ batchSize: PAGE });
    } finally {
      await rotating.close();
    }
  });

  it('re-links the chain a page a transaction, and stops between two pages with the links before its mark under the new key, those after under the old', async () => {
    expect(committedPages, 'each transaction of the chain re-links one page').to.deep.equal([PAGE, PAGE]);
    expect(await keysOfChain()).to.deep.equal([
      { key: NEW_ID, n: 2 * PAGE },
      { key: OLD_ID, n: links - 2 * PAGE },
    ].sort((a, b) => (a.key < b.key ? -1 : 1)));
    expect(await markOf()).to.include({ kind: 'relink', key_id: NEW_ID });
    expect(Number((await markOf()).record_id)).to.equal(2 * PAGE);
  });

  it('is walked INTACT by audit verify across the mark the rotation left', async function () {
    this.timeout(60_000);
    const verified = await auditVerify(env(`${TEST_AUDIT_KEY},${NEW}`));
    expect(verified.report.breaks).to.deep.equal([]);
    expect(verified.code, verified.text).to.equal(0);
    expect(verified.text).to.include('INTACT');
  });

  it('is proved whole across the mark by the chain guard a seal or a requeue asks (with both keys), and not provable naming the new key without it', async function () {
    this.timeout(60_000);
    const both = createStore(openDb(ctx.url()), { auditKeys: ringOf(TEST_AUDIT_KEY, NEW) });
    const oldOnly = createStore(openDb(ctx.url()), { auditKeys: ringOf(TEST_AUDIT_KEY) });
    try {
      expect(await new ChainGuard(both.audit, ringOf(TEST_AUDIT_KEY, NEW), checkpoints, both.db.description).problem(0)).to.equal(null);
      expect(await new ChainGuard(oldOnly.audit, ringOf(TEST_AUDIT_KEY), checkpoints, oldOnly.db.description).problem(0)).to.contain(`"${NEW_ID}"`).and.to.contain('give the console the key');
    } finally {
      await both.close();
      await oldOnly.close();
    }
  });

  it('is broken where the mark was when the mark is deleted or its MAC altered in SQL (fail closed)', async function () {
    this.timeout(60_000);
    const mark = await markOf();
    const db = openDb(ctx.url());
    try {
      await db.execute('UPDATE audit_chain SET hash = ? WHERE writer_id = ? AND seq = 0', [randomBytes(32).toString('hex'), chain]);
      const altered = await auditVerify(env(`${TEST_AUDIT_KEY},${NEW}`));
      expect(altered.code).to.equal(1);
      // The seam where the mark was, and the mark itself.
      expect(altered.report.breaks.map((b) => [b.writerId, b.problem])).to.deep.equal([[chain, 'reordered'], [chain, 'forged']]);
      expect(altered.report.breaks[0].detail).to.include(`seq ${2 * PAGE + 1}) does not follow the link before it`).and.include(`the mark a key rotation left at link ${2 * PAGE} does not hold`);
      await db.execute('DELETE FROM audit_chain WHERE writer_id = ? AND seq = 0', [chain]);
      const deleted = await auditVerify(env(`${TEST_AUDIT_KEY},${NEW}`));
      expect(deleted.code).to.equal(1);
      expect(deleted.report.breaks.map((b) => [b.writerId, b.problem])).to.deep.equal([[chain, 'reordered']]);
      // Put back as the rotation left it.
      await insertMark(db, mark.writer_id as string, mark);
    } finally {
      await db.close();
    }
  });

  it('names a row at seq 0 that is no mark holding where it stands: the mark copied to another chain, or its kind and time changed in SQL', async function () {
    this.timeout(60_000);
    // Another writer's chain, as long as this one's mark is far (its link there is another).
    const writer = createStore(openDb(ctx.url()), { auditKeys: ringOf(TEST_AUDIT_KEY, NEW) });
    let other = '';
    try {
      const clientId = await storedClient(writer, Date.now());
      for (let i = 0; i < 2 * PAGE + 2; i += 1) await writer.callbacks.enqueue({ clientId, transactionId: `INV-OTHER-${i}`, url: 'https://erp.example/callbacks', body: '{}' }, Date.now());
      [{ writer_id: other }] = await writer.db.query<{ writer_id: string }>('SELECT writer_id FROM audit_chain WHERE writer_id <> ? GROUP BY writer_id ORDER BY COUNT(*) DESC LIMIT 1', [chain]);
    } finally {
      await writer.close();
    }
    const mark = await markOf();
    const db = openDb(ctx.url());
    try {
      await insertMark(db, other, mark);
      const copied = await auditVerify(env(`${TEST_AUDIT_KEY},${NEW}`));
      expect(copied.code, copied.text).to.equal(1);
      expect(copied.report.breaks.map((b) => [b.writerId, b.problem])).to.deep.equal([[other, 'forged']]);
      expect(copied.report.breaks[0].detail).to.include(`the row at seq 0 of chain ${other}`).and.include(`the mark a key rotation left at link ${2 * PAGE} does not hold`);
      await db.execute('DELETE FROM audit_chain WHERE writer_id = ? AND seq = 0', [other]);

      await db.execute("UPDATE audit_chain SET kind = 'open', recorded_at = 1 WHERE writer_id = ? AND seq = 0", [chain]);
      const rekinded = await auditVerify(env(`${TEST_AUDIT_KEY},${NEW}`));
      expect(rekinded.code, rekinded.text).to.equal(1);
      const row = rekinded.report.breaks.filter((b) => b.detail.startsWith('the row at seq 0'));
      expect(row.map((b) => [b.writerId, b.problem])).to.deep.equal([[chain, 'forged']]);
      expect(row[0].detail).to.include(`the row at seq 0 of chain ${chain} (kind open)`).and.include('is of kind "open", not a mark\'s');
      // Put back as the rotation left it.
      await db.execute('UPDATE audit_chain SET kind = ?, recorded_at = ? WHERE writer_id = ? AND seq = 0', [mark.kind as string, Number(mark.recorded_at), chain]);
    } finally {
      await db.close();
    }
    const restored = await auditVerify(env(`${TEST_AUDIT_KEY},${NEW}`));
    expect(restored.report.breaks).to.deep.equal([]);
  });

  it('is named unfinished by keys rotate run again while a link after its mark is altered in SQL, which exits 1 saying to run audit verify, and leaves the mark', async function () {
    this.timeout(60_000);
    const at = 2 * PAGE + 2;
    const db = openDb(ctx.url());
    try {
      const [{ hash }] = await db.query<{ hash: string }>('SELECT hash FROM audit_chain WHERE writer_id = ? AND seq = ?', [chain, at]);
      await db.execute('UPDATE audit_chain SET hash = ? WHERE writer_id = ? AND seq = ?', [randomBytes(32).toString('hex'), chain, at]);
      try {
        const broken = await runCli(['keys', 'rotate', '--batch-size', String(PAGE)], env(`${TEST_AUDIT_KEY},${NEW}`));
        expect(broken.code, broken.stdout).to.equal(1);
        expect(broken.stderr).to.include(`chain ${chain} is re-linked up to its link ${2 * PAGE} under key ${NEW_ID}`).and.include(`seq ${at}`).and.include('run `gerbang audit verify`, which names the break');
        expect(Number((await markOf()).record_id), 'the mark stays where it was').to.equal(2 * PAGE);
      } finally {
        await db.execute('UPDATE audit_chain SET hash = ? WHERE writer_id = ? AND seq = ?', [hash, chain, at]);
      }
    } finally {
      await db.close();
    }
  });

  it('is named unfinished by keys rotate run again without the old key, which exits 1 saying to put that key back, and leaves the chain as it stands', async function () {
    this.timeout(60_000);
    const alone = await runCli(['keys', 'rotate', '--batch-size', String(PAGE)], env(NEW));
    expect(alone.code, alone.stdout).to.equal(1);
    expect(alone.stderr).to.include(`chain ${chain} is re-linked up to its link ${2 * PAGE} under key ${NEW_ID}`);
    expect(alone.stderr).to.include(`a record is signed with key "${OLD_ID}", which is not configured`).and.include('put that key back in GERBANG_AUDIT_KEYS');
    expect(alone.stderr).to.include('1 audit chain(s) are not re-linked whole').and.include('Retire no key before this exits 0');
    expect(Number((await markOf()).record_id), 'the mark stays where it was').to.equal(2 * PAGE);
    expect(await keysOfChain()).to.deep.equal([
      { key: NEW_ID, n: 2 * PAGE },
      { key: OLD_ID, n: links - 2 * PAGE },
    ].sort((a, b) => (a.key < b.key ? -1 : 1)));
  });

  it('is finished by keys rotate run again, and verifies INTACT with the new key alone', async function () {
    this.timeout(60_000);
    const again = await runCli(['keys', 'rotate', '--batch-size', String(PAGE)], env(`${TEST_AUDIT_KEY},${NEW}`));
    expect(again.code, again.stderr).to.equal(0);
    expect(await keysOfChain()).to.deep.equal([{ key: NEW_ID, n: links }]);
    expect(await markOf()).to.equal(undefined);
    const verified = await auditVerify(env(NEW));
    expect(verified.report.breaks).to.deep.equal([]);
    expect(verified.code, verified.text).to.equal(0);
    expect(verified.text).to.include('INTACT');
  });
});

/**
 * The real `keys rotate` killed (SIGKILL) while it re-links a chain a link a transaction: the
 * database rolls back the transaction it had open, and what it committed before stands.
 */
forEachBackend('keys rotate killed while it re-links an audit chain', (ctx) => {
  const NEW = testKeySpec(`k${randomBytes(3).toString('hex')}`);
  const OLD_ID = TEST_AUDIT_KEY.split(':')[0];
  const QUEUED = 150;

  it('leaves a chain audit verify walks INTACT with both keys, and keys rotate run again finishes it (INTACT with the new key alone)', async function () {
    this.timeout(300_000);
    const checkpoints = join(mkdtempSync(join(tmpdir(), 'gerbang-killed-rotate-')), 'audit-checkpoints.jsonl');
    const env = (keys: string) => ({ GERBANG_DATABASE_URL: ctx.url(), GERBANG_AUDIT_KEYS: keys, GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints, GERBANG_LOG_LEVEL: 'silent' });
    const store = ctx.store();
    const now = Date.now();
    const clientId = await storedClient(store, now);
    await store.callbacks.setEndpoint(clientId, 'https://erp.example/callbacks', now);
    for (let i = 0; i < QUEUED; i += 1) await store.callbacks.enqueue({ clientId, transactionId: `INV-KILLED-${i}`, url: 'https://erp.example/callbacks', body: `{"n":${i}}` }, now);
    const [{ writer_id: chain }] = await store.db.query<{ writer_id: string }>('SELECT writer_id FROM audit_chain GROUP BY writer_id ORDER BY COUNT(*) DESC LIMIT 1');
    const marked = async () => (await store.db.query('SELECT seq FROM audit_chain WHERE writer_id = ? AND seq = 0', [chain])).length > 0;

    const rotation = spawnGerbang(['keys', 'rotate', '--batch-size', '1'], env(`${TEST_AUDIT_KEY},${NEW}`));
    // Killed as soon as the chain's first page has committed (its mark is there).
    let ended = false;
    void rotation.exited.then(() => (ended = true));
    while (!ended && !(await marked())) await new Promise((resolve) => setTimeout(resolve, 2));
    const endedBeforeKill = ended;
    rotation.child.kill('SIGKILL');
    await rotation.exited;
    expect(endedBeforeKill, `keys rotate ended before it was killed: ${rotation.output()}`).to.equal(false);
    const [{ n: old }] = await store.db.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM audit_chain WHERE writer_id = ? AND seq > 0 AND key_id = ?', [chain, OLD_ID]);
    expect(await marked(), 'the chain is half re-linked').to.equal(true);
    expect(Number(old), 'links are left under the old key').to.be.above(0);

    const between = await auditVerify(env(`${TEST_AUDIT_KEY},${NEW}`));
    expect(between.report.breaks).to.deep.equal([]);
    expect(between.code, between.text).to.equal(0);

    const again = await runCli(['keys', 'rotate', '--batch-size', '50'], env(`${TEST_AUDIT_KEY},${NEW}`));
    expect(again.code, again.stderr).to.equal(0);
    expect(await marked()).to.equal(false);
    const after = await auditVerify(env(NEW));
    expect(after.report.breaks).to.deep.equal([]);
    expect(after.code, after.text).to.equal(0);
    expect(after.text).to.include('INTACT');
  });
});

/**
 * `audit export` while a rotation has stopped half-way through a chain of exchanges: the link after
 * the rotation's mark follows the MAC the link at the mark had, which the export's check of each
 * exchange's place in its chain crosses where the mark holds (as `audit verify` does), and only there.
 */
forEachBackend('audit export of a chain keys rotate stopped half-way through', (ctx) => {
  const NEW = testKeySpec(`k${randomBytes(3).toString('hex')}`);
  const PAGE = 4;
  let chain = '';
  let checkpoints = '';
  const env = (keys: string) => ({ GERBANG_DATABASE_URL: ctx.url(), GERBANG_AUDIT_KEYS: keys, GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints, GERBANG_LOG_LEVEL: 'silent' });
  const exported = async () => {
    const result = await runCli(['audit', 'export', '--format', 'jsonl'], env(`${TEST_AUDIT_KEY},${NEW}`));
    const rows = result.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { id: number; outcome: string; integrityProblem?: string | null });
    return { ...result, rows };
  };

  before(async function () {
    this.timeout(120_000);
    checkpoints = join(mkdtempSync(join(tmpdir(), 'gerbang-paged-export-')), 'audit-checkpoints.jsonl');
    const links = await recordExchanges(ctx.store(), 20);
    chain = links[0].writerId;
    const rotating = createStore(dyingAtThirdPage(openDb(ctx.url()), () => chain, []), { auditKeys: ringOf(TEST_AUDIT_KEY, NEW) });
    try {
      await rotating.keyRotation.rotate({ batchSize: PAGE });
    } finally {
      await rotating.close();
    }
    const [mark] = await ctx.store().db.query<{ record_id: number | string }>('SELECT record_id FROM audit_chain WHERE writer_id = ? AND seq = 0', [chain]);
    expect(Number(mark.record_id), 'the rotation stopped after two pages of the chain').to.equal(2 * PAGE);
  });

  it('exports every exchange as recorded, none marked CHANGED_OUTSIDE_GERBANG, and exits 0', async function () {
    this.timeout(60_000);
    const result = await exported();
    expect(result.code, result.stderr).to.equal(0);
    expect(result.rows).to.have.length(20);
    expect(result.rows.filter((row) => Boolean(row.integrityProblem) || row.outcome === 'CHANGED_OUTSIDE_GERBANG')).to.deep.equal([]);
  });

  it('marks the exchange after the seam when the mark is altered in SQL (crossed only where the mark holds), and exits 1', async function () {
    this.timeout(60_000);
    const db = openDb(ctx.url());
    try {
      await db.execute('UPDATE audit_chain SET hash = ? WHERE writer_id = ? AND seq = 0', [randomBytes(32).toString('hex'), chain]);
    } finally {
      await db.close();
    }
    const result = await exported();
    expect(result.code).to.equal(1);
    const marked = result.rows.filter((row) => Boolean(row.integrityProblem));
    expect(marked.map((row) => row.outcome)).to.deep.equal(['CHANGED_OUTSIDE_GERBANG']);
    expect(marked[0].integrityProblem).to.include(`(chain ${chain} seq ${2 * PAGE + 1}) does not follow the link before it`).and.include(`the mark a key rotation left at link ${2 * PAGE} does not hold`);
  });
});
