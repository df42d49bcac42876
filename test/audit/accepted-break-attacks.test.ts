import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditScrub, readCheckpoints, storeAgainstCheckpoints, appendCheckpoint } from '../../src/audit/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { TEST_AUDIT_KEY, TEST_AUDIT_KEYS } from '../support/audit-keys.js';
import { acceptAsVerified, auditVerify, runCli } from '../support/cli.js';
import { forEachBackend } from '../support/databases.js';
import { databasePerTest, recordExchanges, recordInOneChain } from '../support/recorded-exchanges.js';

/**
 * The attacker of docs/security/threat-model.md (writes the database, holds no key) after an
 * operator accepted a break (`gerbang audit accept-rollback`): new damage made where the accepted
 * break is (its seq, its chain accepted as gone, its payment) must not pass for the accepted one.
 * The payload is a double payment: a RELEASED event faked for a payment (its last event copied, seq
 * + 1) and its row deleted, so that the ERP's resend would be paid as new.
 */

forEachBackend('Damage made after an acceptance, where the accepted break is (#14)', (ctx) => {
  const database = databasePerTest(ctx.backend);
  let checkpoints = '';
  const env = () => ({ GERBANG_DATABASE_URL: database.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints });
  const verify = () => auditVerify(env());
  const accept = async (why: string) => {
    const r = await acceptAsVerified(env(), why);
    expect(r.code, r.stderr + r.stdout).to.equal(0);
  };
  /** What a gateway's scrub holds on after one whole cycle reading the file. */
  const scrubHeld = async (store: Store) => {
    const scrub = new AuditScrub(store.audit, { ring: TEST_AUDIT_KEYS, path: checkpoints, store: store.db.description }, { linksPerPass: 100_000, confirmMs: 0, quiet: true });
    await scrub.pass();
    return scrub.held;
  };
  const reserve = (store: Store, tag: string) =>
    store.payments.reserve({ clientId: 'gbc_attack', transactionId: `INV-${tag}-${randomBytes(3).toString('hex')}`, requestHash: 'h'.repeat(64), amount: '10.00', currency: 'IDR' }, Date.now());
  /** A RELEASED event faked for payment `id` (its last event copied, seq + 1), and its row deleted. Returns the fake event's id. */
  const fakeRelease = async (id: number): Promise<number> => {
    const db = database.db();
    const [last] = await db.query<Record<string, unknown>>('SELECT * FROM payment_events WHERE payment_id = ? ORDER BY seq DESC LIMIT 1', [id]);
    const { id: _, ...row } = last;
    row.seq = Number(row.seq) + 1;
    row.state = 'RELEASED';
    row.cause = 'release';
    await db.execute(`INSERT INTO payment_events (${Object.keys(row).join(', ')}) VALUES (${Object.keys(row).map(() => '?').join(', ')})`, Object.values(row) as never);
    const [{ n }] = await db.query<{ n: number | string }>('SELECT MAX(id) AS n FROM payment_events');
    await db.execute('DELETE FROM payments WHERE id = ?', [id]);
    return Number(n);
  };
  const insertLink = (writerId: string, seq: number, eventId: number) =>
    database.db().execute('INSERT INTO audit_chain (writer_id, seq, kind, record_id, recorded_at, prev_hash, hash, key_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [writerId, seq, 'payment_event', eventId, 1, 'x'.repeat(64), 'y'.repeat(64), 'k']);
  /** Chain `writer`'s links from `seq` on deleted, with their exchanges (its head row left): a tail cut. */
  const cutTail = async (writer: string, seq: number) => {
    const db = database.db();
    const rows = await db.query<{ record_id: number | string }>("SELECT record_id FROM audit_chain WHERE writer_id = ? AND seq >= ? AND kind = 'record'", [writer, seq]);
    for (const r of rows) await db.execute('DELETE FROM audit_exchanges WHERE id = ?', [r.record_id]);
    await db.execute('DELETE FROM audit_chain WHERE writer_id = ? AND seq >= ?', [writer, seq]);
  };
  /** `fn` with a store of the test's database, closed after. */
  const withStore = async (fn: (store: Store) => Promise<void>) => {
    const store = await openStore(database.url(), { auditKeys: TEST_AUDIT_KEYS });
    try {
      await fn(store);
    } finally {
      await store.close();
    }
  };
  beforeEach(() => {
    checkpoints = join(mkdtempSync(join(tmpdir(), 'gerbang-attack-')), 'audit-checkpoints.jsonl');
  });

  describe('when a link is inserted under the writer id of a chain accepted as gone, covering a faked release', () => {
    it('verify names the chain as not as accepted (exit 1), the scrub holds, and accept-rollback offers it again', async function () {
      this.timeout(120_000);
      const gone = await recordInOneChain(database.url(), 3);
      const writer = gone[0].writerId;
      await withStore(async (store) => {
      const p = await reserve(store, 'GONE');
      await database.db().execute('DELETE FROM audit_writers WHERE writer_id = ?', [writer]);
      await accept('test: head row deleted, looked at');
      expect((await verify()).code).to.equal(0);
      expect(await scrubHeld(store)).to.equal(null);

      await insertLink(writer, 1000, await fakeRelease(p.id));
      const after = await verify();
      expect(after.code, after.text).to.equal(1);
      expect(after.text).to.contain(`FORGED: chain ${writer}, accepted as gone on `).and.to.contain('it holds 4 link(s) up to link 1000 where 3 up to link 3 remained');
      expect(await scrubHeld(store)).to.contain(`chain ${writer} link head: chain ${writer}, accepted as gone`);
      const again = await acceptAsVerified(env(), 'test: looked at again');
      expect(again.stdout).to.contain(`chain ${writer}`);
      });
    });

    it('verify names its head row inserted back (exit 1), and the scrub holds', async function () {
      this.timeout(120_000);
      const gone = await recordInOneChain(database.url(), 3);
      const writer = gone[0].writerId;
      const db = database.db();
      const [head] = await db.query<Record<string, unknown>>('SELECT * FROM audit_writers WHERE writer_id = ?', [writer]);
      await db.execute('DELETE FROM audit_writers WHERE writer_id = ?', [writer]);
      await accept('test: head row deleted, looked at');
      await db.execute(`INSERT INTO audit_writers (${Object.keys(head).join(', ')}) VALUES (${Object.keys(head).map(() => '?').join(', ')})`, Object.values(head) as never);
      const after = await verify();
      expect(after.code, after.text).to.equal(1);
      expect(after.text).to.contain(`chain ${writer}, accepted as gone on `).and.to.contain('its head row is back (link 3)');
      await withStore(async (store) => {
      expect(await scrubHeld(store)).to.contain(`chain ${writer}, accepted as gone`);
      });
    });
  });

  describe('when the link at an accepted break is re-pointed at a faked release', () => {
    it('verify names the new break (exit 1) and the scrub holds', async function () {
      this.timeout(120_000);
      await withStore(async (store) => {
      const links = await recordExchanges(store, 5);
      const p = await reserve(store, 'SKIP');
      await recordExchanges(store, 2, 10);
      const writer = links[0].writerId;
      const victim = links[2];
      await database.db().execute('DELETE FROM audit_exchanges WHERE id = ?', [victim.id]);
      await accept('test: one exchange deleted, looked at');
      expect((await verify()).code).to.equal(0);

      const fake = await fakeRelease(p.id);
      await database.db().execute("UPDATE audit_chain SET kind = 'payment_event', record_id = ? WHERE writer_id = ? AND seq = ?", [fake, writer, victim.seq]);
      const after = await verify();
      expect(after.code, after.text).to.equal(1);
      expect(after.report.breaks.some((b) => b.writerId === writer && b.recordId === fake), after.text).to.equal(true);
      expect(await scrubHeld(store)).to.contain(`chain ${writer} link ${victim.seq}`);
      });
    });

    it('verify names the link at that seq deleted and inserted again as another (exit 1)', async function () {
      this.timeout(120_000);
      await withStore(async (store) => {
      const links = await recordExchanges(store, 5);
      const p = await reserve(store, 'SKIP2');
      const writer = links[0].writerId;
      const victim = links[2];
      await database.db().execute('DELETE FROM audit_exchanges WHERE id = ?', [victim.id]);
      await accept('test: one exchange deleted, looked at');
      await database.db().execute('DELETE FROM audit_chain WHERE writer_id = ? AND seq = ?', [writer, victim.seq]);
      await insertLink(writer, victim.seq, await fakeRelease(p.id));
      const after = await verify();
      expect(after.code, after.text).to.equal(1);
      expect(await scrubHeld(store)).to.contain(`chain ${writer} link ${victim.seq}`);
      });
    });
  });

  describe('when an accepted tail cut (head left) is extended: the links appended since deleted too', () => {
    it('verify names the cut (exit 1) and the scrub holds', async function () {
      this.timeout(120_000);
      await withStore(async (store) => {
      const links = await recordExchanges(store, 6);
      const writer = links[0].writerId;
      const cutFrom = (seq: number) => cutTail(writer, seq);
      await cutFrom(links[4].seq);
      await accept('test: tail cut, looked at');
      const later = await recordExchanges(store, 3, 20);
      expect((await verify()).code, 'the writer linked on after the cut').to.equal(0);
      await cutFrom(later[0].seq);
      const after = await verify();
      expect(after.code, after.text).to.equal(1);
      expect(await scrubHeld(store)).to.contain(`chain ${writer} link ${links[4].seq}`);
      });
    });

    it('the rollback watch holds nothing when the chain, checkpointed at its cut head, links on after the acceptance', async function () {
      this.timeout(120_000);
      await withStore(async (store) => {
      const links = await recordExchanges(store, 6);
      const writer = links[0].writerId;
      const db = database.db();
      const [head] = await db.query<{ last_seq: number | string; last_hash: string }>('SELECT last_seq, last_hash FROM audit_writers WHERE writer_id = ?', [writer]);
      // The gateway's own checkpoint of its head.
      appendCheckpoint(checkpoints, TEST_AUDIT_KEYS, { store: store.db.description, at: Date.now(), by: 'gateway 1', heads: [{ writerId: writer, seq: Number(head.last_seq), hash: head.last_hash }] });
      for (const l of links.slice(4)) await db.execute('DELETE FROM audit_exchanges WHERE id = ?', [l.id]);
      await db.execute('DELETE FROM audit_chain WHERE writer_id = ? AND seq >= ?', [writer, links[4].seq]);
      await accept('test: tail cut, looked at');
      await recordExchanges(store, 1, 30);
      const watch = await storeAgainstCheckpoints(store.audit, readCheckpoints(checkpoints, TEST_AUDIT_KEYS, store.db.description), checkpoints);
      expect(watch.breaks).to.deep.equal([]);
      expect(await scrubHeld(store)).to.equal(null);
      });
    });
  });

  describe('when a record is deleted between verify and accept-rollback --expect (the digest verify printed)', () => {
    it('accepts nothing (exit 1) until given the digest of what there is now, then exactly that', async function () {
      this.timeout(120_000);
      await withStore(async (store) => {
      const links = await recordExchanges(store, 5);
      const db = database.db();
      await db.execute('DELETE FROM audit_exchanges WHERE id = ?', [links[1].id]);
      const seen = await verify();
      expect(seen.code).to.equal(1);
      const digest = seen.report.acceptDigest!;
      expect(digest).to.match(/^[0-9a-f]{16}$/);
      expect(seen.text).to.contain(`accept-rollback --expect ${digest}`);

      // The attacker's deletion, after the operator looked.
      await db.execute('DELETE FROM audit_exchanges WHERE id = ?', [links[3].id]);
      const refused = await runCli(['audit', 'accept-rollback', '--reason', 'test: looked at', '--expect', digest], env());
      expect(refused.code, refused.stdout).to.equal(1);
      expect(refused.stderr).to.contain(`NOT accepted: what there is to accept now (digest `).and.to.contain(`is not what audit verify named (--expect ${digest})`);
      const still = await verify();
      expect(still.report.breaks.map((b) => b.recordId)).to.deep.equal([links[1].id, links[3].id]);

      const now = still.report.acceptDigest!;
      expect(now).to.not.equal(digest);
      const accepted = await runCli(['audit', 'accept-rollback', '--reason', 'test: both looked at', '--expect', now], env());
      expect(accepted.code, accepted.stderr).to.equal(0);
      expect((await verify()).code).to.equal(0);
      });
    });
  });

  describe('when a payment accepted as altered has its row deleted after', () => {
    it('verify names it deleted, not as accepted (exit 1), and the scrub holds', async function () {
      this.timeout(120_000);
      await withStore(async (store) => {
      const p = await reserve(store, 'ALTERED');
      const db = database.db();
      await db.execute("UPDATE payments SET amount = '99.00' WHERE id = ?", [p.id]);
      await accept('test: payment altered, looked at');
      expect((await verify()).code).to.equal(0);
      expect(await scrubHeld(store)).to.equal(null);

      await db.execute('DELETE FROM payments WHERE id = ?', [p.id]);
      const after = await verify();
      expect(after.code, after.text).to.equal(1);
      expect(after.text).to.contain(`payments id ${p.id} was deleted`).and.to.contain('(an operator accepted it as altered, not deleted)');
      expect(await scrubHeld(store)).to.contain(`payments id ${p.id} was deleted`);
      });
    });

    it('verify names it altered again, not as accepted (exit 1)', async function () {
      this.timeout(120_000);
      await withStore(async (store) => {
      const p = await reserve(store, 'ALTERED2');
      const db = database.db();
      await db.execute("UPDATE payments SET amount = '99.00' WHERE id = ?", [p.id]);
      await accept('test: payment altered, looked at');
      await db.execute("UPDATE payments SET amount = '98.00' WHERE id = ?", [p.id]);
      const after = await verify();
      expect(after.code, after.text).to.equal(1);
      expect(after.text).to.contain(`payments id ${p.id}`).and.to.contain('altered, as its row stood then; it is not so now');
      expect(await scrubHeld(store)).to.contain(`payments id ${p.id}`);
      });
    });
  });
  // A running process's scrub proved the links the writer appended after an accepted tail cut; then
  // those links are deleted and the head row put back exactly as the acceptance saw it. That scrub
  // read another head of the chain since the acceptance: not the cut as accepted, whether the cut
  // was of links (the writer rejoined at its `next`: a head read past the cut's) or of a head row
  // moved forward in SQL, put back where the writer left it (it linked on inside the cut: a head read
  // below the cut's) and moved forward again.
  describe('When the links linked on after an accepted tail cut are deleted and the head row put back as accepted', () => {
    /** Chain cut (`forward`: its head row moved 100 links on instead), accepted, linked on, proved by a running scrub; then those links deleted, the head row as accepted: whether that scrub holds. */
    async function heldAfterLinkedOn(store: Store, forward: boolean): Promise<string | null> {
      const links = await recordExchanges(store, 212);
      const writer = links[0].writerId;
      const db = database.db();
      const setHead = (seq: number | string, hash: string) => db.execute('UPDATE audit_writers SET last_seq = ?, last_hash = ? WHERE writer_id = ?', [seq, hash, writer]);
      const [head] = await db.query<{ last_seq: number | string; last_hash: string }>('SELECT last_seq, last_hash FROM audit_writers WHERE writer_id = ?', [writer]);
      const scrub = new AuditScrub(store.audit, { ring: TEST_AUDIT_KEYS, path: checkpoints, store: store.db.description }, { linksPerPass: 10, confirmMs: 0, quiet: true });
      for (let i = 0; i < 500 && (!scrub.complete || scrub.held !== null); i += 1) await scrub.pass();
      expect(scrub.held).to.equal(null);
      const accepted = forward ? { seq: Number(head.last_seq) + 100, hash: 'f'.repeat(64) } : { seq: head.last_seq, hash: head.last_hash };
      if (forward) await setHead(accepted.seq, accepted.hash);
      else await cutTail(writer, links[208].seq);
      await accept('test: chain ends before its head, looked at');
      // The head row put back where the writer left it: it links on inside the cut.
      if (forward) await setHead(head.last_seq, head.last_hash);
      await scrub.pass();
      const later = await recordExchanges(store, 4, 300);
      expect(later[0].seq, 'linked on after the cut\'s links or inside the cut').to.equal(Number(head.last_seq) + 1);
      await scrub.pass();
      expect(scrub.held, 'the links linked on are proved').to.equal(null);
      // The attacker: those links deleted, the head row as the acceptance saw it.
      await cutTail(writer, later[0].seq);
      await setHead(accepted.seq, accepted.hash);
      await scrub.pass();
      return scrub.held;
    }

    it('a running scrub that proved those links holds at its next pass: a cut of links, the writer rejoined at its next link', async function () {
      this.timeout(120_000);
      await withStore(async (store) => {
        expect(await heldAfterLinkedOn(store, false), 'links it proved are gone').to.be.a('string');
      });
    });

    it('a running scrub that proved those links holds at its next pass: a head row moved forward accepted as a cut, put back, linked on inside it, moved forward again', async function () {
      this.timeout(120_000);
      await withStore(async (store) => {
        expect(await heldAfterLinkedOn(store, true), 'links it proved are gone').to.be.a('string');
      });
    });
  });

  // `audit verify` after an accepted tail cut (head row left, nothing after it) is INTACT and vouches
  // the heads it verified: that chain's at the link before the cut, not at its head row, whose link
  // is absent (vouched there, the next verify named a rollback nothing accepts: "ends at link H but
  // was checkpointed at link H", and the rollback watch held once the writer linked on).
  describe('Verify twice after an accepted tail cut', () => {
    it('verify stays INTACT (exit 0) and accept-rollback has nothing to accept', async function () {
      this.timeout(120_000);
      await withStore(async (store) => {
      const links = await recordExchanges(store, 6);
      const writer = links[0].writerId;
      const db = database.db();
      for (const l of links.slice(4)) await db.execute('DELETE FROM audit_exchanges WHERE id = ?', [l.id]);
      await db.execute('DELETE FROM audit_chain WHERE writer_id = ? AND seq >= ?', [writer, links[4].seq]);
      await accept('test: tail cut, looked at');
      const first = await runCli(['audit', 'verify'], env());
      const second = await auditVerify(env());
      const held = await scrubHeld(store);
      // Its writer links on: the rollback watch compares the checkpoint verify wrote with the links.
      await recordExchanges(store, 1, 30);
      const watch = await storeAgainstCheckpoints(store.audit, readCheckpoints(checkpoints, TEST_AUDIT_KEYS, store.db.description), checkpoints);
      const seen = `verify: ${first.code}, then ${second.code} (offered to accept: ${second.report.acceptDigest ?? 'nothing'}); scrub held: ${held}; the rollback watch after the writer linked on: ${watch.breaks.map((b) => b.detail).join('; ') || 'nothing'}`;
      expect([first.code, second.code, held, watch.breaks.length], seen).to.deep.equal([0, 0, null, 0]);
      });
    });
  });

  // Two tail cuts accepted in one chain, the later one starting below the earlier (the writer linked
  // on after the first, then the chain's tail was cut from further back). A new process's first walk
  // of new links that begins inside the earlier cut's range is inside the later cut too: each
  // accepted cut around it is tried (the earlier alone, whose head the chain no longer has, held
  // falsely until the slow walk came by).
  describe('When two tail cuts were accepted, the later from below the earlier', () => {
    it('a new process holds nothing at its first pass (its walk of new links begins inside both)', async function () {
      this.timeout(120_000);
      await withStore(async (store) => {
      // A chain long enough that the slow walk of the first pass (10 × linksPerPass links) does not reach the cuts.
      const links = await recordExchanges(store, 212);
      const writer = links[0].writerId;
      expect(links.every((l) => l.writerId === writer)).to.equal(true);
      const db = database.db();
      const cutFrom = (seq: number) => cutTail(writer, seq);
      const H1 = links[211].seq;
      await cutFrom(links[208].seq);
      await accept('test: tail cut, looked at');
      const later = await recordExchanges(store, 6, 20);
      expect(later[0].seq, 'the writer linked on at the cut\'s next').to.equal(H1 + 1);
      const K = later[5].seq;
      await cutFrom(links[205].seq);
      await accept('test: tail cut from further back, looked at');
      // The walk of new links of a new process begins `back` links below each head: at H1 here (inside both cuts).
      const [{ n }] = await db.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM audit_writers WHERE last_seq > 0');
      const back = K - H1 + 1;
      const linksPerPass = Math.ceil((back * Number(n)) / 2);
      expect(Math.floor((2 * linksPerPass) / Number(n)), 'the first walk of new links begins at H1').to.equal(back);
      const scrub = new AuditScrub(store.audit, { ring: TEST_AUDIT_KEYS, path: checkpoints, store: store.db.description }, { linksPerPass, confirmMs: 0, quiet: true });
      await scrub.pass();
      const first = scrub.held;
      for (let i = 0; i < 100 && !scrub.complete; i += 1) await scrub.pass();
      expect(first, `after the first pass (walk of new links from link ${H1}; cuts accepted at ${links[208].seq} then ${links[205].seq}, head ${K}): ${first}; once the slow walk came by: ${scrub.held}`).to.equal(null);
      expect(scrub.held, 'once the slow walk came by').to.equal(null);
      });
    });
  });
});
