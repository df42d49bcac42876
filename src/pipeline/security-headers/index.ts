export { securityHeadersStep } from './security-headers-step.js';
