import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditScrub } from '../../src/audit/index.js';
import { SETTINGS } from '../../src/config/schema.js';
import { openStore } from '../../src/store/index.js';
import { ringOf, TEST_AUDIT_KEY, testKeySpec } from '../support/audit-keys.js';
import { acceptAsVerified, acceptInProcess, runCli, type CliResult } from '../support/cli.js';
import { forEachBackend } from '../support/databases.js';
import { captureLogs } from '../support/log-capture.js';
import { eventually, sampleTransfer, TestGateway, type TestClient } from '../support/gateway-harness.js';
import { bankTransfers } from '../support/left-behind.js';
import { deleteWhole, paymentLinks, payInsideChains, UNTHROTTLED } from '../support/payment-deletion.js';

/**
 * The attacker of docs/security/threat-model.md (writes the database, holds no key) who deletes a
 * paid payment whole: its row, its events and their links from the middle of the audit chains,
 * every chain head left as it was. The heads still match the checkpoints outside the database, so
 * the rollback watch sees nothing, and the ERP's resend of that transactionId is a new payment:
 * the vendor is paid twice. The gateway's background scrub walks every chain again from its first
 * link as `audit verify` does, finds the missing links within one full cycle and holds payments
 * until an operator accepts the chain as it stands.
 */

/** A setting's documented default. */
const defaultOf = (name: 'auditScrubMs' | 'auditScrubLinks'): number => SETTINGS[name].schema.validate(undefined).value as number;

/** Whether `text` names one of `breaks`. */
const namesOne = (text: string, breaks: string[]) => breaks.some((at) => text.includes(at));

/** Samples `held` every 20 ms until stopped: every reason it gave (a hold let go at the next clean cycle would hide from a last look). */
function watchHolds(held: () => string | null): () => string[] {
  const seen: string[] = [];
  const timer = setInterval(() => {
    const why = held();
    if (why !== null) seen.push(why);
  }, 20);
  return () => {
    clearInterval(timer);
    return seen;
  };
}


/** A gateway over `url` scrubbing every 300 ms (or `scrubMs`; '0': not at all), and the bearer header of a client of its own. */
async function scrubbingGateway(url: string, checkpoints: string, scrubMs = '300'): Promise<{ gw: TestGateway; auth: Record<string, string> }> {
  const gw = await TestGateway.start(url, { GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints, GERBANG_AUDIT_SCRUB_MS: scrubMs, ...UNTHROTTLED });
  const payer = await gw.createClient();
  return { gw, auth: { authorization: `Bearer ${await gw.token(payer)}` } };
}

