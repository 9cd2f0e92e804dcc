/**
 * Hostile datagrams and TCP streams for the attack tests (test/security/attack.test.ts) and the
 * attack script (bench/attack.ts): template floods with random layouts, templates with no fields
 * or with absurd field counts, variable-length fields claiming more than the datagram holds, sFlow
 * counts of 2^32-1 with nothing behind them, random garbage, and for IPFIX over TCP a garbage
 * stream and a message header that never gets its body (slowloris).
 *
 * Every builder is a pure function of its arguments (randomness comes from the `rand` passed in,
 * e.g. `() => rng.next()` of eval/detection/rng.ts), so a failing run can be replayed.
 */

/** RFC 7011 section 3.1 / RFC 3954 section 5.1: header lengths. */
const IPFIX_HEADER = 16;
const V9_HEADER = 20;
const SFLOW_HEADER_V4 = 28;
/** RFC 7011 section 3.3.2 / RFC 3954 section 5.2: template set ids. */
const IPFIX_TEMPLATE_SET = 2;
const V9_TEMPLATE_FLOWSET = 0;
/** RFC 7011 section 7: a field length of 0xFFFF in a template means variable length. */
const VARIABLE_LENGTH = 0xffff;
/** An export time the collector takes as "now-ish" without caring (2023-11-14). */
const EXPORT_TIME = 1_700_000_000;

/** Fixed-length information elements (IANA / RFC 3954 ids agree for these) and their lengths. */
const FIXED_FIELDS: readonly [number, number][] = [
  [1, 8], // octetDeltaCount / IN_BYTES
  [2, 8], // packetDeltaCount / IN_PKTS
  [4, 1], // protocolIdentifier / PROTOCOL
  [5, 1], // ipClassOfService / SRC_TOS
  [6, 1], // tcpControlBits / TCP_FLAGS
  [7, 2], // sourceTransportPort / L4_SRC_PORT
  [8, 4], // sourceIPv4Address / IPV4_SRC_ADDR
  [10, 4], // ingressInterface / INPUT_SNMP
  [11, 2], // destinationTransportPort / L4_DST_PORT
  [12, 4], // destinationIPv4Address / IPV4_DST_ADDR
  [14, 4], // egressInterface / OUTPUT_SNMP
  [27, 16], // sourceIPv6Address / IPV6_SRC_ADDR
  [28, 16], // destinationIPv6Address / IPV6_DST_ADDR
  [152, 8], // flowStartMilliseconds
  [153, 8], // flowEndMilliseconds
];

/** A template field as it is written on the wire. */
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_SYN, tcpFrame, udpFrame } from '../../eval/detection/frames.js';
import { type CapturedPacket, writePcapFile } from '../../eval/detection/pcap-writer.js';
export interface WireField {
  id: number;
  length: number;
  /** IPFIX only: a private enterprise number (sets the enterprise bit). */
  enterprise?: number;
}

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)] as T;
}

/**
 * A random but well-formed layout of 1..maxFields fields: standard fixed-length elements, and for
 * IPFIX now and then an enterprise-specific element of a random length (which the collector must
 * skip without knowing it).
 */
export function randomLayout(rand: () => number, maxFields: number, ipfix: boolean): WireField[] {
  const n = 1 + Math.floor(rand() * maxFields);
  const out: WireField[] = [];
  for (let i = 0; i < n; i++) {
    if (ipfix && rand() < 0.1) {
      out.push({ id: 1 + Math.floor(rand() * 0x7ffe), length: 1 + Math.floor(rand() * 16), enterprise: 9 });
    } else {
      const [id, length] = pick(rand, FIXED_FIELDS);
      out.push({ id, length });
    }
  }
  return out;
}

function fieldBytes(fields: readonly WireField[], ipfix: boolean): number {
  let n = 0;
  for (const f of fields) n += ipfix && f.enterprise !== undefined ? 8 : 4;
  return n;
}

/** Writes one template record (id, field count, fields); returns the offset after it. */
function writeTemplateRecord(
  b: Buffer,
  off: number,
  id: number,
  fields: readonly WireField[],
  claimedCount: number,
  ipfix: boolean,
): number {
  b.writeUInt16BE(id, off);
  b.writeUInt16BE(claimedCount, off + 2);
  off += 4;
  for (const f of fields) {
    const withPen = ipfix && f.enterprise !== undefined;
    b.writeUInt16BE(withPen ? f.id | 0x8000 : f.id, off);
    b.writeUInt16BE(f.length, off + 2);
    if (withPen) b.writeUInt32BE(f.enterprise as number, off + 4);
    off += withPen ? 8 : 4;
  }
  return off;
}

