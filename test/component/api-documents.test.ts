import SwaggerParser from '@apidevtools/swagger-parser';
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Joi from 'joi';
import { loadConfig } from '../../src/config/index.js';
import { CallbackSigner, outboxNotifier } from '../../src/domain/callbacks/index.js';
import { apiRoutes, connectorProperties, DEFAULT_API_LIMITS, expressPath, routeList } from '../../src/http/api/index.js';
import { buildApp } from '../../src/http/app.js';
import { GatewayMetrics } from '../../src/metrics/index.js';
import { AccessTokens } from '../../src/pipeline/auth/index.js';
import { problemSchema } from '../../src/http/problem-details.js';
import { packageRoot } from '../../src/store/package-root.js';
import { jakartaDate } from '../../src/time/index.js';
import { eventually, sampleTransfer, TestGateway, type TestClient } from '../support/gateway-harness.js';
import { TEST_AUDIT_KEY } from '../support/audit-keys.js';
import { missingTool } from '../support/missing-tool.js';

/** The declarations of a default configuration, as the test gateways below run. */
const ROUTES = apiRoutes(DEFAULT_API_LIMITS);
const API_ROUTES = routeList(ROUTES);
const committed = (name: string): unknown => JSON.parse(readFileSync(join(packageRoot(), 'docs', 'api', name), 'utf8'));
/** swagger-parser dereferences in place: give it a copy. */
const validate = (doc: unknown) => SwaggerParser.validate(structuredClone(doc) as never);
/** A schema, or the component it refers to. */
const deref = (doc: any, schema: any) => (schema.$ref ? doc.components.schemas[schema.$ref.replace('#/components/schemas/', '')] : schema);
const conforms = (schema: Joi.Schema, value: unknown) => {
  const { error } = schema.validate(value, { presence: 'optional' });
  expect(error?.message, JSON.stringify(value)).to.equal(undefined);
};

