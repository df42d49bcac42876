import { expect } from 'chai';
import { createConnection } from 'mysql2/promise';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChainGuard, RollbackWatch, verifyAudit, vouchingOptions } from '../../src/audit/index.js';
import type { BankSimulator } from '../../src/banks/simulator/index.js';
import { requeueCallback } from '../../src/domain/callbacks/index.js';
import { provedLeftBehind } from '../../src/domain/transfers/left-behind.js';
import { openDb, openStore, type Store, type StoreOptions } from '../../src/store/index.js';
import { SqlPaymentSearchRepository } from '../../src/store/repositories/index.js';
import { accountTag } from '../../src/store/repositories/payment-repository.js';
import { TEST_AUDIT_KEYS } from '../support/audit-keys.js';
import type { GaleraCluster } from '../support/galera/galera-cluster.js';
import { sharedGaleraCluster } from '../support/galera/shared-cluster.js';
import { sampleTransfer, type HttpAnswer, type TestClient, TestGateway } from '../support/gateway-harness.js';
import { captureLogs } from '../support/log-capture.js';
import { startTestBank } from '../support/test-bank.js';

/** What the ERP got for one payment: every answer in order (the last one is final). */
interface Payment {
  transactionId: string;
  answers: number[];
  final: HttpAnswer;
}

/**
 * The ERP's client: sends the payment and, as the API guide asks, sends the same request again
 * after a 503 (Retry-After), a 409 IDEMPOTENCY_IN_FLIGHT or a broken connection, until it gets
 * a final answer. The pause is shortened to 100 ms to keep the suite quick.
 */
