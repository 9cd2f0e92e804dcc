/**
 * The shape of a validated configuration. `config/schema.ts` (zod) must produce exactly this;
 * every other module codes against it. Keys are lower case without underscores so that the
 * environment override FLOWGATE_<SECTION>_<KEY> (and FLOWGATE_<SECTION>_<SUB>_<KEY>) maps onto
 * them unambiguously; connector knobs keep the connector's names (udpbuffer, statsinterval, ...).
 */
import type { ExtraFieldType } from '../decode/settings.js';
import type { DetectionConfig } from '../detect/detection-config.js';
import type { FlowFilterRuleOptions } from '../enrich/flow-filter.js';
import type { TagRuleOptions } from '../enrich/tags.js';
import type { MitigationConfig } from '../mitigate/config.js';
import type { FacilityName } from '../notify/syslog-message.js';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

export interface ExporterConfig {
  /** Exporter address or CIDR this entry applies to (first match wins). */
  match: string;
  name: string | null;
  site: string | null;
  /** Sampling used until the exporter reports its own; null = unknown. */
  samplerate: number | null;
  /** Forced sampling rate (devices that report none or a wrong one). */
  samplerateoverride: number | null;
  /** UDP source port is part of the template/sampling key. */
  keybyport: boolean;
  tags: string[];
}

export interface InterfaceConfig {
  /** Exporter address or CIDR. */
  exporter: string;
  /** SNMP ifIndex, as in the records' input/output. */
  index: number;
  name: string | null;
  alias: string | null;
  /** bits/s */
  speed: number | null;
}

export interface InterfaceClassConfig {
  class: string;
  /** Regular expressions; every one given must match (name against the name, alias the alias). */
  name: string | null;
  alias: string | null;
}

export interface CountOnceConfig {
  /** Exporter address or CIDR the rule applies to; null = every exporter. */
  exporter: string | null;
  /** Interface class (interfaceclasses) the counted records' interface must have. */
  class: string;
  /** ingress: the record's input interface; egress: its output interface. */
  direction: 'ingress' | 'egress';
}

