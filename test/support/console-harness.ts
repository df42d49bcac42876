import { loadConsoleConfig } from '../../src/config/index.js';
import { createConsoleUser, startConsole, type ConsoleServer, type StartConsoleOptions } from '../../src/console/index.js';
import type { ConsoleRole } from '../../src/store/types.js';
import { TEST_AUDIT_KEY } from './audit-keys.js';

/**
 * A real finance console on port 0 over the given database (its own store, as in production
 * where it is a process of its own), and users to sign in as.
 */
export class TestConsole {
  private constructor(readonly server: ConsoleServer) {}

  static async start(databaseUrl: string, env: Record<string, string> = {}, options: StartConsoleOptions = {}): Promise<TestConsole> {
    const config = loadConsoleConfig({ GERBANG_DATABASE_URL: databaseUrl, CONSOLE_PORT: '0', GERBANG_CONSOLE_HOST: '127.0.0.1', GERBANG_SHUTDOWN_TIMEOUT_MS: '2000', GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, ...env });
    return new TestConsole(await startConsole(config, options));
  }

  /** `http://127.0.0.1:PORT/console` */
  get url(): string {
    return this.server.url;
  }

  /** `http://127.0.0.1:PORT` */
  get origin(): string {
    return new URL(this.server.url).origin;
  }

  get store() {
    return this.server.store;
  }

  async createUser(username: string, role: ConsoleRole, password = `pw-${username}-0123456789`): Promise<{ username: string; password: string }> {
    await createConsoleUser(this.store.consoleUsers, { username, password, role }, Date.now());
    return { username, password };
  }

  close(): Promise<void> {
    return this.server.close();
  }
}
