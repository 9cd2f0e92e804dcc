/**
 * The HTTP API (Fastify): health probes, stats, Prometheus metrics, template state and the
 * OpenAPI description. Loopback by default; any other address needs a bearer token unless the
 * operator explicitly opts out (HTTPS does not change that: TLS encrypts, it does not
 * authenticate). No CORS headers (browsers on other origins cannot read it), explicit limits on
 * request size and on how long a client may take to send one, and headers that stop browsers from
 * sniffing, caching or framing responses.
 */
import crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { CollectorStats } from '../collector.js';
import type { TemplateExporterStats } from '../decode/template/template-decoder.js';
import type { AlertStore } from '../detect/alert-store.js';
import { formatHostPort, parseListenAddress } from '../receive/listen-address.js';
import { bindErrorMessage } from '../receive/udp-receiver.js';
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
/** Longest path parameter (alert ids are far shorter); a longer one is refused with 414. */
export const MAX_PARAM_LENGTH = 100;

/**
 * How much a client may send and how long it may take. Constants rather than settings: they only
 * bound misbehaving clients (slowloris, oversized heads) and no dashboard or scraper comes near
 * them. Tests pass smaller values through ApiServerOptions.httpLimits.
 */
export interface HttpLimits {
  /** Request line plus headers, bytes (Node's own default, made explicit); beyond it: 431. */
  maxHeaderBytes: number;
  /** Time to send the whole request head; a client dribbling headers gets 408 and is closed. */
  headersTimeoutMs: number;
  /** Time to send the whole request, body included (the response may take longer). */
  requestTimeoutMs: number;
  /**
   * A connection silent this long (both ways) is closed: twice ClickHouse's query timeout, so only
   * a DuckDB query still running after it loses its answer.
   */
  connectionTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** How often Node checks the two request timeouts: a client is closed at most this much late. */
  timeoutCheckIntervalMs: number;
}

export const HTTP_LIMITS: Readonly<HttpLimits> = {
  maxHeaderBytes: 16 * 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  connectionTimeoutMs: 120_000,
  keepAliveTimeoutMs: 5_000,
  timeoutCheckIntervalMs: 1_000,
};

/** Oldest TLS version served: 1.0 and 1.1 are deprecated (RFC 8996). */
export const TLS_MIN_VERSION = 'TLSv1.2';
/**
 * HSTS over HTTPS only (RFC 6797 7.2: ignored over HTTP). No includeSubDomains: the collector
 * cannot speak for other hosts under its name.
 */
export const HSTS = 'max-age=31536000';

/**
 * Every response: nothing may sniff, cache, frame or embed it from another origin, or hand it a
 * window reference (COOP), and the page gets no camera, microphone or location.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=()',
};
/** Data responses are never documents: they may load nothing. The dashboard sets its own. */
export const DATA_CSP = "default-src 'none'; frame-ancestors 'none'";
/**
 * Routes that answer without a token: liveness probes cannot carry secrets easily, and the
 * dashboard's static files hold no data (the page asks for the token, then calls the API with it).
 */
const PUBLIC_ROUTES = new Set(['/healthz', ...DASHBOARD_PATHS]);

/** PEM files (api.tlscert, api.tlskey); read once at start. */
export interface ApiTlsFiles {
  cert: string;
  key: string;
}

export interface ApiServerOptions {
  /** "host:port" / "[v6]:port"; port 0 picks a free port (tests). */
  listen?: string;
  token: string | null;
  allowNoToken: boolean;
  /** HTTPS with these files; absent or null: plain HTTP. */
  tls?: ApiTlsFiles | null;
  /** Overrides of HTTP_LIMITS (tests). */
  httpLimits?: Partial<HttpLimits>;
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
  /** "http://host:port" or "https://host:port". */
  url: string;
  /** Registered routes (method + path), for the OpenAPI consistency test. */
  routes: readonly { method: string; url: string }[];
  close(): Promise<void>;
}

/** Refuses an unauthenticated API on a non-loopback address unless explicitly allowed. */
/**
 * Why an API with these settings must not start (a non-loopback address without a token, not
 * explicitly allowed), or null. Also run by `flowgate config check`.
 */
export function apiExposureProblem(
  listen: string,
  token: string | null,
  allowNoToken: boolean,
  tls: boolean,
): string | null {
  if (isLoopbackHost(parseListenAddress(listen).host) || token !== null || allowNoToken) return null;
  return (
    `api.listen ${listen} is not a loopback address and api.token is not set: anyone who can ` +
    `reach it could read the collector${tls ? ' (TLS encrypts, it does not authenticate)' : ''}. ` +
    'Set api.token (e.g. FLOWGATE_API_TOKEN_FILE), listen on 127.0.0.1, or set ' +
    'api.allownotoken: true to serve it without authentication'
  );
}

