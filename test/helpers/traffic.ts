/**
 * Real traffic on loopback for the end-to-end exporter tests: a node HTTP server serving files of
 * known sizes to curl, a few UDP datagrams of known sizes, all captured by tcpdump into a pcap; then
 * the flows that pcap holds (per 5-tuple packets, IP bytes, first/last time) computed with tshark.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** Whether a program is on the PATH. */
export function commandExists(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore', timeout: 5000 }).status === 0;
}

/** A free TCP or UDP port on 127.0.0.1 (bound then released). */
export async function freePort(kind: 'tcp' | 'udp'): Promise<number> {
  if (kind === 'udp') {
    const s = createSocket('udp4');
    await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
    const port = s.address().port;
    await new Promise<void>((resolve) => s.close(() => resolve()));
    return port;
  }
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** Serves `/bytes/N`: N bytes of body. */
export async function startHttpServer(): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const n = Number(/^\/bytes\/(\d+)$/.exec(req.url ?? '')?.[1] ?? -1);
    if (!(n >= 0 && n <= 10_000_000)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': n });
    res.end(Buffer.alloc(n, 0x61));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

/** Runs a command to completion with a time bound; rejects on a non-zero exit or timeout. */
export function runBounded(
  cmd: string,
  args: string[],
  timeoutMs: number,
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
    });
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')} timed out after ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve({ stdout, stderr });
      else reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${stderr}`));
    });
  });
}

/** Waits until `child` writes `pattern` on stderr/stdout, or fails after timeoutMs. */
export function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (b: Buffer) => {
      seen += b.toString();
      if (pattern.test(seen)) {
        cleanup();
        resolve(seen);
      }
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`process exited (${code}) before printing ${pattern}: ${seen}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no ${pattern} within ${timeoutMs} ms: ${seen}`));
    }, timeoutMs);
    function cleanup() {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
    }
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', onExit);
  });
}

/** Stops a child we started (by its own handle) and waits for it, SIGKILL after graceMs. */
export async function stopProcess(
  child: ChildProcess,
  signal: NodeJS.Signals = 'SIGTERM',
  graceMs = 5000,
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/**
 * Captures loopback traffic matching `filter` into `file` while `traffic` runs. `-U` writes each
 * packet as it comes; `-Z root` keeps tcpdump from switching to its own user, who could not write
 * into a private temp directory.
 */
export async function captureLoopback(
  file: string,
  filter: string,
  traffic: () => Promise<void>,
): Promise<void> {
  // Loopback segments reach 64 KiB (a big capture buffer); without --immediate-mode the last packets
  // wait in a half-filled kernel block that tcpdump never reads when it is stopped.
  const td = spawn(
    'tcpdump',
    ['-i', 'lo', '-U', '--immediate-mode', '-B', '65536', '-Z', 'root', '-w', file, filter],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  td.stderr.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  try {
    await waitForOutput(td, /listening on lo/, 10_000);
    await traffic();
    // Let the last packets (FIN/ACK) reach the capture buffer before stopping.
    await sleep(300);
  } finally {
    await stopProcess(td, 'SIGINT');
  }
  const dropped = Number(/(\d+) packets? dropped by kernel/.exec(stderr)?.[1] ?? 0);
  if (dropped > 0) throw new Error(`tcpdump dropped ${dropped} packets: the capture is incomplete`);
}

/** Downloads http://127.0.0.1:port/bytes/n with curl (one TCP connection per call). */
export async function curlDownload(port: number, n: number): Promise<void> {
  await runBounded(
    'curl',
    ['-s', '-o', '/dev/null', '--max-time', '10', `http://127.0.0.1:${port}/bytes/${n}`],
    15_000,
  );
}

/** Sends UDP datagrams with payloads of the given sizes from one socket; returns its source port. */
export async function sendUdp(port: number, sizes: number[]): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const src = s.address().port;
  for (const n of sizes) {
    await new Promise<void>((resolve, reject) =>
      s.send(Buffer.alloc(n, 0x62), port, '127.0.0.1', (err) => (err ? reject(err) : resolve())),
    );
  }
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return src;
}

/** A unidirectional flow as the packets in a capture show it. */
export interface CapturedFlow {
  srcip: string;
  dstip: string;
  srcport: number;
  dstport: number;
  protocol: number;
  packets: number;
  /** Sum of IP total lengths (what NetFlow octet counters count). */
  ipBytes: number;
  /** Sum of frame lengths on the wire (Ethernet header included). */
  frameBytes: number;
  firstMs: number;
  lastMs: number;
}

export function flowKey(f: {
  srcip: unknown;
  dstip: unknown;
  srcport: unknown;
  dstport: unknown;
  protocol: unknown;
}): string {
  return `${f.protocol} ${f.srcip}:${f.srcport} > ${f.dstip}:${f.dstport}`;
}

/**
 * Per 5-tuple flows of a capture of IPv4 TCP/UDP traffic, from tshark's field output; frames longer
 * than `maxFrameLength` are left out (see the pmacctd test).
 */
export function capturedFlows(
  file: string,
  maxFrameLength = Number.POSITIVE_INFINITY,
): Map<string, CapturedFlow> {
  const res = spawnSync(
    'tshark',
    [
      '-r',
      file,
      '-T',
      'fields',
      '-E',
      'occurrence=f',
      '-e',
      'frame.time_epoch',
      '-e',
      'frame.len',
      '-e',
      'ip.src',
    ]
      .concat(['-e', 'ip.dst', '-e', 'ip.proto', '-e', 'ip.len', '-e', 'tcp.srcport', '-e', 'tcp.dstport'])
      .concat(['-e', 'udp.srcport', '-e', 'udp.dstport']),
    { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
  );
  if (res.status !== 0) throw new Error(`tshark on ${file} failed: ${res.stderr}`);
  const flows = new Map<string, CapturedFlow>();
  for (const line of res.stdout.split('\n')) {
    if (line.trim() === '') continue;
    const [time, frameLen, src, dst, proto, ipLen, tsp, tdp, usp, udp] = line.split('\t');
    if (Number(frameLen) > maxFrameLength) continue;
    const protocol = Number(proto);
    const f = {
      srcip: src,
      dstip: dst,
      srcport: Number(protocol === 6 ? tsp : usp),
      dstport: Number(protocol === 6 ? tdp : udp),
      protocol,
    };
    const ms = Math.round(Number(time) * 1000);
    const key = flowKey(f);
    const cur = flows.get(key);
    if (cur) {
      cur.packets++;
      cur.ipBytes += Number(ipLen);
      cur.frameBytes += Number(frameLen);
      cur.lastMs = Math.max(cur.lastMs, ms);
      cur.firstMs = Math.min(cur.firstMs, ms);
    } else {
      flows.set(key, {
        ...f,
        packets: 1,
        ipBytes: Number(ipLen),
        frameBytes: Number(frameLen),
        firstMs: ms,
        lastMs: ms,
      });
    }
  }
  return flows;
}
