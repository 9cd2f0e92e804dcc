/**
 * The agent's default traffic source: Linux conntrack with accounting, so no packet is touched in
 * JavaScript. Connection ends come from `conntrack -E` events; long connections' counters from a
 * periodic `conntrack -L` dump. The kernel's counters are cumulative per connection and direction;
 * this source remembers the last values it reported per conntrack id and hands the flow cache
 * deltas: the original direction under the original tuple, the reply direction under the reply
 * tuple.
 *
 * Two kernel facts shape it. nf_conntrack_acct (per network namespace) only counts connections
 * created after it is on. And a namespace tracks connections at all only while something uses
 * conntrack there (a firewall rule with `ct state`, NAT, …); a host with no firewall tracks
 * nothing, so by default the source adds an nftables table whose only rule reads `ct state`.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { type ConntrackCounters, type ConntrackEntry, parseConntrackLine } from './conntrack-events.js';
import type { FlowKey, FlowObservationSink } from './flow-observation.js';

export interface ConntrackSourceOptions {
  /** How often the table is dumped for the counters of connections still open (ms). */
  dumpIntervalMs: number;
  onError(err: Error): void;
  /** Connections to leave out (the agent's own export traffic). Tested on both directions. */
  ignore?: (key: FlowKey) => boolean;
  /** Run every conntrack command inside this network namespace (`ip netns exec`); tests. */
  netns?: string;
  /**
   * Add the nftables table `inet flowgate_agent` (one rule reading `ct state`) so the namespace
   * tracks connections even without a firewall; removed at stop. Needs `nft`. Default true.
   */
  enableTracking?: boolean;
}

export interface ConntrackSourceStats {
  /** Lines of events and dumps parsed into entries. */
  events: number;
  dumps: number;
  /** Connections currently remembered (counters reported so far). */
  connections: number;
  /** Observations handed to the sink. */
  observations: number;
  /** Connections skipped by `ignore`. */
  ignored: number;
  /** Lines that were not conntrack entries (besides the summary line). */
  unparsed: number;
  /** Connections forgotten because they vanished from the table without a DESTROY event. */
  lost: number;
}

/** What was reported of one connection so far: cumulative counters at the last observation. */
interface Tracked {
  readonly orig: FlowKey;
  readonly reply: FlowKey;
  /** Cumulative counters already reported, per direction. */
  readonly origSeen: { packets: number; bytes: number };
  readonly replySeen: { packets: number; bytes: number };
  /** Reported as ended (TCP TIME_WAIT/CLOSE): a later DESTROY only adds what was not yet counted. */
  ended: boolean;
  /** The final counters of a closed TCP connection are being fetched. */
  closing: boolean;
  /** The dump generation it was last seen in, to forget connections whose DESTROY was lost. */
  seenInDump: number;
}

const ACCT_PATH = '/proc/sys/net/netfilter/nf_conntrack_acct';
const NFT_TABLE = 'flowgate_agent';
/** TCP states after which no more data flows: FIN/RST expiry without waiting for DESTROY (120 s later). */
const ENDED_TCP_STATES: ReadonlySet<string> = new Set(['TIME_WAIT', 'CLOSE']);
/** A connection missing from this many consecutive dumps is forgotten (its DESTROY event was lost). */
const DUMPS_BEFORE_FORGET = 2;
const COMMAND_TIMEOUT_MS = 10_000;

function wrap(netns: string | undefined, argv: readonly string[]): string[] {
  return netns === undefined ? [...argv] : ['ip', 'netns', 'exec', netns, ...argv];
}

interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
  error: Error | null;
}

