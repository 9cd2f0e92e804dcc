/**
 * The OpenAPI 3.1 description of the HTTP API, served at /api/openapi.json. A test checks that
 * every route the server registers is described here, so the two cannot drift apart.
 */

const json = (schema: object, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

const problem = { $ref: '#/components/schemas/Problem' };
const unauthorized = json(problem, 'Missing or wrong bearer token (when api.token is set)');

export const OPENAPI_DOCUMENT = {
  openapi: '3.1.0',
  info: {
    title: 'Flowgate API',
    version: '1',
    description:
      'Flow collector health, statistics and metrics. When api.token is set, every route except ' +
      '/healthz requires `Authorization: Bearer <token>`.',
  },
  security: [{ bearer: [] }],
  paths: {
    '/healthz': {
      get: {
        summary: 'Liveness: the process answers',
        security: [],
        responses: { '200': json({ $ref: '#/components/schemas/Health' }, 'Alive') },
      },
    },
    '/readyz': {
      get: {
        summary: 'Readiness: flow listeners bound and, when configured, the store ready',
        responses: {
          '200': json({ $ref: '#/components/schemas/Health' }, 'Ready'),
          '401': unauthorized,
          '503': json({ $ref: '#/components/schemas/Health' }, 'Not ready; `reason` says why'),
        },
      },
    },
    '/stats': {
      get: {
        summary: 'Collector statistics: totals, per-exporter counters, queues, listeners, store health',
        responses: {
          '200': json(
            {
              type: 'object',
              description:
                'CollectorStats (src/collector.ts): uptimeSec, listeners, received, queue, decode, ' +
                'output, tcp, templateDb, exporters[] (datagrams, bytes, records, errors by kind, ' +
                'sequence, templateState, firstSeen, lastSeen), totals, notAllowed, interfaces, ' +
                'interfacesDropped; plus `store` (StoreHealth) when a store is configured',
              required: ['uptimeSec', 'listeners', 'exporters', 'totals', 'queue', 'output'],
            },
            'Statistics snapshot',
          ),
          '401': unauthorized,
        },
      },
    },
    '/metrics': {
      get: {
        summary: 'Prometheus metrics (text exposition format 0.0.4), names prefixed flowgate_',
        responses: {
          '200': {
            description: 'Metrics',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
          '401': unauthorized,
        },
      },
    },
    '/api/templates': {
      get: {
        summary: 'NetFlow v9 / IPFIX template state per exporter (and port or TCP connection)',
        parameters: [
          {
            name: 'exporter',
            in: 'query',
            required: false,
            description: 'Only this exporter address',
            schema: { type: 'string', maxLength: 64 },
          },
        ],
        responses: {
          '200': json(
            { type: 'array', items: { $ref: '#/components/schemas/TemplateExporter' } },
            'Template state',
          ),
          '400': json(problem, 'Invalid query string'),
          '401': unauthorized,
        },
      },
    },
    '/api/openapi.json': {
      get: {
        summary: 'This document',
        responses: { '200': json({ type: 'object' }, 'OpenAPI 3.1 document'), '401': unauthorized },
      },
    },
  },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    schemas: {
      Health: {
        type: 'object',
        required: ['status'],
        properties: {
          status: { type: 'string', enum: ['ok', 'unavailable'] },
          reason: { type: 'string' },
        },
      },
      Problem: {
        type: 'object',
        required: ['statusCode', 'error', 'message'],
        properties: {
          statusCode: { type: 'integer' },
          error: { type: 'string' },
          message: { type: 'string' },
        },
      },
      TemplateExporter: {
        type: 'object',
        required: ['exporter', 'port', 'connectionId', 'templates', 'restarts', 'lastSeen'],
        properties: {
          exporter: { type: 'string' },
          port: { type: ['integer', 'null'], description: 'UDP source port when keyed by port' },
          connectionId: { type: ['string', 'null'], description: 'IPFIX-over-TCP connection' },
          templates: { type: 'integer', description: 'Templates and options templates held' },
          restarts: { type: 'integer', description: 'Exporter restarts detected' },
          lastSeen: { type: ['string', 'null'], format: 'date-time' },
          activeTimeoutSec: { type: ['integer', 'null'] },
          inactiveTimeoutSec: { type: ['integer', 'null'] },
        },
      },
    },
  },
} as const;