async function pay(gateway: TestGateway, token: string, body: Record<string, unknown>): Promise<Payment> {
  const answers: number[] = [];
  let lastBody: unknown;
  for (let attempt = 0; attempt < 100; attempt++) {
    let answer: HttpAnswer;
    try {
      answer = await gateway.request('/v1/transfers', { json: body, headers: { authorization: `Bearer ${token}` } });
    } catch {
      answers.push(0);
      await new Promise((resolve) => setTimeout(resolve, 100));
      continue;
    }
    answers.push(answer.status);
    lastBody = answer.body;
    const again = answer.status === 503 || (answer.status === 409 && answer.body?.code === 'IDEMPOTENCY_IN_FLIGHT');
    if (!again) return { transactionId: String(body.transactionId), answers, final: answer };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no final answer for ${String(body.transactionId)}: ${answers.join(",")} LAST=${JSON.stringify(lastBody)}`);
}

/** Runs `tasks` with at most `limit` at a time. */
async function inParallel<T>(limit: number, tasks: Array<() => Promise<T>>): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < tasks.length) {
        const i = next++;
        results[i] = await tasks[i]();
      }
    }),
  );
  return results;
}

const HOUR = 3_600_000;
const DAY = 86_400_000;

/** Jakarta midnight starting the day `days` days before today's: a closed day the consoles seal. */
function closedDay(days: number): number {
  return Date.now() - ((Date.now() + 7 * HOUR) % DAY) - days * DAY;
}

/** A company account of one test alone (its seals are its own). */
function newAccount(): string {
  return `03${parseInt(randomBytes(4).toString('hex'), 16).toString().padStart(10, '0').slice(0, 10)}`;
}

/**
 * Two gateways, each on its own node of a three-node MariaDB Galera cluster (test/support/galera),
 * one bank, and a finance console's store on each node: what a user who outgrows one database
 * server runs. Galera reports a write that lost certification to a concurrent write on another
 * node as a deadlock at COMMIT.
 */
describe('Two gateways on a three-node Galera cluster', function () {
  this.timeout(300_000);
  let cluster: GaleraCluster;
  let simulator: BankSimulator;
  let gateways: TestGateway[] = [];
  /** The store of a finance console on each node (day seals are written on its audit chain, #16). */
  let consoles: Store[] = [];
  let database = '';

  before(async function () {
    cluster = await sharedGaleraCluster(this);
    database = await cluster.createDatabase();
    const bank = await startTestBank(['127.0.0.1', '127.0.0.2']);
    simulator = bank.simulator;
    const env = (egress: string) => bank.env({ GERBANG_EGRESS_LOCAL_ADDRESS: egress, GERBANG_RESOLVER_INTERVAL_MS: '0' });
    // Gateway A on node 1; gateway B on node 2, with node 3 as the next host to use if node 2 dies.
    gateways = [await TestGateway.start(cluster.url(0, database), env('127.0.0.1'))];
    gateways.push(await TestGateway.start(cluster.url([1, 2], database), env('127.0.0.2')));
    consoles = await Promise.all(cluster.nodes.map((node) => openStore(cluster.url(node.index, database), { auditKeys: TEST_AUDIT_KEYS })));
  });

  after(async () => {
    for (const gateway of gateways) await gateway.close();
    for (const store of consoles) await store.close().catch(() => undefined);
    await simulator?.close();
    if (cluster?.nodes[0].running) await cluster.sql(0, `DROP DATABASE IF EXISTS ${database}`).catch(() => undefined);
  });

  /** Bank executions per ERP transactionId (the bank's ReferenceID). */
  const executions = (): Map<string, number> => {
    const counts = new Map<string, number>();
    for (const call of simulator.calls) {
      if (call.method !== 'POST' || call.path !== '/banking/corporates/transfers' || call.status !== 200) continue;
      const reference = (JSON.parse(call.body) as { ReferenceID: string }).ReferenceID;
      counts.set(reference, (counts.get(reference) ?? 0) + 1);
    }
    return counts;
  };

  async function clientTokens(): Promise<string[]> {
    const client: TestClient = await gateways[0].createClient();
    return Promise.all(gateways.map((gateway) => gateway.token(client)));
  }

  it('answers 100 unique transfers spread over both gateways, 10 at a time, without a single 5xx; the bank executes each once', async () => {
    const tokens = await clientTokens();
    const bodies = Array.from({ length: 100 }, () => sampleTransfer());
    const payments = await inParallel(
      10,
      bodies.map((body, i) => () => pay(gateways[i % 2], tokens[i % 2], body)),
    );
    const fiveHundreds = payments.flatMap((p) => p.answers).filter((status) => status >= 500);
    expect(fiveHundreds, 'answers 5xx').to.deep.equal([]);
    expect(payments.map((p) => p.final.status)).to.deep.equal(bodies.map(() => 201));
    const executed = executions();
    for (const body of bodies) expect(executed.get(String(body.transactionId)), String(body.transactionId)).to.equal(1);
  });

  it('turns 5 × 20 concurrent duplicates over both gateways into one execution each, and never answers 500', async () => {
    const tokens = await clientTokens();
    const bodies = Array.from({ length: 5 }, () => sampleTransfer({ remark: 'SIM DELAY' }));
    const first = await Promise.all(
      bodies.flatMap((body) =>
        Array.from({ length: 20 }, (_, i) => gateways[i % 2].request('/v1/transfers', { json: body, headers: { authorization: `Bearer ${tokens[i % 2]}` } })),
      ),
    );
    const statuses = first.map((answer) => answer.status);
    expect(statuses.filter((status) => status >= 500 && status !== 503), 'answers 5xx other than 503').to.deep.equal([]);
    // A request whose certification conflicts outlast the retries is told 503 with Retry-After,
    // nothing sent (the rule): rare, a few of the 100 at most.
    expect(statuses.filter((status) => status === 503).length, 'answers 503').to.be.at.most(5);
    for (const answer of first) {
      expect([201, 409, 503]).to.include(answer.status);
      if (answer.status === 503) expect(Number(answer.headers['retry-after']), 'Retry-After on 503').to.be.greaterThan(0);
    }
    // Each transactionId got at most one 201; the others were told it is in flight. One whose
    // only sender was told 503 is resent, as the ERP does, and paid then.
    for (const [k, body] of bodies.entries()) {
      const mine = first.slice(k * 20, k * 20 + 20);
      const paid = mine.filter((answer) => answer.status === 201).length;
      expect(paid, String(body.transactionId)).to.be.at.most(1);
      if (paid === 0) {
        const resent = await gateways[0].request('/v1/transfers', { json: body, headers: { authorization: `Bearer ${tokens[0]}` } });
        expect(resent.status, resent.text).to.equal(201);
      }
    }
    const executed = executions();
    for (const body of bodies) expect(executed.get(String(body.transactionId)), String(body.transactionId)).to.equal(1);
  });

  /** `count` payments of `account` reserved on the day starting at `start`, through node 1 (by `store`, a console's by default) as the gateway writes them. */
  async function paid(account: string, start: number, count: number, store = consoles[0]): Promise<number[]> {
    const who = `seal-${randomBytes(3).toString('hex')}`;
    const ids: number[] = [];
    for (let i = 0; i < count; i++) {
      const p = await store.payments.reserve({ clientId: who, transactionId: `S-${i}`, requestHash: 'a'.repeat(64), amount: `${1000 + i}.00`, currency: 'IDR', sourceAccount: account }, start + (i + 1) * HOUR);
      ids.push(p.id);
    }
    return ids;
  }

  /** Waits until `node` has applied every write the cluster committed so far (Galera applies them after COMMIT returns on their node). */
  async function caughtUp(node: number): Promise<void> {
    await cluster.sql(node, 'SET STATEMENT wsrep_sync_wait = 1 FOR SELECT 1');
  }

  /** A reconciliation as a console process that has never proved these rows reads it through `node`: no kept proofs, writes no seal. */
  async function freshRead(node: number, account: string, from: number, to: number) {
    await caughtUp(node);
    const search = new SqlPaymentSearchRepository(consoles[node].db, TEST_AUDIT_KEYS);
    const found = await search.fromAccount(account, from, to);
    await search.close();
    return { rows: found.rows.map((p) => [p.transactionId, p.state, p.integrityProblem ?? null]), opened: search.rowsProvedOneByOne };
  }

  async function sealsOf(node: number, account: string): Promise<Array<{ day: number; seal: string; mac: string }>> {
    const tag = accountTag(TEST_AUDIT_KEYS, account);
    return cluster.sql(node, `SELECT day, seal, mac FROM ${database}.reconciliation_seals WHERE account_tag = '${tag}' ORDER BY day`);
  }

  it('seals the same closed days from consoles on two nodes at once, by their sweeps and by their pages: one seal a day, every conflict retried, each day read through the third node by its seal', async () => {
    const logged = captureLogs('warn');
    try {
      const [swept, paged] = [Array.from({ length: 6 }, newAccount), Array.from({ length: 3 }, newAccount)];
      const [from, to] = [closedDay(4), closedDay(1)];
      for (const account of swept) for (const days of [4, 3, 2]) await paid(account, closedDay(days), 2);
      // Both sweeps walk the account tags in the same order: they prove and seal the same days at the same time.
      const sweeps = await Promise.all([0, 1].map((node) => consoles[node].paymentSearch.sealClosedDays(Date.now())));
      // Each day sealed once: the loser of a conflict ran again, found the winner's seal and left it.
      expect(sweeps[0].sealed + sweeps[1].sealed, 'seals written by the two sweeps').to.equal(swept.length * 3);
      for (const account of swept) {
        expect((await sealsOf(2, account)).length, 'seals of an account').to.equal(3);
        expect(await freshRead(2, account, from, to)).to.deep.include({ opened: 0 });
      }
      // The pages of two clerks reading the same accounts at once, one on each console.
      for (const account of paged) for (const days of [4, 3, 2]) await paid(account, closedDay(days), 2);
      // Node 2 has applied those payments (a page read through a node behind reads fewer rows, and seals what it read).
      await caughtUp(1);
      const pages = await Promise.all(paged.flatMap((account) => [0, 1].map((node) => consoles[node].paymentSearch.fromAccount(account, from, to))));
      expect(pages.map((page) => page.rows.length)).to.deep.equal(pages.map(() => 6));
      for (const account of paged) {
        expect((await sealsOf(2, account)).length, 'seals of an account').to.equal(3);
        const read = await freshRead(2, account, from, to);
        expect(read.opened).to.equal(0);
        expect(read.rows.filter((row) => row[2] !== null)).to.deep.equal([]);
      }
      const failures = logged.lines.filter((line) => /seals not written|kept losing|seal sweep failed/.test(line));
      expect(failures, 'seal writes that failed').to.deep.equal([]);
    } finally {
      logged.stop();
    }
  });

  it('marks a sealed day\'s payment changed in SQL on one node when read through another, and a sweep on a third renews only the seal of the day that settled honestly', async () => {
    const [honest, altered, start] = [newAccount(), newAccount(), closedDay(5)];
    const [, settled] = await paid(honest, start, 2);
    const [, changed] = await paid(altered, start, 2);
    for (const account of [honest, altered]) await consoles[0].paymentSearch.fromAccount(account, start, start + DAY);
    const [honestBefore] = await sealsOf(0, honest);
    const [alteredBefore] = await sealsOf(0, altered);
    // One payment settles later through node 1; the other is changed in SQL on node 1 as an attacker would.
    await consoles[0].payments.update(settled, { state: 'FAILED', bank: 'bca' }, Date.now());
    await cluster.sql(0, `UPDATE ${database}.payments SET amount = '7000000.00', amount_minor = 700000000 WHERE id = ${changed}`);
    try {
      const marked = await freshRead(2, altered, start, start + DAY);
      expect(marked.opened).to.equal(2);
      expect(marked.rows[1][2]).to.contain(`payments id ${changed}`).and.to.contain('was altered');
      await caughtUp(1);
      const swept = await consoles[1].paymentSearch.sealClosedDays(Date.now());
      expect((await sealsOf(2, honest))[0].seal).not.to.equal(honestBefore.seal);
      expect(await freshRead(2, honest, start, start + DAY)).to.deep.equal({
        rows: [
          ['S-0', 'RECEIVED', null],
          ['S-1', 'FAILED', null],
        ],
        opened: 0,
      });
      expect(await sealsOf(2, altered)).to.deep.equal([alteredBefore]);
      expect(await freshRead(2, altered, start, start + DAY)).to.deep.include({ opened: 2 });
      expect(swept.renewed, 'stale seals renewed').to.be.at.least(1);
    } finally {
      // The attacker's change undone: the later cases run gateways whose audit scrub holds payments on an altered row.
      await cluster.sql(0, `UPDATE ${database}.payments SET amount = '1001.00', amount_minor = 100100 WHERE id = ${changed}`);
    }
  });

  it('commits nothing of a chain session\'s transaction that a conflicting write of another node aborts while its last statements and COMMIT run', async () => {
    // A record (its unique key) and, in the text ending in COMMIT, a statement long enough for the
    // other node's write to arrive (the gateway's are short: the race took one run in three), then its link.
    await cluster.sql(0, `CREATE TABLE ${database}.aborted_records (id BIGINT AUTO_INCREMENT PRIMARY KEY, k VARCHAR(32) NOT NULL UNIQUE) ENGINE=InnoDB`);
    await cluster.sql(0, `CREATE TABLE ${database}.aborted_links (id BIGINT AUTO_INCREMENT PRIMARY KEY, k VARCHAR(32) NOT NULL) ENGINE=InnoDB`);
    const db = openDb(cluster.url(0, database));
    try {
      const k = randomBytes(6).toString('hex');
      const session = db.session();
      const written = session
        .run(async (tx) => {
          await tx.execute(`INSERT INTO aborted_records (k) VALUES (?)`, [k]);
          await tx.commitWith([
            { sql: 'DO SLEEP(1)', params: [] },
            { sql: 'INSERT INTO aborted_links (k) VALUES (?)', params: [k] },
          ]);
        })
        .then(
          () => 'committed',
          (error: Error) => error.name,
        );
      await new Promise((resolve) => setTimeout(resolve, 300));
      // The same key written through node 2: node 1 aborts the session's transaction for it.
      await cluster.sql(1, `INSERT INTO ${database}.aborted_records (k) VALUES ('${k}')`);
      // Run again after the conflict, the record's key is taken: refused, nothing of it written.
      expect(await written).to.equal('UniqueViolationError');
      await caughtUp(0);
      expect(await cluster.sql(0, `SELECT k FROM ${database}.aborted_links WHERE k = '${k}'`), 'a link committed without its record').to.deep.equal([]);
    } finally {
      await db.close();
    }
  });

  /**
   * A store on node `node` that names the database as every process of the cluster does (one URL
   * for all, through a load balancer that spreads connections over the nodes): its description,
   * which the checkpoint lines and head files are kept by, the same whichever node it reaches
   * (here through the node's own socket, which the description leaves out).
   */
  function sameNamed(node: number, options: StoreOptions = {}): Promise<Store> {
    return openStore(`${cluster.url(0, database)}?socketPath=${join(cluster.nodes[node].dir, 'mysqld.sock')}`, { auditKeys: TEST_AUDIT_KEYS, ...options });
  }

  /**
   * Node `node` applies nothing the other nodes commit from now until `resume` (FLUSH TABLES WITH
   * READ LOCK on a Galera node desyncs it and pauses its applier, as a backup does; the others go
   * on committing). `waiting`: a read there waits for the node to catch up (wsrep_sync_wait), or a
   * write waits for the lock.
   */
  async function behind(node: number): Promise<{ waiting(): Promise<boolean>; resume(): Promise<void> }> {
    const connection = await createConnection({ socketPath: join(cluster.nodes[node].dir, 'mysqld.sock'), user: 'root' });
    await connection.query('FLUSH TABLES WITH READ LOCK');
    let resumed: Promise<void> | undefined;
    return {
      waiting: async () => {
        const [rows] = await connection.query(
          "SELECT ID FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() AND (INFO LIKE '%wsrep_sync_wait%' OR STATE LIKE '%lock%')",
        );
        return (rows as unknown[]).length > 0;
      },
      resume: () => (resumed ??= connection.query('UNLOCK TABLES').then(() => connection.end())),
    };
  }

  /** What `work` settles to, the node behind (`lag`) resumed once something there waits on it (`waiting`), or once `work` settled without waiting. */
  async function resumedWhenWaiting<T>(lag: Awaited<ReturnType<typeof behind>>, work: Promise<T>): Promise<T> {
    let settled = false;
    work.then(
      () => (settled = true),
      () => (settled = true),
    );
    while (!settled && !(await lag.waiting())) await new Promise((resolve) => setTimeout(resolve, 50));
    await lag.resume();
    return work;
  }

  /** `payer` links one more payment (now, a new account) and vouches for it in its head file: whether node 2 lacks the link then (is behind). */
  async function linkedAhead(payer: Store): Promise<boolean> {
    const before = new Map(payer.audit.ownHeads().map((h) => [h.writerId, h.seq]));
    await paid(newAccount(), Date.now() - HOUR, 1, payer);
    const grown = payer.audit.ownHeads().find((h) => h.seq > (before.get(h.writerId) ?? 0));
    if (!grown) throw new Error('no chain of the payer grew');
    const [row] = await cluster.sql<{ last_seq: number }>(1, `SELECT last_seq FROM ${database}.audit_writers WHERE writer_id = '${grown.writerId}'`);
    return Number(row?.last_seq ?? 0) < grown.seq;
  }

  /**
   * Runs `fn` with a process on node 1 that vouches for its chains in a checkpoint file of its own
   * (its head file at every commit, as a gateway does: `payer`) and a process on node 2 that names
   * the database the same way (`reader`); both closed after.
   */
  async function besideVouching(fn: (payer: Store, reader: Store, checkpoints: string) => Promise<void>): Promise<void> {
    const checkpoints = join(mkdtempSync(join(tmpdir(), 'gerbang-galera-heads-')), 'audit-checkpoints.jsonl');
    const payer = await sameNamed(0, vouchingOptions(checkpoints, TEST_AUDIT_KEYS, 'gateway on node 1', Date.now));
    const reader = await sameNamed(1);
    try {
      expect(reader.db.description).to.equal(payer.db.description);
      await fn(payer, reader, checkpoints);
    } finally {
      await reader.close();
      await payer.close();
    }
  }

  /** What `work` on node 2 settles to, begun once node 2 is behind the link `payer` vouched for last (linkedAhead); node 2 resumed as resumedWhenWaiting does. */
  async function withNode2Behind<T>(payer: Store, work: () => Promise<T>): Promise<T> {
    const lag = await behind(1);
    try {
      expect(await linkedAhead(payer), 'node 2 behind').to.equal(true);
      return await resumedWhenWaiting(lag, work());
    } finally {
      await lag.resume();
    }
  }

  it('holds nothing on a node behind the node whose process vouched for a later link in its head file: the rollback watch confirms a finding once the node applied it', () =>
    besideVouching(async (payer, gateway, checkpoints) => {
      const watch = new RollbackWatch(gateway.audit, TEST_AUDIT_KEYS, checkpoints, gateway.db.description, 0);
      await withNode2Behind(payer, () => watch.check());
      expect(watch.held).to.equal(null);
    }));

  it('proves a reservation left behind on a node behind the node whose process vouched for a later link in its head file: the proof waits for the node to apply it, no chain taken for cut', () =>
    besideVouching(async (payer, prover, checkpoints) => {
      const reservation = await payer.payments.reserve({ clientId: 'erp-behind', transactionId: `B-${randomBytes(4).toString('hex')}`, requestHash: 'b'.repeat(64), amount: '1000.00', currency: 'IDR', sourceAccount: newAccount() }, Date.now() - 60_000);
      await caughtUp(1);
      const watch = new RollbackWatch(prover.audit, TEST_AUDIT_KEYS, checkpoints, prover.db.description, 0);
      const lag = await behind(1);
      try {
        let lagged = false;
        // The watch compares (nothing behind yet); then node 1's process links another payment and
        // vouches for it, before the proof reads the checkpoints and begins its snapshot on node 2.
        const checkpointsNow = async () => {
          await watch.check();
          lagged = await linkedAhead(payer);
          return watch.held;
        };
        const deps = { payments: prover.payments, clock: Date.now, checkpoints: checkpointsNow, vouched: () => watch.vouched() };
        const proved = await resumedWhenWaiting(lag, provedLeftBehind(deps, reservation, 'taken over').catch((error: { where?: string }) => error.where));
        expect(lagged, 'node 2 behind').to.equal(true);
        expect(proved).to.equal(true);
      } finally {
        await lag.resume();
      }
    }));

  it('seals a closed day read on a node behind the node whose process vouched for a later link in its head file: the chain guard waits for the node to apply it, the day is not unprovable', () =>
    besideVouching(async (payer, reader, checkpoints) => {
      // The console's guard (console-server.ts): the checkpoints read before the seal's snapshot begins.
      const guard = new ChainGuard(reader.audit, TEST_AUDIT_KEYS, checkpoints, reader.db.description);
      reader.paymentSearch.guardSeals(() => {
        const vouched = guard.vouched();
        return (since, maxLinks, q) => vouched(since, maxLinks, reader.audit.readingOn(q));
      });
      const [account, start] = [newAccount(), closedDay(3)];
      await paid(account, start, 2, payer);
      await caughtUp(1);
      const page = await withNode2Behind(payer, () => reader.paymentSearch.fromAccount(account, start, start + DAY));
      expect(page.rows.length).to.equal(2);
      expect(page.unprovable, JSON.stringify(page.unprovable)).to.equal(undefined);
      expect((await sealsOf(2, account)).length, 'seals of the day').to.equal(1);
    }));

  it('queues a notification again from a node behind the node whose process vouched for a later link in its head file: the requeue\'s walk waits for the node to apply it, no gap taken for one', () =>
    besideVouching(async (payer, operator, checkpoints) => {
      // A payment that failed, its notification queued then deleted in SQL, its client's endpoint and an admin: written through node 1.
      const clientId = `erp-${randomBytes(3).toString('hex')}`;
      const payment = await payer.payments.reserve({ clientId, transactionId: 'R-1', requestHash: 'c'.repeat(64), amount: '1000.00', currency: 'IDR', sourceAccount: newAccount() }, Date.now() - 60_000);
      await payer.payments.update(payment.id, { state: 'FAILED', bank: 'bca' }, Date.now());
      await payer.callbacks.setEndpoint(clientId, 'https://erp.example/notify', Date.now());
      await payer.callbacks.enqueue({ clientId, transactionId: 'R-1', url: 'https://erp.example/notify', body: '{}' }, Date.now());
      await cluster.sql(0, `DELETE FROM ${database}.callback_deliveries WHERE client_id = '${clientId}'`);
      const admin = `ops-${randomBytes(3).toString('hex')}`;
      await payer.consoleUsers.create({ username: admin, passwordHash: 'x', role: 'admin' }, Date.now());
      await caughtUp(1);
      const guard = new ChainGuard(operator.audit, TEST_AUDIT_KEYS, checkpoints, operator.db.description);
      let lag: Awaited<ReturnType<typeof behind>> | undefined;
      let lagged = false;
      // Once the requeue's record is open (written on node 2): node 2 falls behind while node 1's
      // process links another payment and vouches for it, before the requeue reads the checkpoints.
      const callbacks = Object.create(operator.callbacks) as Store['callbacks'];
      callbacks.endpointOf = async (client) => {
        lag = await behind(1);
        lagged = await linkedAhead(payer);
        return operator.callbacks.endpointOf(client);
      };
      const deps = { payments: operator.payments, callbacks, consoleUsers: operator.consoleUsers, audit: operator.audit, chains: () => guard.vouchedProblem(), clock: Date.now };
      const requeue = requeueCallback(deps, { clientId, transactionId: 'R-1', admin, reason: 'the ERP never got it' });
      try {
        while (lag === undefined) await new Promise((resolve) => setTimeout(resolve, 20));
        const outcome = await resumedWhenWaiting(lag, requeue);
        expect(lagged, 'node 2 behind').to.equal(true);
        expect(outcome, JSON.stringify(outcome)).to.deep.include({ requeued: true });
      } finally {
        await lag?.resume();
      }
    }));

  it('verifies the audit from a node behind the node whose process vouched for a later link in its head file: the walk waits for the node to apply it, intact', () =>
    besideVouching(async (payer, operator, checkpoints) => {
      await paid(newAccount(), Date.now() - HOUR, 1, payer);
      await caughtUp(1);
      const verified = await withNode2Behind(payer, () => verifyAudit(operator, TEST_AUDIT_KEYS, checkpoints));
      expect(verified.breaks.filter((b) => b.writerId !== null).map((b) => b.detail)).to.deep.equal([]);
    }));

  it('keeps paying when the database node of one gateway is killed mid-run: nothing lost, nothing paid twice', async () => {
    const tokens = await clientTokens();
    const bodies = Array.from({ length: 60 }, () => sampleTransfer());
    let started = 0;
    let killed: Promise<void> | undefined;
    const payments = await inParallel(
      6,
      bodies.map((body, i) => async () => {
        // Node 2 (gateway B's) is SIGKILLed once a third of the payments are under way.
        if (++started === 20) killed = cluster.killNode(1);
        return pay(gateways[i % 2], tokens[i % 2], body);
      }),
    );
    await killed;
    expect(cluster.nodes[1].running, 'node 2 was killed').to.equal(false);
    // Every payment got a final answer, each a success; none executed twice, none lost.
    expect(payments.map((p) => p.final.status)).to.deep.equal(bodies.map(() => 201));
    const executed = executions();
    for (const body of bodies) expect(executed.get(String(body.transactionId)), String(body.transactionId)).to.equal(1);
    // At most the requests in flight on the dying node were told 503 (with Retry-After) and resent.
    const failures = payments.flatMap((p) => p.answers).filter((status) => status >= 500 && status !== 503);
    expect(failures, 'answers 5xx other than 503').to.deep.equal([]);
    // Gateway B now works on node 3; its payments are in the cluster, answer and bank leg recorded.
    // Records written while a node was away sit in the gateway's journal on disk and are written
    // back within the journal's replay interval (5 s): waited for, up to four intervals.
    const complete = async (): Promise<Set<string>> => {
      const rows = await cluster.sql<{ transaction_id: string; legs: number }>(
        0,
        // A completed exchange's answer is its own row (audit_completions); one recorded whole keeps it in the exchange.
        `SELECT COALESCE(c.transaction_id, e.transaction_id) AS transaction_id, (SELECT COUNT(*) FROM ${database}.audit_bank_calls b WHERE b.exchange_id = e.id) AS legs ` +
          `FROM ${database}.audit_exchanges e LEFT JOIN ${database}.audit_completions c ON c.exchange_id = e.id ` +
          `WHERE e.path = '/v1/transfers' AND COALESCE(c.status_code, e.status_code) = 201`,
      );
      return new Set(rows.filter((row) => Number(row.legs) >= 1).map((row) => row.transaction_id));
    };
    let audited = await complete();
    for (let wait = 0; wait < 40 && bodies.some((body) => !audited.has(String(body.transactionId))); wait++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      audited = await complete();
    }
    for (const body of bodies) expect(audited.has(String(body.transactionId)), `audit of ${String(body.transactionId)}`).to.equal(true);
    // Nothing lost from the audit either: every chain walks whole from its first link to its head,
    // each link's record there, read through both nodes left (a break names its chain and link;
    // the payment altered in SQL by the test above is a record of its own, not a chain's).
    for (const node of [0, 2]) {
      const report = await consoles[node].audit.verify();
      expect(report.breaks.filter((b) => b.writerId !== null).map((b) => b.detail), `audit verify through node ${node + 1}`).to.deep.equal([]);
    }
  });
});
