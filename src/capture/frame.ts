/** What a capture file reader hands on: one link-layer frame as captured. */
export interface CapturedFrame {
  /** LINKTYPE_* value of the interface the frame was captured on. */
  linkType: number;
  /** Capture timestamp, epoch ms. */
  timestampMs: number;
  /** The captured bytes (possibly cut by the snapshot length). */
  data: Buffer;
  /** Length of the packet on the wire; greater than data.length when the capture cut it. */
  wireLength: number;
}

export type CaptureFormat = 'pcap' | 'pcapng' | 'ipfix-file' | 'raw';

/** Counters of one capture file read, filled while the generator runs. */
export interface CaptureStats {
  format: CaptureFormat | null;
  /** File size and bytes consumed so far (progress). */
  fileBytes: number;
  bytesRead: number;
  /** Packets (pcap/pcapng records, IPFIX-file messages, 1 for a raw file). */
  packets: number;
  /** UDP datagrams (or IPFIX messages) yielded. */
  datagrams: number;
  /** Packets that are not UDP over IPv4/IPv6 (TCP, ARP, other link types...). */
  skipped: number;
  /** Malformed or cut packets (truncated headers, bad lengths, unfinished fragments, cut file end). */
  bad: number;
  /** IP fragments held for reassembly (each also counted in packets). */
  fragments: number;
}

export function newCaptureStats(): CaptureStats {
  return {
    format: null,
    fileBytes: 0,
    bytesRead: 0,
    packets: 0,
    datagrams: 0,
    skipped: 0,
    bad: 0,
    fragments: 0,
  };
}
