import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { expect } from 'chai';
import { jakartaDate } from '../../src/time/index.js';
import { eventually, sampleTransfer, TestGateway, type HttpAnswer, type RequestOptions, type TestClient } from '../support/gateway-harness.js';

/*
 * Every documented route is called on a real gateway (the bank simulator behind it) and each
 * real answer, success or error, is held to the OpenAPI 3 document the gateway serves: the
 * status must be declared for the operation, the content type declared for that status, and
 * the body valid against its schema. Ajv (with ajv-formats) validates: a JSON Schema validator
 * that understands OpenAPI 3.0's `nullable`, independent of the Joi schemas the document was
 * generated from, so the document is checked against the wire, not against itself.
 */

type Doc = any;

/** Validates real answers against an OpenAPI 3.0 document and records what was covered. */
class OpenApiConformance {
  readonly covered = new Map<string, Set<number>>();
  private readonly ajv = new Ajv({ strict: true, allErrors: true });
  private readonly compiled = new Map<unknown, ValidateFunction>();
  private readonly templates: { method: string; template: string; pattern: RegExp }[] = [];

  constructor(readonly doc: Doc) {
    addFormats(this.ajv);
    // OpenAPI annotations that are not JSON Schema keywords.
    this.ajv.addVocabulary(['example', 'x-ms-summary', 'x-ms-visibility']);
    this.ajv.addSchema({ $id: 'openapi', $defs: rewriteRefs(doc.components.schemas) });
    for (const [template, operations] of Object.entries<Record<string, unknown>>(doc.paths)) {
      const pattern = new RegExp(`^${template.replace(/\{\w+\}/g, '[^/]+')}$`);
      for (const method of Object.keys(operations)) this.templates.push({ method, template, pattern });
    }
  }

  /** Asserts that `res`, the answer to `method path`, is what the document declares. */
  check(method: string, path: string, res: HttpAnswer): void {
    const bare = path.split('?')[0];
    const match = this.templates.find((t) => t.method === method.toLowerCase() && t.pattern.test(bare));
    expect(match, `${method} ${bare} is not documented`).to.not.equal(undefined);
    const operation = this.doc.paths[match!.template][match!.method];
    const where = `${operation.operationId} answered ${res.status} (${res.text.slice(0, 300)})`;
    const declared = operation.responses[String(res.status)];
    expect(declared, `${where}: status not declared`).to.not.equal(undefined);
    if (!declared.content) {
      expect(res.text, `${where}: declared without a body`).to.equal('');
    } else {
      const type = (res.headers['content-type'] ?? '').split(';')[0].trim();
      const media = declared.content[type];
      expect(media, `${where}: content type ${type} not declared (${Object.keys(declared.content).join(', ')})`).to.not.equal(undefined);
      const validate = this.validator(media.schema);
      const valid = validate(res.body);
      expect(valid, `${where}: ${this.ajv.errorsText(validate.errors)}`).to.equal(true);
    }
    const statuses = this.covered.get(operation.operationId) ?? new Set<number>();
    statuses.add(res.status);
    this.covered.set(operation.operationId, statuses);
  }

  private validator(schema: unknown): ValidateFunction {
    let validate = this.compiled.get(schema);
    if (!validate) {
      validate = this.ajv.compile(rewriteRefs(schema) as object);
      this.compiled.set(schema, validate);
    }
    return validate;
  }
}

/** `#/components/schemas/X` → `openapi#/$defs/X` (the components registered with Ajv above). */
function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [key, key === '$ref' && typeof inner === 'string' ? inner.replace('#/components/schemas/', 'openapi#/$defs/') : rewriteRefs(inner)]),
  );
}

