import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Agent, request, type Dispatcher } from 'undici';
import type { BankSimulator } from '../../src/banks/simulator/index.js';
import { createClient } from '../../src/cli/commands/client-command.js';
import { loadConfig } from '../../src/config/index.js';
import { startGateway, type Gateway } from '../../src/gateway/index.js';
import type { Store } from '../../src/store/types.js';

export interface TestClient {
  clientId: string;
  clientSecret: string;
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: any;
  text: string;
}

export interface RequestOptions {
  method?: Dispatcher.HttpMethod;
  headers?: Record<string, string>;
  json?: unknown;
  body?: string;
  /** Local address the test's HTTP client binds to (127.0.0.2 to call from "another" IP). */
  localAddress?: string;
}

/**
 * A real gateway on port 0 for component tests: real store (the given database URL), real
 * HTTP server, the real bank simulator as its bank, real signed JWTs. Nothing is mocked.
 */
export class TestGateway {
  readonly jwtSecret: string;
  private readonly agents = new Map<string, Agent>();

  private constructor(readonly gateway: Gateway, jwtSecret: string) {
    this.jwtSecret = jwtSecret;
  }

  static async start(databaseUrl: string, env: Record<string, string> = {}): Promise<TestGateway> {
    const jwtSecret = randomBytes(32).toString('hex');
    const config = loadConfig({
      GERBANG_DATABASE_URL: databaseUrl,
      PORT: '0',
      GERBANG_HOST: '127.0.0.1',
      GERBANG_JWT_SECRET: jwtSecret,
      GERBANG_SHUTDOWN_TIMEOUT_MS: '2000',
      GERBANG_AUDIT_SPOOL_DIR: mkdtempSync(join(tmpdir(), 'gerbang-spool-')),
      ...env,
    });
    return new TestGateway(await startGateway(config), jwtSecret);
  }

  get url(): string {
    return this.gateway.url;
  }

  get store(): Store {
    return this.gateway.store;
  }

  get simulator(): BankSimulator {
    const sim = this.gateway.banks.simulator;
    if (!sim) throw new Error('this gateway has no built-in simulator');
    return sim.instance;
  }

  /** Creates a client allowed from all of loopback (or the given lists) and returns its credentials. */
  async createClient(options: { origins?: string[]; cidrs?: string[] } = {}): Promise<TestClient> {
    const { client, clientSecret } = await createClient(
      this.store,
      { name: `test-${randomBytes(4).toString('hex')}`, origins: options.origins ?? [], cidrs: options.cidrs ?? ['127.0.0.0/8', '::1/128'] },
      Date.now(),
    );
    return { clientId: client.id, clientSecret };
  }

  async token(client: TestClient, options: RequestOptions = {}): Promise<string> {
    const answer = await this.request('/v1/auth/token', {
      ...options,
      method: 'POST',
      json: { client_id: client.clientId, client_secret: client.clientSecret },
    });
    if (answer.status !== 200) throw new Error(`token request failed: ${answer.status} ${answer.text}`);
    return answer.body.access_token as string;
  }

  async request(path: string, options: RequestOptions = {}): Promise<HttpAnswer> {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    let body = options.body;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers['content-type'] ??= 'application/json';
    }
    const res = await request(`${this.url}${path}`, {
      method: options.method ?? (body === undefined ? 'GET' : 'POST'),
      headers,
      body,
      dispatcher: this.agent(options.localAddress),
    });
    const text = await res.body.text();
    let parsed: unknown = undefined;
    try {
      parsed = text.length > 0 ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    const flat: Record<string, string> = {};
    for (const [name, value] of Object.entries(res.headers)) if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
    return { status: res.statusCode, headers: flat, body: parsed, text };
  }

  async close(): Promise<void> {
    await Promise.all([...this.agents.values()].map((agent) => agent.close()));
    await this.gateway.close();
  }

  private agent(localAddress = '127.0.0.1'): Agent {
    let agent = this.agents.get(localAddress);
    if (!agent) {
      agent = new Agent({ localAddress });
      this.agents.set(localAddress, agent);
    }
    return agent;
  }
}

/** A valid intrabank transfer between BCA's documentation sample accounts, with a fresh id. */
export function sampleTransfer(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    transactionId: `INV-${randomBytes(6).toString('hex')}`,
    sourceAccountNumber: '0201245680',
    beneficiaryBankCode: '014',
    beneficiaryAccountNumber: '0201245681',
    amount: '100000.00',
    currency: 'IDR',
    remark: 'Invoice test',
    ...overrides,
  };
}

/** Polls `check` until it returns a truthy value or the time is up (audit rows written on close). */
export async function eventually<T>(check: () => Promise<T | undefined | null | false>, timeoutMs = 3000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
