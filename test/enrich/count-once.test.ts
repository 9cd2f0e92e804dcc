/**
 * Count once: on a real Cisco IOS XR IPFIX capture (interface names from its options data), only
 * records entering on the "boundary" class (sub-interfaces .124-.126) count; the others keep their data, weigh 0
 * and are tagged. Exporters no rule covers count everything.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readCaptureFile } from '../../src/capture/capture-reader.js';
import type { FlowgateConfig } from '../../src/config/types.js';
import { detectProtocol, FlowDecoder } from '../../src/decode/flow-decoder.js';
import { defaultDecoderSettings } from '../../src/decode/settings.js';
import { UNCOUNTED_TAG } from '../../src/enrich/count-once.js';
import { Enricher } from '../../src/enrich/enricher.js';
import type { FlowRecord } from '../../src/record/flow-record.js';
import { CollectingSink } from '../helpers/collecting-sink.js';
import { testConfig } from '../helpers/config.js';
import { corpusPath } from '../helpers/corpus.js';

const CAPTURE = 'ipfix/pmacct_112-IPFIXv10-CISCO-options-map-reassignment_traffic-00.pcap';

function enriched(countonce: FlowgateConfig['countonce']): {
  records: FlowRecord[];
  enricher: Enricher;
} {
  const decoder = new FlowDecoder(defaultDecoderSettings());
  const sink = new CollectingSink();
  for (const d of readCaptureFile(corpusPath(CAPTURE))) {
    if (detectProtocol(d.payload) !== null) decoder.decode(d, sink);
  }
  const enricher = new Enricher(
    // Three of the capture's nine ingress sub-interfaces (.124-.126) are the boundary.
    testConfig({ interfaceclasses: [{ class: 'boundary', name: '\\.12[4-6]$', alias: null }], countonce }),
    { announcedInterface: (e, i) => decoder.templates.interfaceName(e, i) },
  );
  for (const r of sink.records) enricher.apply(r);
  return { records: sink.records, enricher };
}

test('ingress on boundary interfaces only: the other copies weigh 0, are tagged and counted in stats', () => {
  const { records, enricher } = enriched([{ exporter: null, class: 'boundary', direction: 'ingress' }]);
  const counted = records.filter((r) => r.inputclasses?.includes('boundary'));
  const uncounted = records.filter((r) => !r.inputclasses?.includes('boundary'));
  assert.deepEqual([counted.length, uncounted.length], [3, 6]);
  for (const r of counted) {
    assert.equal(r.weight, 1);
    assert.ok(!r.tags?.includes(UNCOUNTED_TAG));
  }
  for (const r of uncounted) {
    assert.equal(r.weight, 0);
    assert.ok(r.tags?.includes(UNCOUNTED_TAG));
    assert.ok(r.bits !== null && r.bits > 0, 'the data itself is kept');
  }
  assert.equal(enricher.stats().uncounted, uncounted.length);
});

test('egress rules look at the output interface; rules for other exporters leave these alone', () => {
  const egress = enriched([{ exporter: '2001:db8:90::/48', class: 'boundary', direction: 'egress' }]).records;
  for (const r of egress) assert.equal(r.weight, r.outputclasses?.includes('boundary') ? 1 : 0);
  const elsewhere = enriched([{ exporter: '192.0.2.0/24', class: 'boundary', direction: 'ingress' }]).records;
  assert.ok(elsewhere.every((r) => r.weight === 1 && !r.tags?.includes(UNCOUNTED_TAG)));
});