export interface FlowgateConfig {
  general: {
    /** Seconds between stats log lines. */
    statsinterval: number;
    /** Template database file (UDP templates and sampling survive restarts). */
    /** null: `<datadir>/templates.json`; "": none. */
    templatedb: string | null;
    /** Seconds between template DB saves (also saved at shutdown). */
    templatedbinterval: number;
    /** Keep 1 record in N (1 = every record). */
    downsample: number;
    /** Seconds an exporter's clock may be off (header export time vs arrival) before /stats flags it. */
    maxclockskew: number;
    /** Data directory (flow store and friends). */
    datadir: string;
  };
  flow: {
    /** UDP listen addresses "host:port" / "[v6]:port"; every protocol accepted on each. */
    listen: string[];
    /** IPFIX over TCP listen addresses (opt-in: empty by default). */
    tcplisten: string[];
    /** Requested SO_RCVBUF bytes for each UDP socket. */
    udpbuffer: number;
    /** Exporter allow-list (CIDRs or addresses); empty = every exporter allowed. */
    allow: string[];
    /** Bound of the queue between receive and decode (datagrams). */
    queue: number;
    /** Bound of each receiving thread's shared ring (bytes). */
    queuebytes: number;
    /** Receiving threads the UDP listeners are spread over; 0 = read on the main thread. */
    workers: number;
    /** Datagrams/messages per second per exporter address; 0 = no limit. */
    ratelimit: number;
    /** Token bucket size; null = ratelimit (one second's worth). */
    rateburst: number | null;
    /** IPFIX over TCP: open connections at most, over all peers and per peer address. */
    tcpmaxconnections: number;
    tcpmaxperpeer: number;
    /** Seconds: silence before a connection is closed; time to complete a started message. */
    tcpidletimeout: number;
    tcpmessagetimeout: number;
    /** Forward every UDP datagram received, unchanged, to other collectors (receive/tee.ts). */
    tee: {
      /** "host:port" / "[v6]:port" of each collector; empty = no tee. */
      targets: string[];
      /** Local address the forwarded datagrams are sent from; null = chosen by the system. */
      sourcebind: string | null;
      /** Datagrams waiting per target; beyond it they are dropped and counted. */
      queue: number;
      /** Only datagrams from these exporters (addresses or CIDRs); empty = all. */
      filter: string[];
    };
  };
  decode: {
    maxexporters: number;
    maxtemplatesperexporter: number;
    /** Templates over all exporters. */
    maxtemplates: number;
    /** Seconds of silence after which an exporter may be forgotten while maxexporters is reached. */
    exporteridle: number;
    maxfieldspertemplate: number;
    maxfieldlength: number;
    maxsflowsamples: number;
    maxsflowrecords: number;
    /** Seconds after which an unrefreshed template is dropped. */
    templatettl: number;
    extrafields: { name: string; id: number; enterprise: number; type: ExtraFieldType | null }[];
  };
  exporters: ExporterConfig[];
  output: {
    /** Print JSON lines to stdout (the connector's dumprecords). */
    stdout: boolean;
    /** Also (or instead) append JSON lines to this file; null = none. */
    file: string | null;
    /** Decode, enrich, detect and count, but write records nowhere (no stdout fallback). */
    discard: boolean;
    /** HTTP ingest upload (deliver/ingest/): off while url is null. */
    ingest: {
      url: string | null;
      profile: 'generic' | 'connector' | 'elasticsearch' | 'splunk';
      format: 'jsonlines' | 'array';
      compression: 'gzip' | 'none';
      /** A secret: give it as FLOWGATE_OUTPUT_INGEST_TOKEN or ..._FILE. */
      token: string | null;
      authheader: string;
      flushcount: number;
      flushinterval: number;
      retries: number;
      retryinterval: number;
      timeout: number;
      closetimeout: number;
      maxbatchesinmemory: number;
      spool: {
        enabled: boolean;
        /** null = `<general.datadir>/spool`. */
        dir: string | null;
        maxbytes: number;
        whenfull: 'dropoldest' | 'refusenewest';
      };
      index: string | null;
      headers: Record<string, string>;
    };
    /** Rotation of `file` (deliver/rotating-jsonl.ts): on when maxbytes or maxage is set. */
    rotate: {
      maxbytes: number | null;
      /** Seconds an open file may age before it is rotated. */
      maxage: number | null;
      /** gzip closed files. */
      compress: boolean;
      /** Rotated files kept (oldest deleted); null = all. */
      keep: number | null;
    };
    /** Records per batch handed from decode to outputs. */
    batchsize: number;
    /** Bound on records waiting for a slow output; beyond it records are dropped and counted. */
    queue: number;
  };
  store: {
    /** Store every record in the flow store. */
    enabled: boolean;
    /** The embedded DuckDB store, or ClickHouse (one server or a cluster). */
    engine: 'duckdb' | 'clickhouse';
    clickhouse: {
      url: string;
      database: string;
      username: string;
      /** A secret: give it as FLOWGATE_STORE_CLICKHOUSE_PASSWORD or ..._FILE. */
      password: string | null;
      table: string;
      /** Cluster name in the servers' remote_servers; null = one server. */
      cluster: string | null;
      /** HTTP URL of every shard of the cluster. */
      shards: string[];
    };
    /** Store directory; null = `<general.datadir>/flows` (see storeDir in config/store-dir.ts). */
    dir: string | null;
    /** Drop partitions older than this many days; null = keep. */
    retentiondays: number | null;
    /** Drop the oldest partitions beyond this many bytes; null = no bound. */
    maxbytes: number | null;
    /** Records per store write (queued batches are merged up to this). */
    batchsize: number;
    /** Bound on records waiting for the store; beyond it records are dropped and counted. */
    queue: number;
    /** Seconds between retries of a failing store. */
    retryinterval: number;
    /** DuckDB memory_limit in bytes. */
    memorylimit: number;
  };
  /** Names, aliases and speeds of exporters' interfaces (they win over what exporters announce). */
  interfaces: InterfaceConfig[];
  /** Classes given to interfaces whose name/alias match (e.g. transit, peering, customer). */
  interfaceclasses: InterfaceClassConfig[];
  /** Which copies of a flow count (weight kept), e.g. ingress on boundary interfaces only. */
  countonce: CountOnceConfig[];
  /** srcinternal/dstinternal and bogonsrc/bogondst. */
  addressclasses: {
    internalnetworks: string[];
    bogons: boolean;
  };
  /** Ordered tagging rules (src/enrich/tags.ts). */
  tags: TagRuleOptions[];
  /** Flow filters with the connector's semantics (src/enrich/flow-filter.ts). */
  filters: { defaultaction: 'accept' | 'drop'; rules: FlowFilterRuleOptions[] };
  /** Interface names, aliases and speeds polled from exporters (IF-MIB). */
  snmp: {
    enabled: boolean;
    version: '2c' | '3';
    /** v2c community, null = "public": a secret (masked, never logged; FLOWGATE_SNMP_COMMUNITY_FILE). */
    community: string | null;
    port: number;
    /** Seconds between refreshes of an exporter's interfaces. */
    interval: number;
    /** Milliseconds per request, and retries after a timeout. */
    timeout: number;
    retries: number;
    /** SNMPv3 user (authPriv when privkey is set, authNoPriv with authkey only). */
    user: string | null;
    authprotocol: 'sha' | 'md5';
    authkey: string | null;
    privprotocol: 'aes' | 'des';
    privkey: string | null;
  };
  geo: {
    /** AS database (GeoLite2/GeoIP2 ASN, or IPinfo with `asn`); null = owner AS fields stay null. */
    asn: string | null;
    /** Geolocation database (GeoLite2/GeoIP2 City or Country, or IPinfo); null = geo stays null. */
    database: string | null;
    /** When the database's owner AS replaces the flow's srcas/dstas (see docs/enrichment.md). */
    privateas: 'unset' | 'private' | 'never';
    /** Addresses whose lookups are cached. */
    cachesize: number;
    /** Seconds between checks of the database files for a new version. */
    reloadinterval: number;
  };
  /** Streaming detection (docs/detection.md). */
  detection: DetectionConfig;
  /** Where alert events are sent (docs/notifications.md). */
  notify: {
    webhooks: {
      url: string;
      /** Secrets (masked in `config print`, never logged). */
      headers: Record<string, string>;
      /** ms per request. */
      timeout: number;
      retries: number;
      /** ms before the first retry, doubled each time. */
      retryinterval: number;
      maxqueued: number;
    }[];
    syslog: { server: string; protocol: 'udp' | 'tcp'; format: 'rfc5424' | 'cef'; facility: FacilityName }[];
    /** Programs run per alert event (the event JSON on stdin); timeout in seconds. */
    scripts: { command: string[]; timeout: number; concurrency: number }[];
  };
  /** Opt-in BGP mitigation of attacks (docs/mitigation.md). */
  mitigation: MitigationConfig;
  alerts: {
    /** Keep alerts across restarts (in `file`); false: memory only. */
    persist: boolean;
    /** JSON-lines file of the alerts; null: alerts.jsonl under general.datadir. */
    file: string | null;
    /** Alerts kept at most (the oldest ended ones go first). */
    max: number;
  };
  api: {
    /** Serve the HTTP API (health, stats, metrics, queries). */
    enabled: boolean;
    /** "host:port" / "[v6]:port" of the HTTP API; loopback by default. */
    listen: string;
    /** Bearer token required on every route but /healthz; null = none (a secret). */
    token: string | null;
    /** Allow a non-loopback listen address without a token (logged loudly). */
    allownotoken: boolean;
    /** PEM certificate (chain) and private key files: HTTPS when set (both or neither). */
    tlscert: string | null;
    tlskey: string | null;
  };
  log: {
    level: LogLevel;
    /** json (default) or pretty (human-readable, for a terminal). */
    format: 'json' | 'pretty';
  };
  /** The log also to a syslog server (RFC 5424), as the connector's `syslog` section. */
  syslog: {
    /** "host:port" (514 when absent); null = no syslog. */
    server: string | null;
    protocol: 'udp' | 'tcp';
    /** Lines below this level are not sent. */
    level: LogLevel;
    facility: FacilityName;
  };
  /** Cloud flow logs read continuously by the collector (docs/cloud.md). */
  cloud: {
    sources: CloudSourceConfig[];
  };
}

/** One cloud flow-log source: a folder, a file, `s3://bucket/prefix` or `azure://container/prefix`. */
export interface CloudSourceConfig {
  /** Names the source in logs, /stats and the checkpoint file; the records' flowsrcname. */
  name: string;
  provider: 'aws' | 'gcp' | 'azure';
  source: string;
  /** AWS: the flow log's LogFormat, for logs delivered without a header line. */
  format: string | null;
  /** Seconds between looks for new objects or appended data. */
  poll: number;
  /** S3: an S3-compatible endpoint URL (null: AWS itself). */
  endpoint: string | null;
  region: string;
  /** S3: static credentials; null: the AWS SDK's own chain (environment, profile, instance role). */
  accesskeyid: string | null;
  secretaccesskey: string | null;
  /** Azure: the storage account's connection string (a secret). */
  connectionstring: string | null;
  /** Only objects whose name matches this regular expression. */
  pattern: string | null;
}
