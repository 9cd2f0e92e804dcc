import { ALERT_KINDS, ALERT_SEVERITIES } from '../detect/alert.js';
import { DIMENSIONS, METRICS } from './query-params.js';
import { DASHBOARD_PATHS } from './routes/dashboard.js';

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
const queryError = json(
  { $ref: '#/components/schemas/QueryError' },
  'Invalid parameter: `error` says why; `position` is the column of a filter syntax error, `allowed` the accepted values',
);
const noStore = json({ $ref: '#/components/schemas/QueryError' }, 'No flow store (store.enabled is false)');

const param = (name: string, description: string, schema: object) => ({
  name,
  in: 'query',
  required: false,
  description,
  schema,
});
const rangeParams = [
  param('from', 'Start of the flow-time range: epoch ms or ISO 8601 (default: to - 1 h)', { type: 'string' }),
  param('to', 'End of the range, exclusive: epoch ms or ISO 8601 (default: now)', { type: 'string' }),
];
const filterParam = param(
  'filter',
  'Filter expression (docs/filter-language.md), e.g. `dst port 443 and proto tcp`',
  {
    type: 'string',
    maxLength: 4096,
  },
);
const metricParam = param('metric', 'What to add up and order by (default bits)', {
  type: 'string',
  enum: METRICS,
});
const amounts = {
  bits: { type: 'number', description: 'bits × samplerate × weight' },
  packets: { type: 'number', description: 'packets × samplerate × weight' },
  flows: { type: 'number', description: 'records × weight (not scaled by samplerate)' },
};
const key = { type: ['string', 'number', 'null'], description: 'The dimension value; null = unknown' };

