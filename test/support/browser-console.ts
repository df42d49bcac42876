import type { Page } from 'playwright-core';
import { launchBrowser, requireChromium, type TestBrowser } from './browser.js';
import { TestConsole } from './console-harness.js';
import { createMariaDbDatabase, createSqliteDatabase, type Backend } from './databases.js';
import { TestGateway } from './gateway-harness.js';

/** What a browser suite of the console works with; set by the suite's `before`, closed by its `after`. */
export interface BrowserConsole {
  gw: TestGateway;
  con: TestConsole;
  browser: TestBrowser;
  page: Page;
  /** An admin of the console to sign in as. */
  admin: { username: string; password: string };
  /** The suite's database (GERBANG_DATABASE_URL), for the CLI. */
  databaseUrl: string;
}

/**
 * Registers, in the calling `describe`, a `before` that starts a gateway (with `gatewayEnv` added
 * to its settings) and a console on a fresh MariaDB database, creates an admin, runs `setUp` (the
 * suite's own data), then opens a browser page; and an `after` that closes them all and drops the
 * database. With `readsStatements` the console reads statements through the gateway's API as a
 * client of its own (GERBANG_CONSOLE_API_*); `consoleEnv` is added to the console's settings (after
 * the suite's default of 1000 sign-ins a minute from one address); `backend` (default MariaDB)
 * puts them on a fresh embedded store file instead. Skipped without Chromium.
 */
export function browserConsole(
  setUp: (suite: Omit<BrowserConsole, 'browser' | 'page'>) => Promise<void> = async () => undefined,
  gatewayEnv: Record<string, string> = {},
  options: { readsStatements?: boolean; consoleEnv?: Record<string, string>; backend?: Backend } = {},
): BrowserConsole {
  const suite = {} as BrowserConsole;
  let drop: () => Promise<void> = async () => undefined;
  before(async function () {
    requireChromium(this);
    const database = options.backend === 'sqlite' ? createSqliteDatabase() : await createMariaDbDatabase(this);
    drop = database.drop;
    suite.databaseUrl = database.url;
    suite.gw = await TestGateway.start(database.url, { GERBANG_LOG_LEVEL: 'silent', ...gatewayEnv });
    const reader = options.readsStatements ? await suite.gw.createClient() : null;
    const api: Record<string, string> = reader ? { GERBANG_CONSOLE_API_URL: suite.gw.url, GERBANG_CONSOLE_API_CLIENT_ID: reader.clientId, GERBANG_CONSOLE_API_CLIENT_SECRET: reader.clientSecret } : {};
    suite.con = await TestConsole.start(database.url, { GERBANG_LOG_LEVEL: 'silent', GERBANG_CONSOLE_SIGN_IN_PER_IP: '1000', ...api, ...options.consoleEnv });
    suite.admin = await suite.con.createUser('ayu.admin', 'admin');
    await setUp(suite);
    suite.browser = await launchBrowser();
    suite.page = await suite.browser.context.newPage();
  });
  after(async () => {
    await suite.browser?.close();
    await suite.con?.close();
    await suite.gw?.close();
    await drop();
  });
  return suite;
}
