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
    if (!m?.[2].includes('→')) continue;
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
function decodeOurs(
  datagrams: Datagram[],
  sflow: boolean,
): { perDatagram: FlowRecord[][]; sink: CollectingSink } {
  const decoder = new FlowDecoder(defaultDecoderSettings());
  const sink = new CollectingSink();
  const perDatagram: FlowRecord[][] = [];
  for (const d of datagrams) {
    if (!inFamily(d, sflow)) continue;
    const before = sink.records.length;
    decoder.decode(d, sink);
    perDatagram.push(sink.records.slice(before));
  }
  return { perDatagram, sink };
}

/**
 * Whether a datagram is one tshark decodes in this case: cflow and sflow cannot share a port in
 * tshark's decode-as, so an sFlow case checks the sFlow datagrams only (tcpdump's sFlow capture also
 * holds NetFlow v5 datagrams sent to 6343, which the NetFlow cases cover), and vice versa.
 */
function inFamily(d: Datagram, sflow: boolean): boolean {
  const p = detectProtocol(d.payload);
  return p !== null && (p === 'sflow5') === sflow;
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
      datagrams.filter((d) => inFamily(d, c.sflow)),
      ports[0],
    );
  }
  const packets = tsharkJson(file, ports, proto);
  return c.sflow ? sflowDatagrams(packets) : cflowDatagrams(packets);
}

function keyOf(r: FlowRecord): KeyRecord {
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
    start: r.start,
    end: r.end,
    repeated: {},
  };
}

/**
 * ALLOWED: the known, checked differences between tshark and us, each applied to the field it
 * concerns only. Returns the fields that still differ.
 *
 * Whole-datagram differences are handled in `compareDatagram`:
 * - tshark stops at the v9 header count (RFC 3954 §5.1 says count = all records, but exporters get
 *   it wrong: graylog_netflow-v9-1.dat says 2 and carries 2 templates + 2 data records); we decode
 *   every flowset the datagram's length holds, like nfdump;
 * - tshark aborts a datagram at a malformed field (H3C's template 3281 declares field 43 with 2
 *   bytes: "Trying to fetch an IPv4 address with length 2"); we skip the field and decode all 16
 *   one-record flowsets;
 * - tshark keys templates by source port too; we key by exporter address unless `keyByPort`
 *   (pmacct_112 sends templates from port 61853, then data from 65156);
 * - tshark 4.0 does not know sFlow discarded-packet samples (type 5, sflow.org/sflow_drops.txt).
 * In those datagrams we must have more records, and every record tshark did decode must appear
 * among ours, in order, with no difference.
 */
function differences(ours: KeyRecord, theirs: KeyRecord, sflow: boolean): string[] {
  const diffs: string[] = [];
  const eq = (field: string, a: unknown, b: unknown) => {
    // A field the record carries more than once (see KeyRecord.repeated: biflow reverse counters,
    // SRv6/MPLS outer + inner headers, NBAR's TCP/UDP-specific ports): ours must be one of them.
    const alternatives = theirs.repeated[field === 'icmp type<<8|code' ? 'dstport' : field];
    if (alternatives?.includes(a as string | number | null)) return;
    if (a !== b)
      diffs.push(`${field}: ours ${JSON.stringify(a)}, tshark ${JSON.stringify(alternatives ?? b)}`);
  };
  eq('srcip', ours.srcip, theirs.srcip);
  eq('dstip', ours.dstip, theirs.dstip);
  eq('protocol', ours.protocol, theirs.protocol);
  eq('bytes', ours.bytes, theirs.bytes);
  eq('packets', ours.packets, theirs.packets);
  for (const f of ['input', 'output'] as const) {
    // sFlow v5 (sflow_version_5.txt, flow_sample): interface 0 means "not known"; we say null.
    if (sflow && theirs[f] === 0) eq(f, ours[f], null);
    else eq(f, ours[f], theirs[f]);
  }
  const icmp = theirs.protocol === 1 || theirs.protocol === 58;
  if (icmp) {
    // We never keep ports for ICMP (record/normalize.ts): type/code go to icmptype/icmpcode.
    eq('srcport', ours.srcport, null);
    eq('dstport', ours.dstport, null);
    if (theirs.icmptype !== null) {
      // Explicit ICMP type/code fields (IE 32/139/176-179, or the sampled ICMP header in sFlow).
      // Cisco ASA then carries the ICMP identifier in the port fields (17549 in
      // logstash_nf9_cisco_asa_1_data.dat): not a type/code, and not kept.
      eq('icmptype', ours.icmptype, theirs.icmptype);
      eq('icmpcode', ours.icmpcode, theirs.icmpcode);
    } else if (!sflow && theirs.dstport !== null) {
      // NetFlow v5 and most v9/IPFIX exporters put type << 8 | code in the destination port,
      // which tshark prints raw.
      eq('icmp type<<8|code', ((ours.icmptype ?? 0) << 8) | (ours.icmpcode ?? 0), theirs.dstport);
    }
  } else {
    eq('srcport', ours.srcport, theirs.srcport);
    eq('dstport', ours.dstport, theirs.dstport);
  }
  if (theirs.samplerate !== null && theirs.samplerate !== 0)
    eq('samplerate', ours.samplerate, theirs.samplerate);
  // Times where tshark shows them (v5/v9 uptime-relative made absolute, IPFIX absolute fields).
  // tshark ignores the 32-bit wrap of the uptime counters (RFC 3954 §5.1, ms since boot: wraps
  // every 49.7 days): logstash_netflow5.dat has FIRST = 2^32 - 1 with sysUptime 3,381, i.e. the flow
  // began 1 ms before the counter wrapped, 3.4 s before export; tshark puts it 49.7 days after the
  // export. Exactly 2^32 ms later than ours is that quirk.
  for (const f of ['start', 'end'] as const) {
    const t = theirs[f];
    const o = ours[f];
    if (t === null) continue;
    if (o !== null && t - o === 2 ** 32) continue;
    eq(f, o, t);
  }
  return diffs;
}

