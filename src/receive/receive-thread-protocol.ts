import type { RateLimitOptions } from './exporter-rate-limit.js';
import type { TeeTargetStats, UdpTeeOptions } from './tee.js';
import type { BoundListener } from './udp-receiver.js';

/** What a receiving thread is started with. */
export interface ReceiveThreadData {
  /** `flow.listen` entries this thread owns. */
  listen: string[];
  udpbuffer: number;
  /** `flow.allow`. */
  allow: string[];
  /** `flow.ratelimit` / `flow.rateburst` (perSecond 0: off). */
  rateLimit: RateLimitOptions;
  /** `flow.tee`, or null without targets. */
  tee: UdpTeeOptions | null;
  /** The ring (datagram-ring.ts) it writes into. */
  ring: SharedArrayBuffer;
}

/** Main thread -> receiving thread; each is answered by a `reply` with the same id. */
export type ReceiveCommand =
  | { id: number; type: 'allow'; entries: string[] }
  | { id: number; type: 'tee'; options: UdpTeeOptions | null }
  | { id: number; type: 'report' }
  | { id: number; type: 'stop' };

/** Receiving thread -> main thread. */
export type ReceiveEvent =
  | { type: 'ready'; listeners: BoundListener[] }
  | { type: 'failed'; error: string }
  | { type: 'reply'; id: number; error: string | null }
  /**
   * Sources refused by the allow-list and datagrams over the rate limit, per source, since the
   * last report; and the tee's counters.
   */
  | {
      type: 'report';
      notAllowed: [string, number][];
      rateLimited: [string, number][];
      tee: TeeTargetStats[] | null;
    };
