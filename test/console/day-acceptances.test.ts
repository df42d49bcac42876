import { expect } from 'chai';
import { acceptanceTarget, DAY_ACCEPTED_ACTION } from '../../src/console/accept-day-use-case.js';
import { acceptedDays } from '../../src/console/day-acceptances.js';
import { accountTag, createStore } from '../../src/store/index.js';
import { ringOf, TEST_AUDIT_KEY, testKeySpec } from '../support/audit-keys.js';
import { forEachBackend } from '../support/databases.js';

forEachBackend('Days accepted by an operator, read back for the reconciliation page (acceptedDays)', (ctx) => {
  it('finds an acceptance whose target carries the account\'s tag under a key the ring has since rotated from, and none for another account ending in the same four digits', async () => {
    const rotated = ringOf(TEST_AUDIT_KEY, testKeySpec('next'));
    const store = createStore(ctx.store().db, { auditKeys: rotated });
    const account = `02${Date.now().toString().slice(-8)}`;
    const alike = `09${account.slice(2)}`;
    const day = '2026-11-12';
    // Accepted while the older key was the current one: its tag is the account's under that key.
    const target = acceptanceTarget(account, day, accountTag(ringOf(TEST_AUDIT_KEY), account));
    await store.consoleAudit.record({ at: Date.now(), username: '(cli)', action: DAY_ACCEPTED_ACTION, target, detail: 'digest 0123456789abcdef; account tag 00; accepted: 1 payment deleted: id 7; reason: looked at', remoteIp: 'local' });

    const notes = await acceptedDays(store.consoleAudit, rotated, account, '2026-11-10', '2026-11-14');
    expect(notes.map((n) => [n.day, n.reason, n.deletedIds])).to.deep.equal([[day, 'looked at', [7]]]);
    expect(await acceptedDays(store.consoleAudit, rotated, alike, '2026-11-10', '2026-11-14'), 'masked alike, another tag').to.deep.equal([]);
  });
});
