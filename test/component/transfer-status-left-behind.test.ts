import { expect } from 'chai';
import { forEachBackend } from '../support/databases.js';
import { sampleTransfer, TestGateway, type TestClient } from '../support/gateway-harness.js';
import { watchChainWalks } from '../support/chain-walks.js';
import { bankTransfers, leaveBehind } from '../support/left-behind.js';

forEachBackend('GET /v1/transfers/{id} of a reservation left behind, polled (#14)', (ctx) => {
  let gw: TestGateway;
  let client: TestClient;
  let auth: Record<string, string>;
  let walked: () => number;

  before(async () => {
    gw = await TestGateway.start(ctx.url());
    client = await gw.createClient();
    auth = { authorization: `Bearer ${await gw.token(client)}` };
    walked = watchChainWalks(gw.store.db);
  });
  after(() => gw?.close());

  describe('when the ERP asks its status again and again', () => {
    it('walks the audit chains on the first read only, answers PENDING each time, and the resend still proves it before paying it once', async () => {
      const body = sampleTransfer();
      const transactionId = body.transactionId as string;
      await leaveBehind(gw, client.clientId, body);
      // Records after it on the chains, for the proof to walk.
      for (let i = 0; i < 3; i += 1) expect((await gw.request('/v1/transfers', { json: sampleTransfer(), headers: auth })).status).to.equal(201);

      const perPoll: number[] = [];
      for (let i = 0; i < 5; i += 1) {
        const before = walked();
        const status = await gw.request(`/v1/transfers/${transactionId}`, { headers: auth });
        expect([status.status, status.body.status], status.text).to.deep.equal([200, 'PENDING']);
        perPoll.push(walked() - before);
      }
      expect(perPoll[0]).to.be.greaterThan(0);
      expect(perPoll.slice(1)).to.deep.equal([0, 0, 0, 0]);

      // The takeover never relies on a status read's proof.
      const before = walked();
      const paid = await gw.request('/v1/transfers', { json: body, headers: auth });
      expect([paid.status, paid.body.status], paid.text).to.deep.equal([201, 'SUCCESS']);
      expect(walked() - before).to.be.greaterThan(0);
      expect(await bankTransfers(gw, transactionId)).to.equal(1);
    });
  });
});
