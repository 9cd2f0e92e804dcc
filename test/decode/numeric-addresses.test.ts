/**
 * FlowRecord.srcip4/dstip4/nexthop4/bgpnexthop4 (the u32 the decoder read, which enrichment and
 * the store use instead of parsing the text) agree with the address text on every record of every
 * capture of the corpus: the number spells the text, every IPv4 text a decoder wrote has its
 * number, and IPv6 has none.
 */
import assert from 'node:assert/strict';
import { basename } from 'node:path';
import { test } from 'node:test';
import { readCaptureFile } from '../../src/capture/capture-reader.js';
import { detectProtocol, FlowDecoder } from '../../src/decode/flow-decoder.js';
import { defaultDecoderSettings } from '../../src/decode/settings.js';
import { ipv4FromU32 } from '../../src/record/address.js';
import type { FlowRecord } from '../../src/record/flow-record.js';
import { CollectingSink } from '../helpers/collecting-sink.js';
import { corpusFiles } from '../helpers/corpus.js';

const FIELDS = [
  ['srcip', 'srcip4'],
  ['dstip', 'dstip4'],
  ['nexthop', 'nexthop4'],
  ['bgpnexthop', 'bgpnexthop4'],
] as const;

test('numeric IPv4 addresses match the text on every record of the corpus', () => {
  const checked = { v4: 0, v6: 0, files: 0 };
  for (const folder of ['netflow5', 'netflow9', 'ipfix', 'sflow']) {
    for (const file of corpusFiles(folder)) {
      if (file.endsWith('.md')) continue;
      // Each file with a fresh decoder, its datagrams in order (template files before data files
      // are not needed: a record decoded at all must be consistent).
      const decoder = new FlowDecoder(defaultDecoderSettings());
      const sink = new CollectingSink();
      for (const d of readCaptureFile(file)) if (detectProtocol(d.payload) !== null) decoder.decode(d, sink);
      checked.files++;
      sink.records.forEach((rec: FlowRecord, i) => {
        for (const [text, num] of FIELDS) {
          const t = rec[text];
          const n = rec[num];
          const where = `${basename(file)} record ${i} ${text}=${t} ${num}=${n}`;
          if (t === null) {
            assert.equal(n, -1, where);
          } else if (t.includes(':')) {
            assert.equal(n, -1, where);
            checked.v6++;
          } else {
            assert.ok(n >= 0, `${where}: a decoded IPv4 address without its number`);
            assert.equal(ipv4FromU32(n), t, where);
            checked.v4++;
          }
        }
      });
    }
  }
  assert.ok(checked.files > 50, `files: ${checked.files}`);
  assert.ok(checked.v4 > 1000 && checked.v6 > 100, JSON.stringify(checked));
});
