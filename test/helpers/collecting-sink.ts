import type { FlowProtocol } from '../../src/decode/datagram.js';
import type { DecodeErrorKind } from '../../src/decode/errors.js';
import type { DecodeSink, InterfaceCounters } from '../../src/decode/sink.js';
import type { FlowRecord } from '../../src/record/flow-record.js';

/** A DecodeSink that keeps everything, for tests. */
export class CollectingSink implements DecodeSink {
  records: FlowRecord[] = [];
  errors: { exporter: string; kind: DecodeErrorKind; message: string }[] = [];
  datagrams: { exporter: string; protocol: FlowProtocol; bytes: number }[] = [];
  /** Header export time of each datagram, in the order of `datagrams` (kept apart so their shape stays). */
  exportTimesMs: (number | null)[] = [];
  sequences: { exporter: string; stream: string; sequence: number; units: number }[] = [];
  samplingUnknownCount = 0;
  counterSamples: InterfaceCounters[] = [];

  record(rec: FlowRecord): void {
    this.records.push(rec);
  }
  error(exporter: string, kind: DecodeErrorKind, message: string): void {
    this.errors.push({ exporter, kind, message });
  }
  datagram(exporter: string, protocol: FlowProtocol, bytes: number, exportTimeMs: number | null): void {
    this.datagrams.push({ exporter, protocol, bytes });
    this.exportTimesMs.push(exportTimeMs);
  }
  sequence(exporter: string, stream: string, sequence: number, units: number): void {
    this.sequences.push({ exporter, stream, sequence, units });
  }
  samplingUnknown(_exporter: string, records: number): void {
    this.samplingUnknownCount += records;
  }
  counters(sample: InterfaceCounters): void {
    this.counterSamples.push(sample);
  }
  errorKinds(): DecodeErrorKind[] {
    return this.errors.map((e) => e.kind);
  }
}
