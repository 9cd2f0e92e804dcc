/**
 * Cross-check of our decoders against tshark (Wireshark 4.0's cflow and sflow dissectors) over the
 * whole corpus: every capture of netflow5/, netflow9/, ipfix/ and sflow/, split template/data
 * fixtures decoded together in the replay order of PROVENANCE.md. Per capture (or replay group):
 * the number of flow datagrams, the records per datagram, and the key fields record by record.
 *
 * Known legitimate differences are listed in ALLOWED below, each with the reason; nothing else is
 * skipped, so a regression in a decoder (or the capture reader) fails here.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readCaptureFile } from '../../src/capture/capture-reader.js';
import type { Datagram } from '../../src/decode/datagram.js';
import { detectProtocol, FlowDecoder } from '../../src/decode/flow-decoder.js';
import { defaultDecoderSettings } from '../../src/decode/settings.js';
import type { FlowRecord } from '../../src/record/flow-record.js';
import { CollectingSink } from '../helpers/collecting-sink.js';
import { corpusFiles, TESTDATA } from '../helpers/corpus.js';
import {
  cflowDatagrams,
  concatCaptures,
  type KeyRecord,
  sflowDatagrams,
  type TsharkDatagram,
  toolAvailable,
  tsharkJson,
  udpDestinationPorts,
  writeUdpPcap,
} from '../helpers/tshark.js';

const FOLDERS = ['netflow5', 'netflow9', 'ipfix', 'sflow'] as const;
const haveTshark = toolAvailable('tshark') && toolAvailable('mergecap');
const work = mkdtempSync(join(tmpdir(), 'flowgate-tshark-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** Replay groups from PROVENANCE.md ("* **Name**: `a` → `b` → `c`"), as absolute paths. */
function replayGroups(): { name: string; files: string[] }[] {
  const text = readFileSync(join(TESTDATA, 'PROVENANCE.md'), 'utf8');
  const groups: { name: string; files: string[] }[] = [];
  for (const line of text.split('\n')) {
    const m = /^\* \*\*(.+?)\*\*: (.+)$/.exec(line);
    if (!m || !m[2].includes('→')) continue;
    const files = [...m[2].matchAll(/`([^`]+)`/g)].map((f) => join(TESTDATA, f[1]));
    groups.push({ name: m[1], files });
  }
  return groups;
}

interface Case {
  name: string;
  files: string[];
  sflow: boolean;
}

/** Every replay group, plus every other corpus file alone (a grouped file is covered by its group). */
function cases(): Case[] {
  const groups = replayGroups();
  const grouped = new Set(groups.flatMap((g) => g.files));
  const out: Case[] = groups.map((g) => ({
    name: `${g.name} (${g.files.map((f) => basename(f)).join(' → ')})`,
    files: g.files,
    sflow: false,
  }));
  for (const folder of FOLDERS) {
    for (const f of corpusFiles(folder)) {
      if (!grouped.has(f))
        out.push({ name: `${folder}/${basename(f)}`, files: [f], sflow: folder === 'sflow' });
    }
  }
  return out;
}

/** Our side: every datagram of the files through one FlowDecoder; records grouped per flow datagram. */
function decodeOurs(datagrams: Datagram[]): { perDatagram: FlowRecord[][]; sink: CollectingSink } {
  const decoder = new FlowDecoder(defaultDecoderSettings());
  const sink = new CollectingSink();
  const perDatagram: FlowRecord[][] = [];
  for (const d of datagrams) {
    if (detectProtocol(d.payload) === null) continue;
    const before = sink.records.length;
    decoder.decode(d, sink);
    perDatagram.push(sink.records.slice(before));
  }
  return { perDatagram, sink };
}

function isPcap(file: string): boolean {
  return file.endsWith('.pcap') || file.endsWith('.pcapng');
}

/** tshark's side of the same bytes: the capture itself, or the payload-only files framed as UDP. */
function decodeTshark(c: Case, datagrams: Datagram[]): TsharkDatagram[] {
  const proto = c.sflow ? 'sflow' : 'cflow';
  let file: string;
  let ports: number[];
  if (c.files.every(isPcap)) {
    file = c.files[0];
    if (c.files.length > 1) {
      file = join(work, `${basename(c.files[0])}-group.pcap`);
      concatCaptures(c.files, file);
    }
    // 4789 is VXLAN inside a sampled sFlow header, not an outer flow port.
    ports = udpDestinationPorts(file).filter((p) => p !== 4789);
  } else {
    file = join(work, `${basename(c.files[0])}-framed.pcap`);
    ports = [c.sflow ? 6343 : 2055];
    writeUdpPcap(
      file,
      datagrams.filter((d) => detectProtocol(d.payload) !== null),
      ports[0],
    );
  }
  const packets = tsharkJson(file, ports, proto);
  return c.sflow ? sflowDatagrams(packets) : cflowDatagrams(packets);
}

function keyOf(r: FlowRecord): KeyRecord & { icmptype: number | null; icmpcode: number | null } {
  return {
    srcip: r.srcip,
    dstip: r.dstip,
    srcport: r.srcport,
    dstport: r.dstport,
    protocol: r.protocolint,
    bytes: r.bits === null ? null : r.bits / 8,
    packets: r.packets,
    samplerate: r.samplerate,
    input: r.input,
    output: r.output,
    icmptype: r.icmptype,
    icmpcode: r.icmpcode,
  };
}

/**
 * ALLOWED: the known, checked differences between tshark and us. Returns the fields that differ
 * after applying them.
 */
function differences(ours: ReturnType<typeof keyOf>, theirs: KeyRecord, sflow: boolean): string[] {
  const diffs: string[] = [];
  const eq = (field: keyof KeyRecord, a: unknown, b: unknown) => {
    if (a !== b) diffs.push(`${field}: ours ${JSON.stringify(a)}, tshark ${JSON.stringify(b)}`);
  };
  eq('srcip', ours.srcip, theirs.srcip);
  eq('dstip', ours.dstip, theirs.dstip);
  eq('protocol', ours.protocol, theirs.protocol);
  eq('bytes', ours.bytes, theirs.bytes);
  eq('packets', ours.packets, theirs.packets);
  eq('input', ours.input, theirs.input);
  eq('output', ours.output, theirs.output);
  const icmp = theirs.protocol === 1 || theirs.protocol === 58;
  if (icmp && !sflow) {
    // ALLOWED (ICMP ports): NetFlow v5 and many v9/IPFIX exporters carry ICMP type<<8|code in the
    // destination port; tshark prints the raw ports, we move them to icmptype/icmpcode (ports null,
    // record/normalize.ts). Checked: the port value must equal our type/code.
    if (theirs.dstport !== null && theirs.dstport !== 0) {
      eq('dstport', ((ours.icmptype ?? 0) << 8) | (ours.icmpcode ?? 0), theirs.dstport);
    }
    eq('srcport', ours.srcport, null);
    eq('dstport', ours.dstport, null);
  } else if (icmp) {
    // ALLOWED (sFlow ICMP): tshark has no ports for a sampled ICMP packet; we have none either.
    eq('srcport', ours.srcport, null);
    eq('dstport', ours.dstport, null);
  } else {
    eq('srcport', ours.srcport, theirs.srcport);
    eq('dstport', ours.dstport, theirs.dstport);
  }
  if (theirs.samplerate !== null && theirs.samplerate !== 0) {
    eq('samplerate', ours.samplerate, theirs.samplerate);
  }
  return diffs;
}

describe('tshark cross-check over the corpus', {
  skip: haveTshark ? false : 'tshark/mergecap not installed',
}, () => {
  for (const c of cases()) {
    it(c.name, () => {
      const datagrams = c.files.flatMap((f) => [...readCaptureFile(f)]);
      const ours = decodeOurs(datagrams);
      const theirs = decodeTshark(c, datagrams);
      assert.equal(
        ours.perDatagram.length,
        theirs.length,
        `${c.name}: flow datagrams: ours ${ours.perDatagram.length}, tshark ${theirs.length}`,
      );
      const problems: string[] = [];
      for (let i = 0; i < theirs.length; i++) {
        const t = theirs[i];
        const o = ours.perDatagram[i];
        if (o.length !== t.records.length) {
          problems.push(
            `datagram ${i + 1} (frame ${t.frame}): records: ours ${o.length}, tshark ${t.records.length}` +
              ` (tshark: ${t.optionsRecords} options records, ${t.setsWithoutTemplate} sets without template)`,
          );
          continue;
        }
        for (let j = 0; j < o.length; j++) {
          const d = differences(keyOf(o[j]), t.records[j], c.sflow);
          if (d.length > 0)
            problems.push(`datagram ${i + 1} (frame ${t.frame}) record ${j + 1}: ${d.join('; ')}`);
        }
      }
      assert.deepEqual(problems.slice(0, 20), [], `${c.name}: ${problems.length} disagreements with tshark`);
    });
  }
});
