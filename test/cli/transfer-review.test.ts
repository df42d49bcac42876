import { expect } from 'chai';
import { createConsoleUser } from '../../src/console/index.js';
import { TEST_AUDIT_KEY } from '../support/audit-keys.js';
import { runCli } from '../support/cli.js';
import { forEachBackend } from '../support/databases.js';
import { sampleTransfer, TestGateway } from '../support/gateway-harness.js';

/**
 * `gerbang transfer review` over payments an attacker without keys changed in SQL
 * (docs/security/database-attacks.md): the CLI reads them as the console does, lists every one,
 * marks the forged ones with what was found and none of their values, exits 1 so a script notices,
 * and resolves none of them.
 */
forEachBackend('gerbang transfer review with payments changed outside Gerbang', (db) => {
  const env = () => ({ GERBANG_DATABASE_URL: db.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY });
  /** In review as Gerbang put it there. */
  let honest: { id: number; transactionId: string };
  /** In review, its amount changed in SQL (its MAC no longer holds). */
  let altered: { id: number; transactionId: string };
  /** Refused by the bank, moved into the review queue in SQL (its state no longer matches its history). */
  let queued: { id: number; transactionId: string };

  before(async function () {
    this.timeout(60_000);
    const gw = await TestGateway.start(db.url(), { GERBANG_RESOLVER_INTERVAL_MS: '0', GERBANG_LOG_LEVEL: 'silent' });
    try {
      const client = await gw.createClient();
      const auth = { authorization: `Bearer ${await gw.token(client)}` };
      const pay = async (body: Record<string, unknown>, status: number) => {
        const answer = await gw.request('/v1/transfers', { json: body, headers: auth });
        expect(answer.status, answer.text).to.equal(status);
        const payment = (await db.store().payments.find(client.clientId, body.transactionId as string))!;
        return { id: payment.id, transactionId: payment.transactionId };
      };
      // ESB-82-024 (timeout, check your statement) leaves the transfer in doubt.
      honest = await pay(sampleTransfer({ amount: '4321000.00', remark: 'SIM ESB-82-024' }), 202);
      altered = await pay(sampleTransfer({ amount: '8765000.00', remark: 'SIM ESB-82-024' }), 202);
      queued = await pay(sampleTransfer({ amount: '2468000.00', remark: 'SIM ESB-82-019' }), 422);
    } finally {
      await gw.close();
    }
    await db.store().payments.enterReview(honest.id, Date.now());
    await db.store().payments.enterReview(altered.id, Date.now());

    // The attacks, in SQL.
    await db.store().db.execute("UPDATE payments SET amount = '31337.00' WHERE id = ?", [altered.id]);
    await db.store().db.execute("UPDATE payments SET state = 'UNKNOWN', review_since = ? WHERE id = ?", [Date.now(), queued.id]);
  });

  it('lists every payment in review, the ones changed in SQL marked with what was found and none of their values, and exits 1', async function () {
    this.timeout(60_000);
    const listed = await runCli(['transfer', 'review', 'list'], env());
    expect(listed.code, listed.stderr).to.equal(1);
    const lineOf = (id: number) => listed.stdout.split('\n').find((l) => l.startsWith(`#${id} `)) ?? '';
    expect(lineOf(honest.id)).to.contain(honest.transactionId).and.contain('4321000.00').and.contain('UNKNOWN');
    expect(lineOf(altered.id)).to.contain('CHANGED OUTSIDE GERBANG').and.contain(`payments id ${altered.id} (`).and.contain('was altered');
    expect(lineOf(queued.id)).to.contain('CHANGED OUTSIDE GERBANG').and.contain(`payments id ${queued.id} (`).and.contain('was changed without an event in its history');
    expect(listed.stdout, 'the forged amount is never shown').not.to.contain('31337');
    expect(lineOf(queued.id), 'nor the forged state as a status').not.to.match(/ UNKNOWN +2468000/);
    expect(listed.stderr).to.contain(`payment #${altered.id} was changed outside Gerbang`).and.contain(`payment #${queued.id} was changed outside Gerbang`);
    expect(listed.stderr).not.to.contain(`payment #${honest.id} `);

    const json = await runCli(['transfer', 'review', 'list', '--json'], env());
    expect(json.code, json.stderr).to.equal(1);
    const items = JSON.parse(json.stdout) as Record<string, unknown>[];
    const item = (id: number) => items.find((i) => i.id === id)!;
    expect(item(honest.id)).to.include({ transactionId: honest.transactionId, status: 'UNKNOWN', amount: '4321000.00' }).and.not.have.property('integrityProblem');
    expect(item(altered.id)).to.include({ transactionId: altered.transactionId }).and.not.have.any.keys('amount', 'status', 'bank');
    expect(item(altered.id).integrityProblem).to.contain(`payments id ${altered.id} (`).and.contain('was altered');
    expect(item(queued.id).integrityProblem).to.contain('was changed without an event in its history');
  });

  it('shows one payment changed in SQL marked, without its values, and exits 1', async function () {
    this.timeout(30_000);
    const shown = await runCli(['transfer', 'review', 'show', String(altered.id), '--json'], env());
    expect(shown.code, shown.stderr).to.equal(1);
    const item = JSON.parse(shown.stdout) as Record<string, unknown>;
    expect(item).to.include({ id: altered.id, transactionId: altered.transactionId }).and.not.have.any.keys('amount', 'status', 'result');
    expect(item.integrityProblem).to.contain('was altered');
    expect(shown.stderr).to.contain(`payment #${altered.id} was changed outside Gerbang`);
  });

  it('refuses to resolve a payment changed in SQL, naming it and what was found, and leaves it as it was', async function () {
    this.timeout(60_000);
    await createConsoleUser(db.store().consoleUsers, { username: 'forge-admin', password: 'pw-forge-admin-0123456789', role: 'admin' }, Date.now());
    for (const forged of [altered, queued]) {
      const resolved = await runCli(['transfer', 'review', 'resolve', String(forged.id), '--admin', 'forge-admin', '--outcome', 'SUCCESS', '--evidence-kind', 'BANK_REFERENCE', '--evidence', 'REF-FORGED-1'], env());
      expect(resolved.code, resolved.stderr).to.equal(1);
      expect(resolved.stderr).to.contain(`Not resolved: payment #${forged.id} was changed outside Gerbang`).and.contain(`payments id ${forged.id} (`);
      expect(await db.store().db.query('SELECT state FROM payments WHERE id = ?', [forged.id])).to.deep.equal([{ state: 'UNKNOWN' }]);
    }
    const exchanges = await db.store().db.query<{ n: number | string }>("SELECT COUNT(*) AS n FROM audit_exchanges WHERE method = 'REVIEW'");
    expect(Number(exchanges[0].n), 'no resolution recorded').to.equal(0);
  });

  it('refuses a resolution by a console user made admin in SQL, naming the user\'s record, and leaves the payment in review', async function () {
    this.timeout(30_000);
    await createConsoleUser(db.store().consoleUsers, { username: 'forge-viewer', password: 'pw-forge-viewer-0123456789', role: 'viewer' }, Date.now());
    await db.store().db.execute("UPDATE console_users SET role = 'admin' WHERE username = 'forge-viewer'");
    const resolved = await runCli(['transfer', 'review', 'resolve', String(honest.id), '--admin', 'forge-viewer', '--outcome', 'FAILED', '--evidence-kind', 'CALL_REFERENCE', '--evidence', 'BCA call centre ticket 9911'], env());
    expect(resolved.code, resolved.stderr).to.equal(1);
    expect(resolved.stderr).to.contain('a stored record was changed outside Gerbang (its integrity check failed): console_users').and.contain('run gerbang audit verify');
    expect(resolved.stderr, 'not the API\'s words').not.to.contain('request id');
    expect(await db.store().db.query('SELECT state FROM payments WHERE id = ?', [honest.id])).to.deep.equal([{ state: 'UNKNOWN' }]);
  });
});
