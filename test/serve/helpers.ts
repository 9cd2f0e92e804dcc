import { readFileSync } from 'node:fs';
import type pino from 'pino';
import { type Collector, startCollector } from '../../src/collector.js';
import { FlowDecoder } from '../../src/decode/flow-decoder.js';
import { defaultDecoderSettings } from '../../src/decode/settings.js';
import { type ApiServer, type ApiServerOptions, startApiServer } from '../../src/serve/api-server.js';
import { MemoryOutput, quietLogger, sendUdp, testConfig, waitFor } from '../collector/helpers.js';
import { CollectingSink } from '../helpers/collecting-sink.js';
import { corpusPath } from '../helpers/corpus.js';
import { datagramOf } from '../helpers/datagram.js';

/** telegraf_netflow_v5_example_netflow_v5.bin: one datagram, 8 flows, 408 bytes. */
export const V5 = readFileSync(corpusPath('netflow5/telegraf_netflow_v5_example_netflow_v5.bin'));
// PROVENANCE.md replay order "NFv9 Cisco ASA 1": template, then data.
export const ASA_TPL = readFileSync(corpusPath('netflow9/logstash_nf9_cisco_asa_1_tpl.dat'));
export const ASA_DATA = readFileSync(corpusPath('netflow9/logstash_nf9_cisco_asa_1_data.dat'));

/** What the three datagrams decode to from one exporter, decoded directly (the expectation). */
export function expectedCounts(): { records: number; templates: number } {
  const d = new FlowDecoder(defaultDecoderSettings());
  const sink = new CollectingSink();
  for (const p of [V5, ASA_TPL, ASA_DATA]) d.decode(datagramOf(p, '127.0.0.1'), sink);
  const templates = d.templates.exporterStats().reduce((n, e) => n + e.templates, 0);
  return { records: sink.records.length, templates };
}

export interface Stack {
  collector: Collector;
  decoder: FlowDecoder;
  api: ApiServer;
  base: string;
  close(): Promise<void>;
}

/**
 * A real collector on loopback that has received the v5 capture and the ASA template + data
 * from 127.0.0.1, and the API in front of it on an ephemeral loopback port.
 */
export async function startStack(
  api: Partial<ApiServerOptions> = {},
  logger: pino.Logger = quietLogger,
): Promise<Stack> {
  const decoder = new FlowDecoder(defaultDecoderSettings());
  const collector = await startCollector(testConfig({}), quietLogger, {
    output: new MemoryOutput(),
    decoder,
  });
  try {
    await sendUdp('127.0.0.1', collector.listeners[0].port, [V5, ASA_TPL, ASA_DATA]);
    await waitFor('three datagrams decoded', () => collector.stats().decode.datagrams === 3);
    await collector.flush();
    const server = await startApiServer({
      listen: '127.0.0.1:0',
      token: null,
      allowNoToken: false,
      collector,
      templates: () => decoder.templates.exporterStats(),
      logger,
      ...api,
    });
    return {
      collector,
      decoder,
      api: server,
      base: `http://127.0.0.1:${server.port}`,
      close: async () => {
        await server.close();
        await collector.stop();
      },
    };
  } catch (err) {
    await collector.stop();
    throw err;
  }
}

/** Prometheus text exposition as "name{labels}" -> value (comments skipped, format checked). */
export function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)(?: \d+)?$/.exec(line);
    if (m === null) throw new Error(`not a Prometheus sample line: ${line}`);
    samples.set(m[1], Number(m[2]));
  }
  return samples;
}
