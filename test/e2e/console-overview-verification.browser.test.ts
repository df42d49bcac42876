import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_AUDIT_KEY } from '../support/audit-keys.js';
import { axeViolations, computedBackground, signInToConsole } from '../support/browser.js';
import { browserConsole } from '../support/browser-console.js';
import { runCli } from '../support/cli.js';
import { sampleTransfer } from '../support/gateway-harness.js';
import { insertKeylessVerificationLink } from '../support/sql-rows.js';

/** The `.ok` and `.error` boxes of console.css, as the browser computes their backgrounds. */
const GREEN = 'rgb(227, 243, 228)';
const RED = 'rgb(253, 231, 231)';
/** The links an inserted "intact" row says it checked. */
const FORGED_LINKS = '100000';

/**
 * The overview's audit-chain verification against an attacker who writes the verification results
 * in SQL without keys (issue #14, docs/security/database-attacks.md): after a failed verification,
 * the failed result deleted (so that the older "intact" one is the newest row), then a newer failed
 * result altered into "intact", then an "intact" result dated in the future inserted, then (each
 * after a new failed verification, the results after the intact one deleted) a link for the intact
 * result inserted newer than every other (its hash plain SHA-256: no key), and the failed result's
 * own link re-pointed at the intact one. In a browser,
 * in both languages, the overview is never green: it says the chain is not intact and what was
 * found, and axe passes it. Before the attacks the same page is green (what the checks tell apart).
 */
