export { requestIdStep } from './request-id-step.js';