describe('Every documented route answers what /v1/openapi.json declares (real gateway, real answers)', function () {
  let gw: TestGateway;
  let limited: TestGateway;
  let conformance: OpenApiConformance;
  let client: TestClient;
  let token: string;

  /** Calls the gateway and checks the answer against the document. */
  const call = async (path: string, options: RequestOptions & { on?: TestGateway } = {}) => {
    const res = await (options.on ?? gw).request(path, options);
    conformance.check(options.method ?? (options.json !== undefined || options.body !== undefined ? 'POST' : 'GET'), path, res);
    return res;
  };
  const auth = () => ({ authorization: `Bearer ${token}` });

  before(async () => {
    gw = await TestGateway.start('sqlite::memory:');
    limited = await TestGateway.start('sqlite::memory:', { GERBANG_RATE_LIMIT_PER_CLIENT: '2' });
    conformance = new OpenApiConformance((await gw.request('/v1/openapi.json')).body);
    client = await gw.createClient();
    token = await gw.token(client);
  });
  after(async () => {
    await gw?.close();
    await limited?.close();
  });

  it('IssueToken: 200 (JSON and form), 400, 401, 415, 429', async () => {
    expect((await call('/v1/auth/token', { json: { client_id: client.clientId, client_secret: client.clientSecret } })).status).to.equal(200);
    const form = `grant_type=client_credentials&client_id=${client.clientId}&client_secret=${encodeURIComponent(client.clientSecret)}`;
    expect((await call('/v1/auth/token', { body: form, headers: { 'content-type': 'application/x-www-form-urlencoded' } })).status).to.equal(200);
    expect((await call('/v1/auth/token', { json: { grant_type: 'password' } })).status).to.equal(400);
    expect((await call('/v1/auth/token', { json: { client_id: client.clientId, client_secret: 'wrong' }, localAddress: '127.0.0.2' })).status).to.equal(401);
    expect((await call('/v1/auth/token', { body: 'hello', headers: { 'content-type': 'text/plain' } })).status).to.equal(415);
    const victim = await gw.createClient();
    let last: HttpAnswer | undefined;
    for (let i = 0; i < 6; i += 1) last = await call('/v1/auth/token', { json: { client_id: victim.clientId, client_secret: 'guess' }, localAddress: '127.0.0.3' });
    expect(last!.status).to.equal(429);
  });

  it('CreateTransfer: 201, 202, 422 transfer result (refused by the bank), 422 problem (reused id), 409, 400, 401, 403, 503', async () => {
    const paid = sampleTransfer();
    expect((await call('/v1/transfers', { json: paid, headers: auth() })).status).to.equal(201);
    const replay = await call('/v1/transfers', { json: paid, headers: auth() });
    expect(replay.headers['idempotent-replayed']).to.equal('true');

    const refused = await call('/v1/transfers', { json: sampleTransfer({ remark: 'SIM ESB-82-019' }), headers: auth() });
    expect(refused.status, refused.text).to.equal(422);
    expect(refused.headers['content-type']).to.match(/^application\/json/);
    expect(refused.body.status).to.equal('FAILED');

    const reused = await call('/v1/transfers', { json: { ...paid, amount: '5.00' }, headers: auth() });
    expect(reused.status).to.equal(422);
    expect(reused.body.code).to.equal('IDEMPOTENCY_MISMATCH');

    const inDoubt = await call('/v1/transfers', { json: sampleTransfer({ remark: 'SIM HTTP-504' }), headers: auth() });
    expect(inDoubt.status, inDoubt.text).to.equal(202);

    const slow = sampleTransfer({ remark: 'SIM DELAY' });
    const first = gw.request('/v1/transfers', { json: slow, headers: auth() });
    await eventually(async () => (await gw.store.payments.find(client.clientId, slow.transactionId as string)) !== null, 1_000);
    expect((await call('/v1/transfers', { json: slow, headers: auth() })).status).to.equal(409);
    conformance.check('POST', '/v1/transfers', await first);

    expect((await call('/v1/transfers', { json: sampleTransfer({ amount: 100 }), headers: auth() })).status).to.equal(400);
    expect((await call('/v1/transfers', { json: sampleTransfer() })).status).to.equal(401);
    const narrow = await gw.createClient({ cidrs: ['127.0.0.1/32'] });
    const narrowToken = await gw.token(narrow);
    expect((await call('/v1/transfers', { json: sampleTransfer(), headers: { authorization: `Bearer ${narrowToken}` }, localAddress: '127.0.0.2' })).status).to.equal(403);

    gw.simulator.failNext({ operation: 'token', httpStatus: 503 });
    gw.simulator.expireTokens();
    const unavailable = await call('/v1/transfers', { json: sampleTransfer(), headers: auth() });
    expect(unavailable.status, unavailable.text).to.equal(503);
    expect(unavailable.body.code).to.equal('BANK_UNAVAILABLE');
  });

  it('GetTransfer: 200, 400, 404', async () => {
    const paid = sampleTransfer();
    await call('/v1/transfers', { json: paid, headers: auth() });
    expect((await call(`/v1/transfers/${paid.transactionId as string}`, { headers: auth() })).status).to.equal(200);
    expect((await call('/v1/transfers/bad%20id', { headers: auth() })).status).to.equal(400);
    expect((await call('/v1/transfers/INV-never', { headers: auth() })).status).to.equal(404);
  });

  it('CreateTransferBatch and GetTransferBatch: 202, 200, 400, 404', async () => {
    const batchId = `RUN-${Date.now()}`;
    expect((await call('/v1/transfer-batches', { json: { batchId, transfers: [sampleTransfer(), sampleTransfer({ remark: 'SIM ESB-82-019' })] }, headers: auth() })).status).to.equal(202);
    await eventually(async () => (await gw.request(`/v1/transfer-batches/${batchId}`, { headers: auth() })).body?.state === 'DONE', 10_000);
    expect((await call(`/v1/transfer-batches/${batchId}`, { headers: auth() })).status).to.equal(200);
    expect((await call('/v1/transfer-batches', { json: { batchId: 'RUN-empty', transfers: [] }, headers: auth() })).status).to.equal(400);
    expect((await call('/v1/transfer-batches/RUN-never', { headers: auth() })).status).to.equal(404);
  });

  it('InquireAccount, GetBalance, GetStatement: 200, 400, 422 (the bank refused the inquiry)', async () => {
    gw.simulator.setAccount({ number: '0201888002', name: 'CV KONFORMANS', balance: '750000.00' });
    expect((await call('/v1/account-inquiries', { json: { beneficiaryBankCode: '014', beneficiaryAccountNumber: '0201888002' }, headers: auth() })).status).to.equal(200);
    const unknown = await call('/v1/account-inquiries', { json: { beneficiaryBankCode: '014', beneficiaryAccountNumber: '0209999999' }, headers: auth() });
    expect(unknown.status, unknown.text).to.equal(422);
    expect((await call('/v1/account-inquiries', { json: { beneficiaryBankCode: '014' }, headers: auth() })).status).to.equal(400);
    expect((await call('/v1/accounts/0201888002/balance', { headers: auth() })).status).to.equal(200);
    const today = jakartaDate(new Date());
    expect((await call(`/v1/accounts/0201245680/statements?from=${today}&to=${today}`, { headers: auth() })).status).to.equal(200);
    expect((await call('/v1/accounts/0201245680/statements?from=2026-13-01&to=2026-01-01', { headers: auth() })).status).to.equal(400);
  });

  it('GetCallbackPublicKey, Health, Readiness: 200', async () => {
    expect((await call('/v1/callbacks/public-key', { headers: auth() })).status).to.equal(200);
    expect((await call('/healthz')).status).to.equal(200);
    expect((await call('/readyz')).status).to.equal(200);
  });

  it('a client over its rate limit: 429 with a problem document', async () => {
    const own = await limited.createClient();
    const ownToken = await limited.token(own);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1) statuses.push((await call('/v1/transfers/INV-none', { on: limited, headers: { authorization: `Bearer ${ownToken}` } })).status);
    expect(statuses).to.deep.equal([404, 404, 429]);
  });

  it('covered every documented operation with a success, and 400, 401, 403, 404, 409, 422, 429 and 503 across them', () => {
    const operations = Object.values<Record<string, { operationId: string }>>(conformance.doc.paths).flatMap((ops) => Object.values(ops).map((op) => op.operationId));
    for (const operationId of operations) {
      expect([...(conformance.covered.get(operationId) ?? [])].some((status) => status < 300), `${operationId} called with a success`).to.equal(true);
    }
    const all = new Set([...conformance.covered.values()].flatMap((statuses) => [...statuses]));
    for (const status of [400, 401, 403, 404, 409, 415, 422, 429, 503]) expect(all.has(status), `some answer was ${status}`).to.equal(true);
  });
});
