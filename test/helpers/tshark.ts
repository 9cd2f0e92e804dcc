/**
 * tshark as an independent second decoder for the cross-check tests: run it on a capture, read its
 * JSON (`-T json --no-duplicate-keys`, repeated keys merged into arrays) and reduce every NetFlow /
 * IPFIX data record and every sFlow flow sample to the few key fields both tools must agree on.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import type { Datagram } from '../../src/decode/datagram.js';

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** The fields compared record by record (both sides are reduced to this). */
export interface KeyRecord {
  srcip: string | null;
  dstip: string | null;
  srcport: number | null;
  dstport: number | null;
  protocol: number | null;
  /** Octets (sFlow: the sampled frame's length). */
  bytes: number | null;
  packets: number | null;
  samplerate: number | null;
  input: number | null;
  output: number | null;
  icmptype: number | null;
  icmpcode: number | null;
  /** Flow start/end, Unix ms (NetFlow v5/v9 uptime-relative times made absolute with the header). */
  start: number | null;
  end: number | null;
  /**
   * Every value of a key field the record carried more than once (the value above is the first).
   * tshark names repeats alike: RFC 5103 reverse elements (PEN 29305), Cisco SRv6/MPLS outer and
   * inner headers, NBAR's TCP_SRC_PORT (182) / UDP_DST_PORT (183) next to L4 ports.
   */
  repeated: Record<string, (string | number | null)[]>;
}

/** One flow datagram as tshark saw it. */
export interface TsharkDatagram {
  frame: number;
  /** Flow records (NetFlow/IPFIX data records of non-options templates, sFlow flow samples). */
  records: KeyRecord[];
  /** Data records of options templates (exporter state, not flows). */
  optionsRecords: number;
  /** Data sets tshark skipped for lack of a template. */
  setsWithoutTemplate: number;
  /** sFlow counter samples. */
  counterSamples: number;
  /** sFlow samples of type 5 (discarded packet, sflow.org/sflow_drops.txt), which tshark 4.0 does not know. */
  dropSamples: number;
  /** NetFlow v9 header count (records of every kind the exporter claims), null for others. */
  headerCount: number | null;
  /** Records of every kind tshark parsed (templates, options templates, data, options data). */
  parsedRecords: number;
  /** tshark gave up on part of the datagram (an exception: "Malformed Packet"). */
  malformed: boolean;
}

export function toolAvailable(tool: string): boolean {
  return spawnSync(tool, ['-v'], { stdio: 'ignore', timeout: 10_000 }).status === 0;
}

function run(tool: string, args: string[]): string {
  const res = spawnSync(tool, args, { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024, timeout: 120_000 });
  // A capture cut short mid-packet (overflowd_netflow_4M.pcap is truncated at 4,000,000 bytes)
  // makes tshark exit non-zero after printing every complete packet: that output is what we want.
  const cutShort = /cut short in the middle of a packet/.test(res.stderr ?? '');
  if (res.status !== 0 && !cutShort)
    throw new Error(`${tool} ${args.join(' ')} failed: ${res.error ?? res.stderr}`);
  return res.stdout;
}

/** Outer UDP destination ports of a capture (first UDP header of each frame only). */
export function udpDestinationPorts(file: string): number[] {
  const out = run('tshark', ['-r', file, '-T', 'fields', '-E', 'occurrence=f', '-e', 'udp.dstport']);
  const ports = new Set<number>();
  for (const line of out.split('\n')) if (line.trim() !== '') ports.add(Number(line));
  return [...ports].sort((a, b) => a - b);
}

/** Concatenates captures in the given order (mergecap without -a would sort by time). */
export function concatCaptures(files: string[], out: string): void {
  run('mergecap', ['-a', '-F', 'pcap', '-w', out, ...files]);
}

/**
 * Writes datagrams as a classic pcap of Ethernet/IP/UDP frames, so tshark can read payload-only
 * fixtures (.dat/.bin/.dump/.ipfix) and sequences of them in replay order.
 */
