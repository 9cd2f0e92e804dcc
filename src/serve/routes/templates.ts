/** NetFlow v9 / IPFIX template state per exporter, from the template decoder. */
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from './context.js';

interface TemplatesQuery {
  exporter?: string;
}

export function registerTemplateRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get<{ Querystring: TemplatesQuery }>(
    '/api/templates',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { exporter: { type: 'string', minLength: 1, maxLength: 64 } },
        },
      },
    },
    async (req) => {
      const only = req.query.exporter;
      const rows = [];
      for (const t of ctx.templates()) {
        if (only !== undefined && t.exporter !== only) continue;
        rows.push({
          exporter: t.exporter,
          port: t.port,
          connectionId: t.connectionId,
          templates: t.templates,
          restarts: t.restarts,
          lastSeen: t.lastSeenMs > 0 ? new Date(t.lastSeenMs).toISOString() : null,
          activeTimeoutSec: t.activeTimeoutSec,
          inactiveTimeoutSec: t.inactiveTimeoutSec,
        });
      }
      return rows;
    },
  );
}