forEachBackend('A paid payment deleted whole in SQL, its links cut from the middle of its chain (#14)', (ctx) => {
  const checkpoints = join(mkdtempSync(join(tmpdir(), 'gerbang-scrub-')), 'audit-checkpoints.jsonl');
  const env = () => ({ GERBANG_DATABASE_URL: ctx.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints });
  const cli = (...args: string[]): Promise<CliResult> => runCli(args, env());
  const start = (extra: Record<string, string> = {}) => TestGateway.start(ctx.url(), { GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints, ...UNTHROTTLED, ...extra });
  let gw: TestGateway | undefined;
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
  });

  async function client(on: TestGateway): Promise<{ payer: TestClient; auth: Record<string, string> }> {
    const payer = await on.createClient();
    return { payer, auth: { authorization: `Bearer ${await on.token(payer)}` } };
  }

  it('without the scrub (GERBANG_AUDIT_SCRUB_MS=0) the resend is a new payment: the bank is paid twice, and no check sees it', async function () {
    this.timeout(60_000);
    gw = await start({ GERBANG_AUDIT_SCRUB_MS: '0' });
    const { auth } = await client(gw);
    const body = sampleTransfer();
    await payInsideChains(gw, auth, body);
    await deleteWhole(gw.store.db, body.transactionId as string);

    expect(await gw.gateway.checkCheckpoints(), 'the heads match the checkpoints').to.equal(null);
    const resent = await gw.request('/v1/transfers', { json: body, headers: auth });
    expect([resent.status, resent.body?.status], resent.text).to.deep.equal([201, 'SUCCESS']);
    expect(await bankTransfers(gw, body.transactionId as string), 'the transfers the bank received').to.equal(2);
    // Only a full walk names it. Accepted here so the next test starts from an intact store.
    const verify = await cli('audit', 'verify');
    expect(verify.code, verify.stdout).to.equal(1);
    await acceptInProcess(ctx.store(), checkpoints, 'test: payment deleted without the scrub');
  });

  it('holds the gateway within one scrub cycle (defaults), refuses the resend naming the chain and link, pays nothing, and pays again once an operator accepts the chain', async function () {
    this.timeout(120_000);
    gw = await start();
    const { auth } = await client(gw);
    const body = sampleTransfer();
    await payInsideChains(gw, auth, body);
    // Any of its links may be the one named first: a pass that walked past the first before the
    // deletion finds the next missing (the first is then found by the next full cycle).
    const { links } = await paymentLinks(gw.store.db, body.transactionId as string);
    const named = links.map((l) => `chain ${l.writerId} link ${l.seq}`);
    const breaks = await deleteWhole(gw.store.db, body.transactionId as string);
    const cut = Date.now();

    const ready = await eventually(async () => {
      const answer = await gw!.request('/readyz');
      return answer.status === 503 && answer;
    }, 30_000);
    const heldAfterMs = Date.now() - cut;
    // The documented bound: one full cycle ((links + 20 a chain) / GERBANG_AUDIT_SCRUB_LINKS passes,
    // rounded up, of GERBANG_AUDIT_SCRUB_MS), the pass where it starts, and 2 s of confirmation; slack for a loaded machine.
    const cycle = gw.gateway.scrub.last!;
    const bound = (Math.ceil((cycle.links + 20 * cycle.chains) / defaultOf('auditScrubLinks')) + 1) * defaultOf('auditScrubMs') + 2_000;
    expect(heldAfterMs, `ms from the deletion to the hold (bound ${bound} ms)`).to.be.below(bound + 3_000);
    expect(namesOne(ready.body.checks.checkpoints, named), ready.body.checks.checkpoints).to.equal(true);

    const resent = await gw.request('/v1/transfers', { json: body, headers: auth });
    expect(resent.status, resent.text).to.equal(503);
    expect(resent.body.code).to.equal('STORE_UNAVAILABLE');
    expect(namesOne(resent.body.detail, named), resent.body.detail).to.equal(true);
    expect(resent.body.detail).to.contain('gerbang audit accept-rollback');
    expect(await bankTransfers(gw, body.transactionId as string), 'the transfers the bank received').to.equal(1);
    // Every chain the deletion cut is held within the cycle (at one of its links there).
    const cutChains = [...new Set(links.map((l) => l.writerId))];
    await eventually(async () => cutChains.every((w) => namesOne(gw!.gateway.scrub.held ?? '', named.filter((at) => at.startsWith(`chain ${w} link `)))), 30_000);

    const verify = await cli('audit', 'verify');
    expect(verify.code, verify.stdout).to.equal(1);
    // The operator accepts the chains as they stand; the gateway serves again at its next pass.
    const accepted = await acceptAsVerified(env(), 'test: payment deleted, looked at');
    expect(accepted.code, accepted.stderr).to.equal(0);
    for (const at of breaks) expect(accepted.stdout).to.contain(at.replace(/^chain (\S+) link (\d+)$/, 'link $2 of chain $1'));
    await eventually(async () => (await gw!.request('/readyz')).status === 200, 10_000);
    const next = sampleTransfer();
    const paid = await gw.request('/v1/transfers', { json: next, headers: auth });
    expect([paid.status, paid.body?.status], paid.text).to.deep.equal([201, 'SUCCESS']);
    expect(await bankTransfers(gw, next.transactionId as string)).to.equal(1);
    // Accepted once: nothing left to accept, and the scrub stays quiet over the accepted chain.
    expect((await cli('audit', 'accept-rollback', '--reason', 'again')).stdout).to.contain('Nothing to accept');
    const cycles = gw.gateway.scrub.cycles;
    const holds = watchHolds(() => gw!.gateway.scrub.held);
    await eventually(async () => gw!.gateway.scrub.cycles >= cycles + 2, 20_000);
    expect(holds()).to.deep.equal([]);

    // The accepted chains are walked from the accepted link on: a payment deleted after it is held again.
    const later = sampleTransfer();
    await payInsideChains(gw, auth, later);
    const again = await deleteWhole(gw.store.db, later.transactionId as string);
    await eventually(async () => again.every((at) => gw!.gateway.scrub.held?.includes(at)), 30_000);
    expect((await gw.request('/v1/transfers', { json: later, headers: auth })).status).to.equal(503);
    expect(await bankTransfers(gw, later.transactionId as string)).to.equal(1);
    await acceptInProcess(ctx.store(), checkpoints, 'test: second deletion looked at');
    await eventually(async () => (await gw!.request('/readyz')).status === 200, 10_000);
  });

  it('holds on a payment rolled back in SQL to an earlier state (its later events and their links deleted, heads left)', async function () {
    this.timeout(90_000);
    gw = await start({ GERBANG_AUDIT_SCRUB_MS: '500' });
    const { auth } = await client(gw);
    const body = sampleTransfer();
    await payInsideChains(gw, auth, body);
    const { paymentId, links } = await paymentLinks(gw.store.db, body.transactionId as string);
    const newest = links.sort((a, b) => b.seq - a.seq)[0];
    const [event] = await gw.store.db.query<{ record_id: number | string }>('SELECT record_id FROM audit_chain WHERE writer_id = ? AND seq = ?', [newest.writerId, newest.seq]);
    await gw.store.db.execute('DELETE FROM audit_chain WHERE writer_id = ? AND seq = ?', [newest.writerId, newest.seq]);
    await gw.store.db.execute('DELETE FROM payment_events WHERE id = ? AND payment_id = ?', [Number(event.record_id), paymentId]);
    const held = await eventually(async () => gw!.gateway.scrub.held, 20_000);
    expect(held).to.contain(`chain ${newest.writerId} link ${newest.seq}`);
    await acceptInProcess(ctx.store(), checkpoints, 'test: rolled-back payment looked at');
    await eventually(async () => (await gw!.request('/readyz')).status === 200, 10_000);
  });

  it('holds on a chain whose head row was deleted while its links remain (the rollback watch finds its checkpointed link and sees nothing), until accepted as gone', async function () {
    this.timeout(90_000);
    const old = await start({ GERBANG_AUDIT_SCRUB_MS: '0' });
    const { auth } = await client(old);
    expect((await old.request('/v1/transfers', { json: sampleTransfer(), headers: auth })).status).to.equal(201);
    const chains = old.store.audit.ownHeads().map((h) => h.writerId);
    await old.close();
    gw = await start({ GERBANG_AUDIT_SCRUB_MS: '500' });
    expect(await gw.gateway.checkCheckpoints()).to.equal(null);
    for (const writerId of chains) await gw.store.db.execute('DELETE FROM audit_writers WHERE writer_id = ?', [writerId]);
    expect(await gw.gateway.checkCheckpoints(), 'the checkpointed links are still there').to.equal(null);
    const held = await eventually(async () => chains.every((w) => gw!.gateway.scrub.held?.includes(`chain ${w} link head`)) && gw!.gateway.scrub.held, 20_000);
    expect(held).to.contain('was deleted from audit_writers while its links remain');
    expect((await gw.request('/readyz')).status).to.equal(503);
    expect((await acceptAsVerified(env(), 'test: head rows deleted, looked at')).code).to.equal(0);
    await eventually(async () => (await gw!.request('/readyz')).status === 200, 10_000);
    const cycles = gw.gateway.scrub.cycles;
    const holds = watchHolds(() => gw!.gateway.scrub.held);
    await eventually(async () => gw!.gateway.scrub.cycles >= cycles + 2, 20_000);
    expect(holds(), 'accepted as gone: not walked again').to.deep.equal([]);
  });

  it('holds nothing during ordinary traffic walked in small pieces, nor after purge-anonymous deleted records inside the chain', async function () {
    this.timeout(120_000);
    // Pieces of 10 links every 100 ms: the chains grow under the walk, pieces end mid-chain.
    gw = await start({ GERBANG_AUDIT_SCRUB_MS: '100', GERBANG_AUDIT_SCRUB_LINKS: '10' });
    const { auth } = await client(gw);
    const old = Date.now() - 200 * 86_400_000;
    const traffic = async () => {
      for (let i = 0; i < 10; i += 1) {
        await Promise.all([
          gw!.request('/v1/transfers', { json: sampleTransfer(), headers: auth }),
          gw!.request('/v1/auth/token', { method: 'POST', json: { client_id: `nobody-${i}`, client_secret: 'x' } }),
          // Anonymous refusals from long ago, inside the chain, for the purge.
          gw!.store.audit.record(
            { requestId: `req-${randomBytes(6).toString('hex')}`, receivedAt: old + i, remoteIp: '198.51.100.9', origin: null, method: 'POST', path: '/v1/auth/token', clientId: null, transactionId: null, amount: null, requestHeaders: {}, requestBody: '{}' },
            { outcome: 'rejected', statusCode: 401, errorCode: 'INVALID_CLIENT', clientId: null, transactionId: null, amount: null, responseBody: '{}', completedAt: old + i + 3 },
          ),
        ]);
      }
    };
    const cycles = gw.gateway.scrub.cycles;
    const holds = watchHolds(() => gw!.gateway.scrub.held);
    await traffic();
    const purged = await runCli(['audit', 'purge-anonymous', '--json'], { ...env(), GERBANG_AUDIT_ANONYMOUS_RETENTION_DAYS: '90' });
    expect(purged.code, purged.stderr).to.equal(0);
    expect(JSON.parse(purged.stdout).records).to.be.at.least(10);
    await traffic();
    await eventually(async () => gw!.gateway.scrub.cycles >= cycles + 3, 60_000);
    expect(holds()).to.deep.equal([]);
    expect((await gw.request('/readyz')).status).to.equal(200);
    expect(gw.gateway.scrub.last!.links, 'a cycle took several pieces').to.be.above(10);
  });
});

