export { parseTraceparent, requestIdStep } from './request-id-step.js';
