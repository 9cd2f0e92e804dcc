/**
 * sFlow v5 decode speed on one core: the akvorado data-1140 datagram (5 flow samples with raw
 * Ethernet/IPv4/IPv6 headers, extended switch/router/gateway) and the overflowd capture (flow +
 * counter samples from an HP switch), decoded in a loop; records are discarded.
 * Run: npx tsx bench/sflow-decode.ts [seconds]
 */
import { join } from 'node:path';
import { readCaptureFile } from '../src/capture/capture-reader.js';
import type { Datagram } from '../src/decode/datagram.js';
import { defaultDecoderSettings } from '../src/decode/settings.js';
import { decodeSflow } from '../src/decode/sflow/sflow.js';
import type { DecodeSink, InterfaceCounters } from '../src/decode/sink.js';
import type { FlowRecord } from '../src/record/flow-record.js';
import { TESTDATA } from '../test/helpers/corpus.js';

class CountingSink implements DecodeSink {
  records = 0;
  counterSamples = 0;
  errors = 0;
  lastPort = 0;
  record(rec: FlowRecord): void {
    this.records++;
    this.lastPort = rec.srcport ?? 0; // keep the record observable so nothing is optimised away
  }
  error(): void {
    this.errors++;
  }
  datagram(): void {}
  sequence(): void {}
  samplingUnknown(): void {}
  counters(_sample: InterfaceCounters): void {
    this.counterSamples++;
  }
}

function load(file: string): Datagram[] {
  return [...readCaptureFile(join(TESTDATA, 'sflow', file))];
}

function run(name: string, datagrams: Datagram[], seconds: number): void {
  const settings = defaultDecoderSettings();
  const sink = new CountingSink();
  // warm-up so the measured loop runs optimised code
  for (let i = 0; i < 20_000; i++) decodeSflow(datagrams[i % datagrams.length], settings, sink);
  sink.records = 0;
  sink.counterSamples = 0;
  let loops = 0;
  const started = process.hrtime.bigint();
  const budget = BigInt(Math.round(seconds * 1e9));
  let elapsed = 0n;
  while (elapsed < budget) {
    for (let i = 0; i < 1000; i++) decodeSflow(datagrams[(loops + i) % datagrams.length], settings, sink);
    loops += 1000;
    elapsed = process.hrtime.bigint() - started;
  }
  const s = Number(elapsed) / 1e9;
  const samples = sink.records + sink.counterSamples;
  console.log(
    `${name}: ${(samples / s / 1000).toFixed(0)}k samples/s (${(sink.records / s / 1000).toFixed(0)}k flow records/s, ` +
      `${(loops / s / 1000).toFixed(0)}k datagrams/s, errors ${sink.errors})`,
  );
}

const seconds = Number(process.argv[2] ?? 3);
run('akvorado data-1140 (5 flow samples/datagram)', load('akvorado_sflow_data-1140.pcap'), seconds);
run('overflowd (1000 datagrams, flow + counter samples)', load('overflowd_sflow.pcap'), seconds);
