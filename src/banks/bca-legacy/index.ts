/** BCA's pre-SNAP ("legacy") corporate API: adapter, signer, error codes and answer mapping. */
export { createBcaLegacyAdapter } from './adapter.js';
export { CHANNEL_ID, STATUS_PATH, TOKEN_PATH, TRANSFER_PATH } from './protocol.js';
export type { BcaLegacyAdapterOptions } from './adapter.js';
export {
  BCA_TIMESTAMP_PATTERN,
  EMPTY_BODY_SHA256,
  bcaTimestamp,
  bodyHash,
  canonicalBody,
  parseBcaTimestamp,
  relativeUrl,
  sign,
  stringToSign,
} from './signer.js';
export type { SignInput, StringToSignInput } from './signer.js';
export { BCA_ERROR_CODES, classifyBcaError } from './error-codes.js';
export type { BcaErrorCode, BcaOutcomeClass } from './error-codes.js';
export { mapSentFailure, mapStatusResponse, mapTransferResponse, readBcaError, readTokenAnswer } from './response-mapper.js';
export type { BankAnswer, BcaError, TransferVerdict } from './response-mapper.js';
export { TOKEN_REFRESH_MARGIN_MS } from './token-provider.js';
