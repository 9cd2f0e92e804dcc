/** Prometheus scrape endpoint. */
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from './context.js';

export function registerMetricsRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get('/metrics', async (_req, reply) => {
    const body = await ctx.metrics.render();
    return reply.type(ctx.metrics.contentType).send(body);
  });
}
