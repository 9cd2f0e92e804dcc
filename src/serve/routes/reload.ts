/**
 * POST /api/reload: re-reads the configuration and applies it, as SIGHUP does (the same function);
 * answers what was applied and what needs a restart, or 400 with why the new configuration is
 * not valid (nothing changed then). Behind the API's token like every other route.
 */
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from './context.js';

export function registerReloadRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.post('/api/reload', async (_req, reply) => {
    if (ctx.reload === null || ctx.reload === undefined)
      return reply.code(404).send({ error: 'this process cannot reload its configuration' });
    const outcome = await ctx.reload();
    if ('error' in outcome) return reply.code(400).send({ error: outcome.error });
    return outcome;
  });
}
