/** Serves the OpenAPI description of this API. */
import type { FastifyInstance } from 'fastify';
import { OPENAPI_DOCUMENT } from '../openapi.js';

export function registerOpenApiRoutes(app: FastifyInstance): void {
  app.get('/api/openapi.json', async () => OPENAPI_DOCUMENT);
}
