import { dirname, join } from 'node:path';
import { Router, type Response } from 'express';
import { openApiDocument, swaggerDocument, type ApiDocumentOptions, type ApiRoute } from '../api/index.js';

/** swagger-ui-dist's files, served from node_modules: the reference page needs no internet access. */
const UI_DIR = dirname(require.resolve('swagger-ui-dist/swagger-ui-bundle.js'));
const UI_FILES: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
};

/**
 * The page relaxes helmet's `default-src 'none'` just enough for its own scripts, styles and
 * fetches (all same-origin; swagger-ui sets inline styles); every other answer keeps the
 * strict policy.
 */
const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Gerbang API reference</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="api-reference"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/reference.js"></script>
</body>
</html>
`;

// Kept in a file of its own (not inline) so the page's CSP needs no 'unsafe-inline' script.
const START_SCRIPT = `window.ui = SwaggerUIBundle({ url: '/v1/openapi.json', dom_id: '#api-reference', deepLinking: true, validatorUrl: null });\n`;

/** `build`'s result, built at the first call and kept. */
function once(build: () => string): () => string {
  let built: string | undefined;
  return () => (built ??= build());
}

/**
 * GET /v1/openapi.json (OpenAPI 3.0) and GET /v1/swagger.json (Swagger 2.0, for Power Platform
 * custom connectors), built once from the app's route declarations; GET /docs, the API reference page.
 * Each document is built when first asked for, not as the app is built: writing the two from the
 * routes' Joi schemas takes about 150-300 ms of CPU, which every gateway start paid whether or
 * not anyone fetched them.
 */
export function docsRoutes(routes: ApiRoute[], options: ApiDocumentOptions): Router {
  const openApi = once(() => JSON.stringify(openApiDocument(routes, options), null, 2));
  const swagger = once(() => JSON.stringify(swaggerDocument(routes, options), null, 2));
  const router = Router();
  const sendJson = (res: Response, text: string) => res.status(200).type('application/json').setHeader('Cache-Control', 'no-cache').send(text);
  router.get('/v1/openapi.json', (_req, res) => sendJson(res, openApi()));
  router.get('/v1/swagger.json', (_req, res) => sendJson(res, swagger()));
  router.get('/docs', (_req, res) => {
    res.setHeader('Content-Security-Policy', PAGE_CSP);
    res.status(200).type('text/html; charset=utf-8').send(PAGE);
  });
  router.get('/docs/reference.js', (_req, res) => res.status(200).type('text/javascript; charset=utf-8').send(START_SCRIPT));
  for (const [file, type] of Object.entries(UI_FILES)) {
    router.get(`/docs/${file}`, (_req, res) => res.status(200).type(type).sendFile(join(UI_DIR, file), { maxAge: '1h' }));
  }
  return router;
}
