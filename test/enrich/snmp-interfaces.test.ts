/**
 * SnmpInterfaces against a real Net-SNMP agent (Debian's snmpd) on loopback: the names, aliases and
 * speeds it reports must be exactly what Net-SNMP's own snmpwalk reads from the same agent.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SnmpInterfaces } from '../../src/enrich/snmp-interfaces.js';
import {
  freeUdpPort,
  IFTABLE_ONLY_COMMUNITY,
  type RunningSnmpd,
  snmpdAvailable,
  snmpwalkAvailable,
  snmpwalkColumn,
  startSnmpd,
} from '../helpers/snmpd.js';

const IF_DESCR = '1.3.6.1.2.1.2.2.1.2';
const IF_NAME = '1.3.6.1.2.1.31.1.1.1.1';
const IF_ALIAS = '1.3.6.1.2.1.31.1.1.1.18';
const IF_HIGH_SPEED = '1.3.6.1.2.1.31.1.1.1.15';

const V3_USER = {
  name: 'flowgate',
  authProtocol: 'SHA',
  authKey: 'flowgate-auth-key',
  privProtocol: 'AES',
  privKey: 'flowgate-priv-key',
} as const;

const skip = snmpdAvailable() ? false : '/usr/sbin/snmpd is missing (apt-get install snmpd)';

describe('SNMP interface names from a real snmpd', { skip }, () => {
  let agent: RunningSnmpd;
  const open: SnmpInterfaces[] = [];
  const poller = (opts: Partial<ConstructorParameters<typeof SnmpInterfaces>[0]> = {}) => {
    const p = new SnmpInterfaces({
      version: '2c',
      community: agent.community,
      port: agent.port,
      timeoutMs: 2000,
      retries: 1,
      ...opts,
    });
    open.push(p);
    return p;
  };

  before(async () => {
    agent = await startSnmpd({ v3User: V3_USER });
  });
  after(async () => {
    for (const p of open) p.close();
    await agent?.stop();
  });

  /** The agent's table as snmpwalk reads it, in the poller's units. */
  function expectedTable() {
    const names = snmpwalkColumn(agent.port, agent.community, IF_NAME);
    const aliases = snmpwalkColumn(agent.port, agent.community, IF_ALIAS);
    const speeds = snmpwalkColumn(agent.port, agent.community, IF_HIGH_SPEED);
    const table = new Map<number, { name: string | null; alias: string | null; speedBps: number | null }>();
    for (const [index, name] of names) {
      const alias = aliases.get(index);
      const mbps = speeds.get(index);
      table.set(index, {
        name: String(name),
        alias: alias === undefined || alias === '' ? null : String(alias),
        speedBps: typeof mbps === 'number' && mbps > 0 ? mbps * 1_000_000 : null,
      });
    }
    return table;
  }

  it('v2c: polls 127.0.0.1 and answers exactly what snmpwalk reads (ifName, ifAlias, ifHighSpeed)', async () => {
    const snmp = poller();
    await snmp.poll('127.0.0.1');
    const [status] = snmp.status().exporters;
    assert.equal(status.lastError, null, agent.log());
    assert.equal(status.polls, 1);
    assert.equal(status.failures, 0);
    assert.equal(typeof status.lastPollMs, 'number');

    // ifIndex 1 is the loopback on Linux; net-snmp reports it at 10 Mb/s.
    assert.deepEqual(snmp.lookup('127.0.0.1', 1), { name: 'lo', alias: null, speedBps: 10_000_000 });
    assert.equal(snmp.lookup('127.0.0.1', 999_999), null, 'an ifIndex the agent does not have');

    if (!snmpwalkAvailable()) return;
    const expected = expectedTable();
    assert.ok(expected.size >= 1);
    assert.equal(status.interfaces, expected.size);
    for (const [index, want] of expected) {
      assert.deepEqual(snmp.lookup('127.0.0.1', index), want, `ifIndex ${index}`);
    }
  });

  it('an agent without ifXTable: names come from ifDescr, alias and speed stay null', async () => {
    const snmp = poller({ community: IFTABLE_ONLY_COMMUNITY });
    await snmp.poll('127.0.0.1');
    const [status] = snmp.status().exporters;
    assert.equal(status.lastError, null, agent.log());
    assert.deepEqual(snmp.lookup('127.0.0.1', 1), { name: 'lo', alias: null, speedBps: null });
    if (!snmpwalkAvailable()) return;
    const descr = snmpwalkColumn(agent.port, agent.community, IF_DESCR);
    assert.equal(status.interfaces, descr.size);
    for (const [index, name] of descr) {
      assert.equal(snmp.lookup('127.0.0.1', index)?.name, String(name), `ifIndex ${index}`);
    }
  });

  it('lookup before any poll answers null, starts one poll, and answers after it', async () => {
    const snmp = poller();
    assert.equal(snmp.lookup('127.0.0.1', 1), null);
    assert.equal(snmp.lookup('127.0.0.1', 1), null, 'still polling');
    // The poll lookup started is in flight: poll() joins it rather than starting a second.
    await snmp.poll('127.0.0.1');
    assert.equal(snmp.status().exporters[0].polls, 1);
    assert.equal(snmp.lookup('127.0.0.1', 1)?.name, 'lo');
  });

  it('a wrong community is reported in status, lookup stays null, nothing throws', async () => {
    const snmp = poller({ community: 'not-the-community', timeoutMs: 300, retries: 0 });
    assert.equal(snmp.lookup('127.0.0.1', 1), null);
    await snmp.poll('127.0.0.1');
    const [status] = snmp.status().exporters;
    // snmpd silently drops requests with an unknown community, so the manager sees a timeout.
    assert.match(status.lastError ?? '', /SNMPv2c poll of 127\.0\.0\.1 .*timed out/i);
    assert.equal(status.failures, 1);
    assert.equal(status.interfaces, 0);
    assert.equal(snmp.lookup('127.0.0.1', 1), null);
  });

  it('an agent that does not answer times out after timeoutMs × (retries + 1) and is reported', async () => {
    const closedPort = await freeUdpPort();
    const snmp = poller({ port: closedPort, timeoutMs: 400, retries: 1 });
    const t0 = Date.now();
    await snmp.poll('127.0.0.1');
    const elapsed = Date.now() - t0;
    const [status] = snmp.status().exporters;
    assert.match(status.lastError ?? '', new RegExp(`port ${closedPort} failed: Request timed out`));
    assert.equal(status.failures, 1);
    // It really waited for the retry, and gave up rather than hanging (generous upper bound).
    assert.ok(elapsed >= 750, `gave up after ${elapsed} ms, before the retry`);
    assert.ok(elapsed < 800 + 5000, `still waiting after ${elapsed} ms`);
  });

  it('a failed refresh keeps the answers of the last good poll', async () => {
    const own = await startSnmpd();
    try {
      const snmp = poller({ port: own.port, timeoutMs: 300, retries: 0 });
      await snmp.poll('127.0.0.1');
      assert.equal(snmp.lookup('127.0.0.1', 1)?.name, 'lo', own.log());
      await own.stop();
      await snmp.poll('127.0.0.1');
      const [status] = snmp.status().exporters;
      assert.equal(status.polls, 2);
      assert.equal(status.failures, 1);
      assert.match(status.lastError ?? '', /timed out/);
      assert.equal(snmp.lookup('127.0.0.1', 1)?.name, 'lo');
    } finally {
      await own.stop();
    }
  });

  it('IPv6 exporters are polled over udp6; IPv4-mapped addresses over udp4', async () => {
    // The agent listens on 127.0.0.1 only, so ::1 gets a timeout (not a socket or address error).
    const v6 = poller({ port: await freeUdpPort(), timeoutMs: 300, retries: 0 });
    await v6.poll('::1');
    assert.match(v6.status().exporters[0].lastError ?? '', /poll of ::1 .*Request timed out/);

    const mapped = poller();
    await mapped.poll('::ffff:127.0.0.1');
    assert.equal(mapped.status().exporters[0].lastError, null);
    assert.equal(mapped.lookup('::ffff:127.0.0.1', 1)?.name, 'lo');
  });

  it('start() refreshes known exporters every intervalSec; close() stops it', async () => {
    const snmp = poller({ intervalSec: 0.1 });
    snmp.start();
    snmp.lookup('127.0.0.1', 1);
    const deadline = Date.now() + 10_000;
    while (snmp.status().exporters[0].polls < 3 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(snmp.status().exporters[0].polls >= 3, 'refreshed at least twice');
    assert.equal(snmp.status().exporters[0].failures, 0);
    snmp.close();
    await new Promise((r) => setTimeout(r, 300));
    const polls = snmp.status().exporters[0].polls;
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(snmp.status().exporters[0].polls, polls, 'no polls after close()');
  });

  it('exporters beyond maxExporters are not polled', async () => {
    const snmp = poller({ maxExporters: 1 });
    assert.equal(snmp.lookup('127.0.0.1', 1), null);
    assert.equal(snmp.lookup('127.0.0.2', 1), null);
    await snmp.poll('127.0.0.2');
    await snmp.poll('127.0.0.1');
    assert.deepEqual(
      snmp.status().exporters.map((e) => e.address),
      ['127.0.0.1'],
    );
  });

  it('SNMPv3 authPriv (SHA/AES) reads the same names as v2c', async () => {
    const user = {
      name: V3_USER.name,
      authProtocol: 'sha' as const,
      authKey: V3_USER.authKey,
      privProtocol: 'aes' as const,
      privKey: V3_USER.privKey,
    };
    const v3 = poller({ version: '3', community: '', user });
    await v3.poll('127.0.0.1');
    const [status] = v3.status().exporters;
    assert.equal(status.lastError, null, agent.log());
    const v2 = poller();
    await v2.poll('127.0.0.1');
    assert.equal(status.interfaces, v2.status().exporters[0].interfaces);
    for (let index = 1; index <= status.interfaces; index++) {
      assert.deepEqual(v3.lookup('127.0.0.1', index), v2.lookup('127.0.0.1', index), `ifIndex ${index}`);
    }
    assert.equal(v3.lookup('127.0.0.1', 1)?.name, 'lo');

    const wrongKey = poller({
      version: '3',
      community: '',
      user: { ...user, authKey: 'wrong-auth-key' },
      timeoutMs: 500,
    });
    await wrongKey.poll('127.0.0.1');
    const [failed] = wrongKey.status().exporters;
    assert.equal(failed.failures, 1);
    assert.match(failed.lastError ?? '', /SNMPv3 poll of 127\.0\.0\.1 .*Wrong Digest/);
    assert.equal(wrongKey.lookup('127.0.0.1', 1), null);
  });
});
