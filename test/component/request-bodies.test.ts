import { expect } from 'chai';
import { gzipSync } from 'node:zlib';
import { forEachBackend } from '../support/databases.js';
import { eventually, TestGateway, type HttpAnswer } from '../support/gateway-harness.js';

/** Bodies that say they are compressed and do not decompress. */
const BROKEN: [encoding: string, what: string, body: string | Buffer][] = [
  ['gzip', 'not gzip at all', 'not gzip at all'],
  ['deflate', 'not deflate at all', 'not deflate'],
  ['gzip', 'gzip cut short', gzipSync('{"client_id":"x","client_secret":"y"}').subarray(0, 20)],
];

forEachBackend('Request bodies whose Content-Encoding does not decode', (db) => {
  let gw: TestGateway;
  let token = '';

  before(async () => {
    gw = await TestGateway.start(db.url());
    token = await gw.token(await gw.createClient());
  });
  after(async () => gw?.close());

  const send = (path: string, encoding: string, body: string | Buffer, headers: Record<string, string> = {}) =>
    gw.request(path, { method: 'POST', body, headers: { 'content-type': 'application/json', 'content-encoding': encoding, ...headers } });

  /** The answer is a 400 naming the body, and its audit record a rejection. */
  async function expectRefused(res: HttpAnswer): Promise<void> {
    expect(res.status, res.text).to.equal(400);
    expect(res.body.code).to.equal('VALIDATION_FAILED');
    expect(res.body.errors.map((e: { field: string }) => e.field)).to.deep.equal(['body']);
    const row = await eventually(async () => {
      const [found] = await gw.store.audit.list({ requestId: res.headers['x-request-id'] });
      return found?.completedAt ? found : null;
    });
    expect(row).to.deep.include({ outcome: 'rejected', statusCode: 400, errorCode: 'VALIDATION_FAILED' });
  }

  for (const [encoding, what, body] of BROKEN) {
    describe(`with Content-Encoding ${encoding} and ${what}`, () => {
      it('POST /v1/auth/token answers 400 naming the body, audited as rejected', async () => {
        await expectRefused(await send('/v1/auth/token', encoding, body));
      });

      it('POST /openapi/v1.0/transfer-rtgs/notify answers 400 naming the body, audited as rejected', async () => {
        await expectRefused(await send('/openapi/v1.0/transfer-rtgs/notify', encoding, body));
      });

      it('POST /v1/transfers answers 400 naming the body, audited as rejected', async () => {
        await expectRefused(await send('/v1/transfers', encoding, body, { authorization: `Bearer ${token}` }));
      });
    });
  }

  describe('with an encoding body-parser does not know', () => {
    it('answers 415 naming the encoding', async () => {
      const res = await send('/v1/auth/token', 'compress', 'whatever');
      expect(res.status, res.text).to.equal(415);
      expect(res.body.code).to.equal('UNSUPPORTED_MEDIA_TYPE');
      expect(res.body.detail).to.contain('Content-Encoding');
    });
  });

  describe('with a gzip body that decompresses', () => {
    it('is read as its JSON (a wrong secret is a 401)', async () => {
      const res = await send('/v1/auth/token', 'gzip', gzipSync('{"client_id":"gbc_nobody","client_secret":"x"}'));
      expect(res.status, res.text).to.equal(401);
      expect(res.body.code).to.equal('INVALID_CLIENT');
    });
  });
});
