import { readCaptureFile } from '../../../src/capture/capture-reader.js';
import type { Datagram } from '../../../src/decode/datagram.js';
import type { TemplateDecoder } from '../../../src/decode/template/template-decoder.js';
import { CollectingSink } from '../../helpers/collecting-sink.js';
import { corpusPath } from '../../helpers/corpus.js';

/** Every datagram of the capture files (relative to testdata), in order. */
export function datagramsOf(files: string[]): Datagram[] {
  const out: Datagram[] = [];
  for (const f of files) for (const d of readCaptureFile(corpusPath(f))) out.push(d);
  return out;
}

/** Feeds datagrams to the decoder by version (9 = NetFlow v9, 10 = IPFIX). */
export function feed(
  dec: TemplateDecoder,
  datagrams: Datagram[],
  sink = new CollectingSink(),
): CollectingSink {
  for (const d of datagrams) {
    if (d.payload.readUInt16BE(0) === 9) dec.decodeNetflow9(d, sink);
    else dec.decodeIpfix(d, sink);
  }
  return sink;
}

/** Replays capture files (PROVENANCE order) through one decoder. */
export function replay(dec: TemplateDecoder, files: string[], sink = new CollectingSink()): CollectingSink {
  return feed(dec, datagramsOf(files), sink);
}

export function templateCount(dec: TemplateDecoder): number {
  return dec.exporterStats().reduce((n, s) => n + s.templates, 0);
}

// ---- synthetic packets for state tests ----

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

/** NetFlow v9 packet: header + flowsets. */
export function v9Packet(
  h: { uptime: number; secs: number; seq: number; sourceId: number },
  sets: Buffer[],
): Buffer {
  const head = Buffer.alloc(20);
  head.writeUInt16BE(9, 0);
  head.writeUInt16BE(sets.length, 2);
  head.writeUInt32BE(h.uptime, 4);
  head.writeUInt32BE(h.secs, 8);
  head.writeUInt32BE(h.seq, 12);
  head.writeUInt32BE(h.sourceId, 16);
  return Buffer.concat([head, ...sets]);
}

/** A set/flowset: id, length, body. */
export function set(id: number, body: Buffer): Buffer {
  return Buffer.concat([u16(id), u16(body.length + 4), body]);
}

/** Template record body: id, field count, [type, length]... (v9 and IPFIX without enterprise fields). */
export function templateRecord(id: number, fields: [number, number][]): Buffer {
  return Buffer.concat([u16(id), u16(fields.length), ...fields.flatMap(([t, l]) => [u16(t), u16(l)])]);
}

/** IPFIX message: header + sets. */
export function ipfixMessage(h: { exportTime: number; seq: number; domain: number }, sets: Buffer[]): Buffer {
  const body = Buffer.concat(sets);
  const head = Buffer.alloc(16);
  head.writeUInt16BE(10, 0);
  head.writeUInt16BE(16 + body.length, 2);
  head.writeUInt32BE(h.exportTime, 4);
  head.writeUInt32BE(h.seq, 8);
  head.writeUInt32BE(h.domain, 12);
  return Buffer.concat([head, body]);
}

/** 8 sourceIPv4Address, 12 destinationIPv4Address, 2 packetDeltaCount(4): a 12-byte record. */
export const SIMPLE_FIELDS: [number, number][] = [
  [8, 4],
  [12, 4],
  [2, 4],
];

export function simpleRecord(src: string, dst: string, packets: number): Buffer {
  const b = Buffer.alloc(12);
  b.set(src.split('.').map(Number), 0);
  b.set(dst.split('.').map(Number), 4);
  b.writeUInt32BE(packets, 8);
  return b;
}
