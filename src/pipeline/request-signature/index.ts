export { requestSignatureStep, REPLAY_MARGIN_MS } from './request-signature-step.js';
export type { RequestSignatureOptions } from './request-signature-step.js';
export { bodyHash, parseSignature, parseTimestamp, requestSignature, stringToSign, SIGNATURE_HEADER, SIGNATURE_WINDOW_MS, TIMESTAMP_HEADER } from './request-signature.js';
export type { SignedParts } from './request-signature.js';

