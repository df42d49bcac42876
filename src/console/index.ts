/** The finance console: its own process and port (`gerbang console`), server-rendered pages. */
export { startConsole, type ConsoleServer, type StartConsoleOptions } from './console-server.js';
export { buildConsoleApp, type ConsoleAppDeps } from './console-app.js';
export { createConsoleUser, MIN_PASSWORD_LENGTH } from './console-users.js';
export { formatRupiah, maskAccount, parseTypedAmount } from './format.js';
export { EXPORT_COLUMNS, neutraliseFormula } from './payment-export.js';
