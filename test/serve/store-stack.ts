/**
 * A real collector with the real DuckDB store (temp dir) and the API in front of it, fed two NetFlow
 * v5 captures over UDP loopback; and the same datagrams decoded directly, to compute expectations.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Collector, startCollector } from '../../src/collector.js';
import { FlowDecoder } from '../../src/decode/flow-decoder.js';
import { defaultDecoderSettings } from '../../src/decode/settings.js';
import type { FlowRecord } from '../../src/record/flow-record.js';
import { type ApiServer, startApiServer } from '../../src/serve/api-server.js';
import type { Dimension, TopRow } from '../../src/store/contract.js';
import { MemoryOutput, quietLogger, sendUdp, testConfig, waitFor } from '../collector/helpers.js';
import { CollectingSink } from '../helpers/collecting-sink.js';
import { datagramOf } from '../helpers/datagram.js';
import { captureDatagrams, NFV5_CAPTURE } from '../helpers/store-records.js';

/** 4 records, sampling interval 100 in the v5 header: estimates are scaled. */
export const SAMPLED_V5_CAPTURE = 'netflow5/graylog_netflow5.pcap';

/** Covers both captures' flow times (2017 and 2023). */
export const RANGE = { fromMs: Date.UTC(2017, 0, 1), toMs: Date.UTC(2024, 0, 1) };

export interface StoreStack {
  collector: Collector;
  api: ApiServer;
  base: string;
  /** The same datagrams decoded directly, as from 127.0.0.1. */
  expected: FlowRecord[];
  close(): Promise<void>;
}

export async function startStoreStack(token: string | null = null): Promise<StoreStack> {
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-query-'));
  const payloads = [...captureDatagrams(NFV5_CAPTURE), ...captureDatagrams(SAMPLED_V5_CAPTURE)].map(
    (d) => d.payload,
  );
  const decoder = new FlowDecoder(defaultDecoderSettings());
  const collector = await startCollector(
    // Retention off: the captures are years old.
    testConfig({ store: { enabled: true, dir, retentiondays: null } }),
    quietLogger,
    { output: new MemoryOutput(), decoder },
  );
  let api: ApiServer | null = null;
  try {
    await sendUdp('127.0.0.1', collector.listeners[0].port, payloads);
    await waitFor('datagrams decoded', () => collector.stats().decode.datagrams === payloads.length);
    await collector.flush();
    api = await startApiServer({
      listen: '127.0.0.1:0',
      token,
      allowNoToken: false,
      collector,
      templates: () => decoder.templates.exporterStats(),
      store: collector.storeHealth,
      flowStore: collector.store,
      logger: quietLogger,
    });
  } catch (err) {
    await collector.stop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const direct = new FlowDecoder(defaultDecoderSettings());
  const sink = new CollectingSink();
  for (const p of payloads) direct.decode(datagramOf(p, '127.0.0.1'), sink);
  const server = api;
  return {
    collector,
    api: server,
    base: `http://127.0.0.1:${server.port}`,
    expected: sink.records,
    async close() {
      await server.close();
      await collector.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** What the store must answer for top-N, computed from records: estimates × samplerate × weight. */
export function expectedTop(
  records: readonly FlowRecord[],
  dimension: Dimension & keyof FlowRecord,
): TopRow[] {
  const rows = new Map<string | number | null, TopRow>();
  for (const r of records) {
    const key = r[dimension] as string | number | null;
    const row = rows.get(key) ?? { key, bits: 0, packets: 0, flows: 0 };
    const scale = (r.samplerate ?? 1) * r.weight;
    row.bits += (r.bits ?? 0) * scale;
    row.packets += (r.packets ?? 0) * scale;
    row.flows += r.weight;
    rows.set(key, row);
  }
  return [...rows.values()];
}
