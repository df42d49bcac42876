import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { enableSigning, rotateApiKey } from '../../src/domain/clients/index.js';
import { bodyHash, requestSignature } from '../../src/pipeline/request-signature/index.js';
import { TEST_AUDIT_KEYS } from '../support/audit-keys.js';
import { packageRoot } from '../../src/store/package-root.js';
import { eventually, TestGateway, type HttpAnswer, type TestClient } from '../support/gateway-harness.js';

/*
 * Runs every HTTP exchange of docs/dynamics-365-guide.md against a sandbox gateway (real store,
 * real simulator bank, real JWTs). The guide's ```http blocks alternate: a request (with
 * {{client_id}}, {{client_secret}}, {{access_token}} placeholders), then the answer it gets.
 * In a documented answer, a string containing "…" only says the member is there; everything
 * else must be exactly what the gateway sends. A request marked "# signed:" gets its
 * {{timestamp}} and {{signature}} computed when it is sent, with the signing client's key; a
 * later request using them without the mark sends them again (a replay).
 */

interface HttpRequestBlock {
  kind: 'request';
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  /** Marked "# sent while the request above is still in progress". */
  concurrent: boolean;
  /** Marked "# signed: …": {{timestamp}} and {{signature}} are computed for it when sent. */
  signed: boolean;
  line: number;
}

interface HttpResponseBlock {
  kind: 'response';
  status: number;
  headers: Record<string, string>;
  body: unknown;
  line: number;
}

type Block = HttpRequestBlock | HttpResponseBlock;

const GUIDE = join(packageRoot(), 'docs', 'dynamics-365-guide.md');

function parseBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  for (const match of markdown.matchAll(/```http\n([\s\S]*?)```/g)) {
    const line = markdown.slice(0, match.index).split('\n').length + 1;
    const all = match[1].split('\n');
    const comments = all.filter((l) => l.startsWith('#'));
    const lines = all.filter((l) => !l.startsWith('#'));
    const blank = lines.indexOf('');
    const head = blank < 0 ? lines : lines.slice(0, blank);
    const body = blank < 0 ? '' : lines.slice(blank + 1).join('\n').trim();
    const headers: Record<string, string> = {};
    for (const header of head.slice(1)) {
      const colon = header.indexOf(':');
      headers[header.slice(0, colon).trim().toLowerCase()] = header.slice(colon + 1).trim();
    }
    const status = /^HTTP\/1\.1 (\d{3})\b/.exec(head[0]);
    if (status) {
      blocks.push({ kind: 'response', status: Number(status[1]), headers, body: body === '' ? undefined : JSON.parse(body), line });
      continue;
    }
    const request = /^(GET|POST) (\S+) HTTP\/1\.1$/.exec(head[0]);
    if (!request) throw new Error(`guide line ${line}: an http block starts with a request line or a status line, got ${JSON.stringify(head[0])}`);
    const concurrent = comments.some((c) => c.includes('still in progress'));
    const signed = comments.some((c) => c.startsWith('# signed:'));
    blocks.push({ kind: 'request', method: request[1], path: request[2], headers, body, concurrent, signed, line });
  }
  return blocks;
}

/** Documented value against the real one: "…" strings say "present"; the rest must be equal. */
function expectMatches(documented: unknown, actual: unknown, where: string): void {
  if (typeof documented === 'string' && documented.includes('…')) {
    expect(actual, `${where} is present`).to.not.equal(undefined);
    return;
  }
  if (Array.isArray(documented)) {
    expect(actual, where).to.be.an('array').with.length(documented.length);
    documented.forEach((item, i) => expectMatches(item, (actual as unknown[])[i], `${where}[${i}]`));
    return;
  }
  if (documented !== null && typeof documented === 'object') {
    expect(actual, where).to.be.an('object');
    for (const [key, value] of Object.entries(documented)) expectMatches(value, (actual as Record<string, unknown>)[key], `${where}.${key}`);
    return;
  }
  expect(actual, where).to.deep.equal(documented);
}