export function writeUdpPcap(file: string, datagrams: Datagram[], dstPortOverride?: number): void {
  const parts: Buffer[] = [];
  const global = Buffer.alloc(24);
  global.writeUInt32LE(0xa1b2c3d4, 0);
  global.writeUInt16LE(2, 4);
  global.writeUInt16LE(4, 6);
  global.writeUInt32LE(262_144, 16);
  global.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
  parts.push(global);
  for (const d of datagrams) {
    const v6 = d.srcAddress.includes(':');
    const ipLen = v6 ? 40 : 20;
    const frame = Buffer.alloc(14 + ipLen + 8 + d.payload.length);
    frame.writeUInt16BE(v6 ? 0x86dd : 0x0800, 12);
    const udpLen = 8 + d.payload.length;
    if (v6) {
      frame.writeUInt32BE(0x60000000, 14);
      frame.writeUInt16BE(udpLen, 18);
      frame[20] = 17;
      frame[21] = 64;
      ipv6Bytes(d.srcAddress).copy(frame, 22);
      ipv6Bytes('::1').copy(frame, 38);
    } else {
      frame[14] = 0x45;
      frame.writeUInt16BE(20 + udpLen, 16);
      frame[22] = 64;
      frame[23] = 17;
      Buffer.from(d.srcAddress.split('.').map(Number)).copy(frame, 26);
      Buffer.from([127, 0, 0, 1]).copy(frame, 30);
    }
    const udp = 14 + ipLen;
    frame.writeUInt16BE(d.srcPort, udp);
    frame.writeUInt16BE(dstPortOverride ?? d.dstPort, udp + 2);
    frame.writeUInt16BE(udpLen, udp + 4);
    d.payload.copy(frame, udp + 8);
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(Math.floor(d.receivedAtMs / 1000), 0);
    rec.writeUInt32LE((d.receivedAtMs % 1000) * 1000, 4);
    rec.writeUInt32LE(frame.length, 8);
    rec.writeUInt32LE(frame.length, 12);
    parts.push(rec, frame);
  }
  writeFileSync(file, Buffer.concat(parts));
}

function ipv6Bytes(addr: string): Buffer {
  const [head, tail = ''] = addr.includes('::') ? addr.split('::') : [addr, ''];
  const h = head === '' ? [] : head.split(':');
  const t = tail === '' ? [] : tail.split(':');
  const groups = addr.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  const out = Buffer.alloc(16);
  for (let i = 0; i < 8; i++) out.writeUInt16BE(Number.parseInt(groups[i], 16), i * 2);
  return out;
}

/** tshark's packet list as JSON, with `-d udp.port==P,proto` for every given port. */
export function tsharkJson(file: string, ports: number[], proto: 'cflow' | 'sflow'): JsonObject[] {
  const args = ['-r', file, '-T', 'json', '--no-duplicate-keys', '-J', `frame ip ipv6 udp ${proto}`];
  for (const p of ports) args.push('-d', `udp.port==${p},${proto}`);
  return JSON.parse(run('tshark', args)) as JsonObject[];
}

