/**
 * The agent's fallback traffic source where conntrack is unavailable: libpcap through the `cap`
 * binding (an optional dependency, loaded only when this source is used). Every packet reaches
 * JavaScript, so the per-packet path reads a few header bytes from cap's one reused buffer and
 * allocates nothing but the observation (FlowKeyCache keeps one FlowKey per busy flow).
 */
import { createRequire } from 'node:module';
import { LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_NULL, LINKTYPE_RAW } from '../capture/link-layer.js';
import type { FlowObservationSink } from './flow-observation.js';
import {
  FlowKeyCache,
  HEADERS_PARSED,
  PacketHeaders,
  parsePacketHeaders,
  TCP_FIN,
  TCP_RST,
} from './packet-headers.js';

export interface PcapSourceOptions {
  /** Interface to capture on; 'any' captures on all of them (Linux cooked headers). */
  device: string;
  /** BPF filter (pcap-filter(7)); default 'ip or ip6'. */
  filter?: string;
  /** Bytes of each packet copied to JavaScript; default 128 (headers only). */
  snaplen?: number;
  /** libpcap's kernel buffer; default 64 MiB (see DEFAULT_PCAP_BUFFER_BYTES). */
  bufferBytes?: number;
  /** Errors after start (the sink throwing); start() itself throws when the device cannot be opened. */
  onError(err: Error): void;
}

export interface PcapSourceStats {
  /** Packets parsed and observed. */
  packets: number;
  /** Their IP bytes (IPv4 total length, IPv6 40 + payload length). */
  bytes: number;
  /** Frames captured but not metered: not IP, or cut/malformed before the headers needed. */
  unparsed: number;
  /** Packets the kernel dropped; null: cap 0.2.1 does not expose pcap_stats(). */
  kernelDrops: number | null;
}

export const DEFAULT_PCAP_FILTER = 'ip or ip6';
export const DEFAULT_PCAP_SNAPLEN = 128;
/**
 * cap 0.2.1 asks libpcap for 65535-byte slots whatever the snaplen (only the copy into JavaScript
 * is cut to 128 bytes), so the kernel buffer holds bytes / 64 KiB packets: 4 MiB lost 12 of a
 * 250-packet burst in the namespace test, 64 MiB (about 1000 packets) lost none of 2000.
 */
export const DEFAULT_PCAP_BUFFER_BYTES = 64 * 1024 * 1024;

/** The part of cap 0.2.1's native Cap object used here. */
interface CapHandle {
  open(device: string, filter: string, bufferBytes: number, buffer: Buffer): string;
  close(): boolean;
  on(event: 'packet', listener: (nbytes: number, truncated: boolean) => void): unknown;
}
interface CapModule {
  Cap: new () => CapHandle;
}

let capModule: CapModule | null | undefined;
let capLoadError = '';

function loadCap(): CapModule | null {
  if (capModule === undefined) {
    try {
      capModule = createRequire(import.meta.url)('cap') as CapModule;
    } catch (err) {
      capModule = null;
      capLoadError = (err as Error).message.split('\n')[0];
    }
  }
  return capModule;
}

/**
 * Every Cap object ever created, kept for the life of the process. cap 0.2.1's destructor is not
 * safe to run: after a failed open() it stops a libuv poll handle that was never started (an
 * assertion aborts the process), and after close() it frees a poll handle that was stopped but
 * never closed, so libuv later walks freed memory (SIGSEGV, seen under node --test). One small
 * object per capture opened or probed.
 */
const retainedHandles: CapHandle[] = [];

/** Opens a capture or throws an Error whose message says why and what to do. */
function openCapture(
  cap: CapModule,
  device: string,
  filter: string,
  bufferBytes: number,
  buffer: Buffer,
): { handle: CapHandle; linkType: number } {
  const handle = new cap.Cap();
  retainedHandles.push(handle);
  let linkName: string;
  try {
    linkName = handle.open(device, filter, bufferBytes, buffer);
  } catch (err) {
    const msg = (err as Error).message;
    const hint = /not permitted|permission/i.test(msg)
      ? ' (capturing needs root or the CAP_NET_RAW capability)'
      : '';
    throw new Error(`libpcap cannot capture on ${device} with filter '${filter}': ${msg}${hint}`);
  }
  const linkType = linkTypeOf(linkName);
  if (linkType < 0) {
    handle.close();
    throw new Error(`libpcap capture on ${device}: link type ${linkName} carries no IP this agent can read`);
  }
  return { handle, linkType };
}

