export { AccessTokens, invalidToken } from './access-tokens.js';
export type { AccessTokenOptions, AccessTokenClaims } from './access-tokens.js';
export { authenticateStep } from './authenticate-step.js';
export { RecentClients } from './recent-clients.js';
export type { AuthenticateOptions } from './authenticate-step.js';
export { API_KEY_HEADER, ApiKeys } from './api-keys.js';
export { EntraTokens } from './entra-tokens.js';
export type { EntraClaims, EntraTokenOptions } from './entra-tokens.js';