forEachBackend('The audit scrub while keys rotate re-links the chains under it (#14)', (ctx) => {
  const NEW = testKeySpec(`k${randomBytes(3).toString('hex')}`);
  const BOTH = `${TEST_AUDIT_KEY},${NEW}`;

  it('holds nothing when a chain is re-linked between two pieces of its walk, and still holds on a link deleted after', async function () {
    this.timeout(120_000);
    // The history, under the old key only: every chain holding links is re-linked by the rotation.
    const old = await TestGateway.start(ctx.url(), UNTHROTTLED);
    const payer = await old.createClient();
    const auth = { authorization: `Bearer ${await old.token(payer)}` };
    for (let i = 0; i < 8; i += 1) expect((await old.request('/v1/transfers', { json: sampleTransfer(), headers: auth })).status).to.equal(201);
    await old.close();
    const store = await openStore(ctx.url(), { auditKeys: ringOf(TEST_AUDIT_KEY, NEW) });
    try {
      // A scrub of pieces of 5 links, its passes run by hand around the rotation.
      const scrub = new AuditScrub(store.audit, { ring: ringOf(TEST_AUDIT_KEY, NEW), path: join(mkdtempSync(join(tmpdir(), 'gerbang-scrub-')), 'c.jsonl'), store: store.db.description }, { linksPerPass: 5, confirmMs: 50 });
      await scrub.pass();
      expect(scrub.cycles, 'the first pass stopped inside a chain').to.equal(0);
      const rotated = await runCli(['keys', 'rotate'], { GERBANG_DATABASE_URL: ctx.url(), GERBANG_AUDIT_KEYS: BOTH });
      expect(rotated.code, rotated.stderr).to.equal(0);
      const [{ n }] = await store.db.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM audit_chain WHERE key_id <> ?', [NEW.split(':')[0]]);
      expect(Number(n), 'every link re-linked under the new key').to.equal(0);
      // Never held, pass after pass (a chain held and walked clean later is let go again: checked after each).
      while (scrub.cycles < 2) {
        await scrub.pass();
        expect(scrub.held).to.equal(null);
      }

      // The same scrub still finds a link deleted inside a re-linked chain.
      const [link] = await store.db.query<{ writer_id: string; seq: number | string }>(
        "SELECT c.writer_id, c.seq FROM audit_chain c JOIN audit_writers w ON w.writer_id = c.writer_id WHERE c.kind = 'payment_event' AND c.seq < w.last_seq ORDER BY c.seq DESC LIMIT 1",
      );
      await store.db.execute('DELETE FROM audit_chain WHERE writer_id = ? AND seq = ?', [link.writer_id, Number(link.seq)]);
      const cycles = scrub.cycles;
      while (scrub.cycles < cycles + 1) await scrub.pass();
      expect(scrub.held).to.contain(`chain ${link.writer_id} link ${Number(link.seq)}`);
    } finally {
      await store.close();
    }
  });
});

