/** The finance console: its own process and port (`gerbang console`), server-rendered pages. */
export { startConsole, type ConsoleServer, type StartConsoleOptions } from './console-server.js';
export { buildConsoleApp, type ConsoleAppDeps } from './console-app.js';
export { createConsoleUser, resetConsolePassword, MIN_PASSWORD_LENGTH } from './console-users.js';
export { unlockConsoleUser } from './sign-in-use-case.js';
export { formatRupiah, maskAccount, parseTypedAmount } from './format.js';
export { EXPORT_COLUMNS } from './payment-export.js';
export { apiStatementReader, NO_STATEMENTS, StatementReadError, statementLines, type StatementReader } from './statement-reader.js';
