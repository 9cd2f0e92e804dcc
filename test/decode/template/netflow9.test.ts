import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultDecoderSettings } from '../../../src/decode/settings.js';
import { TemplateDecoder } from '../../../src/decode/template/template-decoder.js';
import { replay, templateCount } from './replay.js';

const newDecoder = () => new TemplateDecoder(defaultDecoderSettings());

// Distinct template ids per file, counted with `tshark -V -d udp.port==2055,cflow` (raw payloads
// wrapped with text2pcap); duplicates within a file count once.
const TEMPLATE_FILES: [string, number][] = [
  ['logstash_nf9_0length_fields_tpl_data.dat', 2],
  ['logstash_nf9_cisco_aci_tpl256-258.dat', 3],
  ['logstash_nf9_cisco_asa_1_tpl.dat', 13],
  ['logstash_nf9_cisco_asa_2_tpl_26x.dat', 16],
  ['logstash_nf9_cisco_asa_2_tpl_27x.dat', 14],
  ['logstash_nf9_cisco_asr1001x_tpl259.dat', 1],
  ['logstash_nf9_cisco_asr9k_opttpl256.dat', 1],
  ['logstash_nf9_cisco_asr9k_opttpl257.dat', 1],
  ['logstash_nf9_cisco_asr9k_opttpl334.dat', 1],
  ['logstash_nf9_cisco_asr9k_tpl260.dat', 1],
  ['logstash_nf9_cisco_asr9k_tpl266.dat', 1],
  ['logstash_nf9_cisco_nbar_opttpl260.dat', 1],
  ['logstash_nf9_cisco_nbar_tpl262.dat', 1],
  ['logstash_nf9_cisco_wlc_8510_tpl_262.dat', 4],
  ['logstash_nf9_cisco_wlc_tpl.dat', 2],
  ['logstash_nf9_field_layer2segmentid_tpl.dat', 1],
  ['logstash_nf9_h3c_netstream_varstring_tpl3281.dat', 1],
  ['logstash_nf9_h3c_tpl3281.dat', 1],
  ['logstash_nf9_iptnetflow_reduced_size_encoding_tpldata260.dat', 1],
  ['logstash_nf9_macaddr_tpl.dat', 3],
  ['logstash_nf9_nprobe_tpl.dat', 3],
  ['logstash_nf9_softflowd_tpl_data.dat', 2],
  ['logstash_nf9_unknown_tpl266_292_data.dat', 4],
  ['fluent_netflow.v9.sampler_template.dump', 1],
  ['fluent_netflow.v9.template.as2.dump', 1],
  ['fluent_netflow.v9.template.dump', 1],
  ['fluent_netflow.v9.template.flowStartMilliseconds.dump', 1],
  ['graylog_netflow-v9-2-1.dat', 3],
  ['akvorado_netflow_template.pcap', 1],
  ['akvorado_netflow_options-template.pcap', 1],
  ['akvorado_netflow_multiplesamplingrates-template.pcap', 1],
  ['akvorado_netflow_multiplesamplingrates-options-template.pcap', 1],
  ['akvorado_netflow_icmp-template.pcap', 4],
];

test('every NetFlow v9 template file is accepted with all its templates', () => {
  for (const [file, expected] of TEMPLATE_FILES) {
    const dec = newDecoder();
    const sink = replay(dec, [`netflow9/${file}`]);
    const bad = sink.errors.filter(
      (e) => e.kind.startsWith('template_invalid') || e.kind === 'template_limit',
    );
    assert.deepEqual(bad, [], file);
    assert.equal(templateCount(dec), expected, `${file}: templates`);
  }
});

