/**
 * Queries of the flow store: records, top-N, time series and exporter summaries over a time range
 * (flow time) and a filter. Parameter problems answer 400 `{ error, position?, allowed? }`; no
 * store answers 503.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { FlowStore } from '../../store/contract.js';
import {
  parseBucket,
  parseDimension,
  parseFilterParam,
  parseGroupBy,
  parseLimit,
  parseMetric,
  parseRange,
  QueryParamError,
  type QueryString,
} from '../query-params.js';
import type { RouteContext } from './context.js';

export const MAX_FLOWS = 10_000;
export const MAX_TOP = 1_000;
/** Series in one grouped time series. */
export const MAX_SERIES = 100;
const DEFAULT_FLOWS = 100;
const DEFAULT_TOP = 10;

type Handler<T> = (store: FlowStore, q: QueryString) => Promise<T>;

function route<T>(ctx: RouteContext, handler: Handler<T>) {
  return async (req: FastifyRequest<{ Querystring: QueryString }>, reply: FastifyReply) => {
    if (ctx.flowStore === null)
      return reply.code(503).send({ error: 'no flow store: store.enabled is false in this collector' });
    try {
      return await handler(ctx.flowStore, req.query);
    } catch (err) {
      if (!(err instanceof QueryParamError)) throw err;
      const body: { error: string; position?: number; allowed?: readonly string[] } = { error: err.message };
      if (err.position !== null) body.position = err.position;
      if (err.allowed !== null) body.allowed = err.allowed;
      return reply.code(400).send(body);
    }
  };
}

export function registerFlowRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get<{ Querystring: QueryString }>(
    '/api/flows',
    route(ctx, async (store, q) => {
      const range = parseRange(q, Date.now());
      const query = { range, filter: parseFilterParam(q), limit: parseLimit(q, DEFAULT_FLOWS, MAX_FLOWS) };
      return { flows: await store.flows(query) };
    }),
  );
  app.get<{ Querystring: QueryString }>(
    '/api/top',
    route(ctx, async (store, q) => {
      const query = {
        range: parseRange(q, Date.now()),
        filter: parseFilterParam(q),
        dimension: parseDimension(q, 'dimension', 'srcip'),
        metric: parseMetric(q),
        limit: parseLimit(q, DEFAULT_TOP, MAX_TOP),
      };
      return { rows: await store.top(query) };
    }),
  );
  app.get<{ Querystring: QueryString }>(
    '/api/timeseries',
    route(ctx, async (store, q) => {
      const range = parseRange(q, Date.now());
      const query = {
        range,
        filter: parseFilterParam(q),
        bucketSec: parseBucket(q, range),
        groupBy: parseGroupBy(q),
        metric: parseMetric(q),
        limit: parseLimit(q, DEFAULT_TOP, MAX_SERIES),
      };
      return { points: await store.timeseries(query) };
    }),
  );
  app.get<{ Querystring: QueryString }>(
    '/api/exporters',
    route(ctx, async (store, q) => ({ exporters: await store.exporters(parseRange(q, Date.now())) })),
  );
}