describe('Finance console in a browser: the overview is not kept green by verification results deleted or altered in SQL', function () {
  this.timeout(180_000);

  const checkpoints = join(mkdtempSync(join(tmpdir(), 'gerbang-verifications-')), 'audit-checkpoints.jsonl');
  const suite = browserConsole(
    async ({ gw, databaseUrl }) => {
      const auth = { authorization: `Bearer ${await gw.token(await gw.createClient())}` };
      expect((await gw.request('/v1/transfers', { json: sampleTransfer(), headers: auth })).status).to.equal(201);
      const first = await runCli(['audit', 'verify'], verifyEnv(databaseUrl));
      expect(first.code, first.stdout + first.stderr).to.equal(0);
    },
    { GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints },
  );
  const verifyEnv = (databaseUrl: string) => ({ GERBANG_DATABASE_URL: databaseUrl, GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints });
  const verify = () => runCli(['audit', 'verify'], verifyEnv(suite.databaseUrl));

  const WORDS = {
    id: {
      intact: 'Utuh',
      unproved: 'Tidak terbukti',
      why: 'Hasil verifikasi terakhir tidak bisa dipercaya (ditulis, diubah atau dihapus di database, atau tidak bisa dicek di sini), jadi rantai audit tidak boleh dianggap utuh',
      found: 'Yang ditemukan: ',
      lastRun: 'Terakhir dijalankan',
      links: 'tautan diperiksa',
      title: 'Verifikasi rantai audit',
    },
    en: {
      intact: 'Intact',
      unproved: 'Not proved',
      why: 'The last verification result cannot be believed (written, altered or deleted in the database, or not checkable here), so the audit chain cannot be taken as intact',
      found: 'What was found: ',
      lastRun: 'Last run',
      links: 'links checked',
      title: 'Audit chain verification',
    },
  } as const;

  /** The overview's chain status in `lang`, after checking the page is in it and passes axe. */
  async function chainStatus(lang: 'id' | 'en'): Promise<{ className: string | null; text: string; background: string }> {
    const { page, con } = suite;
    await signInToConsole(suite.browser, page, con.url, suite.admin, lang);
    expect((await page.goto(`${con.url}/overview`))?.status()).to.equal(200);
    expect(await page.getAttribute('html', 'lang')).to.equal(lang);
    expect(await page.textContent('section.chain h2')).to.equal(WORDS[lang].title);
    expect(await axeViolations(page)).to.deep.equal([]);
    const text = ((await page.textContent('#chain-status')) ?? '').replace(/\s+/g, ' ');
    return { className: await page.getAttribute('#chain-status', 'class'), text, background: await computedBackground(page, '#chain-status') };
  }

  /**
   * Checks the overview in both languages says, in red and in its words, that the chain is not
   * proved and why, then `found` (as audit verify words it), and shows no date or count of the row.
   */
  function notGreen(found: RegExp): void {
    for (const lang of ['id', 'en'] as const) {
      it(`shows it in ${lang} not proved, in red, saying in its words why and what was found, none of the row's values`, async () => {
        const status = await chainStatus(lang);
        expect(status.className).to.equal('error');
        expect(status.background).to.equal(RED);
        expect(status.text.startsWith(`${WORDS[lang].unproved} · ${WORDS[lang].why}`), status.text).to.equal(true);
        expect(status.text).to.not.contain(WORDS[lang].intact);
        expect(status.text.slice(status.text.indexOf(WORDS[lang].found) + WORDS[lang].found.length)).to.match(found);
        expect(status.text).to.not.contain(WORDS[lang].lastRun).and.to.not.contain(WORDS[lang].links).and.to.not.contain(FORGED_LINKS);
      });
    }
  }

  describe('after a verification that held', () => {
    for (const lang of ['id', 'en'] as const) {
      it(`shows the chain intact, in green, in ${lang}`, async () => {
        const status = await chainStatus(lang);
        expect(status.className).to.equal('ok');
        expect(status.background).to.equal(GREEN);
        expect(status.text).to.match(new RegExp(`^${WORDS[lang].intact} · `));
      });
    }
  });

  describe('when a failed verification’s result is deleted in SQL, the older intact one the newest row again', () => {
    before(async () => {
      const db = suite.gw.store.db;
      const [{ amount }] = await db.query<{ amount: string }>('SELECT amount FROM payments');
      await db.execute("UPDATE payments SET amount = '999999.00'");
      const failed = await verify();
      expect(failed.code, failed.stdout).to.equal(1);
      await db.execute('UPDATE payments SET amount = ?', [amount]);
      expect((await db.execute('DELETE FROM audit_verifications WHERE ok = 0')).affectedRows).to.equal(1);
      const [{ ok }] = await db.query<{ ok: number | string }>('SELECT ok FROM audit_verifications ORDER BY checked_at DESC, id DESC LIMIT 1');
      expect(Number(ok), 'the newest row left says intact').to.equal(1);
    });
    notGreen(/CANNOT BE PROVED: the newest verification result \(id \d+\), which the audit chain links, was deleted from the database/);
  });

  describe('when the newest failed result is altered in SQL to say intact', () => {
    before(async () => {
      const failed = await verify();
      expect(failed.code, 'the deleted result is named').to.equal(1);
      expect(failed.stdout).to.match(/DELETED: audit_verifications id \d+/);
      const altered = await suite.gw.store.db.execute('UPDATE audit_verifications SET ok = 1, breaks = 0, first_break = NULL WHERE ok = 0');
      expect(altered.affectedRows).to.equal(1);
    });
    notGreen(/FORGED: this verification result was altered in the database \(its signature does not match\)/);
  });

  describe('when an intact result dated in the future is inserted in SQL', () => {
    before(async () => {
      await suite.gw.store.db.execute('INSERT INTO audit_verifications (checked_at, ok, links, breaks, first_break) VALUES (?, 1, ?, 0, NULL)', [Date.now() + 86_400_000, Number(FORGED_LINKS)]);
    });
    notGreen(/FORGED: this verification result was not written by gerbang audit verify \(no valid signature\)/);
  });

  /**
   * A verification that fails (the rows forged above are named), then every result after the
   * first, intact one deleted in SQL, so that it is the newest row again: its id, and the failed
   * result's link.
   */
  async function failedThenIntactNewest(): Promise<{ intact: number; failedLink: { writer_id: string; seq: number | string; recorded_at: number | string; key_id: string } }> {
    const db = suite.gw.store.db;
    const failed = await verify();
    expect(failed.code, failed.stdout).to.equal(1);
    const [{ id: failedId }] = await db.query<{ id: number | string }>('SELECT MAX(id) AS id FROM audit_verifications');
    const [failedLink] = await db.query<{ writer_id: string; seq: number | string; recorded_at: number | string; key_id: string }>(
      "SELECT writer_id, seq, recorded_at, key_id FROM audit_chain WHERE kind = 'verification' AND record_id = ?",
      [Number(failedId)],
    );
    const [{ id: intact }] = await db.query<{ id: number | string }>('SELECT MIN(id) AS id FROM audit_verifications WHERE ok = 1');
    await db.execute('DELETE FROM audit_verifications WHERE id > ?', [Number(intact)]);
    const [{ id: newest }] = await db.query<{ id: number | string }>('SELECT id FROM audit_verifications ORDER BY checked_at DESC, id DESC LIMIT 1');
    expect(Number(newest), 'the intact result is the newest row left').to.equal(Number(intact));
    return { intact: Number(intact), failedLink };
  }

  describe('when, the failed results deleted, a link for the intact one is inserted in SQL newer than every other (no key)', () => {
    before(async () => {
      const { intact, failedLink } = await failedThenIntactNewest();
      await insertKeylessVerificationLink(suite.gw.store.db, { recordId: intact, writerId: 'zzzz-forged', recordedAt: Number(failedLink.recorded_at) + 1, keyId: failedLink.key_id });
    });
    after(async () => {
      await suite.gw.store.db.execute("DELETE FROM audit_chain WHERE writer_id = 'zzzz-forged'");
    });
    notGreen(/FORGED: 2 links in the audit chain name this verification result, which has one \(a link inserted or re-pointed in the database\)/);
  });

  describe('when, the failed results deleted, the failed result’s own link is re-pointed in SQL at the intact one', () => {
    before(async () => {
      const { intact, failedLink } = await failedThenIntactNewest();
      const repointed = await suite.gw.store.db.execute("UPDATE audit_chain SET record_id = ? WHERE kind = 'verification' AND writer_id = ? AND seq = ?", [intact, failedLink.writer_id, Number(failedLink.seq)]);
      expect(repointed.affectedRows).to.equal(1);
    });
    notGreen(/FORGED: 2 links in the audit chain name this verification result, which has one \(a link inserted or re-pointed in the database\)/);
  });
});