/** Refuses an unauthenticated API on a non-loopback address unless explicitly allowed. */
function checkExposure(host: string, opts: ApiServerOptions, listen: string): void {
  if (isLoopbackHost(host) || opts.token !== null) return;
  const problem = apiExposureProblem(listen, opts.token, opts.allowNoToken, Boolean(opts.tls));
  if (problem !== null) throw new Error(problem);
  opts.logger.warn(
    { listen },
    'API SERVED WITHOUT AUTHENTICATION on a non-loopback address (api.allownotoken): anyone who ' +
      'can reach it can read flows and stats; set api.token',
  );
}

function addSecurity(app: FastifyInstance, token: string | null, https: boolean): void {
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
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) reply.header(name, value);
    if (https) reply.header('strict-transport-security', HSTS);
    if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', DATA_CSP);
    return payload;
  });
}

/** A file's content; the error names the setting and the file, never what the file holds. */
function readTlsFile(setting: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`${setting} ${file}: cannot read it${code ? ` (${code})` : ''}`);
  }
}

/**
 * The certificate and key, checked one by one so that a mistake is named precisely. OpenSSL's
 * messages are never passed on (only their codes): the key's content must not reach a log.
 */
function loadTls(files: ApiTlsFiles): tls.SecureContextOptions {
  const cert = readTlsFile('api.tlscert', files.cert);
  const key = readTlsFile('api.tlskey', files.key);
  try {
    new crypto.X509Certificate(cert);
  } catch {
    throw new Error(`api.tlscert ${files.cert}: not a PEM certificate`);
  }
  try {
    crypto.createPrivateKey(key);
  } catch {
    throw new Error(
      `api.tlskey ${files.key}: not an unencrypted PEM private key (a passphrase cannot be given)`,
    );
  }
  try {
    tls.createSecureContext({ cert, key, minVersion: TLS_MIN_VERSION });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_OSSL_X509_KEY_VALUES_MISMATCH')
      throw new Error(
        `api.tlskey ${files.key} is not the key of the certificate in api.tlscert ${files.cert}`,
      );
    throw new Error(
      `api.tlscert ${files.cert} and api.tlskey ${files.key} cannot be used for TLS${code ? ` (${code})` : ''}`,
    );
  }
  return { cert, key, minVersion: TLS_MIN_VERSION };
}

/**
 * A request Node could not parse or that ran out of time (431, 408, 400) never reaches Fastify:
 * answer it here with the security headers, a JSON error like every other, and `Connection:
 * close`, so that a keep-alive client does not pick the socket again.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || err.code === 'EPIPE' || !socket.writable) {
    socket.destroy();
    return;
  }
  const status =
    err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const body = JSON.stringify({
    statusCode: status,
    error: STATUS_CODES[status],
    message: status === 400 ? 'malformed request' : (STATUS_CODES[status] ?? '').toLowerCase(),
  });
  const headers = Object.entries({
    ...SECURITY_HEADERS,
    'content-security-policy': DATA_CSP,
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    connection: 'close',
  })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${headers}\r\n${body}`);
}

/** Fastify over HTTP or HTTPS, with the request limits on its server. */
function createApp(tlsOptions: tls.SecureContextOptions | null, limits: HttpLimits): FastifyInstance {
  const fastifyOptions = {
    logger: false,
    bodyLimit: BODY_LIMIT,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    connectionTimeout: limits.connectionTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    clientErrorHandler: answerClientError,
  } as const;
  const server = {
    maxHeaderSize: limits.maxHeaderBytes,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    connectionsCheckingInterval: limits.timeoutCheckIntervalMs,
  };
  if (tlsOptions === null) return Fastify({ ...fastifyOptions, http: server });
  // Routes use only Fastify's request and reply, the same over HTTPS: typed as the HTTP instance.
  return Fastify({ ...fastifyOptions, https: { ...server, ...tlsOptions } }) as unknown as FastifyInstance;
}

export async function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const listen = opts.listen ?? DEFAULT_API_LISTEN;
  const { host, port } = parseListenAddress(listen);
  checkExposure(host, opts, listen);
  const log = opts.logger.child({ component: 'api' });
  const tlsOptions = opts.tls ? loadTls(opts.tls) : null;
  const app = createApp(tlsOptions, { ...HTTP_LIMITS, ...opts.httpLimits });
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
  addSecurity(app, opts.token, tlsOptions !== null);

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
    // The same wording as the flow listeners: below 1024 it names CAP_NET_BIND_SERVICE.
    throw new Error(bindErrorMessage('API', parseListenAddress(listen), err as NodeJS.ErrnoException));
  }
  const bound = app.server.address();
  const boundPort = bound !== null && typeof bound === 'object' ? bound.port : port;
  const address = formatHostPort(host, boundPort);
  const url = `${tlsOptions === null ? 'http' : 'https'}://${address}`;
  log.info(
    { listen: address, url, tls: tlsOptions !== null, authentication: opts.token !== null },
    'HTTP API listening',
  );
  return { address, port: boundPort, url, routes, close: () => app.close() };
}
