import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readCaptureFile } from '../src/capture/capture-reader.js';
import { FlowDecoder } from '../src/decode/flow-decoder.js';
import { defaultDecoderSettings } from '../src/decode/settings.js';
import { FlowRecord } from '../src/record/flow-record.js';
import { toJsonLine, toJsonObject } from '../src/record/json.js';
import { CollectingSink } from './helpers/collecting-sink.js';
import { corpusPath } from './helpers/corpus.js';

function same(r: FlowRecord, what: string): void {
  const line = toJsonLine(r);
  const parsed = JSON.parse(line);
  const expected = JSON.parse(JSON.stringify(toJsonObject(r)));
  assert.deepEqual(parsed, expected, what);
  assert.deepEqual(Object.keys(parsed), Object.keys(expected), `${what}: key order`);
}

test('the hand-written JSON line equals JSON.stringify of the JSON object, for every corpus record', () => {
  const files = [
    'netflow5/overflowd_netflow_4M.pcap',
    'netflow9/logstash_nf9_cisco_asa_2_tpl_26x.dat',
    'netflow9/logstash_nf9_cisco_asa_2_tpl_27x.dat',
    'netflow9/logstash_nf9_cisco_asa_2_data.dat',
    'ipfix/ipfixcol2_example_flows.ipfix',
    'ipfix/pmacct_401-IPFIXv10-BMP-IPv6-CISCO-MPLS-multiple-sources_traffic-00.pcap',
    'sflow/overflowd_sflow.pcap',
    'sflow/akvorado_sflow_data-icmpv6.pcap',
  ];
  const decoder = new FlowDecoder(defaultDecoderSettings());
  const sink = new CollectingSink();
  for (const f of files) for (const d of readCaptureFile(corpusPath(f))) decoder.decode(d, sink);
  assert.ok(sink.records.length > 80_000, `records: ${sink.records.length}`);
  for (let i = 0; i < sink.records.length; i += 7) same(sink.records[i], `record ${i}`);
});

test('JSON line escapes strings from the wire and config, keeps extra fields, maps NaN to null', () => {
  const r = new FlowRecord();
  r.inputname = 'Gi0/0 "uplink"\\\n';
  r.site = 'paris\u0001';
  r.tags = ['a"b', 'c'];
  r.srcowneras = { asnumber: 64500, asorg: 'Example "Org"' };
  r.srcgeo = { countrycode: 'FR', continentcode: 'EU', location: { lat: 48.85, lon: 2.35 } };
  r.extra = {
    appid: 'http"x',
    srcmac: '00:11:22:33:44:55',
    vrf: 12,
    odd: Number.NaN,
    flag: true,
    srcip: 'shadow',
  };
  r.bits = Number.POSITIVE_INFINITY;
  same(r, 'escaped record');
  const parsed = JSON.parse(toJsonLine(r));
  assert.equal(parsed.inputname, 'Gi0/0 "uplink"\\\n');
  assert.equal(parsed.appid, 'http"x');
  assert.equal(parsed.odd, null);
  assert.equal(parsed.bits, null);
  assert.equal(parsed.srcip, null, 'an extra field never shadows a schema field');
});
