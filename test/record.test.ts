import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ipv4At, ipv6At, normalizeExporterAddress } from '../src/record/address.js';
import { FlowRecord } from '../src/record/flow-record.js';
import { toJsonObject } from '../src/record/json.js';
import { finalizeRecord } from '../src/record/normalize.js';

test('IPv6 text follows RFC 5952', () => {
  const cases: [string, string][] = [
    ['20010db8000000000000000000000001', '2001:db8::1'],
    ['20010db8000000010000000000000001', '2001:db8:0:1::1'],
    ['20010db8000000000001000000000001', '2001:db8::1:0:0:1'],
    ['00000000000000000000000000000000', '::'],
    ['00000000000000000000000000000001', '::1'],
    ['20010db8000100010001000100010000', '2001:db8:1:1:1:1:1:0'],
    ['20010db800000001000100010001000a', '2001:db8:0:1:1:1:1:a'],
    ['00000000000000000000ffffc0000201', '::ffff:192.0.2.1'],
    ['fe800000000000000000000000000000', 'fe80::'],
  ];
  for (const [hex, text] of cases) assert.equal(ipv6At(Buffer.from(hex, 'hex'), 0), text, hex);
  assert.equal(ipv4At(Buffer.from([10, 0, 255, 1]), 0), '10.0.255.1');
  assert.equal(normalizeExporterAddress('::ffff:192.0.2.7'), '192.0.2.7');
  assert.equal(normalizeExporterAddress('2001:db8::7'), '2001:db8::7');
});

test('ICMP type/code carried in the destination port become icmptype/icmpcode', () => {
  const r = new FlowRecord();
  r.protocolint = 1;
  r.srcport = 0;
  r.dstport = 0x0303;
  r.tcpflagsint = 0;
  r.start = 1000;
  r.end = 3500;
  finalizeRecord(r);
  assert.equal(r.icmptype, 3);
  assert.equal(r.icmpcode, 3);
  assert.equal(r.srcport, null);
  assert.equal(r.dstport, null);
  assert.equal(r.tcpflagsint, null);
  assert.equal(r.duration, 2500);
});

test('JSON form: nested flags, protocol keyword, derived rates, nulls for unknown', () => {
  const r = new FlowRecord();
  r.protocolint = 6;
  r.tcpflagsint = 0x12;
  r.bits = 8000;
  r.packets = 10;
  r.start = 0;
  r.end = 2000;
  finalizeRecord(r);
  const j = toJsonObject(r);
  assert.equal(j.protocol, 'tcp');
  assert.deepEqual(j.tcpflags, {
    fin: false,
    syn: true,
    rst: false,
    psh: false,
    ack: true,
    urg: false,
    ece: false,
    cwr: false,
    ns: false,
  });
  assert.equal(j.flowbrate, 4000);
  assert.equal(j.flowprate, 5);
  assert.equal(j.pbratio, 10 / 8000);
  assert.equal(j.srcas, null);
  assert.equal(j.samplerate, null);
});
