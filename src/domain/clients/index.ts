export { allowlistProblems, createClient, rotateClientSecret, setClientAllowlists } from './client-admin.js';
export { disableSigning, enableSigning, newSigningKey, resealSigningKeys, rotateSigningKey, unopenableSigningKeys } from './request-signing.js';
export type { SigningChange, SigningKeyResealReport } from './request-signing.js';
