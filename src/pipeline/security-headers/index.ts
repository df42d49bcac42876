export { SECURITY_HEADER_OPTIONS, securityHeadersStep } from './security-headers-step.js';