forEachBackend('The audit scrub when a link or record cannot be checked, or its passes fail (#14)', (ctx) => {
  const checkpoints = join(mkdtempSync(join(tmpdir(), 'gerbang-scrub-')), 'audit-checkpoints.jsonl');
  const env = () => ({ GERBANG_DATABASE_URL: ctx.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints });
  let gw: TestGateway | undefined;
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
  });

  it('holds payments once its passes have failed one after another for its stall time (the database gone), naming why', async function () {
    this.timeout(30_000);
    const store = await openStore(ctx.url(), { auditKeys: ringOf(TEST_AUDIT_KEY) });
    let now = Date.now();
    const scrub = new AuditScrub(store.audit, { ring: ringOf(TEST_AUDIT_KEY), path: join(mkdtempSync(join(tmpdir(), 'gerbang-scrub-')), 'c.jsonl'), store: store.db.description }, { linksPerPass: 50, confirmMs: 10, stallMs: 1_000, clock: () => now, quiet: true });
    await scrub.pass();
    expect(scrub.lastPass).to.equal(now);
    // The database goes away under the scrub: every pass throws, the position never moves.
    await store.close();
    let failed = 0;
    await scrub.pass().catch(() => (failed += 1));
    expect(scrub.held, 'one failed pass holds nothing').to.equal(null);
    now += 1_000;
    await scrub.pass().catch(() => (failed += 1));
    expect(failed).to.equal(2);
    expect(scrub.held).to.contain('the audit scrub cannot make progress');
  });

  it('holds on a link re-keyed in SQL to a key the gateway lacks (it cannot be checked), so a payment deleted after it is not paid twice', async function () {
    this.timeout(120_000);
    const started = await scrubbingGateway(ctx.url(), checkpoints);
    gw = started.gw;
    const { auth } = started;
    const body = sampleTransfer();
    await payInsideChains(gw, auth, body);
    // The attacker's first move: the first link of every chain names a key no gateway holds.
    await gw.store.db.execute("UPDATE audit_chain SET key_id = 'zz' WHERE seq = 1");
    // Then the payment deleted whole; the ERP resends it.
    await deleteWhole(gw.store.db, body.transactionId as string);
    // The chains whose first link is still there (a payment made first on a chain took its first link with it: a deletion there).
    const firsts = await gw.store.db.query<{ writer_id: string }>('SELECT writer_id FROM audit_chain WHERE seq = 1');
    expect(firsts).to.not.be.empty;
    // Each chain's break, not the held text: that names the first three breaks only, and the payment's deletion may come first.
    const uncheckable = (writerId: string) => gw!.gateway.scrub.breaks.some((b) => b.writerId === writerId && b.seq === 1 && b.detail.includes('cannot be checked') && b.detail.includes('"zz"'));
    await eventually(async () => firsts.every((f) => uncheckable(f.writer_id)), 20_000);
    expect(gw.gateway.scrub.held).to.not.equal(null);
    const resent = await gw.request('/v1/transfers', { json: body, headers: auth });
    expect(resent.status, resent.text).to.equal(503);
    expect(await bankTransfers(gw, body.transactionId as string), 'the transfers the bank received').to.equal(1);
    // audit verify names the link too, instead of stopping at it.
    const verify = await runCli(['audit', 'verify'], env());
    expect(verify.code, verify.stderr).to.equal(1);
    expect(verify.stdout).to.contain('cannot be checked');
  });
});

