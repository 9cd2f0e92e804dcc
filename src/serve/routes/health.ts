/** Liveness and readiness probes (Kubernetes style). */
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from './context.js';

/** Why the process cannot do its job yet, or null when it can. */
export function notReadyReason(ctx: RouteContext): string | null {
  if (ctx.collector.stats().listeners.length === 0) return 'no flow listener bound';
  if (ctx.store !== null) {
    const h = ctx.store.health();
    if (!h.ready) return `store not ready${h.lastError === null ? '' : `: ${h.lastError}`}`;
  }
  return null;
}

export function registerHealthRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const reason = notReadyReason(ctx);
    if (reason === null) return { status: 'ok' };
    return reply.code(503).send({ status: 'unavailable', reason });
  });
}
