import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultDecoderSettings } from '../../../src/decode/settings.js';
import { TemplateDecoder } from '../../../src/decode/template/template-decoder.js';
import { datagramOf } from '../../helpers/datagram.js';
import {
  datagramsOf,
  feed,
  ipfixMessage,
  replay,
  SIMPLE_FIELDS,
  set,
  simpleRecord,
  templateCount,
  templateRecord,
} from './replay.js';

const newDecoder = () => new TemplateDecoder(defaultDecoderSettings());

// Distinct template ids per file, counted with tshark (`-d udp.port==N,cflow`; raw payloads wrapped
// with text2pcap). logstash_ipfix_yaf_tpls_option_tpl.dat defines 45873 twice and
// telegraf_ipfix_example_ipfix_0.bin six ids twice: 14 and 19 template records.
const TEMPLATE_FILES: [string, number][] = [
  ['logstash_ipfix_ixia_tpldata256.dat', 3],
  ['logstash_ipfix_ixia_tpldata271.dat', 3],
  ['logstash_ipfix_juniper_mx240_junos151r6s3_opttpl512.dat', 1],
  ['logstash_ipfix_mikrotik_tpl.dat', 2],
  ['logstash_ipfix_openbsd_pflow_tpl.dat', 2],
  ['logstash_ipfix_yaf_tpl45841.dat', 1],
  ['logstash_ipfix_yaf_tpls_option_tpl.dat', 13],
  ['telegraf_ipfix_example_ipfix_0.bin', 13],
  ['telegraf_ipfix_example_ipfix_1.bin', 7],
  ['telegraf_ipfix_example_ipfix_3.bin', 1],
  ['telegraf_ipfix_options_message-001.bin', 1],
  ['akvorado_netflow_datalink-template.pcap', 1],
  ['akvorado_netflow_juniper-cpid-template.pcap', 1],
  ['akvorado_netflow_ipfix-srv6-template.pcap', 1],
  ['akvorado_netflow_ipfixprobe-templates.pcap', 2],
  ['akvorado_netflow_ethernet-over-mpls-with-control-word-template.pcap', 1],
];

test('every IPFIX template file is accepted (enterprise fields, options templates)', () => {
  for (const [file, expected] of TEMPLATE_FILES) {
    const dec = newDecoder();
    const sink = replay(dec, [`ipfix/${file}`]);
    const bad = sink.errors.filter((e) => e.kind === 'template_invalid' || e.kind === 'template_limit');
    assert.deepEqual(bad, [], file);
    assert.equal(templateCount(dec), expected, `${file}: templates`);
  }
});

// Flow records counted with tshark ("Flow N" minus options data records).
const GROUPS: [string[], number][] = [
  [
    [
      'logstash_ipfix_mikrotik_tpl.dat',
      'logstash_ipfix_mikrotik_data258.dat',
      'logstash_ipfix_mikrotik_data259.dat',
    ],
    46,
  ],
  [['logstash_ipfix_openbsd_pflow_tpl.dat', 'logstash_ipfix_openbsd_pflow_data.dat'], 26],
  [['akvorado_netflow_datalink-template.pcap', 'akvorado_netflow_datalink-data.pcap'], 1],
  [['akvorado_netflow_juniper-cpid-template.pcap', 'akvorado_netflow_juniper-cpid-data.pcap'], 1],
  [['akvorado_netflow_ipfix-srv6-template.pcap', 'akvorado_netflow_ipfix-srv6-data.pcap'], 1],
  [['akvorado_netflow_ipfixprobe-templates.pcap', 'akvorado_netflow_ipfixprobe-data.pcap'], 4],
  [
    [
      'akvorado_netflow_ethernet-over-mpls-with-control-word-template.pcap',
      'akvorado_netflow_ethernet-over-mpls-with-control-word-data.pcap',
    ],
    10,
  ],
  [
    [
      'logstash_ipfix_juniper_mx240_junos151r6s3_opttpl512.dat',
      'logstash_ipfix_juniper_mx240_junos151r6s3_data512.dat',
    ],
    0,
  ],
];

test('IPFIX data after its templates decodes into every record, without errors', () => {
  for (const [files, expected] of GROUPS) {
    const dec = newDecoder();
    const sink = replay(
      dec,
      files.map((f) => `ipfix/${f}`),
    );
    assert.deepEqual(sink.errors, [], files.join(' > '));
    assert.equal(sink.records.length, expected, `${files.join(' > ')}: records`);
    for (const r of sink.records) assert.equal(r.flowversion, 10);
  }
});

