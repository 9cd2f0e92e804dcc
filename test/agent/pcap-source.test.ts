/**
 * The libpcap source on real traffic: two network namespaces joined by a veth pair (created here,
 * deleted afterwards), the capture opened inside namespace A by a child process (a Node process
 * cannot enter a namespace itself), UDP and TCP sent from B to A.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { FlowKey, FlowObservation } from '../../src/agent/flow-observation.js';
import { pcapAvailable } from '../../src/agent/pcap-source.js';
import { namespacesUnavailable } from '../mitigate/bgp-lab.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/pcap-observe.ts', import.meta.url));
const A_ADDR = '10.213.200.1';
const B_ADDR = '10.213.200.2';
const UDP_COUNT = 250;
const UDP_PAYLOAD = 300;
const TCP_BYTES = 1_000_000;

const notRoot = process.getuid?.() !== 0 ? 'needs root (network namespaces, CAP_NET_RAW)' : null;
const noPcap = notRoot ?? pcapAvailable('lo');
const skipLab = noPcap ?? namespacesUnavailable();

const id = randomBytes(3).toString('hex');
const nsA = `fga-pcap-${id}`;
const nsB = `fgb-pcap-${id}`;
const devA = `fgp${id}a`;
const devB = `fgp${id}b`;
const namespaces: string[] = [];
const children: ChildProcess[] = [];

function run(argv: readonly string[]): void {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed: ${r.stderr || r.error?.message}`);
}

/** Runs `node -e script` in a namespace; resolves with its stdout once it exits 0. */
function nodeIn(ns: string, script: string, onLine?: (line: string) => void): Promise<string> {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', script], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    if (onLine) for (const line of d.split('\n')) if (line !== '') onLine(line);
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  return new Promise((resolve, reject) =>
    child.once('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`node in ${ns} exited ${code}: ${err}`)),
    ),
  );
}

interface Totals {
  key: FlowKey;
  packets: number;
  bytes: number;
  tcpFlags: number;
  ended: boolean;
}

/** The fixture capturing in namespace A, its observations summed per direction. */
class Capture {
  readonly flows = new Map<string, Totals>();
  stats: Record<string, unknown> | null = null;
  private readonly child: ChildProcess;
  private pending = '';
  private stderr = '';
  readonly ready: Promise<void>;

