import type { AccountStatement } from '../banks/types.js';
import { statementAnswerSchema } from '../domain/accounts/index.js';
import type { StatementLines } from '../domain/transfers/index.js';

/**
 * Why a statement could not be read, as the reconciliation page words it:
 * `not-configured` (no GERBANG_CONSOLE_API_*), `api-unreachable`, `api-refused-console` (the
 * console's client credentials or address were refused), `unknown-account` (not granted to the
 * console's client, or no partner holds it), `period` (the bank would refuse the dates),
 * `bank-refused` (with the bank's code and message), `bank-unavailable`.
 */
export type StatementProblem = 'not-configured' | 'api-unreachable' | 'api-refused-console' | 'unknown-account' | 'period' | 'bank-refused' | 'bank-unavailable';

export class StatementReadError extends Error {
  constructor(
    readonly problem: StatementProblem,
    message: string,
    readonly bankResponseCode: string | null = null,
    readonly bankMessage: string | null = null,
  ) {
    super(message);
    this.name = 'StatementReadError';
  }
}

/** A company account's statement as the API answers it: `bank` the connection that read it, `bankCode` its bank's BIC (absent from an older gateway's answer). */
export type ReadStatement = AccountStatement & { bank: string; bankCode?: string };

/** Reads a company account's statement for [from, to] (yyyy-MM-dd, Jakarta); throws StatementReadError. */
export interface StatementReader {
  read(accountNumber: string, from: string, to: string): Promise<ReadStatement>;
}

/** The statement's lines as the review's cross-check reads them: a StatementReadError says none could be had, and why. */
export function statementLines(reader: StatementReader): StatementLines {
  return async (query) => {
    try {
      return (await reader.read(query.accountNumber, query.from, query.to)).entries;
    } catch (error) {
      if (!(error instanceof StatementReadError)) throw error;
      return { unreadable: `${error.problem}: ${error.message}` };
    }
  };
}

/** The console without GERBANG_CONSOLE_API_*: every read says so. */
export const NO_STATEMENTS: StatementReader = {
  read: async () => {
    throw new StatementReadError('not-configured', 'GERBANG_CONSOLE_API_URL, GERBANG_CONSOLE_API_CLIENT_ID and GERBANG_CONSOLE_API_CLIENT_SECRET are not set');
  },
};

/** Each API call may take the bank's time plus the gateway's; past this the page says the API did not answer. */
const CALL_TIMEOUT_MS = 60_000;

// A gateway not yet upgraded answers without bankCode: its statement is read all the same, the connection then named by its id.
const answerSchema = statementAnswerSchema.fork(['bankCode'], (field) => field.optional()).unknown(true);

/**
 * Reads statements through Gerbang's own API (GET /v1/accounts/{n}/statements) as an API client:
 * the console holds no bank credential, and the gateway checks the grant, routes to the partner
 * holding the account, calls the bank from the fixed address and audits the exchange. The access
 * token is kept until shortly before it expires.
 */
export function apiStatementReader(api: { url: string; clientId: string; clientSecret: string }, clock: () => number = Date.now): StatementReader {
  let token: { value: string; until: number } | null = null;

  async function call(path: string, init: RequestInit): Promise<{ status: number; body: Record<string, unknown> }> {
    let response: Response;
    try {
      response = await fetch(`${api.url}${path}`, { ...init, signal: AbortSignal.timeout(CALL_TIMEOUT_MS) });
    } catch (error) {
      throw new StatementReadError('api-unreachable', `Gerbang's API at ${api.url} did not answer (${(error as Error).message})`);
    }
    const text = await response.text();
    let body: unknown = null;
    try {
      body = JSON.parse(text);
    } catch {
      body = null;
    }
    return { status: response.status, body: body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {} };
  }

  async function accessToken(): Promise<string> {
    if (token && token.until > clock()) return token.value;
    const answer = await call('/v1/auth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: api.clientId, client_secret: api.clientSecret }),
    });
    const value = answer.body.access_token;
    if (answer.status !== 200 || typeof value !== 'string') {
      throw new StatementReadError('api-refused-console', `Gerbang's API refused the console's client ${api.clientId} (${answer.status} ${String(answer.body.code ?? '')})`);
    }
    const lifetime = typeof answer.body.expires_in === 'number' ? answer.body.expires_in : 60;
    token = { value, until: clock() + Math.max(lifetime - 30, 0) * 1000 };
    return value;
  }

  return {
    async read(accountNumber, from, to) {
      const query = new URLSearchParams({ from, to });
      const path = `/v1/accounts/${encodeURIComponent(accountNumber)}/statements?${query.toString()}`;
      let answer = await call(path, { headers: { authorization: `Bearer ${await accessToken()}` } });
      if (answer.status === 401) {
        // A token revoked by a secret rotation: one fresh token, once.
        token = null;
        answer = await call(path, { headers: { authorization: `Bearer ${await accessToken()}` } });
      }
      if (answer.status === 200) {
        const { value, error } = answerSchema.validate(answer.body);
        if (error) throw new StatementReadError('bank-unavailable', `the API's statement answer was not readable (${error.message})`);
        return value as ReadStatement;
      }
      const code = String(answer.body.code ?? '');
      const detail = String(answer.body.detail ?? '');
      const text = (name: string) => (typeof answer.body[name] === 'string' ? (answer.body[name] as string) : null);
      if (code === 'NOT_FOUND') throw new StatementReadError('unknown-account', detail);
      if (code === 'VALIDATION_FAILED') throw new StatementReadError('period', detail);
      if (code === 'BANK_REFUSED') throw new StatementReadError('bank-refused', detail, text('bankResponseCode'), text('bankMessage'));
      if (answer.status === 401 || answer.status === 403) throw new StatementReadError('api-refused-console', `${answer.status} ${code}: ${detail}`);
      throw new StatementReadError('bank-unavailable', `${answer.status} ${code}: ${detail}`);
    },
  };
}
