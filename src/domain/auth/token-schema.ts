import Joi from 'joi';
import type { IssuedToken } from './issue-token-use-case.js';

/** Body of a token request, JSON or OAuth2 form; credentials may come in HTTP Basic instead. */
export const tokenRequestSchema = Joi.object({
  grant_type: Joi.string().valid('client_credentials').description('OAuth2 grant type; only `client_credentials`.'),
  client_id: Joi.string().max(64).description('The client id printed by `gerbang client create`.'),
  client_secret: Joi.string().max(256).description('The client secret printed once by `gerbang client create`.'),
  scope: Joi.string().max(256).allow('').description('Ignored; accepted for OAuth2 client compatibility.'),
})
  .label('body')
  .meta({ component: 'TokenRequest' });

/** The token answer (RFC 6749 §5.1). */
export const tokenResponseSchema = Joi.object<IssuedToken>({
  access_token: Joi.string().required().description('The JWT to send as `Authorization: Bearer <access_token>`.'),
  token_type: Joi.string().valid('Bearer').required().description('Always `Bearer`.'),
  expires_in: Joi.number().integer().required().description('Seconds until the token expires; ask for a new one before then.'),
}).label('TokenResponse');