test('Mikrotik: values of the first record', () => {
  const dec = newDecoder();
  const sink = replay(dec, [
    'ipfix/logstash_ipfix_mikrotik_tpl.dat',
    'ipfix/logstash_ipfix_mikrotik_data258.dat',
  ]);
  const r = sink.records[0];
  // tshark: 10.10.8.197:123 -> 192.168.128.17:123 UDP, 2 packets, 152 octets, NAT src 192.168.230.216
  assert.equal(r.srcip, '10.10.8.197');
  assert.equal(r.dstip, '192.168.128.17');
  assert.equal(r.srcport, 123);
  assert.equal(r.protocolint, 17);
  assert.equal(r.packets, 2);
  assert.equal(r.bits, 1216);
  assert.equal(r.postnatsrcip, '192.168.230.216');
  assert.equal(r.uptime, null);
});

test('several IPFIX messages in one payload; sequence counts data records incl. options', () => {
  const dec = newDecoder();
  // logstash_ipfix.dat holds 3 messages (tshark: sequence 6 with 1 options + 6 data records,
  // sequence 7 with 1, sequence 12 with 5), all observation domain 0.
  const sink = replay(dec, ['ipfix/logstash_ipfix.dat']);
  assert.deepEqual(sink.errors, []);
  assert.equal(sink.records.length, 12);
  assert.deepEqual(
    sink.sequences.map((s) => [s.stream, s.sequence, s.units]),
    [
      ['ipfix:0', 6, 7],
      ['ipfix:0', 7, 1],
      ['ipfix:0', 12, 5],
    ],
  );
});

test('pmacct_104: PSAMP selector options (n-out-of-N 1/256) give samplerate 256 via selectorId 302', () => {
  const dec = newDecoder();
  const sink = replay(dec, ['ipfix/pmacct_104-IPFIXv10-IPv6-CISCO-sampling_option_traffic-00.pcap']);
  assert.equal(sink.records.length, 3);
  assert.equal(sink.samplingUnknownCount, 0);
  assert.deepEqual(
    sink.records.map((r) => r.samplerate),
    [256, 256, 256],
  );
  assert.equal(sink.records[0].srcip, 'fe80::fa53:29ff:fe3a:3152');
});

test('only data, no templates (ipfixcol): template_unknown per data set, no records, no crash', () => {
  const dec = newDecoder();
  const sink = replay(dec, ['ipfix/ipfixcol_only-data-no-templates.ipfix']);
  assert.equal(sink.records.length, 0);
  assert.deepEqual(sink.errorKinds(), ['template_unknown', 'template_unknown', 'template_unknown']);
  assert.match(sink.errors[0].message, /^template 258 from 0\.0\.0\.0 domain 0 unknown/);
});

test('bad set length (ipfixcol): counted, the templates before it are kept', () => {
  const dec = newDecoder();
  const sink = replay(dec, ['ipfix/ipfixcol_bad-length-in-set.ipfix']);
  const kinds = sink.errorKinds();
  assert.ok(kinds.includes('bad_length'), kinds.join());
  assert.ok(!kinds.includes('template_invalid'));
  assert.ok(templateCount(dec) > 0);
});

test('template withdrawal (ipfixcol_withdrawal-message-256.ipfix) removes template 256', () => {
  const dec = newDecoder();
  // The withdrawal file: export time 0x4e36a0de, sequence 0, domain 0, set 2 withdrawing 256.
  const define = ipfixMessage({ exportTime: 0x4e36a0de, seq: 0, domain: 0 }, [
    set(2, templateRecord(256, SIMPLE_FIELDS)),
  ]);
  const data = ipfixMessage({ exportTime: 0x4e36a0de, seq: 0, domain: 0 }, [
    set(256, simpleRecord('10.0.0.1', '10.0.0.2', 5)),
  ]);
  const [withdrawal] = datagramsOf(['ipfix/ipfixcol_withdrawal-message-256.ipfix']);
  const src = withdrawal.srcAddress;
  let sink = feed(dec, [datagramOf(define, src), datagramOf(data, src)]);
  assert.equal(sink.records.length, 1);
  assert.equal(sink.records[0].dstip, '10.0.0.2');
  assert.equal(templateCount(dec), 1);
  sink = feed(dec, [withdrawal, datagramOf(data, src)]);
  assert.equal(templateCount(dec), 0);
  assert.equal(sink.records.length, 0);
  assert.deepEqual(sink.errorKinds(), ['template_unknown']);
});

