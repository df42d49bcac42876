import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { apiRoutes, connectorProperties, DEFAULT_API_LIMITS, openApiDocument, routeList, swaggerDocument } from '../../http/api/index.js';
import { UsageError, type CliIo } from '../cli-io.js';


/** The documents as committed: what GET /v1/openapi.json and /v1/swagger.json send with a default configuration. */
export function apiDocumentFiles(): Record<string, string> {
  const routes = routeList(apiRoutes(DEFAULT_API_LIMITS));
  return {
    'openapi.json': `${JSON.stringify(openApiDocument(routes), null, 2)}\n`,
    'swagger.json': `${JSON.stringify(swaggerDocument(routes), null, 2)}\n`,
    'apiProperties.json': `${JSON.stringify(connectorProperties(routes), null, 2)}\n`,
  };
}

export function openapiCommand(args: string[], io: CliIo): number {
  if (args[0] !== 'write' || args.length > 2) throw new UsageError('expected: gerbang openapi write [dir]');
  const dir = args[1] ?? join('docs', 'api');
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(apiDocumentFiles())) {
    writeFileSync(join(dir, name), text);
    io.out(`wrote ${join(dir, name)}`);
  }
  return 0;
}
