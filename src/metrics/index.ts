export { GatewayMetrics, bankCallOutcome, AUDIT_OPERATIONS } from './gateway-metrics.js';
export type { AuditOperation, BankCallOutcome } from './gateway-metrics.js';
export { withAuditFailureCount } from './counted-audit.js';
export { startMetricsServer } from './metrics-server.js';
export type { MetricsServer, MetricsServerOptions } from './metrics-server.js';
