import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_AUDIT_KEY } from '../support/audit-keys.js';
import { axeViolations, signInToConsole } from '../support/browser.js';
import { browserConsole } from '../support/browser-console.js';
import { runCli } from '../support/cli.js';
import { ConsoleClient } from '../support/console-client.js';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** The simulator's company account (the console reads its statement through the API). */
const ACCOUNT = '0201245680';
const REASON = 'mutasi BCA dicek, tiket FIN-77';

/** The Jakarta day `daysAgo` days before today, yyyy-MM-dd. */
function jakartaDay(daysAgo: number): string {
  return new Date(Date.now() + 7 * HOUR_MS - daysAgo * DAY_MS).toISOString().slice(0, 10);
}

/**
 * A reconciliation day an operator accepted with `gerbang audit accept-day` (#16) says so on the
 * reconciliation page, where its alert was: who, when, why, the ids that had been deleted, and a
 * link to the access-log entry for auditors and admins; in both languages, axe-clean. The note is
 * read from the console audit's keyed record: an acceptance row inserted in SQL without the chain
 * key (the genuine acceptance's target copied onto another day) makes no day look accepted, and
 * that day stays named in red. Both backends; the attacks are SQL, the acceptance the real CLI.
 */
for (const backend of ['sqlite', 'mariadb'] as const) {
  describe(`Finance console in a browser: an accepted reconciliation day says so, a forged acceptance does not [${backend}]`, function () {
    this.timeout(180_000);
    const accepted = jakartaDay(3);
    const forged = jakartaDay(4);
    let deleted: { accepted: number; forged: number };
    let entryId: number;
    let viewer: { username: string; password: string };

    const suite = browserConsole(
      async ({ gw, con, admin, databaseUrl }) => {
        viewer = await con.createUser('vina.viewer', 'viewer');
        // Three paid payments of the account on each day, then both days sealed by a first reading.
        const ids: Record<string, number[]> = { [accepted]: [], [forged]: [] };
        for (const day of [accepted, forged]) {
          const start = Date.parse(`${day}T00:00:00+07:00`);
          for (let i = 0; i < 3; i += 1) {
            const p = await con.store.payments.reserve({ clientId: 'day-accepted', transactionId: `ACC-${day}-${i}`, requestHash: 'a'.repeat(64), amount: `${1000 + i}.00`, currency: 'IDR', sourceAccount: ACCOUNT }, start + HOUR_MS + i);
            expect(await con.store.payments.update(p.id, { state: 'SUCCESS', bank: 'bca' }, start + 2 * HOUR_MS)).to.equal(true);
            ids[day].push(p.id);
          }
        }
        const client = new ConsoleClient(new URL(con.url).origin);
        expect((await client.signIn(admin.username, admin.password)).status).to.equal(303);
        const period = `/console/reconciliation?account=${ACCOUNT}&from=${forged}&to=${accepted}`;
        expect((await client.get(period)).status).to.equal(200);
        const sealed = await client.get(period);
        expect(sealed.text).not.to.contain('data-missing-day').and.not.to.contain('data-unchecked-days');
        // The attacks, in SQL: a sealed payment of each day deleted.
        deleted = { accepted: ids[accepted][1], forged: ids[forged][2] };
        await gw.store.db.execute(`DELETE FROM payments WHERE id IN (?, ?)`, [deleted.accepted, deleted.forged]);
        const named = (await client.get(period)).text;
        expect(named).to.contain(`data-missing-day="${accepted}"`).and.to.contain(`data-missing-day="${forged}"`);

        // An operator accepts the first day with the real CLI, by the digest of what they looked at.
        const env = { GERBANG_DATABASE_URL: databaseUrl, GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_AUDIT_CHECKPOINT_FILE: join(mkdtempSync(join(tmpdir(), 'gerbang-day-accepted-')), 'checkpoints.jsonl') };
        const acceptDay = (expectDigest: string[]) => runCli(['audit', 'accept-day', '--account', ACCOUNT, '--day', accepted, ...expectDigest, '--reason', REASON], env);
        const looked = await acceptDay([]);
        expect(looked.code, looked.stderr).to.equal(1);
        const digest = /\(digest ([0-9a-f]{16})\)/.exec(looked.stderr)![1];
        const done = await acceptDay(['--expect', digest]);
        expect(done.code, done.stderr).to.equal(0);
        const [entry] = await con.store.consoleAudit.list({ action: 'reconciliation_day_accept' });
        entryId = entry.id;

        // A writer without the chain key makes the other day look accepted: the genuine entry's
        // target (its account's tag included) and words copied onto that day, as a new row.
        await gw.store.db.execute('INSERT INTO console_audit (at, username, action, target, detail, remote_ip) VALUES (?, ?, ?, ?, ?, ?)', [
          entry.at + 1000,
          'mallory',
          entry.action,
          entry.target!.replace(`day:${accepted}`, `day:${forged}`),
          entry.detail!.replace(String(deleted.accepted), String(deleted.forged)),
          'local',
        ]);
      },
      { GERBANG_RESOLVER_INTERVAL_MS: '0', GERBANG_AUDIT_SCRUB_MS: '0' },
      { readsStatements: true, backend },
    );

    for (const lang of ['id', 'en'] as const) {
      const words = lang === 'id' ? { accepted: 'HARI DITERIMA', reason: `Alasan: ${REASON}`, ids: 'Pembayaran yang saat itu disebut dihapus: id', log: 'Catatan penerimaan di log akses' } : { accepted: 'DAY ACCEPTED', reason: `Reason: ${REASON}`, ids: 'Payments then named deleted: id', log: 'The acceptance on the access log' };

      it(`(${lang}) shows the accepted day's note (who, when, why, the deleted id) linked to its access-log entry; the day with a forged acceptance stays named in red, with no note; axe finds nothing`, async () => {
        const { page, browser, con, admin } = suite;
        await signInToConsole(browser, page, con.url, admin, lang);
        await page.goto(`${con.url}/reconciliation?account=${ACCOUNT}&from=${forged}&to=${accepted}`);
        const note = page.locator(`[data-accepted-day="${accepted}"]`);
        expect(await note.count()).to.equal(1);
        expect(await note.isVisible()).to.equal(true);
        const text = (await note.textContent())!;
        expect(text).to.contain(words.accepted).and.to.contain('(cli)').and.to.contain(words.reason).and.to.contain(`${words.ids} ${deleted.accepted}`);
        expect(await note.getAttribute('data-accept-entry')).to.equal(String(entryId));
        // The accepted day is no longer named in red; the other day still is, and no forged note says otherwise.
        expect(await page.locator(`[data-missing-day="${accepted}"]`).count()).to.equal(0);
        expect(await page.locator(`[data-missing-day="${forged}"]`).count()).to.equal(1);
        expect(await page.locator(`[data-accepted-day="${forged}"]`).count()).to.equal(0);
        expect(await page.locator('[data-accepted-day]').count()).to.equal(1);
        expect(await page.textContent('main')).not.to.contain('mallory');
        expect(await axeViolations(page)).to.deep.equal([]);

        const link = note.locator(`a:has-text("${words.log}")`);
        await Promise.all([page.waitForURL(/\/console\/access-log/), link.click()]);
        const row = page.locator(`#entry-${entryId}`);
        expect(await row.getAttribute('data-action')).to.equal('reconciliation_day_accept');
        expect(await row.textContent()).to.contain(`reason: ${REASON}`);
        expect(await axeViolations(page)).to.deep.equal([]);
      });

      it(`(${lang}) shows a viewer the note without the access-log link (the log is for auditors and admins)`, async () => {
        const { page, browser, con } = suite;
        await signInToConsole(browser, page, con.url, viewer, lang);
        await page.goto(`${con.url}/reconciliation?account=${ACCOUNT}&from=${forged}&to=${accepted}`);
        const note = page.locator(`[data-accepted-day="${accepted}"]`);
        expect(await note.textContent()).to.contain(words.accepted).and.to.contain(words.reason);
        expect(await note.locator('a').count()).to.equal(0);
        expect(await page.locator(`[data-accepted-day="${forged}"]`).count()).to.equal(0);
        expect(await axeViolations(page)).to.deep.equal([]);
      });
    }
  });
}
