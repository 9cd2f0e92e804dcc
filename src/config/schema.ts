/**
 * The configuration schema: validation, defaults and the exact FlowgateConfig shape. An empty file
 * gives the PRODUCT.md defaults; every object is strict so that a mistyped key is an error, not a
 * silently ignored setting. Error texts are written for an operator ("expected a positive integer,
 * got "big""); `load.ts` prefixes them with where the value came from and the dotted key.
 */
import { availableParallelism } from 'node:os';
import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { DEFAULT_DECODE_LIMITS } from '../decode/settings.js';
import { INGEST_DEFAULTS, INGEST_SPOOL_DEFAULTS } from '../deliver/ingest/options.js';
import { DEFAULT_THRESHOLDS, defaultDetectionConfig } from '../detect/detection-config.js';
import { FLOOD_THRESHOLD_KEYS } from '../detect/flood-checks.js';
import { compileAddressClasses, DEFAULT_INTERNAL_NETWORKS } from '../enrich/address-classes.js';
import { compileFlowFilter, type FlowFilterRuleOptions } from '../enrich/flow-filter.js';
import { EnrichOptionError } from '../enrich/option-error.js';
import { compileTags, type TagRuleOptions } from '../enrich/tags.js';
import {
  MITIGABLE_KINDS,
  DEFAULT_MITIGATION_CONFIG as MITIGATION_DEFAULTS,
  type MitigationConfig,
  MitigationConfigError,
} from '../mitigate/config.js';
import { compileMitigationSettings } from '../mitigate/settings.js';
import { FACILITIES, type FacilityName } from '../notify/syslog-message.js';
import { DEFAULT_MAX_CLOCK_SKEW_SEC } from '../stats/clock-skew.js';
import { DEFAULT_DUCKDB_MEMORY_LIMIT } from '../store/duckdb/worker-protocol.js';
import type { FlowgateConfig } from './types.js';

/**
 * Dotted paths of secret keys: accepted as FLOWGATE_<PATH>_FILE, masked by `config print`,
 * redacted from logs.
 */
export const SECRET_KEYS: readonly string[] = [
  'api.token',
  'output.ingest.token',
  'output.ingest.headers.*',
  'store.clickhouse.password',
  'snmp.community',
  'snmp.authkey',
  'snmp.privkey',
  // Webhook URLs often carry a token in the path (chat services); headers carry credentials.
  'notify.webhooks.*.url',
  'notify.webhooks.*.headers.*',
  'cloud.sources.*.secretaccesskey',
  'cloud.sources.*.connectionstring',
];

/** Shorter bearer tokens are guessable; 16 characters is 96 bits of base64. */
const MIN_TOKEN_LENGTH = 16;

export function showValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return 'a list';
  if (v !== null && typeof v === 'object') return 'a mapping';
  return String(v);
}

/** zod error option: "expected <what>, got <input>" for every issue of the schema it is given to. */
function expected(what: string) {
  return { error: (iss: { input?: unknown }) => `expected ${what}, got ${showValue(iss.input)}` };
}

/** For objects: only the type issue is ours; unknown keys keep zod's issue (load.ts names them). */
function expectedMapping(what = 'a mapping') {
  return {
    error: (iss: { code?: string; input?: unknown }) =>
      iss.code === 'invalid_type' ? `expected ${what}, got ${showValue(iss.input)}` : undefined,
  };
}

function integer(what: string, min: number, max: number) {
  const e = expected(what);
  return z.number(e).int(e).min(min, e).max(max, e);
}

/** Names written unquoted into SQL (database, table, cluster): letters, digits and _. */
function identifierText(what: string) {
  return z
    .string(expected(what))
    .regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, expected(`${what} of letters, digits and _`));
}

/** SO_RCVBUF and friends are C ints. */
const INT_MAX = 2_147_483_647;
const positiveInt = () => integer('a positive integer', 1, INT_MAX);
const nonNegativeInt = () => integer('a non-negative integer', 0, INT_MAX);

function isIpv4(s: string): boolean {
  // isValidFourPartDecimal, not isValid: ipaddr.js also accepts "10" or "0x0a.1" as IPv4.
  return ipaddr.IPv4.isValidFourPartDecimal(s);
}

