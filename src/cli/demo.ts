import { join } from 'node:path';
import type { Logger } from 'pino';
import type { FlowgateConfig } from '../config/types.js';
import { startDemoExporters } from '../demo/demo-exporters.js';
import { runCollect } from './collect.js';

export interface DemoCommandOptions {
  /** Flows per second the built-in exporters send (the attack adds to it). */
  rate: number;
  /** Seconds before the reflection flood and the port scan start; null = no attack. */
  attackAfterSec: number | null;
  seed: number;
}

/**
 * The demo's own corner of the configuration: flows on a free loopback port (never the real
 * collector's ports, which may be in use) and its data beside, not inside, the real store, so
 * trying the demo leaves a production data directory untouched.
 */
export function demoConfig(config: FlowgateConfig): FlowgateConfig {
  const dir = join(config.general.datadir, 'demo');
  return {
    ...config,
    general: { ...config.general, templatedb: join(dir, 'templates.json') },
    flow: { ...config.flow, listen: ['127.0.0.1:0'], tcplisten: [], allow: [] },
    store: { ...config.store, dir: join(dir, 'flows') },
  };
}

/**
 * `flowgate demo`: the collector (store, API, dashboard) plus built-in NetFlow v9, IPFIX and sFlow
 * exporters sending realistic traffic to it over loopback, with an attack after a while; runs until
 * SIGINT/SIGTERM like `collect`.
 */
export async function runDemo(
  config: FlowgateConfig,
  logger: Logger,
  opts: DemoCommandOptions,
): Promise<void> {
  const demo = demoConfig(config);
  await runCollect(demo, logger, async (collector, api) => {
    const udp = collector.listeners.find((l) => l.transport === 'udp');
    if (udp === undefined) throw new Error('demo: the collector has no UDP listener');
    const exporters = await startDemoExporters({
      target: { host: '127.0.0.1', port: udp.port },
      ratePerSec: opts.rate,
      seed: opts.seed,
      attackAfterSec: opts.attackAfterSec,
    });
    logger.info(
      {
        dashboard: api === null ? null : `http://${api.address}/`,
        flowsPerSec: opts.rate,
        attackAfterSec: opts.attackAfterSec,
        store: demo.store.dir,
      },
      api === null
        ? 'demo running (api.enabled is false: no dashboard)'
        : `demo running: open http://${api.address}/`,
    );
    return () => exporters.stop();
  });
}