function runCommand(argv: readonly string[], input?: string): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = execFile(
      argv[0],
      argv.slice(1),
      { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: COMMAND_TIMEOUT_MS },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
        const spawnFailed = err !== null && typeof err.code === 'string';
        resolve({ code, stdout, stderr, error: spawnFailed ? err : null });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** null when the conntrack tool runs and the kernel's table can be read, else why not. */
export async function conntrackAvailable(netns?: string): Promise<string | null> {
  const r = await runCommand(wrap(netns, ['conntrack', '-C']));
  if (r.error !== null) return `cannot run conntrack (install conntrack-tools): ${r.error.message}`;
  if (r.code !== 0) {
    const why = r.stderr.trim() || `exit code ${r.code}`;
    return `conntrack cannot read the kernel's connection table (needs root and nf_conntrack): ${why}`;
  }
  return null;
}

export class ConntrackSource {
  private readonly tracked = new Map<number, Tracked>();
  private readonly counters: Omit<ConntrackSourceStats, 'connections'> = {
    events: 0,
    dumps: 0,
    observations: 0,
    ignored: 0,
    unparsed: 0,
    lost: 0,
  };
  private events: ChildProcess | null = null;
  private dumpTimer: NodeJS.Timeout | null = null;
  private dumping: Promise<void> | null = null;
  private dumpGeneration = 0;
  private stopping = false;
  private tableAdded = false;

  private constructor(
    private readonly sink: FlowObservationSink,
    private readonly options: ConntrackSourceOptions,
  ) {}

  static async start(sink: FlowObservationSink, options: ConntrackSourceOptions): Promise<ConntrackSource> {
    const unavailable = await conntrackAvailable(options.netns);
    if (unavailable !== null) throw new Error(unavailable);
    const source = new ConntrackSource(sink, options);
    await source.enableAccounting();
    if (options.enableTracking ?? true) await source.enableTracking();
    source.startEvents();
    // A first dump at once: connections open before the agent started report from here on.
    source.dumpNow();
    source.dumpTimer = setInterval(() => source.dumpNow(), options.dumpIntervalMs);
    source.dumpTimer.unref();
    return source;
  }

  get stats(): ConntrackSourceStats {
    return { ...this.counters, connections: this.tracked.size };
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.dumpTimer !== null) clearInterval(this.dumpTimer);
    this.dumpTimer = null;
    const events = this.events;
    this.events = null;
    if (events !== null && events.exitCode === null && events.signalCode === null) {
      const exited = new Promise<void>((resolve) => events.once('close', () => resolve()));
      events.kill('SIGTERM');
      await exited;
    }
    if (this.dumping !== null) await this.dumping;
    if (this.tableAdded) {
      await runCommand(wrap(this.options.netns, ['nft', 'delete', 'table', 'inet', NFT_TABLE]));
      this.tableAdded = false;
    }
  }

  private cmd(argv: readonly string[]): string[] {
    return wrap(this.options.netns, argv);
  }

  private async enableAccounting(): Promise<void> {
    // /proc/sys/net is per namespace: write it from inside the namespace the source watches.
    // Already on (sysctl.d, or a unit that may not write /proc/sys): nothing to write.
    const current = await runCommand(this.cmd(['cat', ACCT_PATH]));
    if (current.code === 0 && current.stdout.trim() === '1') return;
    const r = await runCommand(this.cmd(['sh', '-c', `echo 1 > ${ACCT_PATH}`]));
    if (r.code !== 0 || r.error !== null) {
      const why = r.error?.message ?? r.stderr.trim();
      this.options.onError(
        new Error(
          `cannot enable conntrack accounting (${ACCT_PATH}): ${why}; without it connections carry no byte or packet counters`,
        ),
      );
    }
  }

  private async enableTracking(): Promise<void> {
    const ruleset = [
      `table inet ${NFT_TABLE} {`,
      '  chain track {',
      '    type filter hook prerouting priority -150; policy accept;',
      '    ct state new',
      '  }',
      '}',
      '',
    ].join('\n');
    const r = await runCommand(this.cmd(['nft', '-f', '-']), ruleset);
    if (r.code === 0 && r.error === null) {
      this.tableAdded = true;
      return;
    }
    const why = r.error !== null ? `nft not found (install nftables): ${r.error.message}` : r.stderr.trim();
    this.options.onError(
      new Error(
        `cannot add the nftables table ${NFT_TABLE} (${why}); conntrack sees connections only if some other netfilter rule uses conntrack`,
      ),
    );
  }

  private startEvents(): void {
    const argv = this.cmd(['conntrack', '-E', '-e', 'NEW,UPDATE,DESTROY', '-o', 'extended,id,timestamp']);
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.events = child;
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-2000);
    });
    child.on('error', (err) => this.options.onError(new Error(`conntrack -E: ${err.message}`)));
    child.on('close', (code, signal) => {
      if (this.stopping) return;
      this.options.onError(
        new Error(
          `conntrack -E exited (${signal ?? `code ${code}`}): ${stderr.trim() || 'no message'}; connection ends are now seen only by the dumps`,
        ),
      );
    });
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => this.onEventLine(line));
  }

  private onEventLine(line: string): void {
    const e = parseConntrackLine(line);
    if (e === null) {
      if (line.trim() !== '' && !line.includes('conntrack-tools')) this.counters.unparsed++;
      return;
    }
    this.counters.events++;
    if (e.id === null || this.ignored(e)) return;
    const now = e.timeMs ?? Date.now();
    if (e.type === 'NEW') {
      if (!this.tracked.has(e.id)) this.tracked.set(e.id, this.newTracked(e));
      return;
    }
    if (e.type === 'DESTROY') {
      const t = this.tracked.get(e.id) ?? this.newTracked(e);
      this.tracked.delete(e.id);
      this.report(t, e, now, true);
      return;
    }
    // UPDATE: no counters from the kernel; a TCP close is the end of the flow's data, so fetch
    // the final counters now rather than wait for the DESTROY that follows TIME_WAIT's 120 s.
    if (e.state !== null && ENDED_TCP_STATES.has(e.state)) {
      const t = this.tracked.get(e.id) ?? this.newTracked(e);
      this.tracked.set(e.id, t);
      if (!t.ended && !t.closing) {
        t.closing = true;
        void this.reportClosed(e.id, t, now).finally(() => {
          t.closing = false;
        });
      }
    }
  }

  private async reportClosed(id: number, t: Tracked, now: number): Promise<void> {
    const o = t.orig;
    const protocol = o.protocol === 6 ? 'tcp' : String(o.protocol);
    const r = await runCommand(
      this.cmd([
        'conntrack',
        '-G',
        '-f',
        o.family === 4 ? 'ipv4' : 'ipv6',
        '-p',
        protocol,
        '-s',
        o.src,
        '-d',
        o.dst,
        '--sport',
        String(o.srcPort),
        '--dport',
        String(o.dstPort),
        '-o',
        'extended,id',
      ]),
    );
    for (const line of r.stdout.split('\n')) {
      const e = parseConntrackLine(line);
      if (e === null || e.id !== id) continue;
      this.report(t, e, now, true);
      return;
    }
    // Gone already: its DESTROY event carries the counters and reports the end.
  }

  private dumpNow(): void {
    if (this.dumping !== null || this.stopping) return;
    this.dumping = this.dump()
      .catch((err: Error) => this.options.onError(new Error(`conntrack -L: ${err.message}`)))
      .finally(() => {
        this.dumping = null;
      });
  }

  private async dump(): Promise<void> {
    const r = await runCommand(this.cmd(['conntrack', '-L', '-o', 'extended,id']));
    if (r.error !== null) throw r.error;
    if (r.code !== 0) throw new Error(r.stderr.trim() || `exit code ${r.code}`);
    if (this.stopping) return;
    this.counters.dumps++;
    const generation = ++this.dumpGeneration;
    const now = Date.now();
    for (const line of r.stdout.split('\n')) {
      const e = parseConntrackLine(line);
      if (e === null || e.id === null) continue;
      if (this.ignored(e)) continue;
      let t = this.tracked.get(e.id);
      if (t === undefined) {
        t = this.newTracked(e);
        this.tracked.set(e.id, t);
      }
      t.seenInDump = generation;
      const closed = e.state !== null && ENDED_TCP_STATES.has(e.state);
      if (closed && t.ended) continue;
      this.report(t, e, now, closed);
    }
    for (const [id, t] of this.tracked) {
      if (generation - t.seenInDump >= DUMPS_BEFORE_FORGET) {
        this.tracked.delete(id);
        this.counters.lost++;
      }
    }
  }

  private newTracked(e: ConntrackEntry): Tracked {
    return {
      orig: e.orig,
      reply: e.reply,
      origSeen: { packets: 0, bytes: 0 },
      replySeen: { packets: 0, bytes: 0 },
      ended: false,
      closing: false,
      seenInDump: this.dumpGeneration,
    };
  }

  private ignored(e: ConntrackEntry): boolean {
    const ignore = this.options.ignore;
    if (ignore === undefined || !(ignore(e.orig) || ignore(e.reply))) return false;
    this.counters.ignored++;
    return true;
  }

  /**
   * Observations of what the counters grew by since the last report. `ended` reports the end even
   * with nothing new (the cache then exports what it holds), except once the end was reported:
   * a DESTROY after TIME_WAIT adds only late packets, never counts twice.
   */
  private report(t: Tracked, e: ConntrackEntry, now: number, ended: boolean): void {
    const endNow = ended && !t.ended;
    this.reportDirection(t.orig, t.origSeen, e.origCounters, now, ended, endNow);
    this.reportDirection(t.reply, t.replySeen, e.replyCounters, now, ended, endNow);
    if (ended) t.ended = true;
  }
  /** One direction: what its counters grew by since `seen`, which then moves up to them. */
  private reportDirection(
    key: FlowKey,
    seen: { packets: number; bytes: number },
    counters: ConntrackCounters | null,
    now: number,
    ended: boolean,
    endNow: boolean,
  ): void {
    if (counters === null) {
      if (endNow) this.observe(key, 0, 0, now, true, true);
      return;
    }
    const packets = Math.max(0, counters.packets - seen.packets);
    const bytes = Math.max(0, counters.bytes - seen.bytes);
    seen.packets = Math.max(seen.packets, counters.packets);
    seen.bytes = Math.max(seen.bytes, counters.bytes);
    this.observe(key, packets, bytes, now, ended, endNow);
  }

  private observe(
    key: FlowKey,
    packets: number,
    bytes: number,
    timeMs: number,
    ended: boolean,
    reportEmpty: boolean,
  ): void {
    if (packets === 0 && bytes === 0 && !reportEmpty) return;
    this.counters.observations++;
    this.sink.observe({ key, packets, bytes, tcpFlags: 0, timeMs, ended });
  }
}