function isIpv6(s: string): boolean {
  return s.includes(':') && ipaddr.IPv6.isValid(s);
}

export function isIpAddress(s: string): boolean {
  return isIpv4(s) || isIpv6(s);
}

export function isCidr(s: string): boolean {
  const slash = s.indexOf('/');
  if (slash < 0) return false;
  const addr = s.slice(0, slash);
  const bits = s.slice(slash + 1);
  if (!/^\d{1,3}$/.test(bits)) return false;
  if (isIpv4(addr)) return Number(bits) <= 32;
  if (isIpv6(addr)) return Number(bits) <= 128;
  return false;
}

const HOSTNAME =
  /^(?=.{1,253}$)[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

/** "host:port" or "[v6]:port", port 1-65535; host an IPv4 address, a bracketed IPv6 address or a name. */
export function isListenAddress(s: string): boolean {
  const m = /^(\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(s);
  if (!m) return false;
  const port = Number(m[4]);
  if (port < 1 || port > 65_535) return false;
  if (m[2] !== undefined) return isIpv6(m[2]);
  return isIpv4(m[3]) || (HOSTNAME.test(m[3]) && !/^[\d.]+$/.test(m[3]));
}

const listenAddress = z
  .string(expected('an address "host:port" or "[v6]:port"'))
  .refine(isListenAddress, expected('an address "host:port" or "[v6]:port" with port 1-65535'));

/** A tee target: "host:port" or "[v6]:port" (host names resolved once at start). */
const listenAddressOrHost = z
  .string(expected('"host:port" or "[v6]:port"'))
  .refine((s) => /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):\d{1,5}$/.test(s), expected('"host:port" or "[v6]:port"'));

const addressOrCidr = z
  .string(expected('an IP address or CIDR'))
  .refine((s) => isIpAddress(s) || isCidr(s), expected('an IP address or CIDR (e.g. 10.0.0.0/8)'));

const text = (what = 'a non-empty string') => z.string(expected(what)).min(1, expected(what));
const bool = () => z.boolean(expected('true or false'));
const list = <T extends z.ZodType>(item: T) => z.array(item, expected('a list')).default([]);
// Every key of a section has a default, so an absent section is parsed as {} (generic T hides that).
const section = <T extends z.ZodRawShape>(shape: T) =>
  z.strictObject(shape, expectedMapping()).prefault({} as never);

function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, expected(`one of ${values.join(', ')}`));
}

const EXTRA_FIELD_TYPES = [
  'unsigned',
  'signed',
  'float',
  'boolean',
  'string',
  'ipv4',
  'ipv6',
  'mac',
  'hex',
] as const;

const extraField = z.strictObject(
  {
    // Becomes a JSON key of the record: keep it a plain identifier.
    name: z
      .string(expected('a field name'))
      .regex(/^[a-z][a-z0-9_]*$/, expected('a lower-case field name (letters, digits, _)')),
    id: integer('a field id 0-65535', 0, 65_535),
    enterprise: integer('an enterprise number 0-4294967295', 0, 4_294_967_295).default(0),
    type: oneOf(EXTRA_FIELD_TYPES).nullable().default(null),
  },
  expectedMapping(),
);

const exporter = z.strictObject(
  {
    match: addressOrCidr,
    name: text().nullable().default(null),
    site: text().nullable().default(null),
    samplerate: positiveInt().nullable().default(null),
    samplerateoverride: positiveInt().nullable().default(null),
    keybyport: bool().default(false),
    tags: list(text()),
  },
  expectedMapping(),
);

const regex = z.string(expected('a regular expression')).refine((s) => {
  try {
    new RegExp(s);
    return true;
  } catch {
    return false;
  }
}, expected('a valid regular expression'));

const interfaceEntry = z.strictObject(
  {
    exporter: addressOrCidr,
    index: integer('an interface index (0-4294967295)', 0, 4_294_967_295),
    name: text().nullable().default(null),
    alias: text().nullable().default(null),
    speed: z
      .number(expected('a speed in bits/s'))
      .positive(expected('a speed in bits/s'))
      .nullable()
      .default(null),
  },
  expectedMapping(),
);