// Flow records (options records excluded) counted with tshark as above, replayed in PROVENANCE order.
const GROUPS: [string[], number][] = [
  [['logstash_nf9_cisco_aci_tpl256-258.dat', 'logstash_nf9_cisco_aci_data256.dat'], 3],
  [['logstash_nf9_cisco_asa_1_tpl.dat', 'logstash_nf9_cisco_asa_1_data.dat'], 14],
  [
    [
      'logstash_nf9_cisco_asa_2_tpl_26x.dat',
      'logstash_nf9_cisco_asa_2_tpl_27x.dat',
      'logstash_nf9_cisco_asa_2_data.dat',
    ],
    19,
  ],
  [['logstash_nf9_cisco_asr9k_tpl260.dat', 'logstash_nf9_cisco_asr9k_data260.dat'], 21],
  [['logstash_nf9_cisco_nbar_tpl262.dat', 'logstash_nf9_cisco_nbar_data262.dat'], 5],
  [['logstash_nf9_cisco_wlc_tpl.dat', 'logstash_nf9_cisco_wlc_data261.dat'], 19],
  [['logstash_nf9_field_layer2segmentid_tpl.dat', 'logstash_nf9_field_layer2segmentid_data.dat'], 1],
  [['logstash_nf9_h3c_tpl3281.dat', 'logstash_nf9_h3c_data3281.dat'], 16],
  [
    ['logstash_nf9_h3c_netstream_varstring_tpl3281.dat', 'logstash_nf9_h3c_netstream_varstring_data3281.dat'],
    1,
  ],
  [['logstash_nf9_macaddr_tpl.dat', 'logstash_nf9_macaddr_data.dat'], 29],
  [['logstash_nf9_nprobe_tpl.dat', 'logstash_nf9_softflowd_tpl_data.dat', 'logstash_nf9_nprobe_data.dat'], 8],
  [['graylog_netflow-v9-2-1.dat', 'graylog_netflow-v9-2-2.dat', 'graylog_netflow-v9-2-3.dat'], 2],
  [['fluent_netflow.v9.template.dump', 'fluent_netflow.v9.dump'], 1],
  [['akvorado_netflow_template.pcap', 'akvorado_netflow_data.pcap'], 4],
  [['akvorado_netflow_icmp-template.pcap', 'akvorado_netflow_icmp-data.pcap'], 4],
  [['logstash_nf9_0length_fields_tpl_data.dat'], 10],
];

test('NetFlow v9 data after its templates decodes into every record, without errors', () => {
  for (const [files, expected] of GROUPS) {
    const dec = newDecoder();
    const sink = replay(
      dec,
      files.map((f) => `netflow9/${f}`),
    );
    assert.deepEqual(sink.errors, [], files.join(' > '));
    assert.equal(sink.records.length, expected, `${files.join(' > ')}: records`);
    for (const r of sink.records) assert.equal(r.flowversion, 9);
  }
});

test('fluent_netflow.v9: values of the record, times from FIRST_SWITCHED against the header', () => {
  const dec = newDecoder();
  const sink = replay(dec, ['netflow9/fluent_netflow.v9.template.dump', 'netflow9/fluent_netflow.v9.dump']);
  const r = sink.records[0];
  // tshark: SrcAddr 192.168.0.1:80 -> 192.168.0.2:32822, Octets 60, InputInt 54, OutputInt 29, DstAS 65000
  assert.equal(r.srcip, '192.168.0.1');
  assert.equal(r.dstip, '192.168.0.2');
  assert.equal(r.srcport, 80);
  assert.equal(r.dstport, 32822);
  assert.equal(r.bits, 480);
  assert.equal(r.input, 54);
  assert.equal(r.output, 29);
  assert.equal(r.dstas, 65000);
  // CurrentSecs 1455249745, SysUptime 4253061.156 s, StartTime 4253045.209 s
  assert.equal(r.uptime, 4253061156);
  assert.equal(r.start, 1455249745000 - (4253061156 - 4253045209));
  assert.equal(r.flowsrcip, '0.0.0.0');
  assert.equal(r.flowtype, 'netflow');
  assert.deepEqual(
    sink.sequences.map((s) => [s.stream, s.units]),
    [
      ['v9:2081', 1],
      ['v9:2081', 1],
    ],
  );
  assert.equal(sink.datagrams.length, 2);
  assert.equal(sink.datagrams[1].protocol, 'netflow9');
});

