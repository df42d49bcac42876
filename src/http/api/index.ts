export { apiRoutes, DEFAULT_API_LIMITS, routeList } from './api-routes.js';
export type { ApiLimits, ApiRoutes } from './api-routes.js';
export { mountRoute, expressPath, requestValidation } from './api-route.js';
export type { ApiRoute, RouteAnswer, RouteSecurity } from './api-route.js';
export { connectorProperties, openApiDocument, swaggerDocument } from './api-documents.js';
export type { ApiDocumentOptions } from './api-documents.js';
