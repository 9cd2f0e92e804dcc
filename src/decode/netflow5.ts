import type { Datagram } from './datagram.js';
import type { DecoderSettings } from './settings.js';
import type { DecodeSink } from './sink.js';

/** NetFlow v5 (Cisco's fixed 24-byte header + 48-byte records). STUB: being written. */
export function decodeNetflow5(d: Datagram, settings: DecoderSettings, sink: DecodeSink): void {
  void settings;
  sink.error(d.srcAddress, 'unknown_version', 'NetFlow v5 decoder not implemented yet');
}
