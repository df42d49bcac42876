export { hashSecret, verifySecret, decoyHash } from './password-hash.js';
export { API_KEY_PATTERN, newApiKey, newClientId, newClientSecret } from './secrets.js';
export { IpAllowlist, normalizeIp, invalidCidrs } from './ip-allowlist.js';
export { OriginAllowlist, invalidOrigins } from './origin-allowlist.js';
export { KeyRing, KeyRingError, keyRingFrom, placeOf, signingKeyPlace, parseKeySpec, newKeySpec, ensureKeyFile, type BoundFormat, type RingKey, type KeySources } from './keyring.js';
export { readableByOthers } from './owner-only.js';
export { checkKeys, probeKeyRing, type TokenKeys } from './key-check.js';
export { sameSecretText } from './constant-time.js';