describe('GET /v1/openapi.json and /v1/swagger.json', () => {
  let gw: TestGateway;
  let client: TestClient;
  let token: string;

  before(async () => {
    gw = await TestGateway.start('sqlite::memory:');
    client = await gw.createClient();
    token = await gw.token(client);
  });
  after(async () => gw?.close());

  for (const [path, file] of [
    ['/v1/openapi.json', 'openapi.json'],
    ['/v1/swagger.json', 'swagger.json'],
  ]) {
    describe(`GET ${path}`, () => {
      it(`serves exactly the committed docs/api/${file} (run \`npm run docs:api\` after changing a route)`, async () => {
        const res = await gw.request(path);
        expect(res.status).to.equal(200);
        expect(res.headers['content-type']).to.match(/^application\/json/);
        expect(res.body).to.deep.equal(committed(file));
      });

      it('is a valid document for @apidevtools/swagger-parser', async () => {
        const res = await gw.request(path);
        await validate(res.body);
      });

      it('lists every declared route with its operationId', async () => {
        const res = await gw.request(path);
        for (const route of API_ROUTES) expect(res.body.paths[route.path]?.[route.method]?.operationId, route.path).to.equal(route.operationId);
      });
    });
  }

  it('describes the transfer body from the schema that validates it (additional fields refused, required fields, patterns)', async () => {
    const doc = (await gw.request('/v1/openapi.json')).body;
    const body = deref(doc, doc.paths['/v1/transfers'].post.requestBody.content['application/json'].schema);
    expect(body.additionalProperties).to.equal(false);
    expect(body.required).to.include.members(['transactionId', 'amount', 'currency', 'beneficiaryAccountNumber']);
    expect(body.properties.amount.pattern).to.equal('^(0|[1-9]\\d{0,12})\\.\\d{2}$');
    expect(body.properties.beneficiaryAccountNumber.pattern).to.equal('^\\d{5,34}$');
    // What the document says is what the gateway enforces: an undeclared field is refused.
    const res = await gw.request('/v1/transfers', { json: sampleTransfer({ surprise: 1 }), headers: { authorization: `Bearer ${token}` } });
    expect(res.status).to.equal(400);
    expect(res.body.errors).to.deep.include({ field: 'surprise', message: '"surprise" is not allowed' });
  });

  it('gives a Power Platform connector what it needs: Entra ID OAuth and API-key connections, certification metadata, x-ms-summary labels, probes hidden', async () => {
    const doc = (await gw.request('/v1/swagger.json')).body;
    expect(doc.securityDefinitions.oauth2_auth).to.include({ type: 'oauth2', flow: 'accessCode', authorizationUrl: 'https://login.microsoftonline.com/common/oauth2/authorize' });
    expect(doc.securityDefinitions.api_key).to.deep.include({ type: 'apiKey', in: 'header', name: 'X-API-Key' });
    expect(doc.info.title).to.not.match(/\bAPI\b/i).and.not.match(/connector/i);
    expect(doc.info.title.length).to.be.at.most(30);
    expect(doc.info.contact.name).to.be.a('string');
    expect(doc['x-ms-connector-metadata']).to.deep.include({ propertyName: 'Categories', propertyValue: 'Finance;IT Operations' });
    const create = doc.paths['/v1/transfers'].post;
    expect(create.security).to.deep.equal([{ oauth2_auth: [] }, { api_key: [] }]);
    expect(JSON.stringify(doc)).to.not.match(/"name": ?"(Authorization|Access-Token)"/);
    for (const route of API_ROUTES) {
      const operation = doc.paths[route.path][route.method];
      if (route.tags.includes('Health')) expect(operation['x-ms-visibility'], route.operationId).to.equal('internal');
      else expect(operation['x-ms-visibility'], route.operationId).to.equal(undefined);
    }
    const body = create.parameters.find((p: { in: string }) => p.in === 'body');
    expect(body.schema).to.deep.equal({ $ref: '#/definitions/Transfer' });
    expect(doc.definitions.Transfer.properties.beneficiaryAccountNumber['x-ms-summary']).to.equal('Beneficiary account number');
    expect(create.responses['422'].schema).to.deep.equal({ $ref: '#/definitions/TransferResult' });
    expect(create.responses['422'].description).to.contain('IDEMPOTENCY_MISMATCH');
    expect(create.responses['400'].schema).to.deep.equal({ $ref: '#/definitions/Problem' });
    expect(create.responses['201'].headers['Idempotent-Replayed']).to.include({ type: 'string' });
  });

  it('declares a refused transfer as a 422 transfer result (and a reused id as a 422 problem), with named component schemas', async () => {
    const doc = (await gw.request('/v1/openapi.json')).body;
    const refused = doc.paths['/v1/transfers'].post.responses['422'];
    expect(refused.content['application/json'].schema).to.deep.equal({ $ref: '#/components/schemas/TransferResult' });
    expect(refused.content['application/problem+json'].schema).to.deep.equal({ $ref: '#/components/schemas/Problem' });
    expect(doc.components.schemas).to.include.keys('Transfer', 'TransferResult', 'Problem', 'TokenRequest', 'TokenResponse', 'TransferBatchRequest', 'TransferBatch', 'AccountInquiryRequest', 'AccountInquiry', 'Balance', 'Statement');
    expect(doc.components.securitySchemes.apiKey).to.include({ type: 'apiKey', in: 'header', name: 'X-API-Key' });
    expect(doc.components.securitySchemes.entraId.type).to.equal('oauth2');
  });

  it('types amount as a plain string in both documents (no `not`, which makes generators emit "any")', async () => {
    for (const path of ['/v1/openapi.json', '/v1/swagger.json']) {
      const doc = (await gw.request(path)).body;
      const schemas = path === '/v1/swagger.json' ? doc.definitions : doc.components.schemas;
      for (const name of ['Transfer', 'TransferResult']) {
        const amount = schemas[name].properties.amount;
        expect(amount.type, `${path} ${name}`).to.equal('string');
        expect(amount, `${path} ${name}`).to.not.have.any.keys('not', 'anyOf', 'oneOf', 'allOf');
      }
      expect(JSON.stringify(doc), path).to.not.contain('"not":');
    }
  });

  it("commits the connector's properties: publisher and the two connection types the Swagger file declares", () => {
    expect(committed('apiProperties.json')).to.deep.equal(connectorProperties(API_ROUTES));
    const properties = (committed('apiProperties.json') as any).properties;
    expect(properties.publisher).to.be.a('string').and.not.empty;
    const sets = properties.connectionParameterSets.values;
    expect(sets.map((set: { name: string }) => set.name)).to.deep.equal(['entra-id', 'api-key']);
    expect(sets[0].parameters.token.oAuthSettings.identityProvider).to.equal('aad');
    expect(Object.keys(sets[1].parameters)).to.deep.equal(['api_key']);
    expect((committed('swagger.json') as any).securityDefinitions).to.have.keys('oauth2_auth', 'api_key');
    expect(properties.policyTemplateInstances).to.deep.equal([]);
  });

  it('declares every API route the app mounts, and mounts every declared one (a route is one declaration)', () => {
    const config = loadConfig({ GERBANG_DATABASE_URL: 'sqlite::memory:', GERBANG_JWT_SECRET: 'x'.repeat(40), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_SANDBOX: 'true' });
    const callbacks = { finals: outboxNotifier(gw.store.callbacks, gw.store.audit, Date.now), signer: CallbackSigner.fromFile(join(mkdtempSync(join(tmpdir(), 'gerbang-key-')), 'key.pem')) };
    const app = buildApp({ config, store: gw.store, tokens: new AccessTokens(config.jwt), router: gw.gateway.banks.router, pendingMigrations: async () => [], callbacks, metrics: new GatewayMetrics(), bankIds: gw.store.sequences });
    const mounted = new Set<string>();
    const walk = (stack: any[]) => {
      for (const layer of stack) {
        if (layer.route) for (const method of Object.keys(layer.route.methods)) mounted.add(`${method} ${layer.route.path}`);
        else if (layer.handle?.stack) walk(layer.handle.stack);
      }
    };
    walk((app as any).router.stack);
    const documentation = ['get /v1/openapi.json', 'get /v1/swagger.json', 'get /docs'];
    // The banks' signed notifications: called by the banks, not the ERP (docs/bank-partners.md).
    const bankNotifications = ['post /openapi/v1.0/transfer-rtgs/notify', 'post /openapi/v1.0/transfer-skn/notify'];
    const apiRoutes = [...mounted].filter((route) => !documentation.includes(route) && !bankNotifications.includes(route) && !route.startsWith('get /docs/'));
    expect(apiRoutes).to.have.members(API_ROUTES.map((route) => `${route.method} ${expressPath(route.path)}`));
  });

  describe('with GERBANG_PUBLIC_URL and GERBANG_BATCH_MAX_LINES set', () => {
    let named: TestGateway;
    before(async () => {
      named = await TestGateway.start('sqlite::memory:', { GERBANG_PUBLIC_URL: 'https://gerbang.example.com', GERBANG_BATCH_MAX_LINES: '3' });
    });
    after(async () => named?.close());

    it('names the host in both documents, which stay valid', async () => {
      const openApi = (await named.request('/v1/openapi.json')).body;
      const swagger = (await named.request('/v1/swagger.json')).body;
      expect(openApi.servers).to.deep.equal([{ url: 'https://gerbang.example.com' }]);
      expect(openApi.components.securitySchemes.clientCredentials.flows.clientCredentials.tokenUrl).to.equal('https://gerbang.example.com/v1/auth/token');
      expect(swagger).to.include({ host: 'gerbang.example.com', basePath: '/' });
      expect(swagger.schemes).to.deep.equal(['https']);
      await validate(openApi);
      await validate(swagger);
    });

    it('documents the configured payment-run size, the one the validator enforces', async () => {
      const openApi = (await named.request('/v1/openapi.json')).body;
      expect(deref(openApi, openApi.paths['/v1/transfer-batches'].post.requestBody.content['application/json'].schema).properties.transfers.maxItems).to.equal(3);
      const auth = { authorization: `Bearer ${await named.token(await named.createClient())}` };
      const res = await named.request('/v1/transfer-batches', { json: { batchId: 'RUN-4', transfers: [1, 2, 3, 4].map(() => sampleTransfer()) }, headers: auth });
      expect(res.status).to.equal(400);
      expect(res.body.errors[0].field).to.equal('transfers');
    });
  });

  describe('answers match their declarations', () => {
    it('token, transfer, status, account, payment-run and health answers conform to the declared schemas', async () => {
      const tokenRes = await gw.request('/v1/auth/token', { json: { client_id: client.clientId, client_secret: client.clientSecret } });
      expect(tokenRes.status).to.equal(200);
      conforms(ROUTES.issueToken.answers[200].schema, tokenRes.body);

      const transfer = sampleTransfer();
      const created = await gw.request('/v1/transfers', { json: transfer, headers: { authorization: `Bearer ${token}` } });
      expect(created.status).to.equal(201);
      conforms(ROUTES.createTransfer.answers[201].schema, created.body);

      const read = await gw.request(`/v1/transfers/${transfer.transactionId as string}`, { headers: { authorization: `Bearer ${token}` } });
      expect(read.status).to.equal(200);
      conforms(ROUTES.getTransfer.answers[200].schema, read.body);

      gw.simulator.setAccount({ number: '0201888001', name: 'CV DOKUMEN', balance: '750000.00' });
      const inquiry = await gw.request('/v1/account-inquiries', { json: { beneficiaryBankCode: '014', beneficiaryAccountNumber: '0201888001' }, headers: { authorization: `Bearer ${token}` } });
      expect(inquiry.status, inquiry.text).to.equal(200);
      conforms(ROUTES.inquireAccount.answers[200].schema, inquiry.body);
      const balance = await gw.request('/v1/accounts/0201245680/balance', { headers: { authorization: `Bearer ${token}` } });
      expect(balance.status, balance.text).to.equal(200);
      conforms(ROUTES.getBalance.answers[200].schema, balance.body);
      const today = jakartaDate(new Date());
      const statement = await gw.request(`/v1/accounts/0201245680/statements?from=${today}&to=${today}`, { headers: { authorization: `Bearer ${token}` } });
      expect(statement.status, statement.text).to.equal(200);
      expect(statement.body.entries).to.not.be.empty;
      conforms(ROUTES.getStatement.answers[200].schema, statement.body);

      const batchId = `RUN-${transfer.transactionId as string}`;
      const submitted = await gw.request('/v1/transfer-batches', { json: { batchId, transfers: [sampleTransfer()] }, headers: { authorization: `Bearer ${token}` } });
      expect(submitted.status, submitted.text).to.equal(202);
      conforms(ROUTES.createBatch.answers[202].schema, submitted.body);
      const run = await eventually(async () => {
        const res = await gw.request(`/v1/transfer-batches/${batchId}`, { headers: { authorization: `Bearer ${token}` } });
        return res.body?.state === 'DONE' ? res : null;
      }, 10_000);
      expect(run.body.lines[0].result.status).to.equal('SUCCESS');
      conforms(ROUTES.getBatch.answers[200].schema, run.body);

      conforms(ROUTES.health.answers[200].schema, (await gw.request('/healthz')).body);
      conforms(ROUTES.readiness.answers[200].schema, (await gw.request('/readyz')).body);
    });

    it('a refusal is a problem document that conforms to the Problem schema', async () => {
      const res = await gw.request('/v1/transfers/bad%20id', { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).to.equal(400);
      expect(res.headers['content-type']).to.match(/^application\/problem\+json/);
      conforms(problemSchema, res.body);
      expect(ROUTES.getTransfer.problems).to.include(res.body.code);
    });
  });
});

/** Chromium renders the page; it fetches nothing but the gateway (the test has no other server). */
function renderPage(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'chromium',
      ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--virtual-time-budget=15000', '--dump-dom', url],
      { timeout: 60_000, maxBuffer: 20 * 1024 * 1024 },
      (error, stdout) => (error ? reject(error) : resolve(stdout)),
    );
  });
}

