import type { Datagram, FlowProtocol } from './datagram.js';
import { decodeNetflow5 } from './netflow5.js';
import type { DecoderSettings } from './settings.js';
import { decodeSflow } from './sflow/sflow.js';
import type { DecodeSink } from './sink.js';
import { TemplateDecoder } from './template/template-decoder.js';

/**
 * The protocol of a datagram from its first bytes: NetFlow/IPFIX start with a u16 version
 * (5, 9, 10); sFlow with a u32 version 5, i.e. 0x0000 0x0005. One port can so take every protocol.
 */
export function detectProtocol(payload: Uint8Array): FlowProtocol | null {
  if (payload.length < 4) return null;
  const v16 = (payload[0] << 8) | payload[1];
  if (v16 === 5) return 'netflow5';
  if (v16 === 9) return 'netflow9';
  if (v16 === 10) return 'ipfix';
  if (v16 === 0 && payload[2] === 0 && payload[3] === 5) return 'sflow5';
  return null;
}

/**
 * Entry point of decoding, shared by the live collector and `flowgate decode`: detects the
 * protocol per datagram and hands it to that protocol's decoder. Holds the template/sampling
 * state, so one instance serves one stream of datagrams (one process, or one worker later).
 */
export class FlowDecoder {
  readonly templates: TemplateDecoder;

  constructor(readonly settings: DecoderSettings) {
    this.templates = new TemplateDecoder(settings);
  }

  decode(d: Datagram, sink: DecodeSink): void {
    switch (detectProtocol(d.payload)) {
      case 'netflow5':
        decodeNetflow5(d, this.settings, sink);
        return;
      case 'netflow9':
        this.templates.decodeNetflow9(d, sink);
        return;
      case 'ipfix':
        this.templates.decodeIpfix(d, sink);
        return;
      case 'sflow5':
        decodeSflow(d, this.settings, sink);
        return;
      default:
        sink.error(
          d.srcAddress,
          d.payload.length < 4 ? 'truncated' : 'unknown_version',
          `datagram of ${d.payload.length} bytes from ${d.srcAddress}:${d.srcPort} is not NetFlow v5/v9, IPFIX or sFlow v5`,
        );
    }
  }
}
