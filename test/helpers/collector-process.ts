/**
 * Flow receivers for end-to-end tests: the real `flowgate collect` process (records read from its
 * stdout JSON lines), and an in-test UDP socket decoding with FlowDecoder directly (to tell a
 * collector problem from a decoder problem when a test fails).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { FlowDecoder } from '../../src/decode/flow-decoder.js';
import { defaultDecoderSettings } from '../../src/decode/settings.js';
import { toJsonObject } from '../../src/record/json.js';
import { CollectingSink } from './collecting-sink.js';
import { stopProcess, waitForOutput } from './traffic.js';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');

/** A record in its PRODUCT.md JSON form. */
export type FlowJson = Record<string, unknown>;

export interface FlowReceiver {
  readonly port: number;
  /** Every record received so far, in arrival order. */
  readonly records: FlowJson[];
  /** Resolves once `done(records)` holds; rejects after timeoutMs with what arrived. */
  waitFor(done: (records: FlowJson[]) => boolean, timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

async function poll(records: FlowJson[], done: (r: FlowJson[]) => boolean, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!done(records)) {
    if (Date.now() > deadline)
      throw new Error(`${what}: condition not met within ${timeoutMs} ms (${records.length} records)`);
    await sleep(50);
  }
}

/**
 * `flowgate collect` as a child process: `node --import tsx src/cli/main.ts collect --listen
 * 127.0.0.1:PORT --stdout ...extraArgs` (records as JSON lines on stdout; logs on stderr),
 * ready once it logs "listening for flows".
 */
export async function startCollectorProcess(
  port: number,
  extraArgs: string[] = [],
): Promise<FlowReceiver & { child: ChildProcess; log: () => string }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/cli/main.ts',
      // The HTTP API (127.0.0.1:8080 by default) is not what these tests look at, and a fixed port
      // would collide between test files running in parallel.
      '--set',
      'api.enabled=false',
      // Records are read from stdout; the store would only write under the repo's ./data.
      '--set',
      'store.enabled=false',
      'collect',
      '--stdout',
      '--listen',
      `127.0.0.1:${port}`,
      ...extraArgs,
    ],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } },
  );
  const records: FlowJson[] = [];
  let logText = '';
  let partial = '';
  child.stdout?.on('data', (b: Buffer) => {
    partial += b.toString();
    let nl = partial.indexOf('\n');
    while (nl >= 0) {
      const line = partial.slice(0, nl).trim();
      partial = partial.slice(nl + 1);
      if (line.startsWith('{')) {
        const obj = JSON.parse(line) as FlowJson;
        // Log lines (pino) may share stdout with records: records are the objects with flowtype.
        if ('flowtype' in obj) records.push(obj);
        else logText += `${line}\n`;
      } else if (line !== '') logText += `${line}\n`;
      nl = partial.indexOf('\n');
    }
  });
  child.stderr?.on('data', (b: Buffer) => {
    logText += b.toString();
  });
  await waitForOutput(child, /listening for flows/, 30_000);
  return {
    child,
    port,
    records,
    log: () => logText,
    waitFor: (done, timeoutMs) => poll(records, done, timeoutMs, `flowgate collect on ${port}`),
    stop: () => stopProcess(child, 'SIGTERM', 5000),
  };
}

/** An in-test UDP socket decoding with FlowDecoder, records converted to their JSON form. */
export async function startInProcessReceiver(port = 0): Promise<FlowReceiver> {
  const socket: Socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(port, '127.0.0.1', resolve));
  const decoder = new FlowDecoder(defaultDecoderSettings());
  const sink = new CollectingSink();
  const records: FlowJson[] = [];
  socket.on('message', (payload, rinfo) => {
    decoder.decode(
      {
        payload,
        srcAddress: rinfo.address,
        srcPort: rinfo.port,
        dstPort: socket.address().port,
        receivedAtMs: Date.now(),
        connectionId: null,
      },
      sink,
    );
    for (const r of sink.records.splice(0)) records.push(toJsonObject(r));
  });
  return {
    port: socket.address().port,
    records,
    waitFor: (done, timeoutMs) => poll(records, done, timeoutMs, 'in-test receiver'),
    stop: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