const interfaceClass = z
  .strictObject(
    {
      class: text(),
      name: regex.nullable().default(null),
      alias: regex.nullable().default(null),
    },
    expectedMapping(),
  )
  .refine((c) => c.name !== null || c.alias !== null, expected('a class with a name or alias pattern'));

const countOnceRule = z.strictObject(
  {
    exporter: addressOrCidr.nullable().default(null),
    class: text(),
    direction: oneOf(['ingress', 'egress']).default('ingress'),
  },
  expectedMapping(),
);

/**
 * Runs an enrichment compile step as validation, so a bad rule is reported like any other config
 * error (file, line, key): `tags[2].dstports[0]` becomes the issue path [2, 'dstports', 0].
 */
function validatedBy(compile: (value: unknown, path: string) => unknown, key: string) {
  return (value: unknown, ctx: z.RefinementCtx): void => {
    try {
      compile(value, key);
    } catch (err) {
      if (!(err instanceof EnrichOptionError)) throw err;
      const path = err.path
        .split(/[.[\]]+/)
        .filter((p) => p !== '')
        .slice(1)
        .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
      ctx.addIssue({ code: 'custom', message: err.message.slice(err.path.length + 2), path });
    }
  };
}

/** A per-second threshold; null switches the check off. */
const threshold = () =>
  z
    .number(expected('a number ≥ 0, or null (off)'))
    .nonnegative(expected('a number ≥ 0, or null (off)'))
    .nullable();

const THRESHOLD_KEYS = Object.keys(DEFAULT_THRESHOLDS) as (keyof typeof DEFAULT_THRESHOLDS)[];

const thresholds = z
  .strictObject(
    Object.fromEntries(THRESHOLD_KEYS.map((k) => [k, threshold().default(DEFAULT_THRESHOLDS[k])])) as Record<
      keyof typeof DEFAULT_THRESHOLDS,
      z.ZodDefault<ReturnType<typeof threshold>>
    >,
    expectedMapping(`a mapping of thresholds (${THRESHOLD_KEYS.join(', ')})`),
  )
  .prefault({} as never);

const hostgroupThresholds = z.strictObject(
  Object.fromEntries(THRESHOLD_KEYS.map((k) => [k, threshold().optional()])) as Record<
    keyof typeof DEFAULT_THRESHOLDS,
    z.ZodOptional<ReturnType<typeof threshold>>
  >,
  expectedMapping(`a mapping of thresholds (${THRESHOLD_KEYS.join(', ')})`),
);

/** Flood thresholds for a total (a hostgroup's hosts together, all internal hosts, an interface). */
const floodThresholds = z.strictObject(
  Object.fromEntries(FLOOD_THRESHOLD_KEYS.map((k) => [k, threshold().optional()])) as Record<
    (typeof FLOOD_THRESHOLD_KEYS)[number],
    z.ZodOptional<ReturnType<typeof threshold>>
  >,
  expectedMapping(`a mapping of flood thresholds (${FLOOD_THRESHOLD_KEYS.join(', ')})`),
);

const hostgroup = z.strictObject(
  {
    name: text(),
    networks: z.array(addressOrCidr, expected('a list of networks')).min(1, expected('at least one network')),
    thresholds: hostgroupThresholds.default({}),
    totals: floodThresholds.default({}),
  },
  expectedMapping(),
);

const interfaceWatch = z.strictObject(
  {
    exporter: addressOrCidr,
    index: z
      .union(
        [
          integer('an interface index (0-4294967295)', 0, 4_294_967_295).transform((i) => [i]),
          z.array(integer('an interface index (0-4294967295)', 0, 4_294_967_295)),
        ],
        expected('an interface index or a list of them'),
      )
      .default([]),
    direction: oneOf(['in', 'out', 'both']).default('in'),
    thresholds: floodThresholds.default({}),
    utilisation: z
      .number(expected('a percentage (1-100), or null (off)'))
      .gt(0, expected('a percentage (1-100), or null (off)'))
      .max(100, expected('a percentage (1-100), or null (off)'))
      .nullable()
      .default(null),
  },
  expectedMapping(),
);

