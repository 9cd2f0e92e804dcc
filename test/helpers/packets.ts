import { writeFileSync } from 'node:fs';

/** Builders of link/IP/UDP packets and pcap files, for capture reader tests. */

function ip4(a: string): number[] {
  return a.split('.').map(Number);
}

function ip6(a: string): number[] {
  const [head, tail] = a.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.flatMap((g) => {
    const v = Number.parseInt(g, 16);
    return [v >> 8, v & 255];
  });
}

export function udpHeader(sport: number, dport: number, payloadLength: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt16BE(sport, 0);
  b.writeUInt16BE(dport, 2);
  b.writeUInt16BE(8 + payloadLength, 4);
  return b;
}

/** An IPv4 header for `body` (already including any UDP header). */
export function ipv4Header(
  src: string,
  dst: string,
  proto: number,
  bodyLength: number,
  opts: { id?: number; fragOffset?: number; more?: boolean } = {},
): Buffer {
  const b = Buffer.alloc(20);
  b[0] = 0x45;
  b.writeUInt16BE(20 + bodyLength, 2);
  b.writeUInt16BE(opts.id ?? 1, 4);
  b.writeUInt16BE(((opts.fragOffset ?? 0) >> 3) | (opts.more ? 0x2000 : 0), 6);
  b[8] = 64;
  b[9] = proto;
  Buffer.from(ip4(src)).copy(b, 12);
  Buffer.from(ip4(dst)).copy(b, 16);
  return b;
}

export function ipv4Udp(src: string, dst: string, sport: number, dport: number, payload: Buffer): Buffer {
  const udp = Buffer.concat([udpHeader(sport, dport, payload.length), payload]);
  return Buffer.concat([ipv4Header(src, dst, 17, udp.length), udp]);
}

export function ipv6Header(src: string, dst: string, nextHeader: number, payloadLength: number): Buffer {
  const b = Buffer.alloc(40);
  b[0] = 0x60;
  b.writeUInt16BE(payloadLength, 4);
  b[6] = nextHeader;
  b[7] = 64;
  Buffer.from(ip6(src)).copy(b, 8);
  Buffer.from(ip6(dst)).copy(b, 24);
  return b;
}

export function ipv6Udp(src: string, dst: string, sport: number, dport: number, payload: Buffer): Buffer {
  const udp = Buffer.concat([udpHeader(sport, dport, payload.length), payload]);
  return Buffer.concat([ipv6Header(src, dst, 17, udp.length), udp]);
}

export function ethernet(ip: Buffer, vlanTags: number[] = []): Buffer {
  const macs = Buffer.alloc(12, 2);
  const tags = vlanTags.map((tpid, i) => Buffer.from([tpid >> 8, tpid & 255, 0, 10 + i]));
  const type = ip[0] >> 4 === 6 ? 0x86dd : 0x0800;
  return Buffer.concat([macs, ...tags, Buffer.from([type >> 8, type & 255]), ip]);
}

export interface PcapRecord {
  tsMs: number;
  data: Buffer;
  /** Captured length written in the record header (default: data length). */
  inclLen?: number;
}

/** A classic pcap file, either byte order, micro- or nanosecond timestamps. */
export function pcapFile(
  linkType: number,
  records: PcapRecord[],
  opts: { bigEndian?: boolean; nano?: boolean } = {},
): Buffer {
  const be = opts.bigEndian === true;
  const u32 = (b: Buffer, v: number, o: number) => (be ? b.writeUInt32BE(v, o) : b.writeUInt32LE(v, o));
  const u16 = (b: Buffer, v: number, o: number) => (be ? b.writeUInt16BE(v, o) : b.writeUInt16LE(v, o));
  const hdr = Buffer.alloc(24);
  u32(hdr, opts.nano ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  u16(hdr, 2, 4);
  u16(hdr, 4, 6);
  u32(hdr, 262144, 16);
  u32(hdr, linkType, 20);
  const parts: Buffer[] = [hdr];
  for (const r of records) {
    const h = Buffer.alloc(16);
    u32(h, Math.floor(r.tsMs / 1000), 0);
    u32(h, (r.tsMs % 1000) * (opts.nano ? 1_000_000 : 1000), 4);
    u32(h, r.inclLen ?? r.data.length, 8);
    u32(h, r.data.length, 12);
    parts.push(h, r.data);
  }
  return Buffer.concat(parts);
}

export function writePcap(path: string, linkType: number, records: PcapRecord[], opts = {}): string {
  writeFileSync(path, pcapFile(linkType, records, opts));
  return path;
}

export interface PcapngPacket {
  /** Timestamp in the interface's units (if_tsresol); SPB when null. */
  ts: bigint | null;
  data: Buffer;
}

/**
 * A one-section pcapng file: SHB, one IDB (with if_tsresol when given), a block of an unknown type
 * that readers must skip, then EPBs (or SPBs for packets without a timestamp).
 */
export function pcapngFile(
  linkType: number,
  packets: PcapngPacket[],
  opts: { bigEndian?: boolean; tsresol?: number } = {},
): Buffer {
  const be = opts.bigEndian === true;
  const block = (type: number, body: Buffer): Buffer => {
    const padded = Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)]);
    const b = Buffer.alloc(12 + padded.length);
    const total = b.length;
    if (be) {
      b.writeUInt32BE(type, 0);
      b.writeUInt32BE(total, 4);
      b.writeUInt32BE(total, total - 4);
    } else {
      b.writeUInt32LE(type, 0);
      b.writeUInt32LE(total, 4);
      b.writeUInt32LE(total, total - 4);
    }
    padded.copy(b, 8);
    return b;
  };
  const u16 = (v: number) => {
    const b = Buffer.alloc(2);
    be ? b.writeUInt16BE(v) : b.writeUInt16LE(v);
    return b;
  };
  const u32 = (v: number) => {
    const b = Buffer.alloc(4);
    be ? b.writeUInt32BE(v) : b.writeUInt32LE(v);
    return b;
  };
  const shb = block(0x0a0d0d0a, Buffer.concat([u32(0x1a2b3c4d), u16(1), u16(0), Buffer.alloc(8, 0xff)]));
  const idbOpts =
    opts.tsresol === undefined
      ? Buffer.alloc(0)
      : Buffer.concat([u16(9), u16(1), Buffer.from([opts.tsresol, 0, 0, 0]), u16(0), u16(0)]);
  const idb = block(1, Buffer.concat([u16(linkType), u16(0), u32(262144), idbOpts]));
  const unknown = block(0x40000bad, Buffer.from('skip me'));
  const out = [shb, idb, unknown];
  for (const p of packets) {
    if (p.ts === null) {
      out.push(block(3, Buffer.concat([u32(p.data.length), p.data])));
    } else {
      const hi = Number(p.ts >> 32n);
      const lo = Number(p.ts & 0xffffffffn);
      out.push(
        block(6, Buffer.concat([u32(0), u32(hi), u32(lo), u32(p.data.length), u32(p.data.length), p.data])),
      );
    }
  }
  return Buffer.concat(out);
}
