import type { Datagram } from '../datagram.js';
import type { DecoderSettings } from '../settings.js';
import type { DecodeSink } from '../sink.js';

/**
 * NetFlow v9 and IPFIX: the template-based protocols, sharing one template and sampling state
 * keyed by exporter (+ port when configured) + observation domain + template id. STUB.
 */
export class TemplateDecoder {
  constructor(readonly settings: DecoderSettings) {}

  decodeNetflow9(d: Datagram, sink: DecodeSink): void {
    sink.error(d.srcAddress, 'unknown_version', 'NetFlow v9 decoder not implemented yet');
  }

  decodeIpfix(d: Datagram, sink: DecodeSink): void {
    sink.error(d.srcAddress, 'unknown_version', 'IPFIX decoder not implemented yet');
  }

  /** Forget the state learnt over one IPFIX-over-TCP connection (it closed). */
  closeConnection(connectionId: string): void {
    void connectionId;
  }

  /** UDP template/sampling state as a JSON-serialisable value (for the template DB file). */
  saveState(nowMs: number): unknown {
    void nowMs;
    return { version: 1, exporters: [] };
  }

  /** Restore what `saveState` produced; expired entries are skipped. Returns templates loaded. */
  loadState(state: unknown, nowMs: number): number {
    void state;
    void nowMs;
    return 0;
  }
}
