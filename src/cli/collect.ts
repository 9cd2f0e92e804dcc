import type { Logger } from 'pino';
import { type Collector, type CollectorStats, type ReloadResult, startCollector } from '../collector.js';
import { decoderSettingsFromConfig } from '../config/decoder-settings.js';
import type { FlowgateConfig } from '../config/types.js';
import { FlowDecoder } from '../decode/flow-decoder.js';
import type { ApiServer } from '../serve/api-server.js';
import { startApiFromConfig } from '../serve/start-from-config.js';

/** The periodic stats line: totals and pipeline health; per-exporter detail stays in stats(). */
export function statsLogFields(s: CollectorStats): Record<string, unknown> {
  return {
    uptimeSec: s.uptimeSec,
    received: s.received,
    queue: s.queue,
    decode: s.decode,
    output: s.output,
    store: s.store,
    tcp: s.tcp,
    totals: s.totals,
    interfaces: s.interfaces.length,
    listeners: s.listeners.map((l) => ({
      transport: l.transport,
      address: l.address,
      recvBuffer: l.recvBufferActual,
    })),
  };
}

/** Exporters logged individually with each stats line; the most active first. */
const EXPORTERS_PER_STATS_LOG = 100;

/**
 * The periodic stats: one line of totals, then one line per exporter (datagrams, records, errors by
 * kind, sequence gaps in the protocol's own unit), so an operator can tell which device has trouble.
 */
export function logStats(logger: Logger, s: CollectorStats, msg: string): void {
  logger.info(statsLogFields(s), msg);
  const exporters = [...s.exporters].sort((a, b) => b.datagrams - a.datagrams);
  for (const e of exporters.slice(0, EXPORTERS_PER_STATS_LOG)) logger.info({ exporter: e }, 'exporter stats');
  if (exporters.length > EXPORTERS_PER_STATS_LOG) {
    logger.info(
      { omitted: exporters.length - EXPORTERS_PER_STATS_LOG },
      'exporter stats: less active exporters omitted',
    );
  }
}

/**
 * Something run beside the collector once it listens (the demo's exporters); returns how to stop
 * it, which happens before the collector drains.
 */
export type CollectCompanion = (collector: Collector, api: ApiServer | null) => Promise<() => Promise<void>>;

/** `flowgate collect`: runs until SIGINT/SIGTERM, then stops gracefully (drain, flush, save templates). */
export async function runCollect(
  config: FlowgateConfig,
  logger: Logger,
  companion: CollectCompanion | null = null,
  /** Reads the configuration again from the same file, environment and flags (SIGHUP). */
  readConfig: (() => FlowgateConfig) | null = null,
): Promise<void> {
  // Created here rather than inside the collector so the API can show its template state.
  const decoder = new FlowDecoder(decoderSettingsFromConfig(config));
  const collector = await startCollector(config, logger, { decoder });
  const reload = readConfig === null ? null : reloader(collector, readConfig, logger);
  let api: ApiServer | null;
  try {
    api = await startApiFromConfig(
      config,
      collector,
      decoder,
      logger,
      collector.storeHealth,
      collector.store,
      collector.alerts,
      reload,
    );
  } catch (err) {
    await collector.stop();
    throw err;
  }
  if (api !== null) logger.info({ listen: api.address, url: api.url }, 'serving the HTTP API');
  let stopCompanion: (() => Promise<void>) | null = null;
  if (companion !== null) {
    try {
      stopCompanion = await companion(collector, api);
    } catch (err) {
      await api?.close();
      await collector.stop();
      throw err;
    }
  }
  const timer = setInterval(
    () => logStats(logger, collector.stats(), 'stats'),
    config.general.statsinterval * 1000,
  );
  const onHangup = (): void => {
    if (reload === null) logger.warn('SIGHUP: no configuration source to reload from');
    else void reload();
  };
  await new Promise<void>((resolve) => {
    let signalled = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (signalled) {
        // A second signal: the operator does not want to wait for the drain.
        logger.warn({ signal }, 'second signal: exiting without finishing the drain');
        process.exit(1);
      }
      signalled = true;
      logger.info({ signal }, 'stopping: draining queue, flushing output, saving templates');
      clearInterval(timer);
      // The API first: queries must not reach the store while the collector closes it.
      (async () => {
        await stopCompanion?.();
        await api?.close();
        await collector.stop();
      })().then(
        () => {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          process.off('SIGHUP', onHangup);
          logStats(logger, collector.stats(), 'stopped');
          resolve();
        },
        (err: unknown) => {
          logger.error({ err: err instanceof Error ? err.message : String(err) }, 'stop failed');
          resolve();
        },
      );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    process.on('SIGHUP', onHangup);
  });
}

/**
 * The reload SIGHUP and POST /api/reload share: one at a time (a second waits for the first),
 * an invalid configuration changes nothing and says why, what needs a restart is logged by name.
 */
export function reloader(
  collector: Collector,
  readConfig: () => FlowgateConfig,
  logger: Logger,
): () => Promise<ReloadResult | { error: string }> {
  let chain: Promise<unknown> = Promise.resolve();
  return () => {
    const run = chain.then(async (): Promise<ReloadResult | { error: string }> => {
      let next: FlowgateConfig;
      try {
        next = readConfig();
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        logger.error({ err: error }, 'reload: the configuration is not valid; nothing changed');
        return { error };
      }
      try {
        const result = await collector.reload(next);
        logger.info({ applied: result.applied }, 'configuration reloaded');
        for (const note of result.needsRestart) logger.warn(`reload: ${note}`);
        return result;
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        logger.error(
          { err: error },
          'reload failed part way: the previous settings stay where they could not be replaced',
        );
        return { error };
      }
    });
    chain = run.catch(() => {});
    return run;
  };
}
