/** Starts the HTTP API as configured (`api` section); the one call `collect` needs. */
import type { Logger } from 'pino';
import type { Collector } from '../collector.js';
import type { FlowgateConfig } from '../config/types.js';
import type { FlowDecoder } from '../decode/flow-decoder.js';
import type { AlertStore } from '../detect/alert-store.js';
import type { FlowStore, StoreHealth } from '../store/contract.js';
import { type ApiServer, startApiServer } from './api-server.js';
import type { ReloadHandler } from './routes/context.js';

/** The running API, or null when `api.enabled` is false. Rejects with a clear message. */
export async function startApiFromConfig(
  config: FlowgateConfig,
  collector: Pick<Collector, 'stats'>,
  decoder: FlowDecoder,
  logger: Logger,
  store: { health(): StoreHealth } | null = null,
  /** Answers /api/flows, /api/top, /api/timeseries, /api/exporters (503 without it). */
  flowStore: FlowStore | null = null,
  /** Answers /api/alerts ("detection": "off" without it). */
  alerts: AlertStore | null = null,
  /** POST /api/reload (what SIGHUP does). */
  reload: ReloadHandler | null = null,
): Promise<ApiServer | null> {
  if (!config.api.enabled) return null;
  return startApiServer({
    listen: config.api.listen,
    token: config.api.token,
    allowNoToken: config.api.allownotoken,
    // The schema lets only both or neither through.
    tls:
      config.api.tlscert !== null && config.api.tlskey !== null
        ? { cert: config.api.tlscert, key: config.api.tlskey }
        : null,
    collector,
    templates: () => decoder.templates.exporterStats(),
    store,
    flowStore,
    alerts,
    reload,
    logger,
  });
}
