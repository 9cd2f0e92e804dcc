/**
 * Every input the parser fuzzing (test/fuzz/parsers.fuzz.test.ts, bench/fuzz-long.ts) found to
 * crash, hang or yield ill-typed values, minimised and kept here with the behaviour now expected.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseConntrackLine } from '../../src/agent/conntrack-events.js';
import { newCaptureStats, readCaptureFile } from '../../src/capture/capture-reader.js';
import { parseFlowLog } from '../../src/cloud/parse-flow-log.js';
import { ConfigError } from '../../src/config/errors.js';
import { loadConfig } from '../../src/config/load.js';

const dir = mkdtempSync(join(tmpdir(), 'fuzz-regressions-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function load(yaml: string): unknown {
  const file = join(dir, 'flowgate.yaml');
  writeFileSync(file, yaml);
  return loadConfig({ file, env: {}, defaultFile: join(dir, 'absent.yaml') });
}

describe('config loader', () => {
  it('a YAML alias bomb ("billion laughs") is a ConfigError naming the file, not a ReferenceError', () => {
    // Before: the yaml library's maxAliasCount guard threw a bare ReferenceError out of loadConfig.
    const bomb = [
      'a: &a ["x","x","x","x","x","x","x","x","x"]',
      'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
      'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
      'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
      'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
      'f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]',
      'g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]',
    ].join('\n');
    const t0 = performance.now();
    assert.throws(
      () => load(bomb),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.problems.length === 1 &&
        /flowgate\.yaml:1: YAML aliases: Excessive alias count/.test(e.problems[0] ?? ''),
    );
    // Refused before expansion: 9^7 strings would take seconds and hundreds of MB.
    assert.ok(performance.now() - t0 < 5000);
  });

  it('a few aliases (well under the limit) still load', () => {
    assert.throws(
      () => load('x: &n 1\nflow: {udpbuffer: *n, nosuchkey: *n}\n'),
      (e: unknown) =>
        e instanceof ConfigError && e.problems.some((p) => p.includes('flow.nosuchkey: unknown key')),
    );
  });

  it('100,000 nested flow sequences are a ConfigError, not a stack overflow', () => {
    assert.throws(
      () => load(`flow: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`),
      (e: unknown) => e instanceof ConfigError && /YAML syntax/.test(e.message),
    );
  });
});

describe('capture reader', () => {
  it('a pcapng timestamp past what a Date holds counts the packet bad (was: receivedAtMs 4.6e21)', () => {
    // SHB; IDB (raw IP) with if_tsresol 0 (one unit per second); an unknown block; an EPB at
    // 2^62 seconds holding a UDP datagram. `flowgate decode` printed "timestamp":4611686018427388000
    // and any output formatting the time as a Date would throw on it.
    const hex =
      '0a0d0d0a1c0000004d3c2b1a01000000ffffffffffffffff1c000000' +
      '0100000020000000650000000000040009000100000000000000000020000000' +
      'ad0b004014000000736b6970206d650014000000' +
      '0600000040000000000000000000004000000000' +
      '1e0000001e0000004500001e0001000040110000c0000201c000020213880807000a00006869000040000000';
    const file = join(dir, 'far-future.pcapng');
    writeFileSync(file, Buffer.from(hex, 'hex'));
    const stats = newCaptureStats();
    assert.deepEqual([...readCaptureFile(file, stats)], []);
    assert.equal(stats.packets, 1);
    assert.equal(stats.bad, 1);
    // The same block with timestamp 1.7e9 seconds is read.
    const ok = Buffer.from(hex, 'hex');
    ok.writeUInt32LE(0, 92);
    ok.writeUInt32LE(1_700_000_000, 96);
    writeFileSync(file, ok);
    const got = [...readCaptureFile(file)];
    assert.equal(got.length, 1);
    assert.equal(got[0]?.receivedAtMs, 1_700_000_000_000);
    assert.equal(got[0]?.payload.toString(), 'hi');
  });
});

describe('cloud flow logs', () => {
  // node:net's isIP() accepts an IPv6 zone that ipaddr.js's parser throws on.
  const ZONED = '2001:db8::3%4cf:4071';

  it('AWS: an IPv6 address with a zone is a located error, not a thrown ipaddr Error', () => {
    // Found by fuzzing beats_ipv6.log: one inserted `%`.
    const line = `2 123456789010 eni-1235b8ca123456789 2001:db8::1 ${ZONED} 34892 22 6 54 8855 1477913708 1477913820 ACCEPT OK`;
    const r = parseFlowLog('aws', line);
    assert.equal(r.records.length, 0);
    assert.deepEqual(r.errors, [
      { line: 1, reason: `field dstaddr (column 5) is '${ZONED}': not an IP address` },
    ]);
  });

  it('GCP: the same address in connection.dest_ip skips the entry with a located error', () => {
    const entry = {
      jsonPayload: {
        connection: { src_ip: '10.0.0.1', dest_ip: ZONED, src_port: 1, dest_port: 2, protocol: 6 },
        bytes_sent: '10',
        packets_sent: '1',
        start_time: '2019-06-14T03:45:37.186193305Z',
        end_time: '2019-06-14T03:45:37.301953198Z',
        reporter: 'SRC',
      },
    };
    const r = parseFlowLog('gcp', JSON.stringify(entry));
    assert.equal(r.records.length, 0);
    assert.equal(r.errors.length, 1);
    assert.match(r.errors[0]?.reason ?? '', /dest_ip is not an IP address/);
  });

  const vnet = (version: string, src: string) =>
    `{"records":[{"time":"2022-09-14T09:00:52.5625085Z","flowLogVersion":${version},"category":"FlowLogFlowEvent","flowRecords":{"flows":[{"aclID":"x","flowGroups":[{"rule":"r","flowTuples":["1663146003599,${src},52.239.184.180,23956,443,6,O,B,NX,0,0,0,0"]}]}]}}]}`;

  it('Azure: a zoned address skips the tuple with a located error', () => {
    const r = parseFlowLog('azure', vnet('4', ZONED));
    assert.equal(r.records.length, 0);
    assert.match(r.errors[0]?.reason ?? '', /is not IPv4 or IPv6: tuple skipped/);
    assert.equal(parseFlowLog('azure', vnet('4', '10.0.0.6')).records[0]?.srcip, '10.0.0.6');
  });

  it('Azure: flowLogVersion 1e309 (Infinity once parsed) gives version 0, not Infinity', () => {
    const r = parseFlowLog('azure', vnet('1e309', '10.0.0.6'));
    assert.equal(r.records.length, 1);
    assert.equal(r.records[0]?.flowversion, 0);
    assert.equal(parseFlowLog('azure', vnet('4', '10.0.0.6')).records[0]?.flowversion, 4);
  });
});

describe('conntrack line parser', () => {
  const DESTROY = (replyPackets: string) =>
    `[1795497734.922457]\t[DESTROY] ipv4     2 tcp      6 106 TIME_WAIT src=127.0.0.1 dst=127.0.0.1 sport=58660 dport=8099 packets=6 bytes=398 src=127.0.0.1 dst=127.0.0.1 sport=8099 dport=58660 packets=${replyPackets} bytes=1511 [ASSURED] id=3237647340`;

  it('a counter that is no number rejects the line (was: packets NaN)', () => {
    // Found by fuzzing: `packets=\u0000` gave replyCounters.packets NaN, which the flow cache adds up.
    assert.equal(parseConntrackLine(DESTROY('\u0000')), null);
    assert.equal(parseConntrackLine(DESTROY('')), null);
    assert.equal(parseConntrackLine(DESTROY('0x10')), null);
    assert.equal(parseConntrackLine(DESTROY('1e400')), null);
    assert.deepEqual(parseConntrackLine(DESTROY('5'))?.replyCounters, { packets: 5, bytes: 1511 });
  });

  it('a port past 65535 or an ICMP type past 255 rejects the line (was: srcPort 70000)', () => {
    assert.equal(
      parseConntrackLine(
        'ipv4 2 udp 17 29 src=10.0.0.1 dst=10.0.0.2 sport=70000 dport=53 src=10.0.0.2 dst=10.0.0.1 sport=53 dport=70000',
      ),
      null,
    );
    assert.equal(
      parseConntrackLine(
        'ipv4 2 icmp 1 29 src=10.0.0.1 dst=10.0.0.2 type=300 code=0 id=1 src=10.0.0.2 dst=10.0.0.1 type=0 code=0 id=1',
      ),
      null,
    );
  });

  it('a timestamp of hundreds of digits rejects the line (was: timeMs Infinity)', () => {
    const line = `[${'9'.repeat(400)}] [NEW] ipv4 2 udp 17 29 src=10.0.0.1 dst=10.0.0.2 sport=1 dport=53 src=10.0.0.2 dst=10.0.0.1 sport=53 dport=1`;
    assert.equal(parseConntrackLine(line), null);
  });

  it('a conntrack id that is no u32 leaves id null and keeps the entry', () => {
    const e = parseConntrackLine(
      'ipv4 2 udp 17 29 src=10.0.0.1 dst=10.0.0.2 sport=1 dport=53 src=10.0.0.2 dst=10.0.0.1 sport=53 dport=1 id=-5',
    );
    assert.ok(e);
    assert.equal(e.id, null);
    assert.equal(e.orig.dstPort, 53);
  });
});
