/**
 * Interface names from a real Cisco IOS XR IPFIX capture whose options data announces them
 * (interfaceName 82, interfaceDescription 83), from configuration (which wins), and classes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readCaptureFile } from '../../src/capture/capture-reader.js';
import { detectProtocol, FlowDecoder } from '../../src/decode/flow-decoder.js';
import { defaultDecoderSettings } from '../../src/decode/settings.js';
import { Enricher } from '../../src/enrich/enricher.js';
import { InterfaceNames } from '../../src/enrich/interface-names.js';
import { FlowRecord } from '../../src/record/flow-record.js';
import { CollectingSink } from '../helpers/collecting-sink.js';
import { testConfig } from '../helpers/config.js';
import { corpusPath } from '../helpers/corpus.js';

const CAPTURE = 'ipfix/pmacct_112-IPFIXv10-CISCO-options-map-reassignment_traffic-00.pcap';

function decode(): { decoder: FlowDecoder; records: FlowRecord[] } {
  const decoder = new FlowDecoder(defaultDecoderSettings());
  const sink = new CollectingSink();
  for (const d of readCaptureFile(corpusPath(CAPTURE))) {
    if (detectProtocol(d.payload) !== null) decoder.decode(d, sink);
  }
  return { decoder, records: sink.records };
}

test(`${CAPTURE}: records get the names and descriptions the router announced`, () => {
  const { decoder, records } = decode();
  const enricher = new Enricher(
    testConfig({
      interfaceclasses: [
        { class: 'core', name: '^HundredGigE', alias: null },
        { class: 'sub', name: null, alias: '\\.\\d+$' },
      ],
    }),
    { announcedInterface: (e, i) => decoder.templates.interfaceName(e, i) },
  );
  let named = 0;
  for (const r of records) {
    enricher.apply(r);
    for (const [index, name, alias, classes] of [
      [r.input, r.inputname, r.inputalias, r.inputclasses],
      [r.output, r.outputname, r.outputalias, r.outputclasses],
    ] as const) {
      const announced = index === null ? null : decoder.templates.interfaceName(r.flowsrcip, index);
      if (announced === null) {
        assert.equal(name, null);
        continue;
      }
      named++;
      assert.equal(name, announced.name);
      assert.equal(alias, announced.description);
      const expected = [
        ...(announced.name?.startsWith('HundredGigE') ? ['core'] : []),
        ...(/\.\d+$/.test(announced.description ?? '') ? ['sub'] : []),
      ];
      assert.deepEqual(classes, expected.length > 0 ? expected : null);
    }
  }
  assert.ok(named > 0, 'the capture has flows on announced interfaces');
  // Known from the capture's options data.
  assert.deepEqual(decoder.templates.interfaceName('2001:db8:90::1', 55), {
    name: 'HundredGigE0_0_0_11',
    description: 'HundredGigE0/0/0/11',
  });
});

test('configured names win over announced ones; CIDR match; unknown interfaces stay null', () => {
  const names = new InterfaceNames(
    [
      { exporter: '2001:db8:90::/48', index: 55, name: 'core-uplink', alias: 'to core', speed: 100e9 },
      { exporter: '192.0.2.1', index: 7, name: 'xe-0/0/7', alias: 'transit: example', speed: null },
    ],
    [{ class: 'transit', name: null, alias: '^transit' }],
    (_e, i) => (i === 55 || i === 87 ? { name: `announced-${i}`, description: null } : null),
    1000,
  );
  const r = new FlowRecord();
  r.flowsrcip = '2001:db8:90::1';
  r.input = 55;
  r.output = 87;
  names.apply(r);
  assert.equal(r.inputname, 'core-uplink');
  assert.equal(r.inputalias, 'to core');
  assert.equal(r.outputname, 'announced-87');
  const v4 = new FlowRecord();
  v4.flowsrcip = '192.0.2.1';
  v4.input = 7;
  v4.output = 8;
  names.apply(v4);
  assert.deepEqual([v4.inputname, v4.inputclasses], ['xe-0/0/7', ['transit']]);
  assert.deepEqual([v4.outputname, v4.outputalias, v4.outputclasses], [null, null, null]);
});

test('a name announced after the first flows is picked up once the short negative cache expires', () => {
  let announced: { name: string; description: null } | null = null;
  let now = 0;
  const names = new InterfaceNames(
    [],
    [],
    () => announced,
    1000,
    () => now,
  );
  const r = () => {
    const rec = new FlowRecord();
    rec.flowsrcip = '127.0.0.1';
    rec.input = 3;
    names.apply(rec);
    return rec.inputname;
  };
  assert.equal(r(), null);
  announced = { name: 'Gi0/3', description: null };
  now = 1_000;
  assert.equal(r(), null, 'still cached as unknown');
  now = 2_001;
  assert.equal(r(), 'Gi0/3');
});
