import { expect } from 'chai';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { forEachBackend } from '../support/databases.js';
import { sampleTransfer, TestGateway } from '../support/gateway-harness.js';

/**
 * A socket that fails with a "connect" error code after the transfer was written on it. Linux
 * reports EHOSTUNREACH or ENETUNREACH on an established socket too: an ICMP unreachable received
 * while the request's segments are retransmitted is kept as the socket's soft error and surfaced
 * when the retransmissions give up ("read EHOSTUNREACH"), by then the bank may have executed the
 * transfer. The gateway must count it as sent (in doubt), never release the transactionId for the
 * ERP's resend. The bank is the simulator over HTTP, which executes a SIM DELAY transfer at once
 * and answers it 1.5 s later; the socket fails meanwhile.
 */
forEachBackend('A transfer whose socket fails with an unreachable error after it was written', (db) => {
  let gw: TestGateway;
  let auth: Record<string, string>;

  before(async () => {
    gw = await TestGateway.start(db.url(), { GERBANG_RESOLVER_INTERVAL_MS: '0' });
    auth = { authorization: `Bearer ${await gw.token(await gw.createClient())}` };
  });
  after(async () => {
    await gw?.close();
  });

  it('is in doubt, never "not sent": the resend of the same transactionId is not paid again', async function () {
    this.timeout(20_000);
    const sim = gw.simulator;
    const transfers = () => sim.calls.filter((c) => c.method === 'POST' && c.path === '/banking/corporates/transfers');
    const source = '0201245680';
    const before = sim.balanceOf(source);
    // The simulator executes at once and answers after 1.5 s (SIM DELAY): the socket fails meanwhile.
    const body = sampleTransfer({ remark: 'SIM DELAY' });
    let armed = true;
    const onHeaders = (message: unknown) => {
      const { request, socket } = message as { request: { path: string; method: string }; socket: Socket };
      if (!armed || request.method !== 'POST' || request.path !== '/banking/corporates/transfers') return;
      armed = false;
      setTimeout(() => {
        const error = Object.assign(new Error('read EHOSTUNREACH'), { code: 'EHOSTUNREACH', errno: -113, syscall: 'read' });
        socket.destroy(error);
      }, 300);
    };
    subscribe('undici:client:sendHeaders', onHeaders);
    let first;
    try {
      first = await gw.request('/v1/transfers', { json: body, headers: auth });
    } finally {
      unsubscribe('undici:client:sendHeaders', onHeaders);
    }
    expect(transfers(), 'the bank received the transfer once').to.have.length(1);
    const executedOnce = sim.balanceOf(source);
    expect(executedOnce, 'and executed it').not.to.equal(before);

    // What the ERP was told, and what its resend of the same transactionId does.
    const resend = await gw.request('/v1/transfers', { json: { ...body, remark: 'SIM DELAY' }, headers: auth });
    expect({ first: first.status, firstCode: first.body?.code, resend: resend.status, bankCalls: transfers().length }, `${first.text}\n${resend.text}`).to.deep.equal({
      first: 202,
      firstCode: undefined,
      resend: 202,
      bankCalls: 1,
    });
  });
});
