import { expect } from 'chai';
import { parse } from 'csv-parse/sync';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_AUDIT_KEY } from '../support/audit-keys.js';
import { runCli } from '../support/cli.js';
import { copyRow, insertRow } from '../support/sql-rows.js';
import { forEachBackend } from '../support/databases.js';
import { sampleTransfer, TestGateway } from '../support/gateway-harness.js';

/**
 * `gerbang audit export` against the attacker of docs/security/threat-model.md: one who writes the
 * database in SQL but holds no key. Every exported exchange is held to its chain links; one that
 * does not hold is still exported, marked, with none of its values presented as the gateway's.
 */

interface Exported {
  id: number;
  requestId: string | null;
  method: string | null;
  path: string | null;
  transactionId: string | null;
  amount: string | null;
  outcome: string | null;
  statusCode: number | null;
  requestBody: string | null;
  bankCalls: { id: number; statusCode: number | null; integrityProblem?: string }[];
  integrityProblem: string | null;
}

forEachBackend('gerbang audit export of records changed in the database', (ctx) => {
  const env = () => ({ GERBANG_DATABASE_URL: ctx.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY });
  const exportJsonl = async () => {
    const result = await runCli(['audit', 'export', '--format', 'jsonl'], env());
    return { ...result, records: result.stdout.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Exported) };
  };
  const exportCsv = async () => {
    const result = await runCli(['audit', 'export', '--format', 'csv'], env());
    return { ...result, rows: parse(result.stdout, { columns: true, bom: true }) as Record<string, string>[] };
  };
  /** The paid transfer's exchange, a refused token request (recorded whole) and the transfer's first bank call, as the database holds them. */
  let transfer: { id: number; requestId: string };
  let token: { id: number };
  let bankCall: { id: number };
  /** Two more paid transfers, each with its bank call: one whose bank call row is deleted, one whose row and chain link are. */
  let unlinked: { id: number; call: number };
  let cut: { id: number; call: number };
  let count: number;

  before(async function () {
    this.timeout(60_000);
    const gw = await TestGateway.start(ctx.url());
    try {
      const client = await gw.createClient();
      const res = await gw.request('/v1/transfers', { json: sampleTransfer(), headers: { authorization: `Bearer ${await gw.token(client)}` } });
      expect(res.status, res.text).to.equal(201);
      const refused = await gw.request('/v1/auth/token', { json: { client_id: client.clientId, client_secret: 'wrong' } });
      expect(refused.status).to.equal(401);
      for (let i = 0; i < 2; i += 1) {
        const more = await gw.request('/v1/transfers', { json: sampleTransfer(), headers: { authorization: `Bearer ${await gw.token(client)}` } });
        expect(more.status, more.text).to.equal(201);
      }
    } finally {
      await gw.close();
    }
    const db = ctx.store().db;
    const paidTransfers = await db.query<{ id: number | string; request_id: string }>("SELECT id, request_id FROM audit_exchanges WHERE method = 'POST' AND path = '/v1/transfers' ORDER BY id");
    const [paid] = paidTransfers;
    transfer = { id: Number(paid.id), requestId: paid.request_id };
    const callOf = async (exchangeId: number) => Number((await db.query<{ id: number | string }>('SELECT id FROM audit_bank_calls WHERE exchange_id = ? ORDER BY id LIMIT 1', [exchangeId]))[0].id);
    unlinked = { id: Number(paidTransfers[1].id), call: await callOf(Number(paidTransfers[1].id)) };
    cut = { id: Number(paidTransfers[2].id), call: await callOf(Number(paidTransfers[2].id)) };
    const [refused] = await db.query<{ id: number | string }>("SELECT id FROM audit_exchanges WHERE path = '/v1/auth/token' AND status_code = 401");
    token = { id: Number(refused.id) };
    const [call] = await db.query<{ id: number | string }>('SELECT id FROM audit_bank_calls WHERE exchange_id = ? ORDER BY id LIMIT 1', [transfer.id]);
    bankCall = { id: Number(call.id) };
    [{ n: count }] = (await db.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM audit_exchanges')).map((r) => ({ n: Number(r.n) }));
  });

  it('exports every honest record unmarked, exit 0', async () => {
    const jsonl = await exportJsonl();
    expect(jsonl.code, jsonl.stderr).to.equal(0);
    expect(jsonl.stderr).to.equal('');
    expect(jsonl.records).to.have.length(count);
    const paid = jsonl.records.find((r) => r.id === transfer.id)!;
    expect(paid).to.include({ statusCode: 201, outcome: 'completed' });
    expect(paid.bankCalls.map((c) => c.id)).to.include(bankCall.id);
    for (const record of jsonl.records) expect(record.integrityProblem, `exchange ${record.id}`).to.equal(null);
    const csv = await exportCsv();
    expect(csv.code, csv.stderr).to.equal(0);
    expect(csv.rows).to.have.length(count);
    for (const row of csv.rows) expect(row.integrityProblem).to.equal('');
  });

  it("marks a transfer whose amount and status were changed in its completion, its values emptied, exit 1 naming it", async () => {
    await ctx.store().db.execute("UPDATE audit_completions SET amount = '9999999.00', status_code = 200 WHERE exchange_id = ?", [transfer.id]);
    const jsonl = await exportJsonl();
    expect(jsonl.code).to.equal(1);
    expect(jsonl.records, 'still exported: the count stays whole').to.have.length(count);
    const marked = jsonl.records.find((r) => r.id === transfer.id)!;
    expect(marked.integrityProblem).to.contain(`audit_completions id ${transfer.id} was altered or fabricated`);
    expect(marked).to.include({ outcome: 'CHANGED_OUTSIDE_GERBANG', amount: null, statusCode: null, transactionId: null, requestBody: null, requestId: transfer.requestId });
    expect(jsonl.stderr).to.contain(`exchange id ${transfer.id}: audit_completions id ${transfer.id} was altered`);

    const csv = await exportCsv();
    expect(csv.code).to.equal(1);
    const row = csv.rows.find((r) => r.id === String(transfer.id))!;
    expect(row).to.include({ outcome: 'CHANGED_OUTSIDE_GERBANG', amount: '', statusCode: '', transactionId: '' });
    expect(row.integrityProblem).to.contain('was altered or fabricated');
    for (const cells of csv.rows) for (const cell of Object.values(cells)) expect(cell, 'no cell starts a formula').to.not.match(/^[=+\-@\t\r]/);
  });

  it('marks an exchange recorded whole whose status was changed in its row (401 made 200), exit 1', async () => {
    await ctx.store().db.execute('UPDATE audit_exchanges SET status_code = 200 WHERE id = ?', [token.id]);
    const jsonl = await exportJsonl();
    expect(jsonl.code).to.equal(1);
    const marked = jsonl.records.find((r) => r.id === token.id)!;
    expect(marked).to.include({ outcome: 'CHANGED_OUTSIDE_GERBANG', statusCode: null });
    expect(marked.integrityProblem).to.contain(`audit_exchanges id ${token.id} was altered or fabricated`);
    expect(jsonl.stderr).to.contain(`exchange id ${token.id}:`);
  });

  it('marks a bank call whose answer status was changed in SQL, the exchange and its other values kept', async () => {
    const call = bankCall;
    await ctx.store().db.execute('UPDATE audit_bank_calls SET status_code = 500 WHERE id = ?', [call.id]);
    const jsonl = await exportJsonl();
    expect(jsonl.code).to.equal(1);
    const exchange = jsonl.records.find((r) => r.id === transfer.id)!;
    const leg = exchange.bankCalls.find((c) => c.id === call.id)!;
    expect(leg.statusCode).to.equal(null);
    expect(leg.integrityProblem).to.contain(`audit_bank_calls id ${call.id} was altered or fabricated`);
    expect(exchange.integrityProblem).to.contain(`audit_bank_calls id ${call.id}`);
  });

  it('marks an exchange whose sealed request body was replaced by another row\'s, instead of failing the export', async () => {
    const db = ctx.store().db;
    const [issued] = await db.query<{ id: number | string }>("SELECT id FROM audit_exchanges WHERE path = '/v1/auth/token' AND status_code = 200");
    const id = Number(issued.id);
    const [paid] = await db.query<{ request_body: string }>('SELECT request_body FROM audit_exchanges WHERE id = ?', [transfer.id]);
    await db.execute('UPDATE audit_exchanges SET request_body = ? WHERE id = ?', [paid.request_body, id]);
    const jsonl = await exportJsonl();
    expect(jsonl.code).to.equal(1);
    expect(jsonl.records).to.have.length(count);
    const marked = jsonl.records.find((r) => r.id === id)!;
    expect(marked).to.include({ outcome: 'CHANGED_OUTSIDE_GERBANG', requestBody: null });
    expect(marked.integrityProblem).to.match(new RegExp(`^audit_exchanges id ${id} was altered: audit_exchanges\\.request_body .* is not a value sealed for it`));
  });

  it('marks an exchange inserted in SQL (a copy of the paid transfer, its sealed values included) as having no chain link, exit 1', async () => {
    const db = ctx.store().db;
    const columns = 'request_id, received_at, completed_at, remote_ip, origin, method, path, client_id, transaction_id, amount, outcome, status_code, error_code, request_headers, request_body, response_body, key_id';
    await db.execute(`INSERT INTO audit_exchanges (${columns}) SELECT ${columns} FROM audit_exchanges WHERE id = ?`, [transfer.id]);
    await db.execute("UPDATE audit_exchanges SET outcome = 'completed', status_code = 201 WHERE id = (SELECT id FROM (SELECT MAX(id) AS id FROM audit_exchanges) newest)");
    const [{ id }] = await db.query<{ id: number | string }>('SELECT MAX(id) AS id FROM audit_exchanges');
    const jsonl = await exportJsonl();
    expect(jsonl.code).to.equal(1);
    expect(jsonl.records).to.have.length(count + 1);
    const inserted = jsonl.records.find((r) => r.id === Number(id))!;
    expect(inserted).to.include({ outcome: 'CHANGED_OUTSIDE_GERBANG', statusCode: null, amount: null });
    expect(inserted.integrityProblem).to.equal(`audit_exchanges id ${id} has no chain link: it was not written by Gerbang (inserted in the database)`);
    expect(jsonl.stderr).to.contain(`exchange id ${id}: audit_exchanges id ${id} has no chain link`);
  });

  it('marks a transfer whose bank call was deleted in SQL (its chain link left), naming the bank call, exit 1, the count whole', async () => {
    expect((await exportJsonl()).records.find((r) => r.id === unlinked.id)!.integrityProblem, 'untouched so far').to.equal(null);
    await ctx.store().db.execute('DELETE FROM audit_bank_calls WHERE id = ?', [unlinked.call]);
    const jsonl = await exportJsonl();
    expect(jsonl.code).to.equal(1);
    expect(jsonl.records).to.have.length(count + 1);
    const marked = jsonl.records.find((r) => r.id === unlinked.id)!;
    expect(marked).to.include({ outcome: 'CHANGED_OUTSIDE_GERBANG', statusCode: null, amount: null });
    expect(marked.bankCalls, 'the bank call is gone').to.deep.equal([]);
    expect(marked.integrityProblem).to.match(new RegExp(`audit_bank_calls id ${unlinked.call} \\(chain \\S+ seq \\d+, bank_call\\) was deleted`));
    expect(jsonl.stderr).to.contain(`exchange id ${unlinked.id}: `).and.to.contain(`audit_bank_calls id ${unlinked.call} (chain`);
    const csv = await exportCsv();
    expect(csv.code).to.equal(1);
    expect(csv.rows.find((r) => r.id === String(unlinked.id))).to.include({ outcome: 'CHANGED_OUTSIDE_GERBANG', bankCallCount: '0' });
  });

  it('marks a transfer whose bank call was deleted in SQL with its chain link, naming the gap in its chain, exit 1', async () => {
    const db = ctx.store().db;
    expect((await exportJsonl()).records.find((r) => r.id === cut.id)!.integrityProblem, 'untouched so far').to.equal(null);
    const [link] = await db.query<{ writer_id: string; seq: number | string }>("SELECT writer_id, seq FROM audit_chain WHERE kind = 'bank_call' AND record_id = ?", [cut.call]);
    await db.execute('DELETE FROM audit_bank_calls WHERE id = ?', [cut.call]);
    await db.execute('DELETE FROM audit_chain WHERE writer_id = ? AND seq = ?', [link.writer_id, link.seq]);
    const jsonl = await exportJsonl();
    expect(jsonl.code).to.equal(1);
    const marked = jsonl.records.find((r) => r.id === cut.id)!;
    expect(marked.outcome).to.equal('CHANGED_OUTSIDE_GERBANG');
    expect(marked.integrityProblem).to.contain(`link ${Number(link.seq)} of chain ${link.writer_id} is missing (the next one is ${Number(link.seq) + 1}): a record and its link were deleted`);
    expect(jsonl.stderr).to.contain(`exchange id ${cut.id}: `).and.to.contain(`link ${Number(link.seq)} of chain ${link.writer_id} is missing`);
  });
});