test('withdraw all: template id 2 in set 2 drops data templates, options templates stay', () => {
  const dec = newDecoder();
  const h = { exportTime: 1_700_000_000, seq: 0, domain: 7 };
  const opt = Buffer.concat([
    Buffer.from([0x01, 0x01, 0x00, 0x02, 0x00, 0x01]), // options template 257, 2 fields, 1 scope
    Buffer.from([0x01, 0x2e, 0x00, 0x04, 0x01, 0x31, 0x00, 0x04]), // 302 selectorId(4), 305 interval(4)
  ]);
  feed(dec, [
    datagramOf(
      ipfixMessage(h, [
        set(2, Buffer.concat([templateRecord(256, SIMPLE_FIELDS), templateRecord(258, SIMPLE_FIELDS)])),
        set(3, opt),
      ]),
    ),
  ]);
  assert.equal(templateCount(dec), 3);
  feed(dec, [datagramOf(ipfixMessage(h, [set(2, Buffer.from([0, 2, 0, 0]))]))]);
  assert.equal(templateCount(dec), 1, 'the options template is left');
  feed(dec, [datagramOf(ipfixMessage(h, [set(3, Buffer.from([0, 3, 0, 0]))]))]);
  assert.equal(templateCount(dec), 0);
});

test('enterprise fields and variable-length fields: PEN parsed, values read after them', () => {
  const dec = newDecoder();
  // template 300: 8 srcIPv4 (4), PEN 9 field 1 variable, 12 dstIPv4 (4)
  const tpl = Buffer.concat([
    Buffer.from([0x01, 0x2c, 0x00, 0x03]),
    Buffer.from([0x00, 0x08, 0x00, 0x04]),
    Buffer.from([0x80, 0x01, 0xff, 0xff, 0x00, 0x00, 0x00, 0x09]),
    Buffer.from([0x00, 0x0c, 0x00, 0x04]),
  ]);
  const rec1 = Buffer.from([10, 0, 0, 1, 3, 0x61, 0x62, 0x63, 10, 0, 0, 2]);
  const long = Buffer.alloc(300, 0x41);
  const rec2 = Buffer.concat([Buffer.from([10, 0, 0, 3, 255, 0x01, 0x2c]), long, Buffer.from([10, 0, 0, 4])]);
  const h = { exportTime: 1_700_000_000, seq: 0, domain: 1 };
  const sink = feed(dec, [
    datagramOf(ipfixMessage(h, [set(2, tpl), set(300, Buffer.concat([rec1, rec2, Buffer.alloc(3)]))])),
  ]);
  assert.deepEqual(sink.errors, []);
  assert.deepEqual(
    sink.records.map((r) => [r.srcip, r.dstip]),
    [
      ['10.0.0.1', '10.0.0.2'],
      ['10.0.0.3', '10.0.0.4'],
    ],
  );
  assert.deepEqual(sink.sequences[0].units, 2);
});

test('a variable-length field over limits.maxFieldLength: field_too_long, the set is skipped', () => {
  const settings = defaultDecoderSettings();
  const dec = new TemplateDecoder({ ...settings, limits: { ...settings.limits, maxFieldLength: 100 } });
  const tpl = Buffer.concat([
    Buffer.from([0x01, 0x2c, 0x00, 0x02]),
    Buffer.from([0x00, 0x08, 0x00, 0x04, 0x00, 0x52, 0xff, 0xff]),
  ]);
  const rec = Buffer.concat([Buffer.from([10, 0, 0, 3, 255, 0x00, 0xc8]), Buffer.alloc(200, 0x41)]);
  const sink = feed(dec, [
    datagramOf(ipfixMessage({ exportTime: 1, seq: 0, domain: 1 }, [set(2, tpl), set(300, rec)])),
  ]);
  assert.deepEqual(sink.errorKinds(), ['field_too_long']);
  assert.equal(sink.records.length, 0);
});

test('IPFIX template with a zero field length is invalid (RFC 7011 3.2)', () => {
  const dec = newDecoder();
  const sink = feed(dec, [
    datagramOf(
      ipfixMessage({ exportTime: 1, seq: 0, domain: 1 }, [
        set(
          2,
          templateRecord(256, [
            [8, 4],
            [12, 0],
          ]),
        ),
      ]),
    ),
  ]);
  assert.deepEqual(sink.errorKinds(), ['template_invalid']);
  assert.equal(templateCount(dec), 0);
});
