import dgram from 'node:dgram';
import { Writable } from 'node:stream';
import pino from 'pino';
import { configSchema } from '../../src/config/schema.js';
import type { FlowgateConfig } from '../../src/config/types.js';
import type { Datagram } from '../../src/decode/datagram.js';
import { FlowDecoder } from '../../src/decode/flow-decoder.js';
import { defaultDecoderSettings } from '../../src/decode/settings.js';
import type { DecodeSink } from '../../src/decode/sink.js';
import type { RecordOutput } from '../../src/deliver/output.js';
import { DEFAULT_INTERNAL_NETWORKS } from '../../src/enrich/address-classes.js';
import { FlowRecord } from '../../src/record/flow-record.js';
import { CollectingSink } from '../helpers/collecting-sink.js';
import { datagramOf } from '../helpers/datagram.js';

export const quietLogger = pino({ level: 'silent' });

/** A complete configuration for in-process collectors on loopback ephemeral ports. */
/** An empty file's configuration, for the sections tests here never change. */
const DEFAULTS = configSchema.parse({}) as FlowgateConfig;

export function testConfig(over: {
  general?: Partial<FlowgateConfig['general']>;
  flow?: Partial<FlowgateConfig['flow']>;
  output?: Partial<FlowgateConfig['output']>;
  store?: Partial<FlowgateConfig['store']>;
  decode?: Partial<FlowgateConfig['decode']>;
  detection?: Partial<FlowgateConfig['detection']>;
}): FlowgateConfig {
  return {
    general: {
      statsinterval: 60,
      templatedb: '',
      templatedbinterval: 60,
      downsample: 1,
      maxclockskew: 10,
      datadir: '',
      ...over.general,
    },
    flow: {
      listen: ['127.0.0.1:0'],
      tcplisten: [],
      udpbuffer: 262_144,
      allow: [],
      queue: 1000,
      queuebytes: 4_194_304,
      workers: 0,
      ratelimit: 0,
      rateburst: null,
      tcpmaxconnections: 256,
      tcpmaxperpeer: 16,
      tcpidletimeout: 300,
      tcpmessagetimeout: 30,
      tee: { targets: [], sourcebind: null, queue: 10_000, filter: [] },
      ...over.flow,
    },
    decode: {
      maxexporters: 100,
      maxtemplatesperexporter: 1024,
      maxtemplates: 100_000,
      exporteridle: 600,
      maxfieldspertemplate: 256,
      maxfieldlength: 4096,
      maxsflowsamples: 256,
      maxsflowrecords: 64,
      templatettl: 7 * 24 * 3600,
      extrafields: [],
      ...over.decode,
    },
    exporters: [],
    interfaces: [],
    interfaceclasses: [],
    countonce: [],
    addressclasses: { internalnetworks: [...DEFAULT_INTERNAL_NETWORKS], bogons: true },
    tags: [],
    filters: { defaultaction: 'accept', rules: [] },
    output: {
      stdout: false,
      file: null,
      discard: false,
      rotate: { maxbytes: null, maxage: null, compress: true, keep: 24 },
      ingest: configSchema.parse({}).output.ingest,
      batchsize: 16,
      queue: 10_000,
      ...over.output,
    },
    // In-process collectors keep records in memory unless a test opts into the store.
    store: {
      enabled: false,
      engine: 'duckdb',
      clickhouse: configSchema.parse({}).store.clickhouse,
      memorylimit: 256 * 1024 * 1024,
      dir: null,
      retentiondays: null,
      maxbytes: null,
      batchsize: 10_000,
      queue: 200_000,
      retryinterval: 5,
      ...over.store,
    },
    snmp: { ...DEFAULTS.snmp },
    geo: { asn: null, database: null, privateas: 'unset', cachesize: 100_000, reloadinterval: 30 },
    detection: { ...DEFAULTS.detection, ...over.detection },
    notify: { ...DEFAULTS.notify },
    mitigation: { ...DEFAULTS.mitigation },
    // In memory: in-process collectors must not leave alert files behind.
    alerts: { ...DEFAULTS.alerts, persist: false },
    api: {
      enabled: false,
      listen: '127.0.0.1:0',
      token: null,
      allownotoken: false,
      tlscert: null,
      tlskey: null,
    },
    log: { level: 'info', format: 'json' },
    syslog: { server: null, protocol: 'udp', level: 'info', facility: 'daemon' },
    cloud: { sources: [] },
  };
}

/** Keeps every batch in memory. */
export class MemoryOutput implements RecordOutput {
  readonly name = 'memory';
  records: FlowRecord[] = [];
  batches = 0;
  closed = false;
  async write(batch: readonly FlowRecord[]): Promise<void> {
    this.batches++;
    this.records.push(...batch);
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

/**
 * Stands in for the protocol decoders so the pipeline can be tested alone: one record per
 * datagram carrying what the receiver stamped (exporter, ports, size, connection).
 */
export class EchoDecoder extends FlowDecoder {
  seen: Datagram[] = [];
  busyMs = 0;
  constructor() {
    super(defaultDecoderSettings());
  }
  override decode(d: Datagram, sink: DecodeSink): void {
    if (this.busyMs > 0) {
      const until = performance.now() + this.busyMs;
      while (performance.now() < until);
    }
    // A copy: a receiving thread's payload is a view into its ring, reused after decode.
    this.seen.push({ ...d, payload: Buffer.from(d.payload) });
    sink.datagram(d.srcAddress, 'netflow5', d.payload.length, null);
    const r = new FlowRecord();
    r.flowsrcip = d.srcAddress;
    r.srcport = d.srcPort;
    r.dstport = d.dstPort;
    r.bits = d.payload.length * 8;
    r.timestamp = Math.floor(d.receivedAtMs / 1000);
    sink.record(r);
  }
}

/** Whether the real decoder produces records for these payloads yet (decoders land one by one). */
export function decoderReady(payloads: Buffer[]): boolean {
  const decoder = new FlowDecoder(defaultDecoderSettings());
  const sink = new CollectingSink();
  for (const p of payloads) decoder.decode(datagramOf(p), sink);
  return sink.records.length > 0 && !sink.errors.some((e) => e.message.includes('not implemented'));
}

export async function waitFor(what: string, cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Sends each payload in order from one client socket (family of `host`) and closes it. */
export async function sendUdp(
  host: string,
  port: number,
  payloads: Buffer[],
  family: 4 | 6 = 4,
): Promise<void> {
  const client = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
  try {
    for (const p of payloads) {
      await new Promise<void>((resolve, reject) =>
        client.send(p, port, host, (err) => (err ? reject(err) : resolve())),
      );
    }
  } finally {
    await new Promise<void>((resolve) => client.close(() => resolve()));
  }
}

/** A pino logger whose JSON lines are kept, for asserting what the collector logs. */
export function logCapture(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n')) if (l !== '') lines.push(JSON.parse(l));
      cb();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines };
}
