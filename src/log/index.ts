export { configureLogger, getLogger } from './logger.js';
export type { RequestContext } from './logger.js';
export { REDACTED, SECRET_HEADERS, SECRET_KEYS, redactHeaders, redactValue, redactBodyText, redactUrl, truncate } from './redaction.js';
export { isPm2ClusterWorker } from './pm2-worker.js';