/** The dashboard page and its static files: public, no data in them. */
const dashboardPaths = Object.fromEntries(
  DASHBOARD_PATHS.map((p) => [
    p,
    {
      get: {
        summary: p === '/' ? 'The web dashboard (HTML page)' : 'A static file of the web dashboard',
        security: [],
        responses: { '200': { description: 'HTML, JavaScript or CSS' } },
      },
    },
  ]),
);

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
    ...dashboardPaths,
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
                'sequence, templateState, firstSeen, lastSeen, clockSkewSec: seconds the exporter clock ' +
                'is behind the collector (negative: ahead; null for sFlow), clockSkewed: beyond ' +
                'general.maxclockskew), totals (including clockSkewed, the count of flagged exporters), ' +
                'notAllowed and rateLimited (per source), interfaces, interfacesDropped, limits (every bound ' +
                'on hostile input as configured); tcp has refused {maxConnections, maxPerPeer} and timeouts ' +
                '{idle, stalled}; decode has templates (held over all exporters); plus `store` (StoreHealth) ' +
                'when a store is configured',
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
    '/api/reload': {
      post: {
        summary: 'Re-read the configuration and apply it without closing the listening sockets (as SIGHUP)',
        responses: {
          '200': json(
            {
              type: 'object',
              properties: {
                applied: { type: 'array', items: { type: 'string' }, description: 'Settings applied live' },
                needsRestart: {
                  type: 'array',
                  items: { type: 'string' },
                  description: 'Changes that take effect only after a restart',
                },
              },
            },
            'What the reload did',
          ),
          '400': json(problem, 'The new configuration is not valid: nothing changed'),
          '401': unauthorized,
          '404': json(problem, 'This process cannot reload (started without a configuration source)'),
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
    '/api/flows': {
      get: {
        summary: 'Flow records in a time range matching a filter, newest first',
        parameters: [
          ...rangeParams,
          filterParam,
          param('limit', 'At most this many records (default 100)', {
            type: 'integer',
            minimum: 1,
            maximum: 10_000,
          }),
        ],
        responses: {
          '200': json(
            {
              type: 'object',
              required: ['flows'],
              properties: {
                flows: {
                  type: 'array',
                  items: { type: 'object', description: 'A flow record in its JSON form (PRODUCT.md)' },
                },
              },
            },
            'Records',
          ),
          '400': queryError,
          '401': unauthorized,
          '503': noStore,
        },
      },
    },
    '/api/top': {
      get: {
        summary: 'Top-N values of a dimension by bits, packets or flows',
        parameters: [
          ...rangeParams,
          filterParam,
          param('dimension', 'What to group by (default srcip)', { type: 'string', enum: DIMENSIONS }),
          metricParam,
          param('limit', 'Rows (default 10)', { type: 'integer', minimum: 1, maximum: 1000 }),
        ],
        responses: {
          '200': json(
            {
              type: 'object',
              required: ['rows'],
              properties: {
                rows: {
                  type: 'array',
                  items: {
                    type: 'object',
                    required: ['key', 'bits', 'packets', 'flows'],
                    properties: { key, ...amounts },
                  },
                },
              },
            },
            'Rows, largest first',
          ),
          '400': queryError,
          '401': unauthorized,
          '503': noStore,
        },
      },
    },
    '/api/timeseries': {
      get: {
        summary: 'Traffic per time bucket, optionally one series per value of a dimension',
        parameters: [
          ...rangeParams,
          filterParam,
          param('bucket', 'Bucket width in seconds (default: about 120 points over the range)', {
            type: 'integer',
            minimum: 1,
          }),
          param('groupby', 'One series per value of this dimension (the `limit` largest)', {
            type: 'string',
            enum: DIMENSIONS,
          }),
          metricParam,
          param('limit', 'Series when grouped (default 10)', { type: 'integer', minimum: 1, maximum: 100 }),
        ],
        responses: {
          '200': json(
            {
              type: 'object',
              required: ['points'],
              properties: {
                points: {
                  type: 'array',
                  items: {
                    type: 'object',
                    required: ['bucketMs', 'key', 'bits', 'packets', 'flows'],
                    properties: {
                      bucketMs: { type: 'integer', description: 'Bucket start, epoch ms UTC' },
                      key,
                      ...amounts,
                    },
                  },
                },
              },
            },
            'Points',
          ),
          '400': queryError,
          '401': unauthorized,
          '503': noStore,
        },
      },
    },
    '/api/exporters': {
      get: {
        summary: 'Stored traffic per exporter in a time range',
        parameters: rangeParams,
        responses: {
          '200': json(
            {
              type: 'object',
              required: ['exporters'],
              properties: {
                exporters: {
                  type: 'array',
                  items: {
                    type: 'object',
                    required: [
                      'exporter',
                      'name',
                      'flowtype',
                      'records',
                      'bits',
                      'packets',
                      'firstMs',
                      'lastMs',
                    ],
                    properties: {
                      exporter: { type: 'string' },
                      name: { type: ['string', 'null'] },
                      flowtype: { type: 'string' },
                      records: { type: 'integer' },
                      bits: amounts.bits,
                      packets: amounts.packets,
                      firstMs: { type: 'integer' },
                      lastMs: { type: 'integer' },
                    },
                  },
                },
              },
            },
            'Exporters',
          ),
          '400': queryError,
          '401': unauthorized,
          '503': noStore,
        },
      },
    },
    '/api/alerts': {
      get: {
        summary:
          'Alerts raised by detection (latest version of each), newest first; `detection` is "off" ' +
          'with an empty list when this collector does not detect',
        parameters: [
          param('state', 'Only active (going on) or ended alerts', {
            type: 'string',
            enum: ['active', 'ended'],
          }),
          param('kind', 'Only this kind of alert', { type: 'string', enum: ALERT_KINDS }),
          param('target', 'Only alerts on this target (victim, source or exporter address)', {
            type: 'string',
            maxLength: 256,
          }),
          param('from', 'Only alerts going on at or after this flow time: epoch ms or ISO 8601', {
            type: 'string',
          }),
          param('to', 'Only alerts started before this flow time: epoch ms or ISO 8601', { type: 'string' }),
          param('limit', 'At most this many alerts (default 100)', {
            type: 'integer',
            minimum: 1,
            maximum: 1000,
          }),
        ],
        responses: {
          '200': json(
            {
              type: 'object',
              required: ['detection', 'counts', 'alerts'],
              properties: {
                detection: { type: 'string', enum: ['on', 'off'] },
                counts: {
                  type: 'object',
                  description: 'Alerts kept: active, ended, and both per kind (whatever the filters)',
                  required: ['active', 'ended', 'byKind'],
                  properties: {
                    active: { type: 'integer' },
                    ended: { type: 'integer' },
                    byKind: { type: 'object' },
                  },
                },
                alerts: { type: 'array', items: { $ref: '#/components/schemas/Alert' } },
              },
            },
            'Alerts',
          ),
          '400': queryError,
          '401': unauthorized,
        },
      },
    },
    '/api/alerts/{id}': {
      get: {
        summary: 'One alert, latest version',
        parameters: [
          { name: 'id', in: 'path', required: true, description: 'The alert id', schema: { type: 'string' } },
        ],
        responses: {
          '200': json(
            {
              type: 'object',
              required: ['alert'],
              properties: { alert: { $ref: '#/components/schemas/Alert' } },
            },
            'The alert',
          ),
          '401': unauthorized,
          '404': json({ $ref: '#/components/schemas/QueryError' }, 'No such alert, or detection is off'),
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
      QueryError: {
        type: 'object',
        required: ['error'],
        properties: {
          error: { type: 'string' },
          position: { type: 'integer', description: 'Column (0-based) of a filter syntax error' },
          allowed: { type: 'array', items: { type: 'string' } },
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
      Alert: {
        type: 'object',
        description:
          'One incident (src/detect/alert.ts). startedAt, updatedAt and endedAt are flow time (epoch ms); ' +
          'detectedAt is the wall clock when Flowgate raised it',
        required: ['id', 'kind', 'severity', 'state', 'target', 'summary', 'metric', 'threshold', 'value'],
        properties: {
          id: { type: 'string' },
          kind: { type: 'string', enum: ALERT_KINDS },
          severity: { type: 'string', enum: ALERT_SEVERITIES },
          state: { type: 'string', enum: ['active', 'ended'] },
          direction: { type: ['string', 'null'], enum: ['inbound', 'outbound', null] },
          target: { type: 'string' },
          targetKind: { type: 'string', enum: ['host', 'hostgroup', 'interface', 'exporter'] },
          interface: {
            type: ['object', 'null'],
            description:
              'For interface alerts: the exporter, ifIndex, ifName (or null) and direction (in/out)',
            properties: {
              exporter: { type: 'string' },
              index: { type: 'integer' },
              name: { type: ['string', 'null'] },
              direction: { type: 'string', enum: ['in', 'out'] },
            },
          },
          hostgroup: { type: ['string', 'null'] },
          summary: { type: 'string' },
          metric: { type: 'string', description: 'What was measured: bps, pps, flows/s, ...' },
          threshold: { type: 'number' },
          value: { type: 'number', description: 'Latest value' },
          peak: { type: 'number' },
          baseline: { type: ['number', 'null'] },
          startedAt: { type: 'integer' },
          updatedAt: { type: 'integer' },
          endedAt: { type: ['integer', 'null'] },
          detectedAt: { type: 'integer' },
          totals: { type: 'object', properties: amounts },
          distinctSources: { type: ['integer', 'null'] },
          top: { type: 'object', description: 'Heaviest sources, destinations, ports and protocols' },
          exporters: { type: 'array', items: { type: 'string' } },
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
