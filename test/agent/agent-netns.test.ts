/**
 * The host agent end to end on real traffic: namespace A (server) and B (client) joined by a veth
 * pair; the agent meters A's connections through conntrack (`ip netns exec A conntrack …`) and
 * exports IPFIX over loopback to an in-process collector. Traffic of known size: a curl of a file
 * of N bytes served by A, then an iperf3 run of 20 MB from B to A.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Agent, startAgent } from '../../src/agent/agent.js';
import { conntrackAvailable } from '../../src/agent/conntrack-source.js';
import { type Collector, startCollector } from '../../src/collector.js';
import type { FlowRecord } from '../../src/record/flow-record.js';
import { MemoryOutput, quietLogger, testConfig } from '../collector/helpers.js';
import { createNetnsPair, type NetnsPair, netnsUnavailable } from '../helpers/netns-pair.js';

const FILE_BYTES = 5 * 1024 * 1024;
const IPERF_BYTES = 20 * 1024 * 1024;
const HTTP_PORT = 8080;
const IPERF_PORT = 5201;
/** IPv4 + TCP headers with timestamps: what each packet adds to the payload in conntrack's bytes. */
const HEADER_BYTES = 52;
/** IPFIX flowEndReason (RFC 7011 / IANA 136): 3 = end of flow detected (FIN/RST). */
const END_OF_FLOW = 3;

function skipReason(): string | null {
  const ns = netnsUnavailable();
  if (ns !== null) return ns;
  for (const tool of ['curl', 'iperf3', 'python3', 'conntrack', 'nft']) {
    const r = spawnSync('sh', ['-c', `command -v ${tool}`]);
    if (r.status !== 0) return `${tool} is not installed`;
  }
  return null;
}

const skip = skipReason();

let pair: NetnsPair | null = null;
let dir = '';
const children: ChildProcess[] = [];
let collector: Collector | null = null;
let agent: Agent | null = null;
const output = new MemoryOutput();
const agentWarnings: string[] = [];

function inNs(ns: string, argv: string[]): ChildProcess {
  const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: 'ignore' });
  children.push(child);
  return child;
}