describe('docs/dynamics-365-guide.md', () => {
  const blocks = parseBlocks(readFileSync(GUIDE, 'utf8'));
  let gw: TestGateway;
  let client: TestClient;
  let signingClient: TestClient;
  let signingKey: string;
  let apiKey: string;

  before(async () => {
    gw = await TestGateway.start('sqlite::memory:');
    client = await gw.createClient();
    signingClient = await gw.createClient();
    const enabled = await enableSigning(gw.store.clients, TEST_AUDIT_KEYS, signingClient.clientId, Date.now());
    if (!enabled.ok) throw new Error(enabled.reason);
    signingKey = enabled.signingKey;
    apiKey = (await rotateApiKey(gw.store, client.clientId, Date.now()))!;
  });
  after(async () => gw?.close());

  it('has request/answer pairs, each request followed by its answer', () => {
    expect(blocks.length).to.be.greaterThan(10);
    blocks.forEach((block, i) => expect(block.kind, `block at line ${block.line}`).to.equal(i % 2 === 0 ? 'request' : 'response'));
  });

  it('every exchange answers as the guide shows, on the sandbox gateway', async function () {
    this.timeout(60_000);
    const vars: Record<string, string> = {
      client_id: client.clientId,
      client_secret: client.clientSecret,
      signing_client_id: signingClient.clientId,
      signing_client_secret: signingClient.clientSecret,
      api_key: apiKey,
    };
    const fill = (text: string) =>
      text.replace(/\{\{(\w+)\}\}/g, (_m, name: string) => {
        if (vars[name] === undefined) throw new Error(`the guide uses {{${name}}} before it is known`);
        return vars[name];
      });
    const send = (request: HttpRequestBlock): Promise<HttpAnswer> => {
      const path = fill(request.path);
      if (request.signed) {
        vars.timestamp = new Date().toISOString();
        vars.signature = requestSignature(signingKey, { method: request.method, pathWithQuery: path, timestamp: vars.timestamp, body: fill(request.body) }).signature;
      }
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers)) if (name !== 'host' && name !== 'content-length') headers[name] = fill(value);
      return gw.request(path, { method: request.method as 'GET' | 'POST', headers, body: request.body === '' ? undefined : fill(request.body) });
    };

    let running: { request: HttpRequestBlock; expected: HttpResponseBlock; answer: Promise<HttpAnswer> }[] = [];
    const check = async (exchange: (typeof running)[number]) => {
      const answer = await exchange.answer;
      const where = `guide line ${exchange.expected.line} (request at line ${exchange.request.line})`;
      expect(answer.status, `${where}: ${answer.text}`).to.equal(exchange.expected.status);
      for (const [name, value] of Object.entries(exchange.expected.headers)) {
        if (value.includes('…')) expect(answer.headers[name], `${where} header ${name}`).to.be.a('string');
        else if (name === 'content-type') expect(answer.headers[name], `${where} header ${name}`).to.match(new RegExp(`^${value.replace(/[+.]/g, '\\$&')}`));
        else expect(answer.headers[name], `${where} header ${name}`).to.equal(value);
      }
      if (exchange.expected.body !== undefined) expectMatches(exchange.expected.body, answer.body, `${where} body`);
      if (typeof answer.body?.access_token === 'string') vars.access_token = answer.body.access_token;
    };

    for (let i = 0; i < blocks.length; i += 2) {
      const request = blocks[i] as HttpRequestBlock;
      const expected = blocks[i + 1] as HttpResponseBlock;
      if (!request.concurrent) {
        for (const exchange of running) await check(exchange);
        running = [];
      } else {
        // Give the request above time to reach the bank before this one arrives.
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      running.push({ request, expected, answer: send(request) });
    }
    for (const exchange of running) await check(exchange);

    // The connection's API key is a secret like Authorization: redacted in the audit.
    const rows = await eventually(async () => {
      const found = await gw.store.audit.list({ transactionId: 'PA-2026-0001' });
      return found.length > 0 ? found : null;
    });
    for (const row of rows) expect(row.requestHeaders['x-api-key']).to.equal('[REDACTED]');
  });

  describe('the code it gives', () => {
    const markdown = readFileSync(GUIDE, 'utf8');
    const fenced = (language: string) => [...markdown.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]).join('\n');
    const xpp = fenced('xpp');
    const al = fenced('al');

    it('X++: transfer() refuses to run inside a transaction, and the guide says to store the transactionId in its own transaction first', () => {
      expect(xpp).to.match(/if \(appl\.ttsLevel\(\) != 0\)\s*\{\s*throw error\(/);
      expect(markdown).to.contain('never inside the posting');
    });

    it('X++ and AL: a non-JSON answer (a proxy\'s HTML error page) is reported or resent, never parsed blindly', () => {
      expect(xpp).to.not.match(/JObject answer = text \? JObject::Parse/);
      expect(xpp).to.match(/strContains\(type\.MediaType, 'json'\)/).and.match(/catch \(Exception::CLRError\)\s*\{\s*return null;/);
      expect(al).to.match(/StrPos\(ContentType\[1\], 'json'\) > 0\) and Answer\.ReadFrom\(Text\)/);
      expect(al).to.contain("'NOT_JSON':");
    });

    it('X++ declares signingKey; the AL runtime version is stated', () => {
      expect(xpp).to.match(/^\s*str signingKey;/m);
      expect(xpp).to.contain('utf8.GetBytes(signingKey)');
      expect(markdown).to.contain('"runtime": "12.0"');
    });

    it('Power Automate: the loop is bounded, its token renewed, the retries counted; Entra ID and API keys are set up step by step', () => {
      expect(markdown).to.match(/\*Count\* `20` and\s+\*Timeout\* `PT2H`/);
      expect(markdown).to.contain('renew its token inside the');
      expect(markdown).to.match(/\*Count\*\s+`4`/);
      expect(markdown).to.contain('## Entra ID and API keys');
      for (const command of ['client link-entra-app', 'client rotate-api-key', 'GERBANG_ENTRA_METADATA_URL', 'GERBANG_ENTRA_AUDIENCE', 'X-API-Key']) expect(markdown).to.contain(command);
    });
  });

  it('its worked signature example is what Gerbang computes', () => {
    const markdown = readFileSync(GUIDE, 'utf8');
    const example = [...markdown.matchAll(/```text\n([\s\S]*?)```/g)].map((m) => m[1]).find((text) => text.startsWith('signing key:'));
    expect(example, 'the worked example').to.be.a('string');
    const field = (name: string) => new RegExp(`^${name}:\\s+(.+)$`, 'm').exec(example!)![1];
    const parts = { method: field('method'), pathWithQuery: field('path'), timestamp: field('X-Gerbang-Timestamp'), body: field('body') };
    expect(bodyHash(parts.body)).to.equal(field('body SHA-256'));
    expect(requestSignature(field('signing key'), parts).signature).to.equal(field('X-Gerbang-Signature'));
  });
});