forEachBackend('gerbang audit export of a bank call on a chain that holds none of the page\'s records', (ctx) => {
  const env = () => ({ GERBANG_DATABASE_URL: ctx.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY });
  /** The export of the exchanges received in the millisecond `at` (one page: the exchange, and any received with it). */
  const exportAt = async (at: number) => {
    const result = await runCli(['audit', 'export', '--format', 'jsonl', '--from', new Date(at).toISOString(), '--to', new Date(at + 1).toISOString()], env());
    return { ...result, records: result.stdout.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Exported) };
  };
  /**
   * Balance inquiries whose bank call is linked on a chain holding no other record of the page they
   * are exported on. (A transfer's bank call commits with its outcome and its exchange's completion,
   * one chain group: its chain always holds a record of its page. A read's bank call is written
   * alone, and its exchange's completion after it, each on whichever chain is free.)
   */
  const BALANCE = '/v1/accounts/0201245680/balance';
  /** The inquiry's path as the audit holds it (the account number masked). */
  const BALANCE_AUDITED = '/v1/accounts/******5680/balance';
  let apart: { id: number; receivedAt: number; call: number; writerId: string; seq: number }[] = [];

  /**
   * On MariaDB a process links on several chains, each append on whichever is free: transfers sent
   * at once spread their links over them. On SQLite a process has one chain: the same attack is run
   * on a page of one transfer, its bank call on the chain of its exchange.
   */
  async function findApart(): Promise<typeof apart> {
    const db = ctx.store().db;
    const exchanges = (await db.query<{ id: number | string; received_at: number | string; path: string }>('SELECT id, received_at, path FROM audit_exchanges')).map((e) => ({ id: Number(e.id), at: Number(e.received_at), path: e.path }));
    const calls = (await db.query<{ id: number | string; exchange_id: number | string }>('SELECT id, exchange_id FROM audit_bank_calls ORDER BY id')).map((c) => ({ id: Number(c.id), exchange: Number(c.exchange_id) }));
    const links = (await db.query<{ writer_id: string; seq: number | string; kind: string; record_id: number | string }>('SELECT writer_id, seq, kind, record_id FROM audit_chain')).map((l) => ({ ...l, seq: Number(l.seq), recordId: Number(l.record_id) }));
    const linkOf = (kind: string, id: number) => links.filter((l) => (kind === 'bank_call' ? l.kind === 'bank_call' : l.kind !== 'bank_call') && l.recordId === id);
    const found: typeof apart = [];
    for (const exchange of exchanges.filter((e) => e.path === BALANCE_AUDITED)) {
      const call = calls.find((c) => c.exchange === exchange.id);
      if (!call) continue;
      const [link] = linkOf('bank_call', call.id);
      const page = exchanges.filter((e) => e.at === exchange.at).map((e) => e.id);
      const others = [...page.flatMap((id) => linkOf('exchange', id)), ...calls.filter((c) => page.includes(c.exchange) && c.id !== call.id).flatMap((c) => linkOf('bank_call', c.id))];
      if (ctx.backend === 'mariadb' && others.some((l) => l.writer_id === link.writer_id)) continue;
      found.push({ id: exchange.id, receivedAt: exchange.at, call: call.id, writerId: link.writer_id, seq: link.seq });
    }
    return found;
  }

  before(async function () {
    this.timeout(120_000);
    const gw = await TestGateway.start(ctx.url());
    try {
      const authorization = `Bearer ${await gw.token(await gw.createClient())}`;
      // Two from rounds apart in time, so neither transfer was in progress while the other's bank call was linked.
      const roundOf = new Map<number, number>();
      for (let round = 0; round < 40 && apart.length < 2; round += 1) {
        // Inquiries among transfers, so the chains are busy as each inquiry's bank call is linked.
        const sent = await Promise.all(
          Array.from({ length: 3 + (round % 3) * 2 }, (_, i) => (i % 2 === 0 ? gw.request(BALANCE, { headers: { authorization } }) : gw.request('/v1/transfers', { json: sampleTransfer(), headers: { authorization } }))),
        );
        for (const res of sent) expect(res.status, res.text).to.be.oneOf([200, 201]);
        // Each exchange is completed as its answer is sent: its completion's link counted once it is there.
        const open = `SELECT COUNT(*) AS n FROM audit_exchanges e LEFT JOIN audit_completions c ON c.exchange_id = e.id WHERE e.path IN ('/v1/transfers', '${BALANCE_AUDITED}') AND c.exchange_id IS NULL`;
        for (let wait = 0; Number((await ctx.store().db.query<{ n: number | string }>(open))[0].n) > 0; wait += 1) {
          expect(wait, 'transfers completed in their audit').to.be.below(100);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        for (const { id } of await ctx.store().db.query<{ id: number | string }>('SELECT id FROM audit_exchanges')) if (!roundOf.has(Number(id))) roundOf.set(Number(id), round);
        const found = await findApart();
        const other = found.find((one) => roundOf.get(one.id) !== roundOf.get(found[0].id));
        apart = other ? [found[0], other] : [];
      }
    } finally {
      await gw.close();
    }
    expect(apart.length, 'inquiries sent at once link their bank calls on chains apart from their exchanges, in two rounds').to.equal(2);
  });

  it('marks the inquiry whose bank call was deleted in SQL (its link left on the other chain), exit 1', async () => {
    const [target] = apart;
    const untouched = await exportAt(target.receivedAt);
    expect(untouched.code, untouched.stderr).to.equal(0);
    expect(untouched.records.find((r) => r.id === target.id)!.bankCalls.map((c) => c.id)).to.include(target.call);
    const db = ctx.store().db;
    const call = await copyRow(db, 'audit_bank_calls', 'id = ?', [target.call]);
    await db.execute('DELETE FROM audit_bank_calls WHERE id = ?', [target.call]);
    const jsonl = await exportAt(target.receivedAt);
    // Written back as it was, so the next attack's page (whose chains' read may reach it) starts whole.
    await insertRow(db, 'audit_bank_calls', call);
    expect(jsonl.code).to.equal(1);
    const marked = jsonl.records.find((r) => r.id === target.id)!;
    expect(marked).to.include({ outcome: 'CHANGED_OUTSIDE_GERBANG', amount: null });
    expect(marked.integrityProblem).to.contain(`audit_bank_calls id ${target.call} (chain ${target.writerId} seq ${target.seq}, bank_call) was deleted`);
    expect(jsonl.stderr).to.contain(`exchange id ${target.id}: `);
  });

  it('marks the inquiry whose bank call was deleted in SQL with its link from the other chain, naming the gap, exit 1', async () => {
    const [, target] = apart;
    const untouched = await exportAt(target.receivedAt);
    expect(untouched.code, untouched.stderr).to.equal(0);
    const db = ctx.store().db;
    await db.execute('DELETE FROM audit_bank_calls WHERE id = ?', [target.call]);
    await db.execute('DELETE FROM audit_chain WHERE writer_id = ? AND seq = ?', [target.writerId, target.seq]);
    const jsonl = await exportAt(target.receivedAt);
    expect(jsonl.code).to.equal(1);
    const marked = jsonl.records.find((r) => r.id === target.id)!;
    expect(marked.outcome).to.equal('CHANGED_OUTSIDE_GERBANG');
    // Inside the chain a gap before the next link; at its end, short of its head.
    expect(marked.integrityProblem).to.match(new RegExp(`links? ${target.seq} (to \\d+ )?of chain ${target.writerId} (is|are) missing`));
  });
});

