import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  DEFAULT_EXPORTER_SETTINGS,
  type DecoderSettings,
  defaultDecoderSettings,
  type ExtraFieldMapping,
} from '../../../src/decode/settings.js';
import { RecordScratch, type TemplateField, VARIABLE_LENGTH } from '../../../src/decode/template/contract.js';
import { readerSource } from '../../../src/decode/template/field-codegen.js';
import { compileInterpretedTemplate, compileTemplate } from '../../../src/decode/template/field-compiler.js';
import { IANA_ELEMENTS } from '../../../src/decode/template/iana-elements.generated.js';
import { finishRecord } from '../../../src/decode/template/record-finish.js';
import { FlowRecord } from '../../../src/record/flow-record.js';
import { CollectingSink } from '../../helpers/collecting-sink.js';
import { corpusPath } from '../../helpers/corpus.js';
import { type FieldBytes, ip4, ip6, templateRecord, u } from '../../helpers/template-fields.js';

function mapping(name: string, id: number, enterprise = 0, type: ExtraFieldMapping['type'] = null) {
  return { name, id, enterprise, type };
}

type Compile = typeof compileTemplate;

/** Every mapping test, run against both readers. */
function suite(compile: Compile): void {
  function decode(fields: FieldBytes[], settings: DecoderSettings = defaultDecoderSettings()) {
    const t = templateRecord(fields);
    const compiled = compile(t.fields, 'ipfix', settings);
    const rec = new FlowRecord();
    const scratch = new RecordScratch();
    const next = compiled.read(t.record, 0, t.record.length, rec, scratch);
    return { rec, scratch, next, length: t.record.length, compiled };
  }

  describe('compileTemplate: counters', () => {
    it('octetDeltaCount 1 is bits x8, packetDeltaCount 2 packets, and the record length is returned', () => {
      const r = decode([
        { id: 1, bytes: u(1500, 4) },
        { id: 2, bytes: u(3, 4) },
      ]);
      assert.equal(r.next, 8);
      assert.equal(r.rec.bits, 12000);
      assert.equal(r.rec.packets, 3);
      assert.equal(r.compiled.fieldCount, 2);
      assert.equal(r.compiled.minRecordLength, 8);
      assert.equal(r.compiled.variable, false);
    });

    it('reduced-size encoding: u64 counters in 1, 3, 5 and 8 bytes', () => {
      assert.equal(decode([{ id: 1, bytes: u(200, 1) }]).rec.bits, 1600);
      assert.equal(decode([{ id: 2, bytes: u(0x123456, 3) }]).rec.packets, 0x123456);
      assert.equal(decode([{ id: 2, bytes: u(0x0102030405, 5) }]).rec.packets, 0x0102030405);
      // 2^40 + 5 octets in 8 bytes: exact below 2^53
      assert.equal(decode([{ id: 1, bytes: u(2n ** 40n + 5n, 8) }]).rec.bits, (2 ** 40 + 5) * 8);
      assert.equal(decode([{ id: 2, bytes: u(0xfffffffffn, 8) }]).rec.packets, 0xfffffffff);
    });

    it('octetTotalCount 85 / packetTotalCount 86 only when the delta counters are absent', () => {
      const totals = decode([
        { id: 85, bytes: u(100, 8) },
        { id: 86, bytes: u(2, 8) },
      ]);
      assert.equal(totals.rec.bits, 800);
      assert.equal(totals.rec.packets, 2);
      const both = decode([
        { id: 85, bytes: u(999, 8) },
        { id: 1, bytes: u(100, 4) },
        { id: 86, bytes: u(99, 8) },
        { id: 2, bytes: u(2, 4) },
      ]);
      assert.equal(both.rec.bits, 800);
      assert.equal(both.rec.packets, 2);
    });

    it('NSEL initiator/responder octets and packets 231/232/298/299', () => {
      const r = decode([
        { id: 231, bytes: u(0x51, 4) },
        { id: 232, bytes: u(0x2fb, 4) },
        { id: 298, bytes: u(3, 8) },
        { id: 299, bytes: u(4, 8) },
      ]);
      assert.equal(r.rec.bits, 0x51 * 8);
      assert.equal(r.rec.revbits, 0x2fb * 8);
      assert.equal(r.rec.packets, 3);
      assert.equal(r.rec.revpackets, 4);
      // with octetDeltaCount present, initiatorOctets does not overwrite bits
      assert.equal(
        decode([
          { id: 231, bytes: u(7, 4) },
          { id: 1, bytes: u(10, 4) },
        ]).rec.bits,
        80,
      );
    });
  });

  describe('compileTemplate: IPv4 flow fields', () => {
    const fields: FieldBytes[] = [
      { id: 8, bytes: ip4('10.1.2.3') },
      { id: 12, bytes: ip4('192.0.2.200') },
      { id: 7, bytes: u(51515, 2) },
      { id: 11, bytes: u(443, 2) },
      { id: 4, bytes: u(6, 1) },
      { id: 5, bytes: u(0xb8, 1) },
      { id: 6, bytes: u(0x1b, 1) },
      { id: 9, bytes: u(24, 1) },
      { id: 13, bytes: u(16, 1) },
      { id: 10, bytes: u(3, 2) },
      { id: 14, bytes: u(70000, 4) },
      { id: 15, bytes: ip4('10.0.0.254') },
      { id: 18, bytes: ip4('198.51.100.1') },
      { id: 16, bytes: u(64512, 2) },
      { id: 17, bytes: u(4200000000, 4) },
      { id: 58, bytes: u(100, 2) },
      { id: 59, bytes: u(200, 2) },
      { id: 60, bytes: u(4, 1) },
      { id: 61, bytes: u(1, 1) },
    ];
    it('writes every mapping', () => {
      const { rec, next, length } = decode(fields);
      assert.equal(next, length);
      assert.equal(rec.srcip, '10.1.2.3');
      assert.equal(rec.dstip, '192.0.2.200');
      assert.equal(rec.srcport, 51515);
      assert.equal(rec.dstport, 443);
      assert.equal(rec.protocolint, 6);
      assert.equal(rec.tos, 0xb8);
      assert.equal(rec.tcpflagsint, 0x1b);
      assert.equal(rec.srcmask, 24);
      assert.equal(rec.dstmask, 16);
      assert.equal(rec.input, 3);
      assert.equal(rec.output, 70000);
      assert.equal(rec.nexthop, '10.0.0.254');
      assert.equal(rec.bgpnexthop, '198.51.100.1');
      assert.equal(rec.srcas, 64512);
      assert.equal(rec.dstas, 4200000000);
      assert.equal(rec.srcvlan, 100);
      assert.equal(rec.dstvlan, 200);
      assert.equal(rec.ipversion, 4);
      assert.equal(rec.flowdirection, 'egress');
    });

    it('IPFIX 2-byte tcpControlBits keeps NS/CWR/ECE, drops a data-offset nibble', () => {
      assert.equal(decode([{ id: 6, bytes: u(0x1c2, 2) }]).rec.tcpflagsint, 0x1c2);
      assert.equal(decode([{ id: 6, bytes: u(0x5012, 2) }]).rec.tcpflagsint, 0x12);
    });

    it('flowDirection 0 is ingress, other values unknown', () => {
      assert.equal(decode([{ id: 61, bytes: u(0, 1) }]).rec.flowdirection, 'ingress');
      assert.equal(decode([{ id: 61, bytes: u(7, 1) }]).rec.flowdirection, null);
    });

    it('physical interfaces 252/253 and dot1q VLANs 243/254 only as fallbacks', () => {
      const fallback = decode([
        { id: 252, bytes: u(11, 4) },
        { id: 253, bytes: u(12, 4) },
        { id: 243, bytes: u(30, 2) },
        { id: 254, bytes: u(40, 2) },
      ]).rec;
      assert.deepEqual(
        [fallback.input, fallback.output, fallback.srcvlan, fallback.dstvlan],
        [11, 12, 30, 40],
      );
      const preferred = decode([
        { id: 252, bytes: u(11, 4) },
        { id: 10, bytes: u(1, 4) },
        { id: 14, bytes: u(2, 4) },
        { id: 253, bytes: u(12, 4) },
        { id: 243, bytes: u(30, 2) },
        { id: 58, bytes: u(5, 2) },
      ]).rec;
      assert.deepEqual([preferred.input, preferred.output, preferred.srcvlan], [1, 2, 5]);
    });

    it('udp/tcp specific ports 180-183', () => {
      const udp = decode([
        { id: 180, bytes: u(53, 2) },
        { id: 181, bytes: u(5353, 2) },
      ]).rec;
      assert.deepEqual([udp.srcport, udp.dstport], [53, 5353]);
      const tcp = decode([
        { id: 182, bytes: u(22, 2) },
        { id: 183, bytes: u(2222, 2) },
      ]).rec;
      assert.deepEqual([tcp.srcport, tcp.dstport], [22, 2222]);
    });

    it('ICMP type/code from 32 (type << 8 | code) and from 176/177', () => {
      const a = decode([{ id: 32, bytes: u(0x0303, 2) }]).rec;
      assert.deepEqual([a.icmptype, a.icmpcode], [3, 3]);
      const b = decode([
        { id: 176, bytes: u(8, 1) },
        { id: 177, bytes: u(0, 1) },
      ]).rec;
      assert.deepEqual([b.icmptype, b.icmpcode], [8, 0]);
      const v6 = decode([{ id: 139, bytes: u(0x8000, 2) }]).rec;
      assert.deepEqual([v6.icmptype, v6.icmpcode], [128, 0]);
    });

    it('fragmented from fragmentFlags 197 (MF) and fragmentOffset 88', () => {
      assert.equal(decode([{ id: 197, bytes: u(0x20, 1) }]).rec.fragmented, true);
      assert.equal(decode([{ id: 197, bytes: u(0x40, 1) }]).rec.fragmented, false); // DF only
      assert.equal(decode([{ id: 88, bytes: u(185, 2) }]).rec.fragmented, true);
      assert.equal(
        decode([
          { id: 88, bytes: u(185, 2) },
          { id: 197, bytes: u(0, 1) },
        ]).rec.fragmented,
        true,
      );
      assert.equal(
        decode([
          { id: 88, bytes: u(0, 2) },
          { id: 197, bytes: u(0, 1) },
        ]).rec.fragmented,
        false,
      );
      assert.equal(decode([{ id: 4, bytes: u(17, 1) }]).rec.fragmented, null);
    });
  });

  describe('compileTemplate: IPv6', () => {
    it('addresses (RFC 5952 text), next hops and masks', () => {
      const { rec } = decode([
        { id: 27, bytes: ip6('2001:0db8:0000:0000:0000:0000:0000:0001') },
        { id: 28, bytes: ip6('2001:0db8:0001:0000:0000:0000:00ab:0000') },
        { id: 62, bytes: ip6('fe80:0000:0000:0000:0000:0000:0000:0001') },
        { id: 63, bytes: ip6('0000:0000:0000:0000:0000:ffff:c000:0201') },
        { id: 29, bytes: u(48, 1) },
        { id: 30, bytes: u(64, 1) },
        { id: 60, bytes: u(6, 1) },
      ]);
      assert.equal(rec.srcip, '2001:db8::1');
      assert.equal(rec.dstip, '2001:db8:1::ab:0');
      assert.equal(rec.nexthop, 'fe80::1');
      assert.equal(rec.bgpnexthop, '::ffff:192.0.2.1');
      assert.equal(rec.srcmask, 48);
      assert.equal(rec.dstmask, 64);
      assert.equal(rec.ipversion, 6);
    });

    it('an address field of the wrong length is skipped by length, not misread', () => {
      const r = decode([
        { id: 8, bytes: u(0x0a000001, 3) },
        { id: 7, bytes: u(80, 2) },
      ]);
      assert.equal(r.rec.srcip, null);
      assert.equal(r.rec.srcport, 80);
      assert.equal(r.next, 5);
    });
  });

  describe('compileTemplate: forwarding status 89 (RFC 7270)', () => {
    const status = (bytes: Buffer) => decode([{ id: 89, bytes }]).rec.forwardingstatus;
    it('maps status and IANA reason codes', () => {
      assert.equal(status(u(0x40, 1)), 'forwarded');
      assert.equal(status(u(0x41, 1)), 'forwarded: fragmented');
      assert.equal(status(u(0x80, 1)), 'dropped');
      assert.equal(status(u(0x81, 1)), 'dropped: acl deny');
      assert.equal(status(u(0x8e, 1)), 'dropped: bad output interface');
      assert.equal(status(u(0xc1, 1)), 'consumed: terminate punt adjacency');
      assert.equal(status(u(0xc3, 1)), 'consumed: terminate for us');
      assert.equal(status(u(0x00, 1)), 'unknown');
      assert.equal(status(u(0x9f, 1)), 'dropped: reason 31');
    });
    it('4-byte unsigned32 encoding keeps the low octet', () => {
      assert.equal(status(u(0x83, 4)), 'dropped: unroutable');
    });
  });

  describe('compileTemplate: firewall and NAT (NSEL, NEL, RFC 8158)', () => {
    it('firewallEvent 233 enum', () => {
      const names = [0, 1, 2, 3, 4, 5, 9].map((v) => decode([{ id: 233, bytes: u(v, 1) }]).rec.fwevent);
      assert.deepEqual(names, ['ignore', 'create', 'teardown', 'deny', 'alert', 'update', null]);
    });

    it('ASA legacy 40001-40005 fill post-NAT and fwevent when the IANA fields are absent', () => {
      const { rec } = decode([
        { id: 40001, bytes: ip4('203.0.113.5') },
        { id: 40002, bytes: ip4('198.51.100.9') },
        { id: 40003, bytes: u(1024, 2) },
        { id: 40004, bytes: u(8443, 2) },
        { id: 40005, bytes: u(3, 1) },
        { id: 33002, bytes: u(1001, 2) },
      ]);
      assert.equal(rec.postnatsrcip, '203.0.113.5');
      assert.equal(rec.postnatdstip, '198.51.100.9');
      assert.equal(rec.postnatsrcport, 1024);
      assert.equal(rec.postnatdstport, 8443);
      assert.equal(rec.fwevent, 'deny');
      assert.equal(rec.extra, null); // 33002 only as a mapped extra field
    });

    it('IANA 225-228 win over the ASA legacy fields; 281/282 IPv6 post-NAT', () => {
      const { rec } = decode([
        { id: 225, bytes: ip4('203.0.113.1') },
        { id: 40001, bytes: ip4('203.0.113.99') },
        { id: 226, bytes: ip4('198.51.100.1') },
        { id: 227, bytes: u(4000, 2) },
        { id: 228, bytes: u(53, 2) },
        { id: 233, bytes: u(1, 1) },
        { id: 40005, bytes: u(2, 1) },
      ]);
      assert.equal(rec.postnatsrcip, '203.0.113.1');
      assert.equal(rec.postnatdstip, '198.51.100.1');
      assert.deepEqual([rec.postnatsrcport, rec.postnatdstport], [4000, 53]);
      assert.equal(rec.fwevent, 'create');
      const v6 = decode([
        { id: 281, bytes: ip6('2001:0db8:0000:0000:0000:0000:0000:0064') },
        { id: 282, bytes: ip6('0064:ff9b:0000:0000:0000:0000:c633:6401') },
      ]).rec;
      assert.equal(v6.postnatsrcip, '2001:db8::64');
      assert.equal(v6.postnatdstip, '64:ff9b::c633:6401');
    });

    it('all-zero post-NAT address/port (FortiOS: side not translated) is null, not 0.0.0.0 / 0', () => {
      const { rec } = decode([
        { id: 225, bytes: ip4('10.0.0.250') },
        { id: 226, bytes: ip4('0.0.0.0') },
        { id: 227, bytes: u(45380, 2) },
        { id: 228, bytes: u(0, 2) },
      ]);
      assert.equal(rec.postnatsrcip, '10.0.0.250');
      assert.equal(rec.postnatsrcport, 45380);
      assert.equal(rec.postnatdstip, null);
      assert.equal(rec.postnatdstport, null);
      const v6 = decode([
        { id: 281, bytes: Buffer.alloc(16) },
        { id: 282, bytes: ip6('2001:0db8:0000:0000:0000:0000:0000:0001') },
        { id: 40003, bytes: u(0, 2) },
      ]).rec;
      assert.equal(v6.postnatsrcip, null);
      assert.equal(v6.postnatdstip, '2001:db8::1');
      assert.equal(v6.postnatsrcport, null, 'ASA legacy 40003 port 0 too');
    });

    it('natEvent 230 (IANA NAT Event Type registry)', () => {
      const names = [0, 1, 2, 3, 4, 5, 12, 16, 99].map(
        (v) => decode([{ id: 230, bytes: u(v, 1) }]).rec.natevent,
      );
      assert.deepEqual(names, [
        null,
        'create',
        'delete',
        'addresses exhausted',
        'nat44 create',
        'nat44 delete',
        'ports exhausted',
        'port block allocation',
        null,
      ]);
    });
  });

  describe('compileTemplate: RFC 5103 biflows', () => {
    it('PEN 29305 octets/packets are revbits/revpackets, other reverse elements skipped', () => {
      const r = decode([
        { id: 1, bytes: u(100, 8) },
        { id: 1, enterprise: 29305, bytes: u(50, 8) },
        { id: 2, enterprise: 29305, bytes: u(5, 8) },
        { id: 8, enterprise: 29305, bytes: ip4('10.9.9.9') },
        { id: 8, bytes: ip4('10.0.0.1') },
      ]);
      assert.equal(r.rec.bits, 800);
      assert.equal(r.rec.revbits, 400);
      assert.equal(r.rec.revpackets, 5);
      assert.equal(r.rec.srcip, '10.0.0.1');
      assert.equal(r.scratch.hasReverse, true);
      assert.equal(decode([{ id: 1, bytes: u(1, 4) }]).scratch.hasReverse, false);
    });
  });

  describe('compileTemplate: unknown, vendor and malformed fields', () => {
    it('unknown enterprise elements are skipped by length and write nothing', () => {
      const r = decode([
        { id: 1, enterprise: 9, bytes: u(999, 4) },
        { id: 56, enterprise: 25461, length: VARIABLE_LENGTH, bytes: Buffer.from('alice') },
        { id: 2, bytes: u(7, 4) },
        { id: 30000, bytes: u(1, 2) },
      ]);
      assert.equal(r.rec.bits, null);
      assert.equal(r.rec.packets, 7);
      assert.equal(r.next, r.length);
      assert.equal(r.compiled.variable, true);
    });

    it('a 0-length field is skipped (logstash_nf9_0length_fields_tpl_data.dat)', () => {
      const r = decode([
        { id: 1, bytes: Buffer.alloc(0) },
        { id: 2, bytes: u(7, 4) },
      ]);
      assert.equal(r.rec.bits, null);
      assert.equal(r.rec.packets, 7);
    });

    it('a truncated fixed-size record returns -1', () => {
      const t = templateRecord([
        { id: 8, bytes: ip4('10.0.0.1') },
        { id: 2, bytes: u(7, 4) },
      ]);
      const c = compile(t.fields, 'netflow9', defaultDecoderSettings());
      const rec = new FlowRecord();
      assert.equal(c.read(t.record, 0, 7, rec, new RecordScratch()), -1);
      assert.equal(c.read(t.record, 0, 8, rec, new RecordScratch()), 8);
    });

    it('variable-length fields: 1-byte length, 255-escaped 2-byte length, limit and truncation', () => {
      const long = Buffer.alloc(300, 0x41);
      const fields: FieldBytes[] = [
        { id: 82, length: VARIABLE_LENGTH, bytes: Buffer.from('Gi0/0/1') },
        { id: 83, length: VARIABLE_LENGTH, bytes: long },
        { id: 10, bytes: u(5, 4) },
      ];
      const r = decode(fields);
      assert.equal(r.next, 1 + 7 + 3 + 300 + 4);
      assert.equal(r.scratch.interfaceName, 'Gi0/0/1');
      assert.equal(r.scratch.interfaceDescription, 'A'.repeat(300));
      assert.equal(r.scratch.interfaceIndex, 5);
      assert.equal(r.rec.input, 5);
      assert.equal(r.compiled.minRecordLength, 1 + 1 + 4);

      const limited = defaultDecoderSettings({
        limits: { ...defaultDecoderSettings().limits, maxFieldLength: 299 },
      });
      assert.equal(decode(fields, limited).next, -1);

      const t = templateRecord(fields);
      const c = compile(t.fields, 'ipfix', defaultDecoderSettings());
      // the 300-byte value claims more than what remains
      assert.equal(c.read(t.record, 0, 100, new FlowRecord(), new RecordScratch()), -1);
      // cut inside the 255 escape
      assert.equal(c.read(t.record, 0, 10, new FlowRecord(), new RecordScratch()), -1);
      // cut before the last fixed field
      assert.equal(c.read(t.record, 0, t.record.length - 1, new FlowRecord(), new RecordScratch()), -1);
    });

    it('reads a record at an offset inside a larger buffer and leaves bytes after it', () => {
      const t = templateRecord([{ id: 2, bytes: u(9, 2) }]);
      const buf = Buffer.concat([Buffer.from([0xff, 0xff]), t.record, t.record]);
      const c = compile(t.fields, 'netflow9', defaultDecoderSettings());
      const rec = new FlowRecord();
      assert.equal(c.read(buf, 2, buf.length, rec, new RecordScratch()), 4);
      assert.equal(rec.packets, 9);
    });
  });

  describe('compileTemplate: options and sampling elements into scratch', () => {
    it('sampler id, intervals, algorithm, PSAMP selector and probability, timeouts', () => {
      const p = Buffer.alloc(8);
      p.writeDoubleBE(0.001);
      const { scratch } = decode([
        { id: 48, bytes: u(2, 1) },
        { id: 34, bytes: u(512, 4) },
        { id: 35, bytes: u(2, 1) },
        { id: 302, bytes: u(77, 8) },
        { id: 306, bytes: u(99, 4) },
        { id: 309, bytes: u(1, 4) },
        { id: 310, bytes: u(64, 4) },
        { id: 311, bytes: p },
        { id: 36, bytes: u(60, 2) },
        { id: 37, bytes: u(15, 2) },
      ]);
      assert.equal(scratch.samplerId, 2);
      assert.equal(scratch.samplingInterval, 512);
      assert.equal(scratch.samplingAlgorithm, 2);
      assert.equal(scratch.selectorId, 77);
      assert.equal(scratch.samplingSpace, 99);
      assert.equal(scratch.samplingSize, 1);
      assert.equal(scratch.samplingPopulation, 64);
      assert.equal(scratch.samplingProbability, 0.001);
      assert.equal(scratch.activeTimeoutSec, 60);
      assert.equal(scratch.inactiveTimeoutSec, 15);
    });

    it('samplingProbability in 4 bytes (float32) and scratch is reset on every read', () => {
      const p = Buffer.alloc(4);
      p.writeFloatBE(0.5);
      const t = templateRecord([{ id: 311, bytes: p }]);
      const c = compile(t.fields, 'ipfix', defaultDecoderSettings());
      const scratch = new RecordScratch();
      scratch.samplerId = 9;
      c.read(t.record, 0, t.record.length, new FlowRecord(), scratch);
      assert.equal(scratch.samplingProbability, 0.5);
      assert.equal(scratch.samplerId, null);
    });
  });

  describe('compileTemplate: user-mapped extra fields', () => {
    it('typed values by configured type, and a mapped record field still feeds the record', () => {
      const f32 = Buffer.alloc(4);
      f32.writeFloatBE(1.5);
      const settings = defaultDecoderSettings({
        extraFields: [
          mapping('appid', 95, 0, 'hex'),
          mapping('pan_user', 56, 25461, 'string'),
          mapping('vrf', 234, 0, 'unsigned'),
          mapping('offset', 40100, 0, 'signed'),
          mapping('score', 40101, 0, 'float'),
          mapping('flag', 40102, 0, 'boolean'),
          mapping('gw', 40103, 0, 'ipv4'),
          mapping('gw6', 40104, 0, 'ipv6'),
          mapping('srcmac', 56, 0, 'mac'),
          mapping('in_if', 10, 0, 'unsigned'),
          mapping('fw_ext', 33002, 0, 'unsigned'),
        ],
      });
      const { rec } = decode(
        [
          { id: 95, bytes: Buffer.from([0x0d, 0x00, 0x00, 0x50]) },
          { id: 56, enterprise: 25461, length: VARIABLE_LENGTH, bytes: Buffer.from('alice') },
          { id: 234, bytes: u(7, 4) },
          { id: 40100, bytes: u(0xfffe, 2) },
          { id: 40101, bytes: f32 },
          { id: 40102, bytes: u(1, 1) },
          { id: 40103, bytes: ip4('10.0.0.1') },
          { id: 40104, bytes: ip6('2001:0db8:0000:0000:0000:0000:0000:0002') },
          { id: 56, bytes: Buffer.from([0, 0x1b, 0x21, 0xaa, 0xbb, 0xcc]) },
          { id: 10, bytes: u(12, 4) },
          { id: 33002, bytes: u(1001, 2) },
        ],
        settings,
      );
      assert.deepEqual(rec.extra, {
        appid: '0d000050',
        pan_user: 'alice',
        vrf: 7,
        offset: -2,
        score: 1.5,
        flag: true,
        gw: '10.0.0.1',
        gw6: '2001:db8::2',
        srcmac: '00:1b:21:aa:bb:cc',
        in_if: 12,
        fw_ext: 1001,
      });
      assert.equal(rec.input, 12);
    });

    it('IANA data type by default (hex while the registry is not generated), hex for vendor fields', () => {
      const settings = defaultDecoderSettings({
        extraFields: [mapping('srcmac', 56), mapping('acl', 33000), mapping('user', 7, 25461)],
      });
      const { rec } = decode(
        [
          { id: 56, bytes: Buffer.from([0, 0x1b, 0x21, 0xaa, 0xbb, 0xcc]) },
          { id: 33000, bytes: Buffer.from('0f8e7ff3fc1a030f00000000', 'hex') },
          { id: 7, enterprise: 25461, bytes: Buffer.from([1, 2]) },
        ],
        settings,
      );
      const ianaKnowsMac = IANA_ELEMENTS.some((e) => e.id === 56 && e.dataType === 'macAddress');
      assert.equal(rec.extra?.srcmac, ianaKnowsMac ? '00:1b:21:aa:bb:cc' : '001b21aabbcc');
      assert.equal(rec.extra?.acl, '0f8e7ff3fc1a030f00000000');
      assert.equal(rec.extra?.user, '0102');
      assert.equal(rec.srcport, null); // 7 in PEN 25461 is not sourceTransportPort
    });

    it('extra is created only when the template has a mapped field', () => {
      const settings = defaultDecoderSettings({ extraFields: [mapping('appid', 95)] });
      assert.equal(decode([{ id: 2, bytes: u(1, 4) }], settings).rec.extra, null);
    });
  });

  /** Template flowsets of a raw NetFlow v9 payload (only what these tests need). */
  function v9Templates(file: string): Map<number, TemplateField[]> {
    const b = readFileSync(corpusPath(file));
    const out = new Map<number, TemplateField[]>();
    for (let off = 20; off + 4 <= b.length; ) {
      const setId = b.readUInt16BE(off);
      const setLen = b.readUInt16BE(off + 2);
      if (setId === 0) {
        for (let p = off + 4; p + 4 <= off + setLen; ) {
          const id = b.readUInt16BE(p);
          const count = b.readUInt16BE(p + 2);
          p += 4;
          const fields: TemplateField[] = [];
          for (let i = 0; i < count; i++, p += 4) {
            fields.push({ id: b.readUInt16BE(p), enterprise: 0, length: b.readUInt16BE(p + 2) });
          }
          out.set(id, fields);
        }
      }
      off += setLen;
    }
    return out;
  }

  /** Records of every data flowset of a v9 payload, read and finished with the given templates. */
  function v9Records(file: string, templates: Map<number, TemplateField[]>): FlowRecord[] {
    const b = readFileSync(corpusPath(file));
    const sink = new CollectingSink();
    const ctx = {
      protocol: 'netflow9' as const,
      exporter: '192.0.2.1',
      exportTimeSec: b.readUInt32BE(8),
      sysUptimeMs: b.readUInt32BE(4),
      receivedAtMs: 0,
      systemInitTimeMs: null,
    };
    const scratch = new RecordScratch();
    for (let off = 20; off + 4 <= b.length; ) {
      const setId = b.readUInt16BE(off);
      const setLen = b.readUInt16BE(off + 2);
      const fields = templates.get(setId);
      if (fields !== undefined) {
        const c = compile(fields, 'netflow9', defaultDecoderSettings());
        for (let p = off + 4; p + c.minRecordLength <= off + setLen; ) {
          const rec = new FlowRecord();
          p = c.read(b, p, off + setLen, rec, scratch);
          assert.notEqual(p, -1);
          finishRecord(rec, scratch, ctx, () => null, DEFAULT_EXPORTER_SETTINGS, sink);
          sink.record(rec);
        }
      }
      off += setLen;
    }
    return sink.records;
  }

  describe('compileTemplate: Cisco ASA NSEL captures', () => {
    it('ASA 1 (legacy 40001-40005): ICMP teardown with xlate addresses and octetTotalCount', () => {
      const records = v9Records(
        'netflow9/logstash_nf9_cisco_asa_1_data.dat',
        v9Templates('netflow9/logstash_nf9_cisco_asa_1_tpl.dat'),
      );
      assert.ok(records.length >= 3);
      const r = records[0];
      assert.equal(r.srcip, '192.168.14.1');
      assert.equal(r.dstip, '2.2.2.11');
      assert.equal(r.protocolint, 1);
      assert.equal(r.icmptype, 0);
      assert.equal(r.icmpcode, 0);
      assert.equal(r.srcport, null);
      assert.equal(r.input, 3);
      assert.equal(r.output, 2);
      assert.equal(r.postnatsrcip, '192.168.14.1');
      assert.equal(r.postnatdstip, '2.2.2.11');
      assert.equal(r.fwevent, 'teardown');
      assert.equal(r.bits, 56 * 8);
      // flowStartMilliseconds 152, then the event time 323 ends the flow
      assert.equal(r.start, 0x1504bffcff1);
      assert.equal(r.end, 0x1504bffd7df);
      assert.equal(r.duration, 2030);
      assert.equal(records[1].icmptype, 8);
    });

    it('ASA 2 (IANA 225-228, 231/232, 233): TCP teardown with responder octets', () => {
      const templates = v9Templates('netflow9/logstash_nf9_cisco_asa_2_tpl_26x.dat');
      for (const [id, f] of v9Templates('netflow9/logstash_nf9_cisco_asa_2_tpl_27x.dat'))
        templates.set(id, f);
      const records = v9Records('netflow9/logstash_nf9_cisco_asa_2_data.dat', templates);
      assert.ok(records.length >= 10);
      const r = records[0];
      assert.equal(r.srcip, '192.168.0.2');
      assert.equal(r.srcport, 61775);
      assert.equal(r.dstip, '192.168.0.17');
      assert.equal(r.dstport, 80);
      assert.equal(r.protocolint, 6);
      assert.equal(r.postnatsrcip, '192.168.0.2');
      assert.equal(r.postnatdstport, 80);
      assert.equal(r.fwevent, 'teardown');
      assert.equal(r.bits, 0x51 * 8);
      assert.equal(r.revbits, 0x2fb * 8);
      assert.equal(r.start, 0x1560db8d7fb);
      assert.equal(r.end, 0x1560db8d837);
      assert.equal(records[1].fwevent, 'update');
      const created = records.find((x) => x.fwevent === 'create');
      assert.ok(created);
      assert.equal(created.start, created.end); // a flow-create event: one instant
      assert.equal(created.bits, null);
    });
  });
}

