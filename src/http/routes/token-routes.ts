import { Router, type Request } from 'express';
import { issueToken, type IssueTokenDeps, type TokenCredentials } from '../../domain/auth/index.js';
import { AppError } from '../../errors/index.js';
import type { RequestHandler } from 'express';
import { mountRoute, type ApiRoutes } from '../api/index.js';

/**
 * POST /v1/auth/token — client credentials as JSON `{client_id, client_secret}`, as an OAuth2
 * form with `grant_type=client_credentials`, or in HTTP Basic. Answers
 * `{access_token, token_type, expires_in}` with `Cache-Control: no-store` (RFC 6749 §5.1).
 */
export function tokenRoutes(routes: ApiRoutes, deps: IssueTokenDeps, steps: RequestHandler[]): Router {
  const router = Router();
  mountRoute(router, routes.issueToken, steps, async (req, res) => {
    const credentials = readCredentials(req);
    res.locals.audit.set({ clientId: credentials.clientId });
    const token = await issueToken(deps, credentials, { ip: req.ip, origin: req.get('origin') });
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Pragma', 'no-cache');
    res.status(200).json(token);
  });
  return router;
}

function readCredentials(req: Request): TokenCredentials {
  // Validated against routes.issueToken's body schema when the route was mounted.
  const value = (req.body ?? {}) as { client_id?: string; client_secret?: string };
  const basic = parseBasic(req.get('authorization'));
  const inBody = value.client_id !== undefined || value.client_secret !== undefined;
  if (basic && inBody) {
    throw new AppError('VALIDATION_FAILED', 'Send client credentials either in HTTP Basic or in the body, not both.', {
      fields: [{ field: 'client_id', message: 'credentials were also given in the Authorization header' }],
    });
  }
  const clientId: unknown = basic ? basic.clientId : value.client_id;
  const clientSecret: unknown = basic ? basic.clientSecret : value.client_secret;
  const fields = [];
  if (typeof clientId !== 'string' || clientId === '') fields.push({ field: 'client_id', message: '"client_id" is required' });
  if (typeof clientSecret !== 'string' || clientSecret === '') fields.push({ field: 'client_secret', message: '"client_secret" is required' });
  if (fields.length > 0) {
    throw new AppError('VALIDATION_FAILED', 'Client credentials are missing.', { fields, extensions: { error: 'invalid_request' } });
  }
  return { clientId: clientId as string, clientSecret: clientSecret as string };
}

/** RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic encoding. */
function parseBasic(header: string | undefined): TokenCredentials | null {
  const match = /^Basic ([A-Za-z0-9+/]+=*)$/.exec(header ?? '');
  if (!match) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new AppError('INVALID_CLIENT', 'Malformed HTTP Basic credentials.', { extensions: { error: 'invalid_client' } });
  try {
    return { clientId: decodeURIComponent(decoded.slice(0, colon)), clientSecret: decodeURIComponent(decoded.slice(colon + 1)) };
  } catch {
    return { clientId: decoded.slice(0, colon), clientSecret: decoded.slice(colon + 1) };
  }
}
