export { createBcaLegacyAdapter } from './adapter.js';
export type { BcaLegacyAdapterOptions } from './adapter.js';
export { signBcaLegacy, stringToSign, canonicalBody, relativeUrl, bcaTimestamp, EMPTY_BODY_SHA256, BCA_TIMESTAMP_PATTERN } from './signer.js';
export type { SignInput } from './signer.js';
export { BCA_LEGACY_ERRORS, classifyLegacyError } from './error-codes.js';
export { mapTransferAnswer } from './response-mapper.js';
