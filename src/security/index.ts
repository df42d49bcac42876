export { hashSecret, verifySecret, decoyHash } from './password-hash.js';
export { API_KEY_PATTERN, newApiKey, newClientId, newClientSecret } from './secrets.js';
export { directFrom, IpAllowlist, normalizeIp, invalidCidrs, cidrProblems, type CidrProblem } from './ip-allowlist.js';
export { OriginAllowlist, invalidOrigins, originProblems } from './origin-allowlist.js';
export { KeyRing, KeyRingError, keyRingFrom, placeOf, signingKeyPlace, parseKeySpec, newKeySpec, ensureKeyFile, type BoundFormat, type RingKey, type KeySources } from './keyring.js';
export { readableByOthers } from './owner-only.js';
export { checkKeys, probeKeyRing, type TokenKeys } from './key-check.js';
export { sameSecretText } from './constant-time.js';
