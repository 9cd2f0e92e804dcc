/**
 * Records of a real capture decoded directly (no collector), and a fault-injecting wrapper around a
 * real store: what the store-output and query-route tests compare against.
 */
import { readCaptureFile } from '../../src/capture/capture-reader.js';
import type { Datagram } from '../../src/decode/datagram.js';
import { detectProtocol, FlowDecoder } from '../../src/decode/flow-decoder.js';
import { defaultDecoderSettings } from '../../src/decode/settings.js';
import type { FlowRecord } from '../../src/record/flow-record.js';
import type { FlowRecordJson } from '../../src/record/json.js';
import type {
  ExporterSummary,
  FlowStore,
  FlowsQuery,
  RetentionPolicy,
  StoreHealth,
  TimeRange,
  TimeseriesPoint,
  TimeseriesQuery,
  TopQuery,
  TopRow,
} from '../../src/store/contract.js';
import { CollectingSink } from './collecting-sink.js';
import { corpusPath } from './corpus.js';

/** 1 NetFlow v5 datagram, 29 records of April 2023 (exporter 10.19.144.41, no sampling). */
export const NFV5_CAPTURE = 'netflow5/akvorado_netflow_nfv5.pcap';

export function captureDatagrams(relative: string): Datagram[] {
  return [...readCaptureFile(corpusPath(relative))].filter((d) => detectProtocol(d.payload) !== null);
}

export function decodeCapture(relative: string): FlowRecord[] {
  const decoder = new FlowDecoder(defaultDecoderSettings());
  const sink = new CollectingSink();
  for (const d of captureDatagrams(relative)) decoder.decode(d, sink);
  return sink.records;
}

/**
 * A real store whose next `failures` writes reject before reaching it (a disk full, a lock held):
 * fault injection around the real thing. `gate`, when set, holds every write until released.
 */
export class FaultyStore implements FlowStore {
  readonly name: string;
  failures = 0;
  failed = 0;
  /** Sizes of the writes that reached the store. */
  writes: number[] = [];
  private gate: Promise<void> | null = null;
  private release: (() => void) | null = null;

  constructor(private readonly inner: FlowStore) {
    this.name = inner.name;
  }

  hold(): void {
    this.gate = new Promise((resolve) => {
      this.release = resolve;
    });
  }

  unhold(): void {
    this.release?.();
    this.gate = null;
  }

  open(): Promise<void> {
    return this.inner.open();
  }
  async write(batch: readonly FlowRecord[]): Promise<void> {
    if (this.gate !== null) await this.gate;
    if (this.failures > 0) {
      this.failures--;
      this.failed++;
      throw new Error('injected: disk full');
    }
    await this.inner.write(batch);
    this.writes.push(batch.length);
  }
  flows(q: FlowsQuery): Promise<FlowRecordJson[]> {
    return this.inner.flows(q);
  }
  top(q: TopQuery): Promise<TopRow[]> {
    return this.inner.top(q);
  }
  timeseries(q: TimeseriesQuery): Promise<TimeseriesPoint[]> {
    return this.inner.timeseries(q);
  }
  exporters(range: TimeRange): Promise<ExporterSummary[]> {
    return this.inner.exporters(range);
  }
  applyRetention(policy: RetentionPolicy, nowMs: number): Promise<number> {
    return this.inner.applyRetention(policy, nowMs);
  }
  health(): StoreHealth {
    return this.inner.health();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