forEachBackend('A paid payment whose row alone is deleted in SQL, its events and links left (#14)', (ctx) => {
  const checkpoints = join(mkdtempSync(join(tmpdir(), 'gerbang-scrub-')), 'audit-checkpoints.jsonl');
  const env = () => ({ GERBANG_DATABASE_URL: ctx.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints });
  let gw: TestGateway | undefined;
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
  });

  it('holds payments naming the payment (every chain still holds), refuses the resend, and pays again once an operator accepts it', async function () {
    this.timeout(120_000);
    const started = await scrubbingGateway(ctx.url(), checkpoints);
    gw = started.gw;
    const { auth } = started;
    const body = sampleTransfer();
    await payInsideChains(gw, auth, body);
    const { paymentId } = await paymentLinks(gw.store.db, body.transactionId as string);
    // An intact store: a whole cycle holds nothing.
    const cycles = gw.gateway.scrub.cycles;
    await eventually(async () => gw!.gateway.scrub.cycles >= cycles + 1, 20_000);
    expect(gw.gateway.scrub.held).to.equal(null);

    await gw.store.db.execute('DELETE FROM payments WHERE id = ?', [paymentId]);
    expect(await gw.gateway.checkCheckpoints(), 'the heads match the checkpoints').to.equal(null);
    const held = await eventually(async () => gw!.gateway.scrub.held, 20_000);
    expect(held).to.contain(`payments id ${paymentId} was deleted`);
    const resent = await gw.request('/v1/transfers', { json: body, headers: auth });
    expect(resent.status, resent.text).to.equal(503);
    expect(resent.body.detail).to.contain(`payments id ${paymentId} was deleted`);
    expect(await bankTransfers(gw, body.transactionId as string), 'the transfers the bank received').to.equal(1);

    const accepted = await acceptAsVerified(env(), 'test: payment row deleted, looked at');
    expect(accepted.code, accepted.stderr).to.equal(0);
    expect(accepted.stdout).to.contain(`payments id ${paymentId} was deleted`);
    await eventually(async () => (await gw!.request('/readyz')).status === 200, 10_000);
    expect((await runCli(['audit', 'accept-rollback', '--reason', 'again'], env())).stdout).to.contain('Nothing to accept');
  });

  it('holds payments on a row moved to another transactionId in SQL (its MAC no longer holds), so the resend of the original is not paid twice', async function () {
    this.timeout(120_000);
    const started = await scrubbingGateway(ctx.url(), checkpoints);
    gw = started.gw;
    const { auth } = started;
    const body = sampleTransfer();
    await payInsideChains(gw, auth, body);
    const { paymentId } = await paymentLinks(gw.store.db, body.transactionId as string);
    await gw.store.db.execute('UPDATE payments SET transaction_id = ? WHERE id = ?', [`moved-${randomBytes(4).toString('hex')}`, paymentId]);
    const held = await eventually(async () => gw!.gateway.scrub.held, 20_000);
    expect(held).to.contain(`payments id ${paymentId}`).and.to.contain('no longer match its MAC');
    const resent = await gw.request('/v1/transfers', { json: body, headers: auth });
    expect(resent.status, resent.text).to.equal(503);
    expect(await bankTransfers(gw, body.transactionId as string), 'the transfers the bank received').to.equal(1);
    await acceptInProcess(ctx.store(), checkpoints, 'test: payment row moved, looked at');
    await eventually(async () => (await gw!.request('/readyz')).status === 200, 10_000);
  });
});