function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Values of a key, whether tshark wrote it once or merged repeats into an array. */
function each(v: Json | undefined): Json[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

function str(o: JsonObject, key: string): string | null {
  const v = o[key];
  const first = Array.isArray(v) ? v[0] : v;
  return typeof first === 'string' ? first : null;
}

function num(o: JsonObject, key: string): number | null {
  const s = str(o, key);
  if (s === null || s === '') return null;
  const n = s.startsWith('0x') ? Number.parseInt(s, 16) : Number(s);
  return Number.isFinite(n) ? n : null;
}

function layers(packet: JsonObject): JsonObject {
  const source = packet._source;
  if (!isObject(source) || !isObject(source.layers)) throw new Error('unexpected tshark JSON');
  return source.layers;
}

const TEMPLATE_KEY = /^(Options )?Template \(Id = (\d+)/;

/** NetFlow v5/v9/IPFIX: every frame with a cflow layer, its data records reduced to KeyRecords. */
export function cflowDatagrams(packets: JsonObject[]): TsharkDatagram[] {
  const optionTemplates = new Set<string>();
  const out: TsharkDatagram[] = [];
  for (const packet of packets) {
    const l = layers(packet);
    const frameLayer = l.frame;
    for (const cflow of each(l.cflow)) {
      if (!isObject(cflow) || !isObject(frameLayer)) continue;
      const exporter =
        (isObject(l.ip) && str(l.ip, 'ip.src')) || (isObject(l.ipv6) && str(l.ipv6, 'ipv6.src')) || '';
      const domain = str(cflow, 'cflow.source_id') ?? str(cflow, 'cflow.od_id') ?? '0';
      const v5Rate = num(cflow, 'cflow.samplerate');
      const stamp = cflow['cflow.timestamp_tree'];
      const uptime = millis(str(cflow, 'cflow.sysuptime'));
      // RFC 3954 §5.1 / Cisco v5: uptime-relative times are made absolute against the export time
      // (unix_secs, plus unix_nsecs in v5) minus sysUptime.
      const bootMs =
        isObject(stamp) && uptime !== null
          ? (num(stamp, 'cflow.unix_secs') ?? 0) * 1000 +
            Math.floor((num(stamp, 'cflow.unix_nsecs') ?? 0) / 1e6) -
            uptime
          : null;
      const dg: TsharkDatagram = {
        frame: num(frameLayer, 'frame.number') ?? 0,
        records: [],
        optionsRecords: 0,
        setsWithoutTemplate: 0,
        counterSamples: 0,
        dropSamples: 0,
        headerCount: num(cflow, 'cflow.version') === 9 ? num(cflow, 'cflow.count') : null,
        parsedRecords: 0,
        malformed: JSON.stringify(cflow).includes('"_ws.malformed"'),
      };
      for (const [key, value] of Object.entries(cflow)) {
        if (key.startsWith('pdu ')) {
          for (const pdu of each(value)) if (isObject(pdu)) dg.records.push(cflowRecord(pdu, v5Rate, bootMs));
          dg.parsedRecords += each(value).length;
          continue;
        }
        if (!(key.startsWith('FlowSet') || key.startsWith('Set'))) continue;
        for (const set of each(value)) {
          if (!isObject(set)) continue;
          const setId = num(set, 'cflow.flowset_id') ?? 0;
          for (const [k, v] of Object.entries(set)) {
            const m = TEMPLATE_KEY.exec(k);
            if (m) dg.parsedRecords += each(v).length;
            if (m) {
              const id = `${exporter}|${domain}|${m[2]}`;
              if (m[1]) optionTemplates.add(id);
              else optionTemplates.delete(id);
            }
            if (k.includes('no template found')) dg.setsWithoutTemplate++;
            if (setId < 256 || !k.startsWith('Flow ')) continue;
            const options = optionTemplates.has(`${exporter}|${domain}|${setId}`);
            for (const rec of each(v)) {
              if (!isObject(rec)) continue;
              dg.parsedRecords++;
              if (options) dg.optionsRecords++;
              else dg.records.push(cflowRecord(rec, null, bootMs));
            }
          }
        }
      }
      out.push(dg);
    }
  }
  return out;
}

type Repeats = Record<string, (string | number | null)[]>;

function toNumber(s: string | null): number | null {
  if (s === null || s === '') return null;
  const n = s.startsWith('0x') ? Number.parseInt(s, 16) : Number(s);
  return Number.isFinite(n) ? n : null;
}

/** The first of the keys present: its first value; every value goes to `repeated` when several. */
function pick(o: JsonObject, keys: string[], repeated: Repeats, name: string, numeric: boolean) {
  for (const key of keys) {
    const v = o[key];
    if (v === undefined) continue;
    const all = each(v).map((x) => (typeof x === 'string' ? (numeric ? toNumber(x) : x) : null));
    if (all.length > 1) repeated[name] = all;
    return all[0] ?? null;
  }
  return null;
}

function pickStr(o: JsonObject, keys: string[], repeated: Repeats, name: string): string | null {
  const v = pick(o, keys, repeated, name, false);
  return typeof v === 'string' ? v : null;
}

function pickNum(o: JsonObject, keys: string[], repeated: Repeats, name: string): number | null {
  const v = pick(o, keys, repeated, name, true);
  return typeof v === 'number' ? v : null;
}

/** "398.475000000" (seconds) as whole milliseconds, without float rounding. */
function millis(s: string | null): number | null {
  if (s === null) return null;
  const m = /^(\d+)(?:\.(\d{0,3}))?/.exec(s);
  return m ? Number(m[1]) * 1000 + Number((m[2] ?? '').padEnd(3, '0')) : null;
}

/** "Dec 25, 2016 12:58:35.818000000 UTC" as Unix ms. */
function absolute(s: string | null): number | null {
  if (s === null) return null;
  const m = /^(.+\d{2}:\d{2}:\d{2})(?:\.(\d{0,3}))?\d* UTC$/.exec(s.replace(/\s+/g, ' '));
  if (!m) return null;
  const t = Date.parse(`${m[1]} UTC`);
  return Number.isFinite(t) ? t + Number((m[2] ?? '').padEnd(3, '0')) : null;
}

function cflowTimes(r: JsonObject, bootMs: number | null): [number | null, number | null] {
  const tree = r['cflow.timedelta_tree'];
  if (!isObject(tree)) return [null, null];
  const one = (abs: string, rel: string): number | null => {
    const a = absolute(str(tree, abs));
    // tshark quirk: an uptime-relative time of 0 (nProbe's FIRST_SWITCHED 0 in
    // graylog_nprobe-netflow9-2.pcap, flowStartSysUpTime 0 in logstash_ipfix.dat) is shown as the
    // absolute time 0, "Jan 1, 1970". It is the exporter's boot time (IPFIX: systemInitTime, which
    // tshark does not apply, so not compared).
    if (a === 0) return bootMs;
    if (a !== null) return a;
    const m = millis(str(tree, rel));
    return m === null || bootMs === null ? null : bootMs + m;
  };
  return [one('cflow.abstimestart', 'cflow.timestart'), one('cflow.abstimeend', 'cflow.timeend')];
}

function cflowRecord(r: JsonObject, headerRate: number | null, bootMs: number | null): KeyRecord {
  const rep: Repeats = {};
  const [start, end] = cflowTimes(r, bootMs);
  // IE 32/139 icmpTypeCodeIPv4/IPv6 carry type << 8 | code; 176-179 carry them apart.
  const typeCode = pickNum(r, ['cflow.icmp_type_code_ipv4', 'cflow.icmp_type_code_ipv6'], rep, 'icmp');
  const rec: KeyRecord = {
    srcip: pickStr(r, ['cflow.srcaddr', 'cflow.srcaddrv6'], rep, 'srcip'),
    dstip: pickStr(r, ['cflow.dstaddr', 'cflow.dstaddrv6'], rep, 'dstip'),
    srcport: pickNum(r, ['cflow.srcport'], rep, 'srcport'),
    dstport: pickNum(r, ['cflow.dstport'], rep, 'dstport'),
    protocol: pickNum(r, ['cflow.protocol'], rep, 'protocol'),
    // octetDeltaCount (1), octetTotalCount (85, "permanent"), NSEL initiatorOctets (231).
    bytes: pickNum(r, ['cflow.octets', 'cflow.permanent_octets', 'cflow.initiator_octets'], rep, 'bytes'),
    packets: pickNum(
      r,
      ['cflow.packets', 'cflow.permanent_packets', 'cflow.initiator_packets'],
      rep,
      'packets',
    ),
    samplerate: headerRate ?? num(r, 'cflow.sampling_interval'),
    input: num(r, 'cflow.inputint'),
    output: num(r, 'cflow.outputint'),
    icmptype:
      typeCode !== null
        ? typeCode >> 8
        : pickNum(r, ['cflow.icmp_ipv4_type', 'cflow.icmp_ipv6_type'], rep, 'icmptype'),
    icmpcode:
      typeCode !== null
        ? typeCode & 0xff
        : pickNum(r, ['cflow.icmp_ipv4_code', 'cflow.icmp_ipv6_code'], rep, 'icmpcode'),
    start,
    end,
    repeated: rep,
  };
  // RFC 7133 dataLinkFrameSection (IE 315): a sampled frame, which tshark dissects; its headers are
  // the record's key fields, dataLinkFrameSize (IE 312) its bytes, one packet.
  const section = r['cflow.data_link_frame_section_tree'];
  if (isObject(section) && rec.srcip === null) {
    applySampledHeader(section, rec);
    rec.bytes ??= num(r, 'cflow.data_link_frame_size');
    rec.packets ??= 1;
  }
  return rec;
}

/** sFlow v5: every frame with an sflow layer, its flow samples reduced to KeyRecords. */
export function sflowDatagrams(packets: JsonObject[]): TsharkDatagram[] {
  const out: TsharkDatagram[] = [];
  for (const packet of packets) {
    const l = layers(packet);
    const frameLayer = l.frame;
    for (const sflow of each(l.sflow)) {
      if (!isObject(sflow) || !isObject(frameLayer)) continue;
      const dg: TsharkDatagram = {
        frame: num(frameLayer, 'frame.number') ?? 0,
        records: [],
        optionsRecords: 0,
        setsWithoutTemplate: 0,
        counterSamples: 0,
        dropSamples: 0,
        headerCount: null,
        parsedRecords: 0,
        malformed: JSON.stringify(sflow).includes('"_ws.malformed"'),
      };
      for (const [key, value] of Object.entries(sflow)) {
        if (key.startsWith('Unknown sample format')) {
          for (const s of each(value))
            if (isObject(s) && num(s, 'sflow_245.sampletype') === 5) dg.dropSamples++;
        } else if (key.startsWith('Counters sample') || key.startsWith('Expanded counters sample')) {
          dg.counterSamples += each(value).length;
        } else if (key.startsWith('Flow sample') || key.startsWith('Expanded flow sample')) {
          for (const s of each(value)) if (isObject(s)) dg.records.push(sflowRecord(s));
        }
      }
      out.push(dg);
    }
  }
  return out;
}

/** The first (outermost) object under one of `keys` anywhere below `o`, depth first, with its key. */
function findFirst(o: JsonObject, keys: string[]): [string, JsonObject] | null {
  for (const [k, v] of Object.entries(o)) {
    for (const item of each(v)) {
      if (!isObject(item)) continue;
      if (keys.includes(k)) return [k, item];
      const deeper = findFirst(item, keys);
      if (deeper) return deeper;
    }
  }
  return null;
}

function sflowRecord(s: JsonObject): KeyRecord {
  const outTree = s['sflow.flow_sample.output_interface_tree'];
  const outFormat = isObject(outTree)
    ? num(outTree, 'sflow.flow_sample.output_interface_format')
    : num(s, 'sflow.flow_sample.output_interface.format');
  const outValue = isObject(outTree)
    ? num(outTree, 'sflow.flow_sample.output_interface_value')
    : num(s, 'sflow.flow_sample.output_interface_value');
  const rec: KeyRecord = {
    srcip: null,
    dstip: null,
    srcport: null,
    dstport: null,
    protocol: null,
    bytes: null,
    packets: 1,
    samplerate: num(s, 'sflow.flow_sample.sampling_rate'),
    input: num(s, 'sflow.flow_sample.input_interface') ?? num(s, 'sflow.flow_sample.input_interface_value'),
    // Format 1 (discarded, value = reason) and 2 (several interfaces, value = count) are no ifIndex.
    output: outFormat === 0 ? outValue : null,
    icmptype: null,
    icmpcode: null,
    start: null,
    end: null,
    repeated: {},
  };
  const header = findFirst(s, ['Raw packet header'])?.[1];
  const tree = header?.['sflow_245.header_tree'];
  if (header) rec.bytes = num(header, 'sflow_245.header.frame_length');
  if (isObject(tree)) applySampledHeader(tree, rec);
  return rec;
}

/** Every object under one of `keys` below `o`, depth first (outer headers before inner ones). */
function findAll(o: JsonObject, keys: string[], out: [string, JsonObject][] = []): [string, JsonObject][] {
  for (const [k, v] of Object.entries(o)) {
    for (const item of each(v)) {
      if (!isObject(item)) continue;
      if (keys.includes(k)) out.push([k, item]);
      findAll(item, keys, out);
    }
  }
  return out;
}

/**
 * Key fields from a sampled packet header tshark dissected (sFlow raw packet header, IPFIX
 * dataLinkFrameSection): the outermost IP header's; with tunnels (VXLAN, SRv6, MPLS) every IP/L4
 * header's values go to `repeated`, since a decoder may report the inner packet.
 */
function applySampledHeader(tree: JsonObject, rec: KeyRecord): void {
  const ips = findAll(tree, ['ip', 'ipv6']).map(([k, o]) =>
    k === 'ip'
      ? { src: str(o, 'ip.src'), dst: str(o, 'ip.dst'), proto: num(o, 'ip.proto') }
      : { src: str(o, 'ipv6.src'), dst: str(o, 'ipv6.dst'), proto: num(o, 'ipv6.nxt') },
  );
  if (ips.length === 0) return;
  rec.srcip = ips[0].src;
  rec.dstip = ips[0].dst;
  rec.protocol = ips[0].proto;
  const l4 = findAll(tree, ['tcp', 'udp']).map(([k, o]) => ({
    sp: num(o, `${k}.srcport`),
    dp: num(o, `${k}.dstport`),
  }));
  const outerL4 = rec.protocol === 6 || rec.protocol === 17 ? l4[0] : undefined;
  if (outerL4) {
    rec.srcport = outerL4.sp;
    rec.dstport = outerL4.dp;
  }
  if (ips.length > 1) {
    rec.repeated.srcip = ips.map((i) => i.src);
    rec.repeated.dstip = ips.map((i) => i.dst);
    rec.repeated.protocol = ips.map((i) => i.proto);
    rec.repeated.srcport = [rec.srcport, ...l4.map((x) => x.sp)];
    rec.repeated.dstport = [rec.dstport, ...l4.map((x) => x.dp)];
  }
  const icmp = findAll(tree, ['icmp', 'icmpv6'])[0];
  if (icmp && (rec.protocol === 1 || rec.protocol === 58 || ips.length > 1)) {
    rec.icmptype = num(icmp[1], `${icmp[0]}.type`);
    rec.icmpcode = num(icmp[1], `${icmp[0]}.code`);
  }
}