/** One template record to put in a template set; `claimedCount` defaults to fields.length. */
export interface TemplateRecordSpec {
  id: number;
  fields: readonly WireField[];
  claimedCount?: number;
}

/** An IPFIX message (RFC 7011 3.1) around the given sets. */
export function ipfixMessage(domain: number, sequence: number, sets: readonly Buffer[]): Buffer {
  const body = Buffer.concat(sets);
  const h = Buffer.alloc(IPFIX_HEADER);
  h.writeUInt16BE(10, 0);
  h.writeUInt16BE(IPFIX_HEADER + body.length, 2);
  h.writeUInt32BE(EXPORT_TIME, 4);
  h.writeUInt32BE(sequence >>> 0, 8);
  h.writeUInt32BE(domain >>> 0, 12);
  return Buffer.concat([h, body]);
}

/** A NetFlow v9 export packet (RFC 3954 5.1); `count` is the header's record count. */
export function v9Packet(
  sourceId: number,
  sequence: number,
  count: number,
  flowsets: readonly Buffer[],
): Buffer {
  const body = Buffer.concat(flowsets);
  const h = Buffer.alloc(V9_HEADER);
  h.writeUInt16BE(9, 0);
  h.writeUInt16BE(count & 0xffff, 2);
  h.writeUInt32BE(3_600_000, 4); // sysUptime
  h.writeUInt32BE(EXPORT_TIME, 8);
  h.writeUInt32BE(sequence >>> 0, 12);
  h.writeUInt32BE(sourceId >>> 0, 16);
  return Buffer.concat([h, body]);
}

/** A set (IPFIX) or flowset (v9): id, length, content padded to 4 bytes. */
export function setOf(id: number, content: Buffer): Buffer {
  const pad = (4 - (content.length % 4)) % 4;
  const h = Buffer.alloc(4);
  h.writeUInt16BE(id, 0);
  h.writeUInt16BE(4 + content.length + pad, 2);
  return Buffer.concat([h, content, Buffer.alloc(pad)]);
}

/** A template set (IPFIX set 2 / v9 flowset 0) holding the given records. */
export function templateSet(records: readonly TemplateRecordSpec[], ipfix: boolean): Buffer {
  let size = 0;
  for (const r of records) size += 4 + fieldBytes(r.fields, ipfix);
  const b = Buffer.alloc(size);
  let off = 0;
  for (const r of records) {
    off = writeTemplateRecord(b, off, r.id, r.fields, r.claimedCount ?? r.fields.length, ipfix);
  }
  return setOf(ipfix ? IPFIX_TEMPLATE_SET : V9_TEMPLATE_FLOWSET, b);
}

export interface TemplateFloodOptions {
  /** Template ids declared: firstId, firstId + 1, ... wrapping within 256..65535 (data template ids). */
  firstId: number;
  count: number;
  /** Fields per template: 1..maxFields, random. */
  maxFields: number;
  /** Observation domain (IPFIX) / source id (v9). */
  domain: number;
  sequence: number;
  /** Largest message; templates beyond it go to the next message. */
  maxBytes: number;
}

/**
 * Template messages declaring `count` template ids with random layouts, as many per message as
 * fit in maxBytes: what a flood of spoofed exporters (or one exporter cycling ids) sends.
 */
export function templateFlood(rand: () => number, ipfix: boolean, o: TemplateFloodOptions): Buffer[] {
  const out: Buffer[] = [];
  const header = ipfix ? IPFIX_HEADER : V9_HEADER;
  let batch: TemplateRecordSpec[] = [];
  let size = header + 4;
  const flush = () => {
    if (batch.length === 0) return;
    const set = templateSet(batch, ipfix);
    out.push(
      ipfix
        ? ipfixMessage(o.domain, o.sequence, [set])
        : v9Packet(o.domain, o.sequence + out.length, batch.length, [set]),
    );
    batch = [];
    size = header + 4;
  };
  for (let i = 0; i < o.count; i++) {
    const fields = randomLayout(rand, o.maxFields, ipfix);
    const bytes = 4 + fieldBytes(fields, ipfix);
    if (size + bytes > o.maxBytes) flush();
    batch.push({ id: 256 + ((o.firstId - 256 + i) % (0x10000 - 256)), fields });
    size += bytes;
  }
  flush();
  return out;
}

