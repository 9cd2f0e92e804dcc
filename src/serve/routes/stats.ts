/** The collector's statistics as JSON (what `collect` logs periodically, in full). */
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from './context.js';

export function registerStatsRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get('/stats', async () => {
    const stats = ctx.collector.stats();
    return ctx.store === null ? stats : { ...stats, store: ctx.store.health() };
  });
}
