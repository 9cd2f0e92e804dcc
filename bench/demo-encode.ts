/**
 * Demo encoder speed on one core: flows from the demo traffic model (generated once) encoded in a
 * loop per protocol; datagrams are discarded. Shows the demo's sender is nowhere near a bottleneck
 * and what the encoders give when used to load-test the collector.
 * Run: npx tsx bench/demo-encode.ts [seconds]
 */
import { IpfixEncoder } from '../src/demo/encode/ipfix-encoder.js';
import { Netflow9Encoder } from '../src/demo/encode/netflow9-encoder.js';
import { SflowEncoder } from '../src/demo/encode/sflow-encoder.js';
import type { SyntheticFlow } from '../src/demo/synthetic-flow.js';
import { TrafficModel } from '../src/demo/traffic-model.js';

const seconds = Number(process.argv[2] ?? 3);
const now = Date.now();
const model = new TrafficModel({ seed: 1, startMs: now - 60_000, attackAfterSec: 30 });
const flowsOf = (i: number): SyntheticFlow[] => model.flows(model.exporters[i], 5000, now);

function run(name: string, flows: SyntheticFlow[], encode: (f: SyntheticFlow[]) => Buffer[]): void {
  let datagrams = 0;
  let bytes = 0;
  let rounds = 0;
  const start = process.hrtime.bigint();
  const limit = BigInt(Math.round(seconds * 1e9));
  while (process.hrtime.bigint() - start < limit) {
    for (const d of encode(flows)) {
      datagrams++;
      bytes += d.length;
    }
    rounds++;
  }
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(
    `${name.padEnd(9)} ${Math.round(datagrams / secs).toLocaleString('en')} datagrams/s, ` +
      `${Math.round((rounds * flows.length) / secs).toLocaleString('en')} records/s, ` +
      `${(bytes / datagrams).toFixed(0)} bytes/datagram`,
  );
}

const v9 = new Netflow9Encoder({ sourceId: 0, samplingInterval: 100, bootMs: now - 86_400_000 });
run('netflow9', flowsOf(0), (f) => v9.encode(f, now));
const ipfix = new IpfixEncoder({ observationDomainId: 1, samplingInterval: 1 });
run('ipfix', flowsOf(1), (f) => ipfix.encode(f, now));
const sflow = new SflowEncoder({
  agentAddress: '127.0.0.4',
  subAgentId: 0,
  samplingRate: 2048,
  bootMs: now - 1000,
});
run('sflow', flowsOf(2), (f) => sflow.encode(f, [], now));
