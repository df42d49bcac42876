import { expect } from 'chai';
import { acceptanceTarget, DAY_ACCEPTED_ACTION } from '../../src/console/accept-day-use-case.js';
import { acceptedDays, everyAcceptedDay } from '../../src/console/day-acceptances.js';
import { accountTag, createStore } from '../../src/store/index.js';
import { ringOf, TEST_AUDIT_KEY, testKeySpec } from '../support/audit-keys.js';
import { forEachBackend } from '../support/databases.js';

forEachBackend('Days accepted by an operator, read back for the reconciliation page (acceptedDays)', (ctx) => {
  it('finds an acceptance whose target carries the account\'s tag under a key the ring has since rotated from, and none for another account ending in the same four digits', async () => {
    // The suite's key is the current one (the entry linked under it), rotated to from an older one.
    const older = testKeySpec('older');
    const rotated = ringOf(older, TEST_AUDIT_KEY);
    const store = createStore(ctx.store().db, { auditKeys: rotated });
    const account = `02${Date.now().toString().slice(-8)}`;
    const alike = `09${account.slice(2)}`;
    const day = '2026-11-12';
    // Accepted while the older key was the current one: its tag is the account's under that key.
    const target = acceptanceTarget(account, day, accountTag(ringOf(older), account));
    await store.consoleAudit.record({ at: Date.now(), username: '(cli)', action: DAY_ACCEPTED_ACTION, target, detail: 'digest 0123456789abcdef; account tag 00; accepted: 1 payment deleted: id 7; reason: looked at', remoteIp: 'local' });

    const notes = await acceptedDays(store.consoleAudit, rotated, account, '2026-11-10', '2026-11-14');
    expect(notes.map((n) => [n.day, n.reason, n.deletedIds])).to.deep.equal([[day, 'looked at', [7]]]);
    expect(await acceptedDays(store.consoleAudit, rotated, alike, '2026-11-10', '2026-11-14'), 'masked alike, another tag').to.deep.equal([]);
  });

  it('lists an acceptance written as the first release of accept-day wrote it (target without the tag, detail `digest D; reason: R; accepted: ALERTS`) with its day, account, reason and deleted ids', async () => {
    // As stop 37's gerbang audit accept-day recorded it; databases it ran on hold such entries.
    const at = Date.now();
    const id = await ctx.store().consoleAudit.record({
      at,
      username: '(cli)',
      action: DAY_ACCEPTED_ACTION,
      target: 'account:******7001 day:2026-11-12',
      detail: 'digest 0123456789abcdef; reason: bank statement checked, ticket FIN-42; accepted: DELETED OUTSIDE GERBANG: the seal counted 3 payment(s), 1 still there or released through Gerbang, deleted: id 12, 13; SEAL CHANGED OUTSIDE GERBANG: its count no longer matches its MAC',
      remoteIp: 'local',
    });

    const note = (await everyAcceptedDay(ctx.store().consoleAudit)).find((n) => n.entryId === id);
    expect(note).to.deep.equal({ account: '******7001', day: '2026-11-12', entryId: id, at, username: '(cli)', reason: 'bank statement checked, ticket FIN-42', deletedIds: [12, 13], sealChanged: true, cut: false });
  });
});
