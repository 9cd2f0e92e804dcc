import { readFileSync } from 'node:fs';
import type { Datagram } from '../../src/decode/datagram.js';

/** A datagram from a raw UDP payload file (.dat/.bin/.dump) or bytes, as if sent by `src`. */
export function datagramOf(
  payload: Buffer | string,
  src = '192.0.2.1',
  receivedAtMs = Date.UTC(2024, 0, 1),
  srcPort = 50000,
): Datagram {
  const buf = typeof payload === 'string' ? readFileSync(payload) : payload;
  return { payload: buf, srcAddress: src, srcPort, dstPort: 2055, receivedAtMs, connectionId: null };
}