function runInNs(ns: string, argv: string[]): string {
  const r = spawnSync('ip', ['netns', 'exec', ns, ...argv], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} in ${ns}: ${r.stderr || r.error?.message}`);
  return r.stdout;
}

async function waitFor<T>(what: string, probe: () => T | null | undefined, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== null && v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function records(): FlowRecord[] {
  return output.records.filter((r) => r.flowtype === 'netflow');
}

function sum(rs: readonly FlowRecord[], field: 'bits' | 'packets'): number {
  return rs.reduce((n, r) => n + (r[field] ?? 0), 0);
}

/** Records of one direction of one TCP connection (a long flow may report in several records). */
function direction(
  srcip: string,
  srcport: number | null,
  dstip: string,
  dstport: number | null,
): FlowRecord[] {
  return records().filter(
    (r) =>
      r.srcip === srcip &&
      r.dstip === dstip &&
      (srcport === null || r.srcport === srcport) &&
      (dstport === null || r.dstport === dstport) &&
      r.protocolint === 6,
  );
}

before(async () => {
  if (skip !== null) return;
  const p = createNetnsPair();
  pair = p;
  dir = mkdtempSync(join(tmpdir(), 'flowgate-agent-netns-'));
  writeFileSync(join(dir, 'file.bin'), Buffer.alloc(FILE_BYTES, 7));
  const why = await conntrackAvailable(p.a);
  if (why !== null) throw new Error(why);

  collector = await startCollector(
    testConfig({ decode: { extrafields: [{ name: 'endreason', id: 136, enterprise: 0, type: null }] } }),
    quietLogger,
    { output },
  );
  const udp = collector.listeners.find((l) => l.transport === 'udp');
  assert.ok(udp, 'the collector listens on UDP');
  const logger = quietLogger.child({});
  logger.warn = ((obj: { err?: string }) => {
    agentWarnings.push(String(obj?.err));
  }) as typeof logger.warn;
  agent = await startAgent(
    {
      collector: { host: '127.0.0.1', port: udp.port, transport: 'udp' },
      source: 'conntrack',
      device: 'any',
      activeTimeoutMs: 60_000,
      inactiveTimeoutMs: 3000,
      maxFlows: 65_536,
      observationDomainId: 7,
      templateRefreshMs: 60_000,
      templateRefreshPackets: 1000,
      dumpIntervalMs: 1000,
      netns: p.a,
      // The agent's own nftables table makes the namespace track connections (it has no firewall).
      enableTracking: true,
    },
    logger,
  );
  inNs(p.a, ['python3', '-m', 'http.server', String(HTTP_PORT), '--bind', p.addressA, '--directory', dir]);
  inNs(p.a, ['iperf3', '-s', '-B', p.addressA, '-p', String(IPERF_PORT)]);
  // Both servers listening before any client connects.
  await waitFor('the servers to listen', () => {
    const ss = runInNs(p.a, ['ss', '-ltn']);
    return ss.includes(`:${HTTP_PORT}`) && ss.includes(`:${IPERF_PORT}`) ? true : null;
  });
});

after(async () => {
  await agent?.stop();
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await collector?.stop();
  pair?.cleanup();
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

test('curl of a 5 MiB file and iperf3 of 20 MiB: the agent exports both directions with their bytes', {
  skip: skip ?? false,
  timeout: 60_000,
}, async () => {
  const p = pair as NetnsPair;
  const a = agent as Agent;
  const c = collector as Collector;
  assert.equal(a.source, 'conntrack');

  const curl = runInNs(p.b, [
    'curl',
    '-sS',
    '-o',
    '/dev/null',
    '-w',
    '%{size_download} %{local_port}',
    `http://${p.addressA}:${HTTP_PORT}/file.bin`,
  ]);
  const [downloaded, localPort] = curl.trim().split(' ').map(Number);
  assert.equal(downloaded, FILE_BYTES, 'curl downloaded the whole file');

  // iperf3 counts what the client wrote; the server ends the test with a reset, so what reached
  // A (what conntrack can count) is the server's received figure.
  const iperf = JSON.parse(
    runInNs(p.b, ['iperf3', '-c', p.addressA, '-p', String(IPERF_PORT), '-n', String(IPERF_BYTES), '-J']),
  ) as { end: { sum_received: { bytes: number }; sum_sent: { bytes: number } } };
  const received = iperf.end.sum_received.bytes;
  const sent = iperf.end.sum_sent.bytes;
  assert.ok(received > 0 && sent >= IPERF_BYTES, `iperf3 moved data: sent ${sent}, received ${received}`);

  // The curl connection ends (TIME_WAIT): the agent exports it at once with reason "end".
  await waitFor(
    'the curl flow in both directions',
    () => {
      void c.flush();
      const down = direction(p.addressA, HTTP_PORT, p.addressB, localPort);
      const up = direction(p.addressB, localPort, p.addressA, HTTP_PORT);
      return down.some((r) => r.extra?.endreason === END_OF_FLOW) && up.length > 0 ? true : null;
    },
    20_000,
  );
  // The iperf3 data connection: 20 MiB from B to A on a connection other than the control one.
  await waitFor(
    'the iperf3 data flow',
    () => {
      void c.flush();
      const toServer = direction(p.addressB, null, p.addressA, IPERF_PORT);
      return sum(toServer, 'bits') / 8 >= received ? true : null;
    },
    20_000,
  ).catch((err: Error) => {
    const seen = records().map(
      (r) => `${r.srcip}:${r.srcport}>${r.dstip}:${r.dstport} ${(r.bits ?? 0) / 8}B ${r.packets}p`,
    );
    throw new Error(`${err.message}; records: ${seen.join(', ')}; agent ${JSON.stringify(a.stats())}`);
  });
  await a.stop();
  await c.flush();

  const down = direction(p.addressA, HTTP_PORT, p.addressB, localPort);
  const up = direction(p.addressB, localPort, p.addressA, HTTP_PORT);
  const downBytes = sum(down, 'bits') / 8;
  const downPackets = sum(down, 'packets');
  // Server to client: the file, the HTTP response headers (< 1 KiB) and the IP/TCP headers of
  // every packet; allowed up to 5 % over the file.
  assert.ok(downBytes >= FILE_BYTES, `server→client ${downBytes} bytes < file ${FILE_BYTES}`);
  assert.ok(
    downBytes <= FILE_BYTES * 1.05 + 1024,
    `server→client ${downBytes} bytes, more than 5 % over ${FILE_BYTES}`,
  );
  // Packets: at most one per 536-byte segment, at least one per 64 KiB (GSO/TSO on veth counts
  // each super-packet once, so the MSS is only the upper bound).
  assert.ok(
    downPackets >= FILE_BYTES / 65_536,
    `server→client ${downPackets} packets: too few for ${FILE_BYTES} bytes`,
  );
  assert.ok(downPackets <= FILE_BYTES / 536 + 10, `server→client ${downPackets} packets: too many`);
  assert.ok(downBytes - FILE_BYTES >= downPackets * HEADER_BYTES * 0.5, 'bytes include the packets headers');
  // Client to server: the request and the ACKs, far smaller than the file.
  const upBytes = sum(up, 'bits') / 8;
  assert.ok(upBytes > 0 && upBytes < FILE_BYTES / 10, `client→server ${upBytes} bytes`);
  for (const r of [...down, ...up]) {
    assert.equal(r.flowtype, 'netflow');
    assert.equal(r.protocolint, 6);
    assert.equal(r.ipversion, 4);
  }
  assert.ok(
    down.some((r) => r.extra?.endreason === END_OF_FLOW),
    `the curl flow ends with flowEndReason 3 (end of flow): ${JSON.stringify(down.map((r) => r.extra))}`,
  );

  const toServer = direction(p.addressB, null, p.addressA, IPERF_PORT);
  const iperfBytes = sum(toServer, 'bits') / 8;
  // At least what the server received (payload), at most what the client sent plus 5 % of headers.
  assert.ok(iperfBytes >= received, `iperf3 client→server ${iperfBytes} bytes < received ${received}`);
  assert.ok(
    iperfBytes <= sent * 1.05 + 64 * 1024,
    `iperf3 client→server ${iperfBytes} bytes, over sent ${sent} + 5 %`,
  );

  // The export traffic itself ran in the root namespace, and nothing of 127.0.0.1 was metered in A.
  assert.equal(records().filter((r) => r.srcip === '127.0.0.1' || r.dstip === '127.0.0.1').length, 0);
  assert.deepEqual(agentWarnings, [], 'no source warnings');
  const stats = a.stats();
  assert.equal(stats.exporter.sendErrors, 0);
});