forEachBackend('gerbang audit export of a database cut behind its audit checkpoints', (ctx) => {
  const checkpoints = join(mkdtempSync(join(tmpdir(), 'gerbang-export-checkpoints-')), 'audit-checkpoints.jsonl');
  const exportJsonl = async () => {
    const result = await runCli(['audit', 'export', '--format', 'jsonl'], { GERBANG_DATABASE_URL: ctx.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints });
    return { ...result, records: result.stdout.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Exported) };
  };

  before(async function () {
    this.timeout(60_000);
    // The gateway checkpoints its chains' heads outside the database as it stops.
    const gw = await TestGateway.start(ctx.url(), { GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints });
    try {
      const client = await gw.createClient();
      for (let i = 0; i < 3; i += 1) {
        const res = await gw.request('/v1/transfers', { json: sampleTransfer(), headers: { authorization: `Bearer ${await gw.token(client)}` } });
        expect(res.status, res.text).to.equal(201);
      }
    } finally {
      await gw.close();
    }
  });

  it('exports every record, exit 0, when the database holds all the checkpoints vouched for', async () => {
    const jsonl = await exportJsonl();
    expect(jsonl.code, jsonl.stderr).to.equal(0);
    expect(jsonl.stderr).to.equal('');
  });

  it('names the chain whose newest records were deleted with their links and its head moved back, exit 1, every record left exported', async () => {
    const db = ctx.store().db;
    const [newest] = await db.query<{ writer_id: string }>('SELECT writer_id FROM audit_chain ORDER BY recorded_at DESC, seq DESC LIMIT 1');
    const [head] = await db.query<{ last_seq: number | string }>('SELECT last_seq FROM audit_writers WHERE writer_id = ?', [newest.writer_id]);
    const keep = Number(head.last_seq) - 2;
    const gone = await db.query<{ kind: string; record_id: number | string }>('SELECT kind, record_id FROM audit_chain WHERE writer_id = ? AND seq > ?', [newest.writer_id, keep]);
    for (const link of gone) {
      const id = Number(link.record_id);
      if (link.kind === 'bank_call') await db.execute('DELETE FROM audit_bank_calls WHERE id = ?', [id]);
      if (link.kind === 'complete') await db.execute('DELETE FROM audit_completions WHERE exchange_id = ?', [id]);
      if (link.kind === 'open' || link.kind === 'record') await db.execute('DELETE FROM audit_exchanges WHERE id = ?', [id]);
    }
    await db.execute('DELETE FROM audit_chain WHERE writer_id = ? AND seq > ?', [newest.writer_id, keep]);
    const [last] = await db.query<{ hash: string }>('SELECT hash FROM audit_chain WHERE writer_id = ? AND seq = ?', [newest.writer_id, keep]);
    await db.execute('UPDATE audit_writers SET last_seq = ?, last_hash = ? WHERE writer_id = ?', [keep, last.hash, newest.writer_id]);
    const left = (await db.query<{ id: number | string }>('SELECT id FROM audit_exchanges ORDER BY id')).map((r) => Number(r.id));

    const jsonl = await exportJsonl();
    expect(jsonl.code).to.equal(1);
    expect(jsonl.records.map((r) => r.id), 'every record the database holds is exported').to.deep.equal(left);
    expect(jsonl.stderr).to.contain(`the database lacks records the audit checkpoints in ${checkpoints} vouched for`);
    expect(jsonl.stderr).to.contain(`ROLLED-BACK: chain ${newest.writer_id} ends at link ${keep} but was checkpointed at link ${Number(head.last_seq)}`);
  });
});