describe('GET /docs (API reference page)', function () {
  this.timeout(90_000);
  let gw: TestGateway;

  before(async function () {
    if (!existsSync('/usr/bin/chromium')) {
      missingTool(this, 'the /docs browser test needs chromium (apt-get install chromium; .ci/run installs it)');
    }
    gw = await TestGateway.start('sqlite::memory:');
  });
  after(async () => gw?.close());

  it('renders every operation in a real browser from files the gateway serves itself', async () => {
    const dom = await renderPage(`${gw.url}/docs`);
    for (const route of API_ROUTES) expect(dom, route.operationId).to.contain(route.summary);
    expect(dom).to.contain('Gerbang API');
  });

  it('loosens the Content-Security-Policy for the page only; the API keeps default-src none', async () => {
    const page = await gw.request('/docs');
    expect(page.headers['content-security-policy']).to.contain("script-src 'self'").and.not.contain('unsafe-eval');
    const assets = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(assets).to.have.length.greaterThan(1);
    for (const asset of assets) {
      expect(asset, 'same-origin asset').to.match(/^\/docs\//);
      expect((await gw.request(asset)).status, asset).to.equal(200);
    }
    const api = await gw.request('/v1/openapi.json');
    expect(api.headers['content-security-policy']).to.contain("default-src 'none'");
  });
});
