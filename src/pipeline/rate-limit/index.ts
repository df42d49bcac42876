export { rateLimitStep } from './rate-limit-step.js';
export type { RateLimitStepOptions } from './rate-limit-step.js';
export { SharedRateLimitStore } from './store-adapter.js';
