import { expect } from 'chai';
import fc from 'fast-check';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { transferRequestSchema } from '../../src/domain/transfers/index.js';
import { sampleTransfer, TestGateway } from '../support/gateway-harness.js';

/**
 * Bad input never crashes anything: whatever the ERP sends, the answer is a deliberate one
 * (a result or a problem document naming what is wrong), never a 500.
 */
describe('Any input to the API (property)', function () {
  this.timeout(120_000);
  let gw: TestGateway;
  let token: string;

  before(async () => {
    gw = await TestGateway.start(`sqlite:${join(mkdtempSync(join(tmpdir(), 'gerbang-prop-')), 'g.sqlite')}`, {
      GERBANG_RATE_LIMIT_PER_IP: '100000',
      GERBANG_RATE_LIMIT_PER_CLIENT: '100000',
      GERBANG_RATE_LIMIT_TOKEN_PER_IP: '100000',
      GERBANG_LOGIN_MAX_FAILURES: '100000',
      GERBANG_CLIENT_MAX_FAILURES: '200001',
    });
    token = await gw.token(await gw.createClient());
  });
  after(async () => gw?.close());

  const deliberate = (status: number, contentType: string | undefined, body: any) => {
    expect(status, JSON.stringify(body)).to.be.oneOf([201, 202, 400, 409, 413, 415, 422]);
    expect(contentType).to.match(/^application\/(problem\+)?json/);
    if (status >= 400 && body.code) {
      expect(body.requestId).to.be.a('string');
      if (status === 400) expect(body.errors ?? body.detail).to.exist;
    }
  };

  const fieldValue = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.string()), fc.object());

  it('POST /v1/transfers with a valid transfer whose fields are replaced by anything', async () => {
    const fields = Object.keys(sampleTransfer());
    await fc.assert(
      fc.asyncProperty(fc.subarray(fields), fc.array(fieldValue, { minLength: fields.length, maxLength: fields.length }), fc.dictionary(fc.string(), fieldValue, { maxKeys: 2 }), async (replaced, values, extra) => {
        const body: Record<string, unknown> = sampleTransfer();
        replaced.forEach((field, i) => (body[field] = values[i]));
        Object.assign(body, extra);
        const res = await gw.request('/v1/transfers', { json: body, headers: { authorization: `Bearer ${token}` } });
        deliberate(res.status, res.headers['content-type'], res.body);
      }),
      { numRuns: 150 },
    );
  });

  it('POST /v1/transfers with any JSON value or any text', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null'), fc.string()), async (text) => {
        const res = await gw.request('/v1/transfers', { body: text, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } });
        deliberate(res.status, res.headers['content-type'], res.body);
      }),
      { numRuns: 150 },
    );
  });

  it('POST /v1/auth/token with any JSON body or form', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.dictionary(fc.constantFrom('client_id', 'client_secret', 'grant_type', 'scope', 'x'), fieldValue).map((v) => ({ type: 'application/json', text: JSON.stringify(v) })),
          fc.string().map((text) => ({ type: 'application/x-www-form-urlencoded', text })),
        ),
        async ({ type, text }) => {
          const res = await gw.request('/v1/auth/token', { body: text, headers: { 'content-type': type } });
          expect(res.status, res.text).to.be.oneOf([200, 400, 401, 403, 415, 429]);
          expect(res.headers['content-type']).to.match(/^application\/(problem\+)?json/);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('The transfer schema (property)', () => {
  it('answers every value with a result or a validation error, never an exception', () => {
    fc.assert(
      fc.property(fc.anything(), (value) => {
        const { error } = transferRequestSchema.validate(value, { abortEarly: false });
        if (error) for (const detail of error.details) expect(detail.message).to.be.a('string');
      }),
      { numRuns: 1000 },
    );
  });
});