/** Disagreements of one datagram (empty when it agrees, allowances applied). */
function compareDatagram(where: string, o: FlowRecord[], t: TsharkDatagram, sflow: boolean): string[] {
  const incomplete =
    t.malformed ||
    t.setsWithoutTemplate > 0 ||
    t.dropSamples > 0 ||
    (t.headerCount !== null && t.parsedRecords >= t.headerCount);
  if (o.length !== t.records.length) {
    if (!incomplete || o.length < t.records.length + t.dropSamples) {
      return [
        `${where}: records: ours ${o.length}, tshark ${t.records.length}` +
          ` (tshark: ${t.optionsRecords} options records, ${t.setsWithoutTemplate} sets without template,` +
          ` ${t.dropSamples} drop samples, count ${t.headerCount}, malformed ${t.malformed})`,
      ];
    }
    // Every record tshark decoded must be one of ours, in order.
    let j = 0;
    for (const rec of o) {
      if (j < t.records.length && differences(keyOf(rec), t.records[j], sflow).length === 0) j++;
    }
    return j === t.records.length ? [] : [`${where}: tshark record ${j + 1} is not among ours`];
  }
  const out: string[] = [];
  for (let j = 0; j < o.length; j++) {
    const d = differences(keyOf(o[j]), t.records[j], sflow);
    if (d.length > 0) out.push(`${where} record ${j + 1}: ${d.join('; ')}`);
  }
  return out;
}

/**
 * Records tshark leaves undecoded, checked by hand from the bytes; the expected values stand in for
 * tshark's (only where tshark has none). Keyed by the last file of the case, datagram, record.
 */
const HAND_CHECKED: Record<string, Partial<KeyRecord>> = {
  // RFC 7133 dataLinkFrameSection of an Ethernet-over-MPLS frame: two labels, the pseudowire
  // control word 0x00000000, then the inner Ethernet frame. tshark's MPLS payload heuristic leaves
  // this one (record 4) as "data". Bytes 38-57 are IPv4 c6.33.64.01 > c6.33.64.02 proto 06, then
  // TCP ports 0x01bb > 0xd883.
  'akvorado_netflow_ethernet-over-mpls-with-control-word-data.pcap 2 4': {
    srcip: '198.51.100.1',
    dstip: '198.51.100.2',
    protocol: 6,
    srcport: 443,
    dstport: 55427,
  },
};

function applyHandChecked(c: Case, theirs: TsharkDatagram[]): void {
  for (const [key, values] of Object.entries(HAND_CHECKED)) {
    const [file, dg, rec] = key.split(' ');
    if (basename(c.files[c.files.length - 1]) !== file) continue;
    const t = theirs[Number(dg) - 1]?.records[Number(rec) - 1];
    assert.ok(t && t.srcip === null, `${key}: tshark now decodes this record; drop it from HAND_CHECKED`);
    Object.assign(t, values);
  }
}

/** Records tshark and we agreed on, over all cases: the check is not vacuous. */
let compared = 0;

describe('tshark cross-check over the corpus', {
  skip: haveTshark ? false : 'tshark/mergecap not installed',
}, () => {
  for (const c of cases()) {
    it(c.name, () => {
      const datagrams = c.files.flatMap((f) => [...readCaptureFile(f)]);
      const ours = decodeOurs(datagrams, c.sflow);
      const theirs = decodeTshark(c, datagrams);
      applyHandChecked(c, theirs);
      assert.equal(
        ours.perDatagram.length,
        theirs.length,
        `${c.name}: flow datagrams: ours ${ours.perDatagram.length}, tshark ${theirs.length}`,
      );
      const problems: string[] = [];
      for (let i = 0; i < theirs.length; i++) {
        problems.push(
          ...compareDatagram(
            `datagram ${i + 1} (frame ${theirs[i].frame})`,
            ours.perDatagram[i],
            theirs[i],
            c.sflow,
          ),
        );
      }
      compared += theirs.reduce((n, t) => n + t.records.length, 0);
      assert.deepEqual(problems.slice(0, 20), [], `${c.name}: ${problems.length} disagreements with tshark`);
    });
  }
  it('compared tens of thousands of records in all', () => {
    // overflowd_netflow_4M.pcap alone holds ~80k v5 records; the pmacct captures thousands more.
    assert.ok(compared > 80_000, `only ${compared} records compared`);
  });
});