forEachBackend('Empty chain heads inserted in SQL to stretch the scrub cycle (#14)', (ctx) => {
  const checkpoints = join(mkdtempSync(join(tmpdir(), 'gerbang-scrub-')), 'audit-checkpoints.jsonl');
  let gw: TestGateway | undefined;
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
  });

  it('leaves out heads that record and hold no link: 5,000 of them do not delay the hold on a payment deleted whole', async function () {
    this.timeout(120_000);
    const started = await scrubbingGateway(ctx.url(), checkpoints);
    gw = started.gw;
    const { auth } = started;
    const body = sampleTransfer();
    await payInsideChains(gw, auth, body);
    const now = Date.now();
    for (let i = 0; i < 5_000; i += 500) {
      const rows = Array.from({ length: 500 }, (_, j) => `w-empty-${String(i + j).padStart(5, '0')}`);
      await gw.store.db.execute(`INSERT INTO audit_writers (writer_id, host, pid, started_at, last_seq, last_hash, updated_at) VALUES ${rows.map(() => "(?, 'x', 1, ?, 0, '', ?)").join(', ')}`, rows.flatMap((w) => [w, now, now]));
    }
    const cycles = gw.gateway.scrub.cycles;
    await eventually(async () => gw!.gateway.scrub.cycles >= cycles + 2, 30_000);
    expect(gw.gateway.scrub.last!.chains, 'chains walked a cycle').to.be.below(100);
    const breaks = await deleteWhole(gw.store.db, body.transactionId as string);
    const cut = Date.now();
    await eventually(async () => breaks.some((at) => gw!.gateway.scrub.held?.includes(at)), 30_000);
    // A cycle of the real chains (one pass here), a pass and 2 s of confirmation; slack for a loaded machine.
    expect(Date.now() - cut, 'ms from the deletion to the hold').to.be.below(6_000);
  });
});

