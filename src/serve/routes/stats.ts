/** The collector's statistics as JSON (what `collect` logs periodically, in full). */
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from './context.js';

export function registerStatsRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get('/stats', async () => {
    const stats = ctx.collector.stats();
    // The collector's own entry (health plus the queue in front of the store) says more.
    if (ctx.store === null || stats.store !== null) return stats;
    return { ...stats, store: ctx.store.health() };
  });
}