test('akvorado options data: sampler 1 rate 30000 applies to the flow records (sampler id 48)', () => {
  const dec = newDecoder();
  const sink = replay(dec, [
    'netflow9/akvorado_netflow_options-template.pcap',
    'netflow9/akvorado_netflow_options-data.pcap',
    'netflow9/akvorado_netflow_template.pcap',
    'netflow9/akvorado_netflow_data.pcap',
  ]);
  assert.deepEqual(sink.errors, []);
  assert.equal(sink.records.length, 4, 'options records are not flow records');
  assert.equal(sink.samplingUnknownCount, 0);
  // tshark: SamplerID 1, SamplerRandomInterval 30000; first flow 198.38.121.178:443 InputInt 335
  assert.deepEqual(
    sink.records.map((r) => r.samplerate),
    [30000, 30000, 30000, 30000],
  );
  assert.equal(sink.records[0].srcip, '198.38.121.178');
  assert.equal(sink.records[0].srcport, 443);
  assert.equal(sink.records[0].input, 335);
  assert.equal(sink.records[0].flowsrcip, '192.0.2.100');
});

test('akvorado multiple samplers: each record gets the rate of its sampler id', () => {
  const dec = newDecoder();
  const sink = replay(dec, [
    'netflow9/akvorado_netflow_multiplesamplingrates-options-template.pcap',
    'netflow9/akvorado_netflow_multiplesamplingrates-options-data.pcap',
    'netflow9/akvorado_netflow_multiplesamplingrates-template.pcap',
    'netflow9/akvorado_netflow_multiplesamplingrates-data.pcap',
  ]);
  assert.equal(sink.records.length, 12);
  // tshark: sampler 1 = 2000, sampler 2 = 4000; first record ffff::68 uses sampler 2, second ffff::5a sampler 1
  assert.equal(sink.records[0].srcip, 'ffff::68');
  assert.equal(sink.records[0].samplerate, 4000);
  assert.equal(sink.records[1].srcip, 'ffff::5a');
  assert.equal(sink.records[1].samplerate, 2000);
  assert.equal(sink.samplingUnknownCount, 0);
});

test('data before its template in the same packet: template_unknown for that flowset only', () => {
  const dec = newDecoder();
  // akvorado_netflow_data+templates.pcap: data 257, options template 256, data 256, template 257, data 257
  const sink = replay(dec, ['netflow9/akvorado_netflow_data+templates.pcap']);
  assert.deepEqual(sink.errorKinds(), ['template_unknown']);
  assert.match(sink.errors[0].message, /template 257 from 102\.102\.144\.1 source id 17170432 unknown/);
  assert.equal(sink.records.length, 10);
});

test('data without templates: template_unknown errors naming template, exporter, source id', () => {
  const dec = newDecoder();
  const sink = replay(dec, ['netflow9/logstash_nf9_cisco_asa_2_data.dat']);
  assert.equal(sink.records.length, 0);
  assert.ok(sink.errors.length > 0);
  assert.ok(sink.errors.every((e) => e.kind === 'template_unknown'));
  assert.match(sink.errors[0].message, /^template 263 from 0\.0\.0\.0 source id 0 unknown/);
});

test('two NetFlow v9 packets glued in one datagram: the first decodes, the rest is a bad length', () => {
  const dec = newDecoder();
  // graylog_netflow-v9-1.dat: a second v9 header at byte 224 reads as a flowset of 7496 bytes
  const sink = replay(dec, ['netflow9/graylog_netflow-v9-1.dat']);
  assert.deepEqual(sink.errorKinds(), ['bad_length']);
  assert.equal(sink.records.length, 2);
  assert.equal(sink.records[0].srcip, '10.0.2.2');
  assert.equal(sink.records[0].dstip, '10.0.2.15');
});