forEachBackend('Acceptance of records deleted inside a chain: every break named, and the history before it still walked (#14)', (ctx) => {
  const checkpoints = join(mkdtempSync(join(tmpdir(), 'gerbang-scrub-')), 'audit-checkpoints.jsonl');
  const env = () => ({ GERBANG_DATABASE_URL: ctx.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints });
  const asAccepted = (at: string) => at.replace(/^chain (\S+) link (\d+)$/, 'link $2 of chain $1');
  let gw: TestGateway | undefined;
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
  });

  it('names and accepts both of two payments deleted in one chain, and holds again on an earlier payment deleted after the acceptance', async function () {
    this.timeout(180_000);
    const started = await scrubbingGateway(ctx.url(), checkpoints);
    gw = started.gw;
    const { auth } = started;
    const [early, a, b] = [sampleTransfer(), sampleTransfer(), sampleTransfer()];
    await payInsideChains(gw, auth, early);
    await payInsideChains(gw, auth, a);
    expect((await gw.request('/v1/transfers', { json: sampleTransfer(), headers: auth })).status).to.equal(201);
    await payInsideChains(gw, auth, b);
    const cutA = await deleteWhole(gw.store.db, a.transactionId as string);
    const cutB = await deleteWhole(gw.store.db, b.transactionId as string);
    await eventually(async () => cutA.every((at) => gw!.gateway.scrub.held?.includes(at)), 30_000);

    const accepted = await acceptAsVerified(env(), 'test: two payments deleted, looked at');
    expect(accepted.code, accepted.stderr).to.equal(0);
    // Both deletions are shown to the operator who accepts them, not only the first of each chain.
    for (const at of [...cutA, ...cutB]) expect(accepted.stdout, at).to.contain(asAccepted(at));
    await eventually(async () => (await gw!.request('/readyz')).status === 200, 10_000);
    const cycles = gw.gateway.scrub.cycles;
    const holds = watchHolds(() => gw!.gateway.scrub.held);
    await eventually(async () => gw!.gateway.scrub.cycles >= cycles + 2, 20_000);
    expect(holds(), 'the accepted breaks are stepped over').to.deep.equal([]);

    // A payment from before the accepted breaks, deleted after the acceptance: still walked, held.
    const cutEarly = await deleteWhole(gw.store.db, early.transactionId as string);
    await eventually(async () => cutEarly.every((at) => gw!.gateway.scrub.held?.includes(at)), 30_000);
    expect((await gw.request('/v1/transfers', { json: early, headers: auth })).status).to.equal(503);
    expect(await bankTransfers(gw, early.transactionId as string)).to.equal(1);
    const again = await acceptAsVerified(env(), 'test: early payment deleted, looked at');
    expect(again.code, again.stderr).to.equal(0);
    for (const at of cutEarly) expect(again.stdout).to.contain(asAccepted(at));
    expect(again.stdout, 'breaks accepted before are not listed again').to.not.contain(asAccepted(cutB[0]));
    await eventually(async () => (await gw!.request('/readyz')).status === 200, 10_000);
  });
  /**
   * A gateway (scrubbing every `scrubMs`) paid once, then its own chain (one it links on, the
   * longest) cut: its newest two links deleted, its head row left.
   */
  async function cutOwnTail(scrubMs = '300'): Promise<{ auth: Record<string, string>; writerId: string; last: number }> {
    const started = await scrubbingGateway(ctx.url(), checkpoints, scrubMs);
    gw = started.gw;
    const { auth } = started;
    expect((await gw.request('/v1/transfers', { json: sampleTransfer(), headers: auth })).status).to.equal(201);
    const own = gw.store.audit.ownHeads().map((h) => h.writerId);
    const [head] = await gw.store.db.query<{ writer_id: string; last_seq: number | string }>(
      `SELECT writer_id, last_seq FROM audit_writers WHERE last_seq > 3 AND writer_id IN (${own.map(() => '?').join(', ')}) ORDER BY last_seq DESC LIMIT 1`,
      own,
    );
    const last = Number(head.last_seq);
    await gw.store.db.execute('DELETE FROM audit_chain WHERE writer_id = ? AND seq >= ?', [head.writer_id, last - 1]);
    return { auth, writerId: head.writer_id, last };
  }

  /** cutOwnTail, returning once the gateway's scrub holds on the cut. */
  async function heldOnOwnTail(): Promise<{ auth: Record<string, string>; writerId: string; last: number }> {
    const cut = await cutOwnTail();
    await eventually(async () => gw!.gateway.scrub.held?.includes(`chain ${cut.writerId} link ${cut.last - 1}`), 20_000);
    return cut;
  }

  /**
   * Transfers sent to the gateway, each answered `status` (503: refused while held, its refusal
   * recorded; 201: paid), until its chain `writerId` links on past link `past`.
   */
  async function linkOnPast(auth: Record<string, string>, writerId: string, past: number, status: 201 | 503): Promise<void> {
    await eventually(async () => {
      expect((await gw!.request('/v1/transfers', { json: sampleTransfer(), headers: auth })).status, status === 503 ? 'refused while held' : 'paid').to.equal(status);
      const [row] = await gw!.store.db.query<{ last_seq: number | string }>('SELECT last_seq FROM audit_writers WHERE writer_id = ?', [writerId]);
      return Number(row.last_seq) > past;
    }, 20_000);
  }

  /** Transfers paid by the gateway, and two scrub cycles after them with no hold. */
  async function paysWithoutHold(auth: Record<string, string>): Promise<void> {
    const holds = watchHolds(() => gw!.gateway.scrub.held);
    for (let i = 0; i < 3; i += 1) expect((await gw!.request('/v1/transfers', { json: sampleTransfer(), headers: auth })).status).to.equal(201);
    const cycles = gw!.gateway.scrub.cycles;
    await eventually(async () => gw!.gateway.scrub.cycles >= cycles + 2, 20_000);
    expect(holds(), 'the links appended after the accepted break are walked from there').to.deep.equal([]);
  }

  it('accepts the newest links of a running gateway\'s chain deleted (its head left), and holds nothing when that gateway links on after it', async function () {
    this.timeout(120_000);
    const { auth } = await heldOnOwnTail();
    const accepted = await acceptAsVerified(env(), 'test: newest links deleted, looked at');
    expect(accepted.code, accepted.stderr).to.equal(0);
    await eventually(async () => (await gw!.request('/readyz')).status === 200, 10_000);
    await paysWithoutHold(auth);
  });

  it('accepts by verify\'s digest the newest links of a held gateway\'s chain deleted though that gateway linked on after verify (its refusals recorded), releases it, and it pays without a new hold', async function () {
    this.timeout(120_000);
    const { auth, writerId, last } = await heldOnOwnTail();
    // Between the operator's verify and the acceptance the held gateway records refusals on that very chain.
    const accepted = await acceptAsVerified(env(), 'test: newest links deleted, looked at while the gateway refused', () => linkOnPast(auth, writerId, last + 1, 503));
    expect(accepted.code, accepted.stdout + accepted.stderr).to.equal(0);
    expect(accepted.stdout).to.contain(`link ${last - 1} of chain ${writerId}`);
    await eventually(async () => (await gw!.request('/readyz')).status === 200, 10_000);
    await paysWithoutHold(auth);
  });

  it('refuses verify\'s digest once a link the held gateway appended after verify is deleted too (the walk resumes past it), and the gateway stays held', async function () {
    this.timeout(120_000);
    const { auth, writerId, last } = await heldOnOwnTail();
    const refused = await acceptAsVerified(env(), 'test: newest links deleted, looked at before more were', async () => {
      await linkOnPast(auth, writerId, last + 1, 503);
      await gw!.store.db.execute('DELETE FROM audit_chain WHERE writer_id = ? AND seq = ?', [writerId, last + 1]);
    });
    expect(refused.code, refused.stdout).to.not.equal(0);
    expect(refused.stderr + refused.stdout).to.contain('is not what audit verify named');
    expect(readFileSync(checkpoints, 'utf8'), 'no acceptance line').to.not.contain('looked at before more were');
    expect((await gw!.request('/readyz')).status).to.equal(503);
    expect((await gw!.request('/v1/transfers', { json: sampleTransfer(), headers: auth })).status).to.equal(503);
  });

  /**
   * A scrub of this test's own passes (a link a pass; the gateway's own scrub off) over the accepted
   * tail cut of cutOwnTail, while its writer appends its next links (transfers, until that chain has
   * moved on) at one moment of a walk's look for the first link after the break (its MIN(seq)
   * statement on that chain): `before` it, or `after` it found none and before the walk compares
   * the chain's head with the head the acceptance saw. Not one pass holds, and none logs a hold.
   */
  async function stepsOverWhileAppended(when: 'before' | 'after'): Promise<void> {
    const { auth, writerId, last } = await cutOwnTail('0');
    await acceptInProcess(ctx.store(), checkpoints, 'test: newest links deleted, looked at');
    const { db, audit } = gw!.store;
    const query = db.query.bind(db);
    const linkOn = () => linkOnPast(auth, writerId, last, 201);
    let armed = true;
    db.query = (async (sql: string, params?: unknown[], options?: unknown) => {
      const race = armed && sql.includes('MIN(seq)') && sql.includes('audit_chain') && params?.[0] === writerId;
      if (race) armed = false;
      if (race && when === 'before') await linkOn();
      const rows = await query(sql, params as never, options as never);
      if (race && when === 'after') await linkOn();
      return rows;
    }) as typeof db.query;
    // A hold let go later in the same pass still refused payments meanwhile: every hold it logs is read.
    const logs = captureLogs('warn');
    try {
      const scrub = new AuditScrub(audit, { ring: ringOf(TEST_AUDIT_KEY), path: checkpoints, store: db.description }, { linksPerPass: 1, confirmMs: 50 });
      // A link a pass: its first walk of new links begins at the chain's head as read, inside the
      // accepted cut. Every chain walked round once (the suite's earlier gateways' too), none held after any pass.
      for (let i = 0; i < 5_000 && scrub.cycles === 0; i += 1) {
        await scrub.pass();
        expect(scrub.held ?? null, `after pass ${i + 1}: ${scrub.held}`).to.equal(null);
      }
      expect(scrub.cycles).to.be.greaterThan(0);
    } finally {
      logs.stop();
      db.query = query;
    }
    expect(logs.lines.filter((line) => line.includes('payments held')), 'the accepted cut is stepped over, the links after it walked').to.deep.equal([]);
    expect(armed, 'the walk looked for the link after the break').to.equal(false);
  }

  it('steps over an accepted tail cut when its writer appends between a walk\'s read of the head and of the link after the break', async function () {
    this.timeout(120_000);
    await stepsOverWhileAppended('before');
  });

  it('steps over an accepted tail cut when its writer appends right after a walk found no link after the break, before the head is compared with the accepted one', async function () {
    this.timeout(120_000);
    await stepsOverWhileAppended('after');
  });
});

