/** SNAP BI (Bank Indonesia's national API standard): signer, per-bank profiles, answer mapping and the adapter. */
export { createSnapAdapter } from './adapter.js';
export type { SnapAdapterOptions } from './adapter.js';
export {
  EMPTY_BODY_SHA256,
  bodyHash,
  encodeComponent,
  minify,
  parseSnapTimestamp,
  relativeUrl,
  serviceStringToSign,
  signService,
  signToken,
  snapTimestamp,
  tokenStringToSign,
  verifyTokenSignature,
} from './signer.js';
export type { ServiceStringToSignInput } from './signer.js';
export { SNAP_PROFILES, SNAP_SERVICES, resolveSnapProfile, snapPartnerSchema, snapProfileOverridesSchema, validateSnapPartner } from './profile.js';
export type { InterbankMethod, SnapCodedService, SnapPartnerConfig, SnapProfile, SnapProfileOverrides, SnapService } from './profile.js';
export { classifySnapCode, mapStatusAnswer, mapTransferAnswer, readSnapAnswer, snapErrorCode } from './response-mapper.js';
export type { SnapClass, SnapCode } from './response-mapper.js';
