/**
 * SNMP through the live collector: a private snmpd on loopback, records from exporter 127.0.0.1
 * with ifIndex 1 get the agent's ifName for it ("lo") once the background poll answered; the poll
 * is in /stats. The first records never wait for the poll.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startCollector } from '../../src/collector.js';
import { Netflow9Encoder } from '../../src/demo/encode/netflow9-encoder.js';
import type { SyntheticFlow } from '../../src/demo/synthetic-flow.js';
import { type RunningSnmpd, snmpdAvailable, startSnmpd } from '../helpers/snmpd.js';
import { MemoryOutput, quietLogger, sendUdp, testConfig, waitFor } from './helpers.js';

function flow(input: number, output: number): SyntheticFlow {
  const now = Date.now();
  return {
    ipVersion: 4,
    srcAddr: '10.0.0.1',
    dstAddr: '10.0.0.2',
    srcPort: 1234,
    dstPort: 80,
    protocol: 6,
    tcpFlags: 0x18,
    tos: 0,
    bytes: 1000,
    packets: 2,
    startMs: now - 2000,
    endMs: now - 1000,
    input,
    output,
    srcMask: 24,
    dstMask: 24,
    nextHop: '10.0.0.254',
    vlan: 0,
  };
}

test('interface names polled over SNMP v2c reach the records of that exporter', async (t) => {
  if (!snmpdAvailable()) return t.skip('snmpd not installed (scripts/install-test-deps.sh installs it)');
  let agent: RunningSnmpd | null = await startSnmpd();
  const output = new MemoryOutput();
  const config = testConfig({});
  config.snmp = {
    ...config.snmp,
    enabled: true,
    community: agent.community,
    port: agent.port,
    timeout: 1000,
  };
  const c = await startCollector(config, quietLogger, { output });
  try {
    const encoder = new Netflow9Encoder({ sourceId: 1, samplingInterval: 1, bootMs: Date.now() - 60_000 });
    const send = async (n: number) => {
      await sendUdp('127.0.0.1', c.listeners[0].port, encoder.encode([flow(1, 999)], Date.now()));
      await waitFor(`record ${n}`, () => c.stats().exporters[0]?.records === n);
      await c.flush();
    };
    await send(1);
    await waitFor('the poll', () => (c.stats().enrich.snmp?.exporters[0]?.polls ?? 0) >= 1, 5000);
    const status = c.stats().enrich.snmp?.exporters[0];
    assert.equal(status?.address, '127.0.0.1');
    assert.equal(status?.lastError, null);
    // The first record was not held back for the poll; an unknown interface is asked again after 2 s.
    await new Promise((resolve) => setTimeout(resolve, 2100));
    await send(2);
    const r = output.records[1];
    assert.equal(r?.inputname, 'lo');
    assert.equal(r?.outputname, null, 'ifIndex 999 does not exist on the agent');
  } finally {
    await c.stop();
    await agent?.stop();
    agent = null;
  }
});
