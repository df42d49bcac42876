import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { freePort } from '../support/processes.js';
import { createMariaDbBehindProxy, forEachBackend } from '../support/databases.js';
import { eventually, sampleTransfer, TestGateway } from '../support/gateway-harness.js';

/** GET on the metrics listener, from `localAddress`, with extra headers. */
async function scrape(url: string, options: { localAddress?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; type: string; text: string }> {
  const agent = new Agent({ localAddress: options.localAddress ?? '127.0.0.1' });
  try {
    const res = await request(url, { dispatcher: agent, headers: options.headers });
    return { status: res.statusCode, type: String(res.headers['content-type']), text: await res.body.text() };
  } finally {
    await agent.close();
  }
}

/** The value of one sample, e.g. `gerbang_http_requests_total{method="POST",route="/v1/transfers",status="201"}`. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labelText = line.slice(name.length).split('}')[0];
    if (wanted.every((pair) => labelText.includes(pair))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

forEachBackend('GET /metrics', (db) => {
  let gw: TestGateway;
  let token: string;
  let metricsUrl: string;

  before(async () => {
    // The resolver is off so a transfer in doubt stays in doubt for the gauge to show it.
    // The store is read for the gauges at most once a second (10 s by default).
    gw = await TestGateway.start(db.url(), { GERBANG_RESOLVER_INTERVAL_MS: '0', GERBANG_BANK_HEADERS_TIMEOUT_MS: '800', GERBANG_METRICS_STORE_READ_SECONDS: '1' });
    metricsUrl = gw.gateway.metricsUrl!;
    token = await gw.token(await gw.createClient());
  });
  after(async () => gw?.close());

  const pay = (body: Record<string, unknown>) => gw.request('/v1/transfers', { json: body, headers: { authorization: `Bearer ${token}` } });

  describe('after a paid transfer', () => {
    let text: string;
    before(async () => {
      const res = await pay(sampleTransfer());
      expect(res.status, res.text).to.equal(201);
      const scraped = await eventually(async () => {
        const s = await scrape(metricsUrl);
        return sample(s.text, 'gerbang_http_requests_total', { route: '/v1/transfers', status: '201' }) ? s : null;
      });
      expect(scraped.status).to.equal(200);
      expect(scraped.type).to.match(/^text\/plain; version=0\.0\.4/);
      text = scraped.text;
    });

    it('counts requests by method, route pattern and status, and times them in a histogram', () => {
      expect(sample(text, 'gerbang_http_requests_total', { method: 'POST', route: '/v1/transfers', status: '201' })).to.be.at.least(1);
      expect(sample(text, 'gerbang_http_requests_total', { method: 'POST', route: '/v1/auth/token', status: '200' })).to.be.at.least(1);
      expect(sample(text, 'gerbang_http_request_duration_seconds_bucket', { route: '/v1/transfers', status: '201', le: '+Inf' })).to.be.at.least(1);
      expect(sample(text, 'gerbang_http_request_duration_seconds_count', { route: '/v1/transfers', status: '201' })).to.be.at.least(1);
    });

    it('counts bank calls by partner, operation and outcome, and the bank token fetches', () => {
      expect(sample(text, 'gerbang_bank_calls_total', { partner: 'bca', operation: 'transfer-intrabank', outcome: 'success' })).to.be.at.least(1);
      expect(sample(text, 'gerbang_bank_calls_total', { partner: 'bca', operation: 'token', outcome: 'success' })).to.be.at.least(1);
      expect(sample(text, 'gerbang_bank_token_refreshes_total', { partner: 'bca', outcome: 'success' })).to.be.at.least(1);
      expect(sample(text, 'gerbang_bank_call_duration_seconds_count', { partner: 'bca', operation: 'transfer-intrabank' })).to.be.at.least(1);
    });

    it('has the audit failure counter at zero and the process metrics', () => {
      expect(sample(text, 'gerbang_audit_write_failures_total', { operation: 'open' })).to.equal(0);
      expect(sample(text, 'process_resident_memory_bytes', {})).to.be.above(0);
    });
  });

  it('labels a refused request with no route as unrouted, never with its path', async () => {
    expect((await gw.request('/v1/transfers/INV-1/no-such-thing')).status).to.equal(404);
    const { text } = await scrape(metricsUrl);
    expect(sample(text, 'gerbang_http_requests_total', { route: 'unrouted', status: '404' })).to.be.at.least(1);
    expect(text).to.not.include('no-such-thing');
  });

  it('counts a bank refusal as refused', async () => {
    gw.simulator.failNext({ code: 'ESB-82-019' });
    const res = await pay(sampleTransfer());
    expect(res.status, res.text).to.be.within(400, 599);
    const { text } = await scrape(metricsUrl);
    expect(sample(text, 'gerbang_bank_calls_total', { partner: 'bca', operation: 'transfer-intrabank', outcome: 'refused' })).to.be.at.least(1);
  });

  it('shows a transfer left in doubt by a bank timeout in the in-doubt gauge, read from the store', async () => {
    const before = sample((await scrape(metricsUrl)).text, 'gerbang_transfers_in_doubt', { state: 'UNKNOWN' }) ?? 0;
    gw.simulator.failNext({ hang: true });
    const res = await pay(sampleTransfer());
    expect(res.body.status, res.text).to.equal('UNKNOWN');
    // The gauge shows the next store reading, at most a second after the last.
    const text = await eventually(async () => {
      const scraped = (await scrape(metricsUrl)).text;
      return sample(scraped, 'gerbang_transfers_in_doubt', { state: 'UNKNOWN' }) === before + 1 ? scraped : null;
    }, 10_000);
    expect(sample(text, 'gerbang_bank_calls_total', { partner: 'bca', operation: 'transfer-intrabank', outcome: 'no_answer' })).to.be.at.least(1);
  });

  describe('who may read it', () => {
    it('is not served on the public API port', async () => {
      const res = await gw.request('/metrics');
      expect(res.status).to.equal(404);
      expect(res.text).to.not.include('gerbang_');
    });

    it('answers 404 to a request that came through a proxy (X-Forwarded-For or Forwarded)', async () => {
      const proxied: Record<string, string>[] = [{ 'x-forwarded-for': '203.0.113.9' }, { forwarded: 'for=203.0.113.9' }];
      for (const headers of proxied) {
        const res = await scrape(metricsUrl, { headers });
        expect(res.status).to.equal(404);
        expect(res.text).to.not.include('gerbang_');
      }
    });
  });
});

describe('GET /metrics access list', () => {
  let gw: TestGateway;
  let database: Awaited<ReturnType<typeof createMariaDbBehindProxy>>;

  before(async function () {
    database = await createMariaDbBehindProxy(this);
    gw = await TestGateway.start(database.url, { GERBANG_METRICS_ALLOWED_CIDRS: '127.0.0.1/32', GERBANG_METRICS_STORE_READ_SECONDS: '1' });
  });
  after(async () => {
    await gw?.close().catch(() => undefined);
    await database?.drop();
  });

  it('answers 404 to a caller outside GERBANG_METRICS_ALLOWED_CIDRS and 200 to one inside', async () => {
    const outside = await scrape(gw.gateway.metricsUrl!, { localAddress: '127.0.0.2' });
    expect(outside.status).to.equal(404);
    expect(outside.text).to.not.include('gerbang_');
    expect((await scrape(gw.gateway.metricsUrl!)).status).to.equal(200);
  });

  it('counts audit writes the store refused, and still answers while the store is down', async () => {
    await database.proxy.cut();
    const res = await gw.request('/v1/transfers', { json: sampleTransfer(), headers: { authorization: 'Bearer x.y.z' } });
    expect(res.status).to.be.within(400, 599);
    const scraped = await eventually(async () => {
      const s = await scrape(gw.gateway.metricsUrl!);
      return (sample(s.text, 'gerbang_audit_write_failures_total', { operation: 'record' }) ?? 0) >= 1 ? s : null;
    }, 8000);
    expect(scraped.status).to.equal(200);
    // The last reading is shown until the next one is due; then the store's gauges leave the scrape.
    await eventually(async () => !/gerbang_transfers_in_doubt\{/.test((await scrape(gw.gateway.metricsUrl!)).text), 10_000);
    await database.proxy.restore();
  });
});

describe('GET /metrics store gauges', () => {
  it('read the store at most once per GERBANG_METRICS_STORE_READ_SECONDS, however often it is scraped', async () => {
    const gw = await TestGateway.start('sqlite::memory:', { GERBANG_METRICS_STORE_READ_SECONDS: '600', GERBANG_RESOLVER_INTERVAL_MS: '0', GERBANG_BANK_HEADERS_TIMEOUT_MS: '800' });
    try {
      const unknown = async () => sample((await scrape(gw.gateway.metricsUrl!)).text, 'gerbang_transfers_in_doubt', { state: 'UNKNOWN' });
      expect(await unknown()).to.equal(0);
      const token = await gw.token(await gw.createClient());
      gw.simulator.failNext({ hang: true });
      const res = await gw.request('/v1/transfers', { json: sampleTransfer(), headers: { authorization: `Bearer ${token}` } });
      expect(res.body.status, res.text).to.equal('UNKNOWN');
      expect((await gw.store.payments.inDoubtSummary()).states.UNKNOWN.count).to.equal(1);
      // The store says 1; the scrapes within the 600 s show the reading taken before.
      for (let i = 0; i < 5; i += 1) expect(await unknown()).to.equal(0);
    } finally {
      await gw.close();
    }
  });
});

describe('GET /metrics on a fixed port shared by processes (PM2 workers)', () => {
  /** The start's refusal, or null when it started (then stopped again). */
  const refusal = async (env: Record<string, string>): Promise<string | null> => {
    try {
      const gw = await TestGateway.start('sqlite::memory:', env);
      await gw.close();
      return null;
    } catch (error) {
      return String((error as Error).message);
    }
  };

  it('answers on the port with the processes summed, drops the socket a crashed worker left, and removes its own when it stops', async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'gbp-'));
    const sockets = () => readdirSync(join(dir, String(port))).filter((name) => name.endsWith('.sock'));
    const gw = await TestGateway.start('sqlite::memory:', { GERBANG_METRICS_PORT: String(port), GERBANG_METRICS_PEERS_DIR: dir });
    // A worker killed with SIGKILL leaves its socket file behind, with nobody listening on it.
    const crashed = join(dir, String(port), '4000000-0badf00d.sock');
    spawnSync(process.execPath, ['-e', `require('node:net').createServer().listen(${JSON.stringify(crashed)}, () => process.kill(process.pid, 'SIGKILL'))`]);
    expect(sockets()).to.have.length(2);
    try {
      const { status, text } = await scrape(`http://127.0.0.1:${port}/metrics`);
      expect(status).to.equal(200);
      expect(sample(text, 'gerbang_metrics_processes', {})).to.equal(1);
      expect(existsSync(crashed)).to.equal(false);
      expect(sockets()).to.have.length(1);
    } finally {
      await gw.close();
    }
    expect(sockets()).to.deep.equal([]);
  });

  it('keeps a stopped process\'s counts in the sum (a ledger), so a replaced worker is no counter reset', async () => {
    const port = await freePort();
    const env = { GERBANG_METRICS_PORT: String(port), GERBANG_METRICS_PEERS_DIR: mkdtempSync(join(tmpdir(), 'gbp-')) };
    const healthz = { method: 'GET', route: '/healthz', status: '200' };
    const first = await TestGateway.start('sqlite::memory:', env);
    for (let i = 0; i < 7; i += 1) expect((await first.request('/healthz')).status).to.equal(200);
    const counted = sample((await scrape(`http://127.0.0.1:${port}/metrics`)).text, 'gerbang_http_requests_total', healthz);
    expect(counted).to.equal(7);
    await first.close();
    // Its replacement, on the same port and folder: it has served no /healthz itself.
    const second = await TestGateway.start('sqlite::memory:', env);
    try {
      expect((await second.request('/healthz')).status).to.equal(200);
      const { text } = await scrape(`http://127.0.0.1:${port}/metrics`);
      expect(sample(text, 'gerbang_http_requests_total', healthz)).to.equal(8);
      expect(sample(text, 'gerbang_metrics_processes', {})).to.equal(1);
      // Gauges are not carried over: they describe processes that run.
      expect(text.match(/^gerbang_build_info\{.*\} (\d+)$/m)?.[1]).to.equal('1');
    } finally {
      await second.close();
    }
  });

  it('refuses to start with a sockets folder others can open, naming GERBANG_METRICS_PEERS_DIR', async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'gbp-'));
    const open = join(dir, String(port));
    // The port's own folder, left readable by everyone.
    mkdirSync(open);
    chmodSync(open, 0o755);
    const refused = await refusal({ GERBANG_METRICS_PORT: String(port), GERBANG_METRICS_PEERS_DIR: dir });
    expect(refused).to.contain('GERBANG_METRICS_PEERS_DIR').and.contain('0700');
  });

  it('refuses to start when another program holds the port (no worker answers in the folder), naming GERBANG_METRICS_PORT', async () => {
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const port = (squatter.address() as { port: number }).port;
    try {
      const refused = await refusal({ GERBANG_METRICS_PORT: String(port), GERBANG_METRICS_PEERS_DIR: mkdtempSync(join(tmpdir(), 'gbp-')) });
      expect(refused).to.contain('GERBANG_METRICS_PORT').and.contain('already in use');
    } finally {
      squatter.close();
    }
  });
});