forEachBackend('The audit scrub on a long history: a recent deletion is held without waiting for the full cycle (#14)', (ctx) => {
  it('holds on a payment deleted whole after a long history within a few passes, while the slow walk is still far from it', async function () {
    this.timeout(180_000);
    const gw = await TestGateway.start(ctx.url(), { GERBANG_AUDIT_SCRUB_MS: '0', ...UNTHROTTLED });
    try {
      const payer = await gw.createClient();
      const auth = { authorization: `Bearer ${await gw.token(payer)}` };
      // A long honest history: 800 exchanges (1,600 links).
      for (let i = 0; i < 800; i += 50) {
        await Promise.all(
          Array.from({ length: 50 }, (_, j) =>
            gw.store.audit.record(
              { requestId: `req-${randomBytes(6).toString('hex')}`, receivedAt: Date.now() - 1_000, remoteIp: '198.51.100.9', origin: null, method: 'POST', path: '/v1/auth/token', clientId: null, transactionId: null, amount: null, requestHeaders: {}, requestBody: `{"n":${i + j}}` },
              { outcome: 'rejected', statusCode: 401, errorCode: 'INVALID_CLIENT', clientId: null, transactionId: null, amount: null, responseBody: '{}', completedAt: Date.now() },
            ),
          ),
        );
      }
      // Then the payment, deleted whole. (No wait: the walk of new links goes by links, not by their
      // age, as the fast loop's window before it did.)
      const body = sampleTransfer();
      await payInsideChains(gw, auth, body);
      const scrub = new AuditScrub(gw.store.audit, { ring: ringOf(TEST_AUDIT_KEY), path: join(mkdtempSync(join(tmpdir(), 'gerbang-scrub-')), 'c.jsonl'), store: gw.store.db.description }, { linksPerPass: 50, confirmMs: 50, quiet: true });
      const breaks = await deleteWhole(gw.store.db, body.transactionId as string);
      let passes = 0;
      while (passes < 12 && !breaks.some((at) => scrub.held?.includes(at))) {
        await scrub.pass();
        passes += 1;
      }
      expect(scrub.held, `held after ${passes} passes of 50 links (the full cycle is over 30)`).to.be.a('string');
      expect(breaks.some((at) => scrub.held!.includes(at))).to.equal(true);
      expect(scrub.cycles, 'the slow walk has not gone round').to.equal(0);
    } finally {
      await gw.close();
    }
  });
});
