export { issueToken } from './issue-token-use-case.js';
export type { TokenCredentials, Caller, IssueTokenDeps, IssuedToken } from './issue-token-use-case.js';
export { tokenRequestSchema, tokenResponseSchema } from './token-schema.js';