const cloudSource = z
  .strictObject(
    {
      name: text('a name (letters, digits, ".", "_", "-")').refine(
        (s) => /^[A-Za-z0-9._-]{1,64}$/.test(s),
        expected('a name of 1-64 letters, digits, ".", "_" or "-"'),
      ),
      provider: oneOf(['aws', 'gcp', 'azure']),
      source: text('a folder, a file, "s3://bucket/prefix" or "azure://container/prefix"'),
      format: text('an AWS LogFormat').nullable().default(null),
      poll: positiveInt().default(60),
      endpoint: text('an URL').nullable().default(null),
      region: text('a region').default('us-east-1'),
      accesskeyid: text().nullable().default(null),
      secretaccesskey: text().nullable().default(null),
      connectionstring: text().nullable().default(null),
      pattern: text('a regular expression')
        .refine((s) => {
          try {
            new RegExp(s);
            return true;
          } catch {
            return false;
          }
        }, expected('a valid regular expression'))
        .nullable()
        .default(null),
    },
    expectedMapping(),
  )
  .superRefine((c, ctx) => {
    if (c.source.startsWith('azure://') && c.provider !== 'azure') {
      ctx.addIssue({
        code: 'custom',
        message: 'azure:// sources hold Azure flow logs: provider must be azure',
      });
    }
    if ((c.accesskeyid === null) !== (c.secretaccesskey === null)) {
      ctx.addIssue({ code: 'custom', message: 'accesskeyid and secretaccesskey go together' });
    }
  });

const DETECTION_DEFAULTS = defaultDetectionConfig();

const ruleList = (what: string) =>
  z.array(z.record(z.string(), z.unknown(), expectedMapping()), expected(`a list of ${what}`)).default([]);

