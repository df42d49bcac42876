export { AccessTokens, invalidToken } from './access-tokens.js';
export type { AccessTokenOptions, AccessTokenClaims } from './access-tokens.js';
export { authenticateStep } from './authenticate-step.js';
export type { AuthenticateOptions } from './authenticate-step.js';