/**
 * Templates with no fields. In NetFlow v9 that is invalid (RFC 3954 5.2 needs at least one); in
 * IPFIX a field count of 0 is a withdrawal (RFC 7011 8.1), which must not be sent over UDP and
 * withdraws nothing the exporter did not announce: either way nothing is stored.
 */
export function zeroFieldTemplates(ipfix: boolean, ids: readonly number[], domain = 0): Buffer {
  const set = templateSet(
    ids.map((id) => ({ id, fields: [] })),
    ipfix,
  );
  return ipfix ? ipfixMessage(domain, 0, [set]) : v9Packet(domain, 0, ids.length, [set]);
}

/**
 * One template whose header claims `claimed` fields (65535 at most) while `present` fields are
 * actually in the set: more fields than maxfieldspertemplate, or a count the set cannot hold.
 */
export function hugeFieldTemplate(
  rand: () => number,
  ipfix: boolean,
  claimed: number,
  present: number,
  id = 300,
  domain = 0,
): Buffer {
  const fields: WireField[] = [];
  for (let i = 0; i < present; i++) {
    const [fid, length] = pick(rand, FIXED_FIELDS);
    fields.push({ id: fid, length });
  }
  const set = templateSet([{ id, fields, claimedCount: claimed & 0xffff }], ipfix);
  return ipfix ? ipfixMessage(domain, 0, [set]) : v9Packet(domain, 0, 1, [set]);
}

/**
 * An IPFIX message with a template (sourceIPv4Address, then a variable-length element) and a data
 * record of it whose length prefix claims more than the message holds: the short form (one byte,
 * up to 254; RFC 7011 7) or the long form (255 then a u16, here 0xFFFF), with `behind` bytes after.
 */
export function varlenOverrun(form: 'short' | 'long', behind: number, templateId = 400, domain = 0): Buffer {
  const template = templateSet(
    [
      {
        id: templateId,
        fields: [
          { id: 8, length: 4 }, // sourceIPv4Address
          { id: 82, length: VARIABLE_LENGTH }, // interfaceName
        ],
      },
    ],
    true,
  );
  const prefix = form === 'short' ? Buffer.from([254]) : Buffer.from([255, 0xff, 0xff]);
  const record = Buffer.concat([Buffer.from([192, 0, 2, 1]), prefix, Buffer.alloc(behind, 0x41)]);
  return ipfixMessage(domain, 0, [template, setOf(templateId, record)]);
}

/**
 * An sFlow v5 datagram (IPv4 agent) whose sample count is `samples` (2^32-1 for the attack) with
 * one flow sample behind it whose record count is `records`, and a few bytes of record after that.
 */
export function sflowAbsurdCounts(
  samples: number,
  records: number,
  agent = '192.0.2.200',
  sequence = 1,
): Buffer {
  const h = Buffer.alloc(SFLOW_HEADER_V4);
  h.writeUInt32BE(5, 0);
  h.writeUInt32BE(1, 4); // agent address type IPv4
  Buffer.from(agent.split('.').map(Number)).copy(h, 8);
  h.writeUInt32BE(0, 12); // sub-agent
  h.writeUInt32BE(sequence >>> 0, 16);
  h.writeUInt32BE(60_000, 20); // uptime
  h.writeUInt32BE(samples >>> 0, 24);
  // One flow sample (format 1): header words, then a record count and one short record.
  const s = Buffer.alloc(8 + 32 + 8 + 8);
  s.writeUInt32BE(1, 0);
  s.writeUInt32BE(s.length - 8, 4);
  s.writeUInt32BE(1, 8); // sequence
  s.writeUInt32BE(3, 12); // source id: ifIndex 3
  s.writeUInt32BE(1000, 16); // sampling rate
  s.writeUInt32BE(1000, 20); // sample pool
  s.writeUInt32BE(0, 24); // drops
  s.writeUInt32BE(3, 28); // input
  s.writeUInt32BE(4, 32); // output
  s.writeUInt32BE(records >>> 0, 36);
  s.writeUInt32BE(1001, 40); // extended switch record ...
  s.writeUInt32BE(16, 44); // ... claiming 16 bytes, 8 present
  return Buffer.concat([h, s]);
}

/**
 * Random bytes, 16..maxBytes long. Half start with a version number the collector recognises
 * (5, 9, 10 or sFlow 5) so they reach the protocol decoders instead of stopping at detection.
 */
