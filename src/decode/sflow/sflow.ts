import type { Datagram } from '../datagram.js';
import type { DecoderSettings } from '../settings.js';
import type { DecodeSink } from '../sink.js';

/** sFlow v5. STUB: being written. */
export function decodeSflow(d: Datagram, settings: DecoderSettings, sink: DecodeSink): void {
  void settings;
  sink.error(d.srcAddress, 'unknown_version', 'sFlow decoder not implemented yet');
}