/** cap names the link types it knows and reports the others as 'Unknown linktype N'. */
function linkTypeOf(name: string): number {
  switch (name) {
    case 'ETHERNET':
      return LINKTYPE_ETHERNET;
    case 'LINKTYPE_LINUX_SLL':
      return LINKTYPE_LINUX_SLL;
    case 'RAW':
      return LINKTYPE_RAW;
    case 'NULL':
      return LINKTYPE_NULL;
    default: {
      const m = /^Unknown linktype (\d+)$/.exec(name);
      return m === null ? -1 : Number(m[1]);
    }
  }
}

/**
 * Why the pcap source cannot run here (cap not installed or not built, the device missing, no
 * CAP_NET_RAW), or null when a capture on `device` opens.
 */
export function pcapAvailable(device = 'any'): string | null {
  const cap = loadCap();
  if (cap === null) {
    return `the optional npm package 'cap' (libpcap binding) cannot be loaded: ${capLoadError}`;
  }
  try {
    openCapture(cap, device, DEFAULT_PCAP_FILTER, 65536, Buffer.alloc(DEFAULT_PCAP_SNAPLEN)).handle.close();
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

export class PcapSource {
  private readonly handle: CapHandle;
  private readonly linkType: number;
  private readonly sink: FlowObservationSink;
  private readonly onError: (err: Error) => void;
  /** views[n] is the first n bytes of cap's buffer: a frame of any length without a new view. */
  private readonly views: Buffer[];
  private readonly headers = new PacketHeaders();
  private readonly keys = new FlowKeyCache();
  private packets = 0;
  private bytes = 0;
  private unparsed = 0;
  private stopped = false;

  private constructor(
    handle: CapHandle,
    linkType: number,
    buffer: Buffer,
    sink: FlowObservationSink,
    onError: (err: Error) => void,
  ) {
    this.handle = handle;
    this.linkType = linkType;
    this.sink = sink;
    this.onError = onError;
    this.views = [];
    for (let n = 0; n <= buffer.length; n++) this.views.push(buffer.subarray(0, n));
  }

  /** Opens the capture and starts observing; throws when the device cannot be opened. */
  static start(sink: FlowObservationSink, options: PcapSourceOptions): PcapSource {
    const cap = loadCap();
    if (cap === null) throw new Error(pcapAvailable(options.device) ?? 'cap cannot be loaded');
    const snaplen = options.snaplen ?? DEFAULT_PCAP_SNAPLEN;
    // cap 0.2.1 always asks libpcap for 65535 bytes; the buffer it copies into is what cuts packets.
    const buffer = Buffer.alloc(snaplen);
    const { handle, linkType } = openCapture(
      cap,
      options.device,
      options.filter ?? DEFAULT_PCAP_FILTER,
      options.bufferBytes ?? DEFAULT_PCAP_BUFFER_BYTES,
      buffer,
    );
    const source = new PcapSource(handle, linkType, buffer, sink, options.onError);
    handle.on('packet', (nbytes) => source.onPacket(nbytes));
    return source;
  }

  private onPacket(nbytes: number): void {
    const frame = this.views[nbytes];
    const h = this.headers;
    if (parsePacketHeaders(this.linkType, frame, h) !== HEADERS_PARSED) {
      this.unparsed++;
      return;
    }
    this.packets++;
    this.bytes += h.ipLength;
    try {
      this.sink.observe({
        key: this.keys.keyOf(frame, h),
        packets: 1,
        bytes: h.ipLength,
        tcpFlags: h.tcpFlags,
        timeMs: Date.now(),
        ended: (h.tcpFlags & (TCP_FIN | TCP_RST)) !== 0,
      });
    } catch (err) {
      this.onError(err as Error);
    }
  }

  /** Closes the capture; packets already read are observed, none after. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.handle.close();
  }

  get stats(): PcapSourceStats {
    return { packets: this.packets, bytes: this.bytes, unparsed: this.unparsed, kernelDrops: null };
  }
}
