import { ipv4At } from '../record/address.js';
import { FlowRecord } from '../record/flow-record.js';
import { finalizeRecord } from '../record/normalize.js';
import type { Datagram } from './datagram.js';
import type { DecoderSettings } from './settings.js';
import type { DecodeSink } from './sink.js';
import { uptimeAgeMs } from './uptime.js';

const HEADER = 24;
const RECORD = 48;
/** Cisco's documented maximum per datagram; larger counts still decode when the length fits. */
export const NETFLOW5_MAX_CISCO_RECORDS = 30;

/**
 * NetFlow v5 (Cisco's fixed 24-byte header + 48-byte records). Record times are exporter uptime
 * in ms; they become epoch ms through the header's export time (unix_secs/unix_nsecs) and
 * sysUptime (wrap and clock jitter: see uptimeAgeMs).
 */
export function decodeNetflow5(d: Datagram, settings: DecoderSettings, sink: DecodeSink): void {
  const b = d.payload;
  const exporter = d.srcAddress;
  const exportMs =
    b.length < HEADER ? null : b.readUInt32BE(8) * 1000 + Math.floor(b.readUInt32BE(12) / 1_000_000);
  sink.datagram(exporter, 'netflow5', b.length, exportMs);
  if (exportMs === null) {
    sink.error(
      exporter,
      'truncated',
      `NetFlow v5 datagram from ${exporter} is ${b.length} bytes, shorter than the 24-byte header: dropped`,
    );
    return;
  }
  const count = b.readUInt16BE(2);
  const sysUptime = b.readUInt32BE(4);
  const flowSequence = b.readUInt32BE(16);
  const engineType = b[20];
  const engineId = b[21];
  const sampling = b.readUInt16BE(22);
  // Top 2 bits: sampling mode; low 14 bits: the interval (0 when the exporter does not say).
  const interval = sampling & 0x3fff;

  sink.sequence(exporter, `v5:${engineType}/${engineId}`, flowSequence, count);

  const fit = Math.floor((b.length - HEADER) / RECORD);
  let n = count;
  if (HEADER + count * RECORD !== b.length) {
    n = Math.min(count, fit);
    sink.error(
      exporter,
      'bad_length',
      `NetFlow v5 datagram from ${exporter} (engine ${engineType}/${engineId}) says ${count} records but is ${b.length} bytes (room for ${fit}): ${n} decoded`,
    );
  }
  if (n === 0) return;

  const es = settings.exporterSettings(exporter);
  let samplerate: number | null;
  if (es.sampleRateOverride !== null) samplerate = es.sampleRateOverride;
  else if (interval > 0) samplerate = interval;
  else {
    samplerate = es.defaultSampleRate;
    sink.samplingUnknown(exporter, n);
  }
  const timestamp = Math.floor(d.receivedAtMs / 1000);

  for (let i = 0, o = HEADER; i < n; i++, o += RECORD) {
    const r = new FlowRecord();
    r.timestamp = timestamp;
    r.uptime = sysUptime;
    r.srcip = ipv4At(b, o);
    r.srcip4 = b.readUInt32BE(o);
    r.dstip = ipv4At(b, o + 4);
    r.dstip4 = b.readUInt32BE(o + 4);
    // 0.0.0.0 is what v5 exporters send when there is no next hop (local, dropped, unrouted).
    const nexthop = b.readUInt32BE(o + 8);
    if (nexthop !== 0) {
      r.nexthop = ipv4At(b, o + 8);
      r.nexthop4 = nexthop;
    }
    r.input = b.readUInt16BE(o + 12);
    r.output = b.readUInt16BE(o + 14);
    r.packets = b.readUInt32BE(o + 16);
    r.bits = b.readUInt32BE(o + 20) * 8;
    r.start = exportMs - uptimeAgeMs(sysUptime, b.readUInt32BE(o + 24));
    r.end = exportMs - uptimeAgeMs(sysUptime, b.readUInt32BE(o + 28));
    r.srcport = b.readUInt16BE(o + 32);
    r.dstport = b.readUInt16BE(o + 34);
    r.tcpflagsint = b[o + 37];
    r.protocolint = b[o + 38];
    r.tos = b[o + 39];
    // AS 0 is "not known" in v5 (no BGP table, or origin/peer AS not configured), never a real AS.
    const srcAs = b.readUInt16BE(o + 40);
    const dstAs = b.readUInt16BE(o + 42);
    r.srcas = srcAs === 0 ? null : srcAs;
    r.dstas = dstAs === 0 ? null : dstAs;
    r.srcmask = b[o + 44];
    r.dstmask = b[o + 45];
    r.ipversion = 4;
    r.samplerate = samplerate;
    r.flowsrcip = exporter;
    r.flowtype = 'netflow';
    r.flowversion = 5;
    finalizeRecord(r);
    sink.record(r);
  }
}
