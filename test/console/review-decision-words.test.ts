import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { ConsoleClient } from '../support/console-client.js';
import { TestConsole } from '../support/console-harness.js';
import { forEachBackend } from '../support/databases.js';

/**
 * A reservation in review released by an admin (never sent): the review's decision keeps
 * Gerbang's English note as it always did ("Released in review by …"), and the payment the ERP's
 * resend then made tells it in its story in the page's language, to every role.
 */
forEachBackend('A review decision in the story of the payment it let through, in the clerk’s words (#16)', (db) => {
  let con: TestConsole;
  let viewer: ConsoleClient;
  let resend = 0;
  let admin = '';
  const now = Date.now();

  before(async () => {
    const store = db.store();
    const who = `erp-${randomBytes(3).toString('hex')}`;
    const transactionId = `REL-${randomBytes(3).toString('hex')}`;
    // A reservation its process left, which a takeover could not prove unsent: in the review queue.
    const reserved = await store.payments.reserve({ clientId: who, transactionId, requestHash: 'a'.repeat(64), amount: '250000.00', currency: 'IDR', sourceAccount: '0201245680' }, now - 3_600_000);
    await store.payments.enterReview(reserved.id, now - 1_800_000);
    con = await TestConsole.start(db.url(), { GERBANG_LOG_LEVEL: 'silent' }, { clock: () => now, sealSweep: false });
    const asAdmin = new ConsoleClient(con.origin);
    const adminUser = await con.createUser(`ana-${randomBytes(3).toString('hex')}`, 'admin');
    admin = adminUser.username;
    expect((await asAdmin.signIn(adminUser.username, adminUser.password)).status).to.equal(303);
    await asAdmin.get('/console/review');
    const released = await asAdmin.post(`/console/review/${reserved.id}/resolve`, { _csrf: asAdmin.csrf, outcome: 'FAILED', evidenceKind: 'CALL_REFERENCE', evidence: 'BCA call centre ticket 55120: never received' });
    expect(released.status, released.text).to.equal(200);
    // The ERP's resend, reserved anew under the same transactionId.
    resend = (await store.payments.reserve({ clientId: who, transactionId, requestHash: 'a'.repeat(64), amount: '250000.00', currency: 'IDR', sourceAccount: '0201245680' }, now - 60_000)).id;
    const viewerUser = await con.createUser(`viewer-${randomBytes(3).toString('hex')}`, 'viewer');
    viewer = new ConsoleClient(con.origin);
    expect((await viewer.signIn(viewerUser.username, viewerUser.password)).status).to.equal(303);
  });
  after(() => con?.close());

  /** The review decision's entry in the payment's story, tags dropped. */
  async function decision(): Promise<{ entry: string; page: string }> {
    const page = await viewer.get(`/console/payments/${resend}`);
    expect(page.status).to.equal(200);
    const entry = /<li class="exchange kind-reviewDecision">([\s\S]*?)<\/li>/.exec(page.text)?.[1] ?? '';
    return { entry: entry.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').replace(/&#39;/g, "'").trim(), page: page.text };
  }

  it('words the release in Indonesian, by the admin who decided it, the English as stored nowhere on the page', async () => {
    // The decision as the audit keeps it, in Gerbang's English, as it always was.
    const resent = (await db.store().payments.findById(resend))!;
    const audited = await db.store().audit.list({ clientId: resent.clientId, transactionId: resent.transactionId, limit: 10 });
    expect(audited.filter((e) => e.method === 'REVIEW').map((e) => (JSON.parse(e.responseBody!) as { bankMessage: string }).bankMessage)).to.deep.equal([
      `Released in review by ${admin}: never sent, from the recorded evidence; the ERP's resend of this transactionId is paid as a new transfer.`,
    ]);
    const { entry, page } = await decision();
    expect(entry).to.contain('Keputusan di antrean tinjauan');
    expect(entry).to.contain(
      `Catatan Gerbang: Dilepas di antrean tinjauan oleh ${admin}: tidak pernah dikirim, berdasarkan bukti yang dicatat; pengiriman ulang ID transaksi ini oleh ERP dibayar sebagai transfer baru.`,
    );
    expect(page).not.to.contain('Released in review').and.not.to.contain('never sent');
  });

  it('words it in English on an English page', async () => {
    await viewer.get('/console/lang?to=en');
    try {
      const { entry } = await decision();
      expect(entry).to.contain('Decision in the review queue');
      expect(entry).to.contain(`Gerbang's note: Released in the review queue by ${admin}: never sent, from the recorded evidence; the ERP's resend of this transaction ID is paid as a new transfer.`);
    } finally {
      await viewer.get('/console/lang?to=id');
    }
  });
});
