/**
 * The decoding thread's handle on one receiving thread (receive-thread-worker.ts): starts it with
 * its listeners and a shared ring, forwards allow-list and tee changes, and keeps the last report
 * of refused sources and tee counters.
 */
import { Worker } from 'node:worker_threads';
import { workerUrl } from '../threads/worker-url.js';
import { createRingBuffer, RingReader } from './datagram-ring.js';
import type { RateLimitOptions } from './exporter-rate-limit.js';
import type { ReceiveCommand, ReceiveEvent, ReceiveThreadData } from './receive-thread-protocol.js';
import type { TeeTargetStats, UdpTeeOptions } from './tee.js';
import type { BoundListener } from './udp-receiver.js';

type CommandBody = ReceiveCommand extends infer C
  ? C extends ReceiveCommand
    ? Omit<C, 'id'>
    : never
  : never;

export interface ReceiveThreadOptions {
  listen: string[];
  udpbuffer: number;
  allow: string[];
  tee: UdpTeeOptions | null;
  /** Ring size in bytes and in datagrams (`flow.queuebytes`, `flow.queue`). */
  ringBytes: number;
  ringDatagrams: number;
  /** `flow.ratelimit` / `flow.rateburst`; absent: no limit. */
  rateLimit?: RateLimitOptions;
  /** Called for every source the allow-list refused, with how many datagrams. */
  onNotAllowed: (address: string, datagrams: number) => void;
  /** Called for every source over the rate limit, with how many datagrams it lost. */
  onRateLimited?: (address: string, datagrams: number) => void;
  /** The thread stopped without being asked to (its sockets are gone). */
  onExit: (why: string) => void;
}

export class ReceiveThread {
  private nextId = 1;
  private readonly calls = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private lastTee: TeeTargetStats[] | null = null;
  private stopping = false;
  listeners: BoundListener[] = [];

  private constructor(
    private readonly worker: Worker,
    readonly reader: RingReader,
    private readonly options: ReceiveThreadOptions,
  ) {}

  /** Starts the thread; resolves once every listener is bound, rejects with the bind error. */
  static start(options: ReceiveThreadOptions): Promise<ReceiveThread> {
    const ring = createRingBuffer(options.ringBytes, options.ringDatagrams);
    const data: ReceiveThreadData = {
      listen: options.listen,
      udpbuffer: options.udpbuffer,
      allow: options.allow,
      tee: options.tee,
      rateLimit: options.rateLimit ?? { perSecond: 0, burst: null },
      ring,
    };
    const worker = new Worker(workerUrl(import.meta.url, 'receive-thread-worker'), { workerData: data });
    const thread = new ReceiveThread(worker, new RingReader(ring), options);
    return new Promise((resolve, reject) => {
      let started = false;
      worker.on('message', (e: ReceiveEvent) => {
        if (e.type === 'ready') {
          started = true;
          thread.listeners = e.listeners;
          resolve(thread);
        } else if (e.type === 'failed') {
          reject(new Error(e.error));
        } else thread.onEvent(e);
      });
      worker.on('error', (err) => {
        if (!started) reject(err);
        else options.onExit(`receiving thread failed: ${err.message}`);
      });
      worker.on('exit', (code) => {
        const why = `receiving thread exited (code ${code})`;
        for (const c of thread.calls.values()) c.reject(new Error(why));
        thread.calls.clear();
        if (!started) reject(new Error(why));
        else if (!thread.stopping) options.onExit(why);
      });
    });
  }

  private onEvent(e: ReceiveEvent): void {
    if (e.type === 'report') {
      for (const [address, n] of e.notAllowed) this.options.onNotAllowed(address, n);
      for (const [address, n] of e.rateLimited) this.options.onRateLimited?.(address, n);
      this.lastTee = e.tee;
    } else if (e.type === 'reply') {
      const call = this.calls.get(e.id);
      if (call === undefined) return;
      this.calls.delete(e.id);
      if (e.error === null) call.resolve();
      else call.reject(new Error(e.error));
    }
  }

  private call(body: CommandBody): Promise<void> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.calls.set(id, { resolve, reject });
      this.worker.postMessage({ ...body, id });
    });
  }

  setAllow(entries: string[]): Promise<void> {
    return this.call({ type: 'allow', entries });
  }

  setTee(options: UdpTeeOptions | null): Promise<void> {
    return this.call({ type: 'tee', options });
  }

  /** The tee's counters as of the last report (every 500 ms, and after refresh()). */
  teeStats(): TeeTargetStats[] | null {
    return this.lastTee;
  }

  /** Brings refused-source counts and tee counters up to date now. */
  refresh(): Promise<void> {
    return this.call({ type: 'report' });
  }

  /** Closes the sockets (everything received is in the ring), then ends the thread. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    try {
      await this.call({ type: 'stop' });
    } catch {
      // Already gone: nothing left to close.
    }
    await this.worker.terminate();
    this.reader.wake();
  }
}
