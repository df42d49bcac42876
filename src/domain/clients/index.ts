export { ACCOUNT_NUMBER, allowlistProblems, createClient, changeAccountGrants, rotateClientSecret, setAccountGrant, setClientAllowlists } from './client-admin.js';
export { disableSigning, enableSigning, newSigningKey, rotateSigningKey, unopenableSigningKeys } from './request-signing.js';
export type { SigningChange } from './request-signing.js';
export { linkEntraApp, revokeApiKey, rotateApiKey, unlinkEntraApp } from './client-credentials.js';
export type { CredentialStores } from './client-credentials.js';