export const configSchema = z.strictObject(
  {
    general: section({
      statsinterval: positiveInt().default(60),
      // null: templates.json under datadir; "": no template database.
      templatedb: z.string(expected('a file path')).nullable().default(null),
      templatedbinterval: positiveInt().default(60),
      downsample: positiveInt().default(1),
      maxclockskew: positiveInt().default(DEFAULT_MAX_CLOCK_SKEW_SEC),
      datadir: text('a directory path').default('./data'),
    }),
    flow: section({
      listen: list(listenAddress).default(['[::]:2055', '[::]:4739', '[::]:6343']),
      tcplisten: list(listenAddress),
      // 4 MiB like nfcapd -B: absorbs bursts (connector default was 1 MiB); the kernel caps it at
      // net.core.rmem_max.
      udpbuffer: positiveInt().default(4_194_304),
      allow: list(addressOrCidr),
      queue: positiveInt().default(100_000),
      // The shared ring between a receiving thread and decode: 64 MiB holds ~45,000 full-size
      // datagrams, 16 times the 4 MiB socket buffer, and is the memory a burst can take.
      queuebytes: integer('a number of bytes >= 1048576', 1_048_576, INT_MAX).default(67_108_864),
      // Receiving threads: one where there is a second core, so the sockets are read while the
      // main thread decodes; 0 reads them on the main thread.
      workers: nonNegativeInt().default(() => (availableParallelism() > 1 ? 1 : 0)),
      // Per exporter address, datagrams (UDP) or messages (TCP) per second; 0: no limit. Beyond
      // it datagrams are dropped before decode and counted (rateLimited), so one noisy or hostile
      // source cannot take the decoder from the others.
      ratelimit: nonNegativeInt().default(0),
      // Bucket size: how many may arrive at once after a quiet spell; null: one second's worth.
      rateburst: positiveInt().nullable().default(null),
      // IPFIX over TCP: connections at once (all peers), and per peer address.
      tcpmaxconnections: positiveInt().default(256),
      tcpmaxperpeer: positiveInt().default(16),
      // Seconds a connection may stay silent; and may take to complete a message once started
      // (or its first message once connected), so a peer dribbling bytes (slowloris) is closed.
      tcpidletimeout: positiveInt().default(300),
      tcpmessagetimeout: positiveInt().default(30),
      tee: section({
        targets: list(listenAddressOrHost),
        sourcebind: text('a local address').nullable().default(null),
        queue: positiveInt().default(10_000),
        filter: list(addressOrCidr),
      }),
    }),
    decode: section({
      maxexporters: positiveInt().default(DEFAULT_DECODE_LIMITS.maxExporters),
      maxtemplatesperexporter: positiveInt().default(DEFAULT_DECODE_LIMITS.maxTemplatesPerExporter),
      maxtemplates: positiveInt().default(DEFAULT_DECODE_LIMITS.maxTemplates),
      // Seconds; with maxexporters reached, exporters silent this long make room for new ones.
      exporteridle: positiveInt().default(DEFAULT_DECODE_LIMITS.exporterIdleMs / 1000),
      maxfieldspertemplate: positiveInt().default(DEFAULT_DECODE_LIMITS.maxFieldsPerTemplate),
      maxfieldlength: positiveInt().default(DEFAULT_DECODE_LIMITS.maxFieldLength),
      maxsflowsamples: positiveInt().default(DEFAULT_DECODE_LIMITS.maxSflowSamplesPerDatagram),
      maxsflowrecords: positiveInt().default(DEFAULT_DECODE_LIMITS.maxSflowRecordsPerSample),
      templatettl: positiveInt().default(DEFAULT_DECODE_LIMITS.templateTtlMs / 1000),
      extrafields: list(extraField),
    }),
    exporters: list(exporter),
    interfaces: list(interfaceEntry),
    interfaceclasses: list(interfaceClass),
    countonce: list(countOnceRule),
    addressclasses: section({
      internalnetworks: z.array(addressOrCidr, expected('a list')).default([...DEFAULT_INTERNAL_NETWORKS]),
      bogons: bool().default(true),
    }).superRefine(validatedBy(compileAddressClasses, 'addressclasses')),
    tags: ruleList('tag rules')
      .superRefine(validatedBy(compileTags, 'tags'))
      .transform((rules) => rules as unknown as TagRuleOptions[]),
    filters: z
      .strictObject(
        {
          defaultaction: oneOf(['accept', 'drop']).default('accept'),
          rules: ruleList('filter rules'),
        },
        expectedMapping(),
      )
      .prefault({} as never)
      .superRefine(validatedBy(compileFlowFilter, 'filters'))
      .transform((f) => f as unknown as { defaultaction: 'accept' | 'drop'; rules: FlowFilterRuleOptions[] }),
    output: section({
      // The store is where records go; JSON lines on stdout are opt-in (--stdout).
      stdout: bool().default(false),
      file: text('a file path').nullable().default(null),
      // Records are decoded, enriched and counted, then dropped: detection-only collectors and
      // decode benchmarks (without it, a collector with no store and no file prints to stdout).
      discard: bool().default(false),
      ingest: section({
        // Off until a URL is given.
        url: z
          .string(expected('an http(s) URL'))
          .refine((u) => /^https?:\/\/[^\s]+$/.test(u), expected('an http(s) URL'))
          .nullable()
          .default(null),
        profile: oneOf(['generic', 'connector', 'elasticsearch', 'splunk']).default(INGEST_DEFAULTS.profile),
        format: oneOf(['jsonlines', 'array']).default(INGEST_DEFAULTS.format),
        compression: oneOf(['gzip', 'none']).default(INGEST_DEFAULTS.compression),
        token: text('a token').nullable().default(null),
        authheader: text('a header name').default(INGEST_DEFAULTS.authheader),
        flushcount: positiveInt().default(INGEST_DEFAULTS.flushcount),
        flushinterval: z
          .number(expected('a positive number of seconds'))
          .positive(expected('a positive number of seconds'))
          .default(INGEST_DEFAULTS.flushinterval),
        retries: nonNegativeInt().default(INGEST_DEFAULTS.retries),
        retryinterval: z
          .number(expected('a positive number of seconds'))
          .positive(expected('a positive number of seconds'))
          .default(INGEST_DEFAULTS.retryinterval),
        timeout: positiveInt().default(INGEST_DEFAULTS.timeout),
        closetimeout: positiveInt().default(INGEST_DEFAULTS.closetimeout),
        maxbatchesinmemory: positiveInt().default(INGEST_DEFAULTS.maxbatchesinmemory),
        spool: section({
          enabled: bool().default(true),
          dir: text('a directory path').nullable().default(null),
          maxbytes: positiveInt().default(INGEST_SPOOL_DEFAULTS.maxbytes),
          whenfull: oneOf(['dropoldest', 'refusenewest']).default(INGEST_SPOOL_DEFAULTS.whenfull),
        }),
        index: text('an index name').nullable().default(null),
        headers: z.record(z.string(), z.string(expected('a header value')), expectedMapping()).default({}),
      }),
      rotate: section({
        maxbytes: positiveInt().nullable().default(null),
        maxage: positiveInt().nullable().default(null),
        compress: bool().default(true),
        keep: positiveInt().nullable().default(24),
      }),
      batchsize: positiveInt().default(1024),
      queue: positiveInt().default(100_000),
    }),
    store: section({
      enabled: bool().default(true),
      engine: oneOf(['duckdb', 'clickhouse']).default('duckdb'),
      clickhouse: section({
        url: z
          .string(expected('an http(s) URL'))
          .refine((u) => /^https?:\/\/[^\s]+$/.test(u), expected('an http(s) URL'))
          .default('http://127.0.0.1:8123'),
        database: identifierText('a database name').default('flowgate'),
        username: text('a user name').default('default'),
        password: text('a password').nullable().default(null),
        table: identifierText('a table name').default('flows'),
        // A Distributed table over this cluster of the servers' remote_servers; null: one server.
        cluster: identifierText('a cluster name').nullable().default(null),
        // HTTP URL of every shard of `cluster` (Flowgate creates the local table on each).
        shards: list(
          z
            .string(expected('an http(s) URL'))
            .refine((u) => /^https?:\/\/[^\s]+$/.test(u), expected('an http(s) URL')),
        ),
      }).superRefine((c, ctx) => {
        if ((c.cluster === null) !== (c.shards.length === 0))
          ctx.addIssue({
            code: 'custom',
            message: 'cluster and shards go together: name the cluster and list the HTTP URL of each shard',
            path: c.cluster === null ? ['cluster'] : ['shards'],
          });
      }),
      dir: text('a directory path').nullable().default(null),
      retentiondays: positiveInt().nullable().default(30),
      maxbytes: z
        .number(expected('a positive number of bytes'))
        .int(expected('a positive number of bytes'))
        .positive(expected('a positive number of bytes'))
        .nullable()
        .default(null),
      batchsize: positiveInt().default(10_000),
      queue: positiveInt().default(200_000),
      // DuckDB's memory_limit (its default is 80 % of the RAM); queries beyond it spill to disk.
      memorylimit: integer('a number of bytes >= 67108864', 67_108_864, Number.MAX_SAFE_INTEGER).default(
        DEFAULT_DUCKDB_MEMORY_LIMIT,
      ),
      retryinterval: positiveInt().default(5),
    }),
    snmp: section({
      // Off by default: polling sends SNMP requests to every exporter seen.
      enabled: bool().default(false),
      version: oneOf(['2c', '3']).default('2c'),
      community: text().nullable().default(null),
      port: integer('a port 1-65535', 1, 65535).default(161),
      interval: positiveInt().default(3600),
      timeout: positiveInt().default(2000),
      retries: nonNegativeInt().default(1),
      user: text().nullable().default(null),
      authprotocol: oneOf(['sha', 'md5']).default('sha'),
      authkey: text().nullable().default(null),
      privprotocol: oneOf(['aes', 'des']).default('aes'),
      privkey: text().nullable().default(null),
    }),
    geo: section({
      // MaxMind-format databases (GeoLite2/GeoIP2 ASN, City or Country; IPinfo): null = not used.
      asn: text('a file path').nullable().default(null),
      database: text('a file path').nullable().default(null),
      privateas: oneOf(['unset', 'private', 'never']).default('unset'),
      cachesize: integer('an integer from 2 to 10000000', 2, 10_000_000).default(100_000),
      reloadinterval: positiveInt().default(30),
    }),
    detection: section({
      enabled: bool().default(DETECTION_DEFAULTS.enabled),
      window: integer('seconds from 2 to 3600', 2, 3600).default(DETECTION_DEFAULTS.window),
      endafter: positiveInt().default(DETECTION_DEFAULTS.endafter),
      updateinterval: positiveInt().default(DETECTION_DEFAULTS.updateinterval),
      maxhosts: positiveInt().default(DETECTION_DEFAULTS.maxhosts),
      maxsources: positiveInt().default(DETECTION_DEFAULTS.maxsources),
      scanwindow: positiveInt().default(DETECTION_DEFAULTS.scanwindow),
      maxscansamplerate: positiveInt().default(DETECTION_DEFAULTS.maxscansamplerate),
      exportersilent: positiveInt().nullable().default(DETECTION_DEFAULTS.exportersilent),
      learnperiod: nonNegativeInt().default(DETECTION_DEFAULTS.learnperiod),
      thresholds,
      hostgroups: list(hostgroup),
      totals: floodThresholds.default({}),
      interfaces: list(interfaceWatch),
      maxinterfaces: positiveInt().default(DETECTION_DEFAULTS.maxinterfaces),
      baseline: section({
        enabled: bool().default(DETECTION_DEFAULTS.baseline.enabled),
        slots: integer('an integer from 1 to 1440', 1, 1440).default(DETECTION_DEFAULTS.baseline.slots),
        warmup: positiveInt().default(DETECTION_DEFAULTS.baseline.warmup),
        alpha: z
          .number(expected('a number between 0 and 1'))
          .gt(0, expected('a number between 0 and 1'))
          .max(1, expected('a number between 0 and 1'))
          .default(DETECTION_DEFAULTS.baseline.alpha),
        deviations: z
          .number(expected('a positive number'))
          .positive(expected('a positive number'))
          .default(DETECTION_DEFAULTS.baseline.deviations),
      }),
    }),
    notify: section({
      webhooks: list(
        z.strictObject(
          {
            url: z
              .string(expected('an http(s) URL'))
              .refine((u) => /^https?:\/\/[^\s]+$/.test(u), expected('an http(s) URL')),
            headers: z
              .record(z.string(), z.string(expected('a header value')), expectedMapping())
              .default({}),
            timeout: positiveInt().default(5000),
            retries: nonNegativeInt().default(3),
            retryinterval: positiveInt().default(1000),
            maxqueued: positiveInt().default(1000),
          },
          expectedMapping(),
        ),
      ),
      syslog: list(
        z.strictObject(
          {
            server: z
              .string(expected('"host:port"'))
              .refine(
                (s) => isListenAddress(s) || isListenAddress(`${s}:514`),
                expected('"host:port" or "host"'),
              ),
            protocol: oneOf(['udp', 'tcp']).default('udp'),
            format: oneOf(['rfc5424', 'cef']).default('rfc5424'),
            facility: z
              .enum(
                Object.keys(FACILITIES) as [FacilityName, ...FacilityName[]],
                expected('a syslog facility (local0 ... local7, daemon, ...)'),
              )
              .default('local0'),
          },
          expectedMapping(),
        ),
      ),
      scripts: list(
        z.strictObject(
          {
            command: z
              .array(text(), expected('a command as a list: [program, arg, ...]'))
              .min(1, expected('a program')),
            timeout: positiveInt().default(30),
            concurrency: positiveInt().default(2),
          },
          expectedMapping(),
        ),
      ),
    }),
    mitigation: section({
      enabled: bool().default(MITIGATION_DEFAULTS.enabled),
      action: oneOf(['blackhole', 'flowspec']).default(MITIGATION_DEFAULTS.action),
      kinds: z
        .array(oneOf(MITIGABLE_KINDS), expected('a list of alert kinds'))
        .default([...MITIGATION_DEFAULTS.kinds]),
      community: text('"ASN:value"').default(MITIGATION_DEFAULTS.community),
      nexthop: text('an IPv4 address').nullable().default(MITIGATION_DEFAULTS.nexthop),
      nexthop6: text('an IPv6 address').nullable().default(MITIGATION_DEFAULTS.nexthop6),
      flowspecaction: oneOf(['discard', 'ratelimit']).default(MITIGATION_DEFAULTS.flowspecaction),
      ratelimit: nonNegativeInt().default(MITIGATION_DEFAULTS.ratelimit),
      maxannouncements: positiveInt().default(MITIGATION_DEFAULTS.maxannouncements),
      protected: z.array(addressOrCidr, expected('a list of networks')).default([]),
      dryrun: bool().default(MITIGATION_DEFAULTS.dryrun),
      minduration: nonNegativeInt().default(MITIGATION_DEFAULTS.minduration),
      withdrawonclose: bool().default(MITIGATION_DEFAULTS.withdrawonclose),
      gobgp: section({
        command: z
          .array(text(), expected('a command as a list'))
          .min(1)
          .default([...MITIGATION_DEFAULTS.gobgp.command]),
        host: text('an address').default(MITIGATION_DEFAULTS.gobgp.host),
        port: integer('a port 1-65535', 1, 65535).default(MITIGATION_DEFAULTS.gobgp.port),
        timeout: positiveInt().default(MITIGATION_DEFAULTS.gobgp.timeout),
      }),
    }).superRefine((m, ctx) => {
      // The same strict checks the mitigator applies (communities, next hops), reported as config errors.
      try {
        compileMitigationSettings(m as MitigationConfig);
      } catch (err) {
        if (!(err instanceof MitigationConfigError)) throw err;
        ctx.addIssue({ code: 'custom', message: err.message });
      }
    }),
    alerts: section({
      // Alerts kept for /api/alerts across restarts, in `file` (null: alerts.jsonl in datadir).
      persist: bool().default(true),
      file: text('a file path').nullable().default(null),
      max: positiveInt().default(10_000),
    }),
    api: section({
      enabled: bool().default(true),
      // API port 8080 like goflow2's metrics listener; loopback so nothing is exposed by default.
      listen: listenAddress.default('127.0.0.1:8080'),
      token: z
        .string(expected(`a token of at least ${MIN_TOKEN_LENGTH} characters`))
        .min(MIN_TOKEN_LENGTH, expected(`a token of at least ${MIN_TOKEN_LENGTH} characters`))
        .nullable()
        .default(null),
      allownotoken: bool().default(false),
      // HTTPS when both are set (PEM files, read at start); plain HTTP otherwise.
      tlscert: text('a PEM certificate file path').nullable().default(null),
      tlskey: text('a PEM private key file path').nullable().default(null),
    }).superRefine((a, ctx) => {
      if ((a.tlscert === null) !== (a.tlskey === null))
        ctx.addIssue({ code: 'custom', message: 'tlscert and tlskey go together' });
    }),
    log: section({
      level: oneOf(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info'),
      format: oneOf(['json', 'pretty']).default('json'),
    }),
    syslog: section({
      server: text('"host:port"').nullable().default(null),
      protocol: oneOf(['udp', 'tcp']).default('udp'),
      level: oneOf(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info'),
      facility: oneOf(Object.keys(FACILITIES) as [FacilityName, ...FacilityName[]]).default('daemon'),
    }),
    cloud: section({
      sources: list(cloudSource).superRefine((sources, ctx) => {
        const seen = new Set<string>();
        for (const s of sources) {
          if (seen.has(s.name))
            ctx.addIssue({ code: 'custom', message: `two cloud sources are named ${s.name}` });
          seen.add(s.name);
        }
      }),
    }),
  },
  expectedMapping(
    'a mapping of sections (general, flow, decode, exporters, interfaces, interfaceclasses, countonce, addressclasses, tags, filters, output, store, snmp, geo, detection, notify, mitigation, alerts, api, log, syslog, cloud)',
  ),
);

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** Compile-time guarantee that the schema produces exactly the contract shape. */
const outputIsFlowgateConfig: Equal<z.output<typeof configSchema>, FlowgateConfig> = true;
void outputIsFlowgateConfig;
