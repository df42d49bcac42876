export { addressNetwork, rateLimitStep } from './rate-limit-step.js';
export type { RateLimitStepOptions } from './rate-limit-step.js';
export { RateLimitStores, SharedRateLimitStore } from './store-adapter.js';
