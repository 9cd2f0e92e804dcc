/**
 * The alerts detection raised: a list (filtered by state, kind, target and flow-time range, newest
 * first) and one alert by id. Parameter problems answer 400 `{ error, allowed? }` like the flow
 * queries. A collector without detection answers an empty list marked `"detection": "off"`, so the
 * dashboard can tell "nothing happened" from "nothing is watching".
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ALERT_KINDS, type Alert, type AlertKind } from '../../detect/alert.js';
import {
  type AlertCounts,
  type AlertQuery,
  type AlertState,
  emptyAlertCounts,
} from '../../detect/alert-store.js';
import { parseLimit, parseTime, QueryParamError, type QueryString } from '../query-params.js';
import type { RouteContext } from './context.js';

export const MAX_ALERTS_LISTED = 1_000;
const DEFAULT_ALERTS_LISTED = 100;
/** Longer than any address or exporter name: a longer target cannot match. */
const MAX_TARGET_LENGTH = 256;
const STATES: readonly AlertState[] = ['active', 'ended'];

export interface AlertListBody {
  detection: 'on' | 'off';
  counts: AlertCounts;
  alerts: Alert[];
}

/** A parameter given once, trimmed; empty means absent (as in the flow queries). */
function optional(q: QueryString, name: string): string | undefined {
  const v = q[name];
  if (Array.isArray(v)) throw new QueryParamError(`${name} is given ${v.length} times: give it once`);
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function optionalOneOf<T extends string>(q: QueryString, name: string, allowed: readonly T[]): T | undefined {
  const text = optional(q, name);
  if (text === undefined) return undefined;
  const v = allowed.find((a) => a === text.toLowerCase());
  if (v === undefined)
    throw new QueryParamError(`${name} "${text}" is not one of ${allowed.join(', ')}`, null, allowed);
  return v;
}

export function parseAlertQuery(q: QueryString): AlertQuery {
  const query: AlertQuery = { limit: parseLimit(q, DEFAULT_ALERTS_LISTED, MAX_ALERTS_LISTED) };
  const state = optionalOneOf(q, 'state', STATES);
  if (state !== undefined) query.state = state;
  const kind = optionalOneOf<AlertKind>(q, 'kind', ALERT_KINDS);
  if (kind !== undefined) query.kind = kind;
  const target = optional(q, 'target');
  if (target !== undefined) {
    if (target.length > MAX_TARGET_LENGTH)
      throw new QueryParamError(`target is ${target.length} characters long: at most ${MAX_TARGET_LENGTH}`);
    query.target = target;
  }
  const from = optional(q, 'from');
  if (from !== undefined) query.from = parseTime(from, 'from');
  const to = optional(q, 'to');
  if (to !== undefined) query.to = parseTime(to, 'to');
  if (query.from !== undefined && query.to !== undefined && query.from >= query.to)
    throw new QueryParamError(
      `from (${new Date(query.from).toISOString()}) must be before to (${new Date(query.to).toISOString()})`,
    );
  return query;
}

function badRequest(reply: FastifyReply, err: QueryParamError) {
  const body: { error: string; allowed?: readonly string[] } = { error: err.message };
  if (err.allowed !== null) body.allowed = err.allowed;
  return reply.code(400).send(body);
}

export function registerAlertRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get<{ Querystring: QueryString }>(
    '/api/alerts',
    async (req: FastifyRequest<{ Querystring: QueryString }>, reply: FastifyReply) => {
      let query: AlertQuery;
      try {
        query = parseAlertQuery(req.query);
      } catch (err) {
        if (err instanceof QueryParamError) return badRequest(reply, err);
        throw err;
      }
      const store = ctx.alerts ?? null;
      const body: AlertListBody =
        store === null
          ? { detection: 'off', counts: emptyAlertCounts(), alerts: [] }
          : { detection: 'on', counts: store.counts(), alerts: store.list(query) };
      return body;
    },
  );
  app.get<{ Params: { id: string } }>('/api/alerts/:id', async (req, reply) => {
    const store = ctx.alerts ?? null;
    if (store === null)
      return reply.code(404).send({ error: 'detection is off on this collector: it keeps no alerts' });
    const alert = store.get(req.params.id);
    if (alert === null) return reply.code(404).send({ error: `no alert with id "${req.params.id}"` });
    return { alert };
  });
}
