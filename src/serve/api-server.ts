/**
 * The HTTP API (Fastify): health probes, stats, Prometheus metrics, template state and the
 * OpenAPI description. Loopback by default; any other address needs a bearer token unless the
 * operator explicitly opts out. No CORS headers (browsers on other origins cannot read it), a
 * small body limit, and headers that stop browsers from sniffing, caching or framing responses.
 */
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { CollectorStats } from '../collector.js';
import type { TemplateExporterStats } from '../decode/template/template-decoder.js';
import type { AlertStore } from '../detect/alert-store.js';
import { formatHostPort, parseListenAddress } from '../receive/listen-address.js';
import type { FlowStore, StoreHealth } from '../store/contract.js';
import { BearerAuth, isLoopbackHost } from './auth.js';
import { FlowgateMetrics } from './metrics.js';
import { registerAlertRoutes } from './routes/alerts.js';
import type { ReloadHandler, RouteContext } from './routes/context.js';
import { DASHBOARD_PATHS, registerDashboardRoutes } from './routes/dashboard.js';
import { registerFlowRoutes } from './routes/flows.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerMetricsRoutes } from './routes/metrics.js';
import { registerOpenApiRoutes } from './routes/openapi.js';
import { registerReloadRoutes } from './routes/reload.js';
import { registerStatsRoutes } from './routes/stats.js';
import { registerTemplateRoutes } from './routes/templates.js';

/** Requests carry query strings, not bodies: anything larger is refused with 413. */
export const BODY_LIMIT = 64 * 1024;
export const DEFAULT_API_LISTEN = '127.0.0.1:8080';
/**
 * Routes that answer without a token: liveness probes cannot carry secrets easily, and the
 * dashboard's static files hold no data (the page asks for the token, then calls the API with it).
 */
const PUBLIC_ROUTES = new Set(['/healthz', ...DASHBOARD_PATHS]);

export interface ApiServerOptions {
  /** "host:port" / "[v6]:port"; port 0 picks a free port (tests). */
  listen?: string;
  token: string | null;
  allowNoToken: boolean;
  collector: { stats(): CollectorStats };
  templates: () => TemplateExporterStats[];
  store?: { health(): StoreHealth } | null;
  /** Answers the query routes (/api/flows, /api/top, ...); without it they answer 503. */
  flowStore?: FlowStore | null;
  /** Answers /api/alerts and feeds flowgate_alerts_*; without it detection is reported off. */
  alerts?: AlertStore | null;
  /** POST /api/reload; without it the route answers 404. */
  reload?: ReloadHandler | null;
  logger: Logger;
}

export interface ApiServer {
  /** Bound "host:port" (port 0 resolved). */
  address: string;
  port: number;
  /** Registered routes (method + path), for the OpenAPI consistency test. */
  routes: readonly { method: string; url: string }[];
  close(): Promise<void>;
}

/** Refuses an unauthenticated API on a non-loopback address unless explicitly allowed. */
function checkExposure(host: string, opts: ApiServerOptions, listen: string): void {
  if (isLoopbackHost(host) || opts.token !== null) return;
  if (!opts.allowNoToken) {
    throw new Error(
      `api.listen ${listen} is not a loopback address and api.token is not set: anyone who can ` +
        'reach it could read the collector. Set api.token (e.g. FLOWGATE_API_TOKEN_FILE), listen on ' +
        '127.0.0.1, or set api.allownotoken: true to serve it without authentication',
    );
  }
  opts.logger.warn(
    { listen },
    'API SERVED WITHOUT AUTHENTICATION on a non-loopback address (api.allownotoken): anyone who ' +
      'can reach it can read flows and stats; set api.token',
  );
}

function addSecurity(app: FastifyInstance, token: string | null): void {
  const auth = token === null ? null : new BearerAuth(token);
  if (auth !== null) {
    app.addHook('onRequest', async (req, reply) => {
      if (PUBLIC_ROUTES.has(req.routeOptions.url ?? '')) return;
      const result = auth.check(req.headers.authorization);
      if (result === 'ok') return;
      return reply
        .code(401)
        .header('www-authenticate', BearerAuth.challenge(result))
        .send({
          statusCode: 401,
          error: 'Unauthorized',
          message:
            result === 'missing' ? 'bearer token required (Authorization: Bearer ...)' : 'invalid token',
        });
    });
  }
  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('cache-control', 'no-store');
    reply.header('referrer-policy', 'no-referrer');
    // Responses are data, never documents: nothing may load or frame them. A future HTML route
    // (dashboard) sets its own policy first.
    if (!reply.hasHeader('content-security-policy'))
      reply.header('content-security-policy', "default-src 'none'; frame-ancestors 'none'");
    return payload;
  });
}

export async function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const listen = opts.listen ?? DEFAULT_API_LISTEN;
  const { host, port } = parseListenAddress(listen);
  checkExposure(host, opts, listen);
  const log = opts.logger.child({ component: 'api' });

  const app = Fastify({ logger: false, bodyLimit: BODY_LIMIT });
  const routes: { method: string; url: string }[] = [];
  app.addHook('onRoute', (r) => {
    // OpenAPI path templating ("/api/alerts/{id}"), not Fastify's ("/api/alerts/:id").
    const url = r.url.replace(/:(\w+)/g, '{$1}');
    for (const method of [r.method].flat()) if (method !== 'HEAD') routes.push({ method, url });
  });
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const status = err.statusCode !== undefined && err.statusCode >= 400 ? err.statusCode : 500;
    if (status < 500) return reply.code(status).send(err);
    // The URL path only: headers (the token) are never logged.
    log.error({ err: err.message, method: req.method, route: req.routeOptions.url }, 'API request failed');
    return reply
      .code(status)
      .send({ statusCode: status, error: 'Internal Server Error', message: 'internal error (logged)' });
  });
  addSecurity(app, opts.token);

  const ctx: RouteContext = {
    collector: opts.collector,
    templates: opts.templates,
    store: opts.store ?? null,
    flowStore: opts.flowStore ?? null,
    metrics: new FlowgateMetrics({
      stats: () => opts.collector.stats(),
      store: opts.store ?? null,
      alerts: opts.alerts ?? null,
    }),
    alerts: opts.alerts ?? null,
    reload: opts.reload ?? null,
  };
  registerHealthRoutes(app, ctx);
  registerStatsRoutes(app, ctx);
  registerMetricsRoutes(app, ctx);
  registerTemplateRoutes(app, ctx);
  registerFlowRoutes(app, ctx);
  registerAlertRoutes(app, ctx);
  registerReloadRoutes(app, ctx);
  registerOpenApiRoutes(app);
  registerDashboardRoutes(app);

  try {
    await app.listen({ host, port });
  } catch (err) {
    await app.close();
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`API cannot listen on ${listen}${code ? ` (${code})` : ''}: ${(err as Error).message}`);
  }
  const bound = app.server.address();
  const boundPort = bound !== null && typeof bound === 'object' ? bound.port : port;
  const address = formatHostPort(host, boundPort);
  log.info({ listen: address, authentication: opts.token !== null }, 'HTTP API listening');
  return { address, port: boundPort, routes, close: () => app.close() };
}