describe('generated reader', () => suite(compileTemplate));
describe('operation-table reader (no code generation)', () => suite(compileInterpretedTemplate));

describe('field codegen safety', () => {
  it('configured names never reach the generated source; offsets are constants', () => {
    const hostile = '"]; throw new Error("injected"); //';
    const settings = defaultDecoderSettings({ extraFields: [mapping(hostile, 95, 0, 'hex')] });
    const t = templateRecord([
      { id: 8, bytes: ip4('10.0.0.1') },
      { id: 95, bytes: Buffer.from([1, 2]) },
    ]);
    const c = compileTemplate(t.fields, 'ipfix', settings);
    const rec = new FlowRecord();
    assert.equal(c.read(t.record, 0, t.record.length, rec, new RecordScratch()), 6);
    assert.equal(rec.srcip, '10.0.0.1');
    assert.deepEqual(rec.extra, { [hostile]: '0102' });
  });

  it('generated source of a fixed template has one bounds check', () => {
    const src = readerSource({
      ops: Uint8Array.of(8, 2),
      rules: Uint8Array.of(1, 0),
      lengths: Int32Array.of(4, 4),
      extraSlots: Int16Array.of(-1, -1),
      extraNames: [],
      extraKinds: [],
      minRecordLength: 8,
      variable: false,
      hasReverse: false,
      maxFieldLength: 4096,
    });
    assert.match(src, /if \(off \+ 8 > end\) return -1;/);
    assert.match(src, /rec\.srcip = ipv4At\(buf, off\);/);
    assert.match(src, /rec\.packets = \(buf\[off \+ 4\] \* 16777216/);
    assert.equal(src.match(/return -1/g)?.length, 1);
  });
});