export function garbageDatagram(rand: () => number, maxBytes = 1400): Buffer {
  const n = 16 + Math.floor(rand() * Math.max(1, maxBytes - 16));
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rand() * 256);
  if (rand() < 0.5) {
    const v = pick(rand, [5, 9, 10, 0x50000]);
    if (v === 0x50000) b.writeUInt32BE(5, 0);
    else b.writeUInt16BE(v, 0);
  }
  return b;
}

/** A chunk of a garbage TCP stream: random bytes, or an HTTP request line (a scanner's hello). */
export function garbageStream(rand: () => number, bytes = 512): Buffer {
  if (rand() < 0.3) return Buffer.from('GET / HTTP/1.1\r\nHost: collector\r\n\r\n');
  const b = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) b[i] = Math.floor(rand() * 256);
  return b;
}

/**
 * The start of an IPFIX message that never completes (slowloris over TCP): a valid header
 * announcing `claimedLength` bytes, and only `sentBytes` of it (at least the 4 bytes that make
 * the length known, at most the header).
 */
export function stalledIpfixHeader(claimedLength = 1400, sentBytes = IPFIX_HEADER): Buffer {
  const h = ipfixMessage(1, 0, []);
  h.writeUInt16BE(claimedLength, 2);
  return h.subarray(0, Math.max(1, Math.min(sentBytes, IPFIX_HEADER)));
}

/** sourceIPv4Address, destinationIPv4Address, octetDeltaCount (8), packetDeltaCount (8). */
export const SIMPLE_FLOW_FIELDS: readonly WireField[] = [
  { id: 8, length: 4 },
  { id: 12, length: 4 },
  { id: 1, length: 8 },
  { id: 2, length: 8 },
];

/**
 * A valid IPFIX message (template only, no data records): decodable by any collector, producing
 * no records, so a flood of them costs decode time but writes nothing out.
 */
export function templateRefresh(domain = 0, sequence = 0): Buffer {
  return ipfixMessage(domain, sequence, [templateSet([{ id: 256, fields: SIMPLE_FLOW_FIELDS }], true)]);
}

/**
 * A spoofed exporter's source address on loopback for index i (0-based): 127.A.B.C with A from 10
 * up, so none of them is 127.0.0.1 (the legitimate exporter in the tests) or in 127.0.0.0/16
 * (where the tests put TCP clients).
 */
export function spoofedAddress(i: number): string {
  const c = 1 + (i % 254);
  const b = Math.floor(i / 254) % 256;
  const a = 10 + Math.floor(i / (254 * 256));
  if (a > 254) throw new Error(`spoofed exporter ${i}: beyond 127/8`);
  return `127.${a}.${b}.${c}`;
}

// ---- the legitimate exporter's traffic: a capture softflowd replays during the attacks ----

export interface ExpectedFlow {
  key: string;
  packets: number;
  ipBytes: number;
}

export const flowKey = (proto: unknown, src: unknown, sport: unknown, dst: unknown, dport: unknown) =>
  `${proto} ${src}:${sport} > ${dst}:${dport}`;

/**
 * A capture of 24 TCP flows (SYN, data, FIN) and 12 UDP flows, each with its own 5-tuple, with
 * recent timestamps; the flows softflowd must export from it.
 */
export function writeLegitCapture(path: string): ExpectedFlow[] {
  const packets: CapturedPacket[] = [];
  const flows: ExpectedFlow[] = [];
  let tsUs = (Date.now() - 120_000) * 1000;
  for (let f = 0; f < 36; f++) {
    const tcp = f < 24;
    const src = `10.9.${f}.1`;
    const dst = `198.51.100.${f + 1}`;
    const sport = 40_000 + f;
    const dport = tcp ? 443 : 53;
    const count = 1 + (f % 7);
    let ipBytes = 0;
    for (let p = 0; p < count; p++) {
      const size = (f * 37 + p * 101) % 1400;
      const flags = p === 0 ? TCP_SYN : p === count - 1 ? TCP_FIN | TCP_ACK : TCP_ACK | TCP_PSH;
      const fr = tcp
        ? tcpFrame(src, dst, sport, dport, flags, p === 0 ? 0 : size, p + 1, p + 1)
        : udpFrame(src, dst, sport, dport, size, p + 1);
      packets.push({ tsUs, frame: fr.frame, wireLength: fr.wireLength });
      ipBytes += fr.wireLength - 14;
      tsUs += 1000;
    }
    flows.push({ key: flowKey(tcp ? 6 : 17, src, sport, dst, dport), packets: count, ipBytes });
  }
  writePcapFile(path, packets);
  return flows;
}