  constructor(ns: string, device: string) {
    this.child = spawn('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', FIXTURE, device], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(this.child);
    this.child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      this.stderr += d;
    });
    this.ready = new Promise((resolve, reject) => {
      this.child.once('exit', (code) => reject(new Error(`pcap-observe exited ${code}: ${this.stderr}`)));
      this.child.stdout?.setEncoding('utf8').on('data', (d: string) => {
        const lines = (this.pending + d).split('\n');
        this.pending = lines.pop() ?? '';
        for (const line of lines) {
          const msg = JSON.parse(line) as { ready?: true; stats?: Record<string, unknown> } & FlowObservation;
          if (msg.ready) resolve();
          else if (msg.stats) this.stats = msg.stats;
          else this.add(msg);
        }
      });
    });
  }

  private add(o: FlowObservation): void {
    const k = o.key;
    const name = `${k.protocol} ${k.src}:${k.srcPort} > ${k.dst}:${k.dstPort}`;
    const t = this.flows.get(name) ?? { key: k, packets: 0, bytes: 0, tcpFlags: 0, ended: false };
    t.packets += o.packets;
    t.bytes += o.bytes;
    t.tcpFlags |= o.tcpFlags;
    t.ended ||= o.ended;
    this.flows.set(name, t);
  }

  find(protocol: number, src: string, dst: string, port: number): Totals | undefined {
    for (const t of this.flows.values()) {
      const k = t.key;
      if (
        k.protocol === protocol &&
        k.src === src &&
        k.dst === dst &&
        (k.srcPort === port || k.dstPort === port)
      )
        return t;
    }
    return undefined;
  }

  /** Waits (bounded) until `done` holds: packets reach the capture shortly after they are sent. */
  async until(done: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!done()) {
      if (Date.now() > deadline)
        throw new Error(`${what} not seen; flows: ${JSON.stringify([...this.flows.values()])}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<void> {
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await exited;
  }
}

before(() => {
  if (skipLab !== null) return;
  for (const ns of [nsA, nsB]) {
    run(['ip', 'netns', 'add', ns]);
    namespaces.push(ns);
    run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  }
  // Created straight into the namespaces, so no interface name is ever taken in the root one.
  run(['ip', 'link', 'add', devA, 'netns', nsA, 'type', 'veth', 'peer', 'name', devB, 'netns', nsB]);
  run(['ip', '-n', nsA, 'addr', 'add', `${A_ADDR}/30`, 'dev', devA]);
  run(['ip', '-n', nsB, 'addr', 'add', `${B_ADDR}/30`, 'dev', devB]);
  run(['ip', '-n', nsA, 'link', 'set', devA, 'up']);
  run(['ip', '-n', nsB, 'link', 'set', devB, 'up']);
  // Static neighbours: while ARP resolves, the kernel queues only a few packets and drops the rest,
  // which would make the UDP count depend on timing.
  run([
    'ip',
    '-n',
    nsA,
    'neigh',
    'replace',
    B_ADDR,
    'lladdr',
    macOf(nsB, devB),
    'dev',
    devA,
    'nud',
    'permanent',
  ]);
  run([
    'ip',
    '-n',
    nsB,
    'neigh',
    'replace',
    A_ADDR,
    'lladdr',
    macOf(nsA, devA),
    'dev',
    devB,
    'nud',
    'permanent',
  ]);
});

function macOf(ns: string, dev: string): string {
  const r = spawnSync('ip', ['-n', ns, '-j', 'link', 'show', dev], { encoding: 'utf8' });
  return (JSON.parse(r.stdout) as { address: string }[])[0].address;
}

after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const ns of namespaces) spawnSync('ip', ['netns', 'del', ns]);
});

test('pcapAvailable names the device that cannot be opened', { skip: noPcap ?? false }, () => {
  const reason = pcapAvailable('fgnosuchdev0');
  assert.match(reason ?? '', /fgnosuchdev0/);
});

test('pcapAvailable says CAP_NET_RAW is needed when the process lacks it', { skip: noPcap ?? false }, () => {
  const script = `import('${new URL('../../src/agent/pcap-source.ts', import.meta.url).href}').then((m) => console.log(m.pcapAvailable('lo')))`;
  const r = spawnSync(
    'setpriv',
    ['--inh-caps=-all', '--bounding-set=-all', process.execPath, '--import', 'tsx', '-e', script],
    { encoding: 'utf8' },
  );
  if (r.error !== undefined) return; // no setpriv: nothing to show
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /CAP_NET_RAW/);
});

test('UDP and TCP from namespace B to A: packets, bytes and TCP FIN as captured in A', {
  skip: skipLab ?? false,
}, async () => {
  const capture = new Capture(nsA, devA);
  await capture.ready;

  // UDP: a known count and size, one datagram at a time so none waits in a queue to be dropped.
  await nodeIn(
    nsB,
    `const s = require('node:dgram').createSocket('udp4');
     s.bind(40123, '${B_ADDR}', async () => {
       const payload = Buffer.alloc(${UDP_PAYLOAD}, 0x61);
       for (let i = 0; i < ${UDP_COUNT}; i++) await new Promise((r, j) => s.send(payload, 40124, '${A_ADDR}', (e) => (e ? j(e) : r())));
       s.close();
     });`,
  );
  await capture.until(
    () => (capture.find(17, B_ADDR, A_ADDR, 40124)?.packets ?? 0) >= UDP_COUNT,
    'all UDP datagrams',
  );

  // TCP: A serves TCP_BYTES and closes; B reads to the end and closes.
  let listening!: () => void;
  const isListening = new Promise<void>((r) => {
    listening = r;
  });
  const server = nodeIn(
    nsA,
    `const srv = require('node:net').createServer((c) => { c.end(Buffer.alloc(${TCP_BYTES}, 0x62)); srv.close(); });
     srv.listen(40200, '${A_ADDR}', () => console.log('listening'));`,
    (line) => line === 'listening' && listening(),
  );
  await isListening;
  const received = await nodeIn(
    nsB,
    `let n = 0; const c = require('node:net').connect(40200, '${A_ADDR}');
     c.on('data', (d) => { n += d.length; }); c.on('end', () => { c.end(); console.log(n); });`,
  );
  await server;
  assert.equal(Number(received), TCP_BYTES);
  await capture.until(() => {
    const down = capture.find(6, A_ADDR, B_ADDR, 40200);
    const up = capture.find(6, B_ADDR, A_ADDR, 40200);
    return down !== undefined && up !== undefined && down.ended && up.ended;
  }, 'FIN in both TCP directions');
  await capture.stop();

  const udp = capture.find(17, B_ADDR, A_ADDR, 40124);
  assert.deepEqual(udp?.key, {
    family: 4,
    src: B_ADDR,
    dst: A_ADDR,
    srcPort: 40123,
    dstPort: 40124,
    protocol: 17,
  });
  assert.equal(udp?.packets, UDP_COUNT);
  assert.equal(udp?.bytes, UDP_COUNT * (20 + 8 + UDP_PAYLOAD));
  assert.equal(udp?.tcpFlags, 0);
  assert.equal(udp?.ended, false);

  const down = capture.find(6, A_ADDR, B_ADDR, 40200);
  const up = capture.find(6, B_ADDR, A_ADDR, 40200);
  assert.ok(down !== undefined && up !== undefined);
  // veth passes GSO super-packets whole, so a capture sees fewer, larger packets than a wire would:
  // bytes are the payload plus one IP+TCP header (at most 60 bytes with timestamps) per packet seen.
  assert.ok(
    down.bytes >= TCP_BYTES + 40 * down.packets,
    `A to B bytes ${down.bytes} for ${down.packets} packets`,
  );
  assert.ok(
    down.bytes <= TCP_BYTES + 60 * down.packets + 200,
    `A to B bytes ${down.bytes} for ${down.packets} packets`,
  );
  assert.ok(down.packets >= Math.ceil(TCP_BYTES / 65_535), `A to B packets ${down.packets}`);
  assert.equal(down.tcpFlags & 0x13, 0x13, 'SYN, ACK and FIN from A'); // SYN|ACK|FIN
  assert.equal(up.tcpFlags & 0x13, 0x13, 'SYN, ACK and FIN from B');
  assert.ok(down.ended && up.ended);
  // B sends no data: SYN, ACKs and FIN, each one header.
  assert.ok(up.bytes <= 60 * up.packets, `B to A bytes ${up.bytes} for ${up.packets} packets`);

  const stats = capture.stats as { packets: number; bytes: number; unparsed: number } | null;
  assert.ok(stats !== null, 'stats printed at stop');
  const observed = [...capture.flows.values()].reduce((s, t) => s + t.packets, 0);
  assert.equal(stats.packets, observed);
  assert.equal(stats.unparsed, 0);
});
