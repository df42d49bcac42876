export { globalCallerGuardStep, assertClientMayCall } from './caller-guard-step.js';
export type { GlobalCallerGuardOptions } from './caller-guard-step.js';
export { clientOriginsCache } from './client-origins.js';
export type { ClientOrigins } from './client-origins.js';
