import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { test } from 'node:test';
import { configSchema, isCidr, isListenAddress } from '../../src/config/schema.js';
import { DEFAULT_DECODE_LIMITS } from '../../src/decode/settings.js';

test('an empty configuration gives the PRODUCT.md defaults', () => {
  const c = configSchema.parse({});
  assert.deepEqual(c.flow, {
    listen: ['[::]:2055', '[::]:4739', '[::]:6343'],
    tcplisten: [],
    udpbuffer: 4_194_304,
    allow: [],
    queue: 100_000,
    queuebytes: 64 * 1024 * 1024,
    // A receiving thread where there is a second core.
    workers: availableParallelism() > 1 ? 1 : 0,
    ratelimit: 0,
    rateburst: null,
    tcpmaxconnections: 256,
    tcpmaxperpeer: 16,
    tcpidletimeout: 300,
    tcpmessagetimeout: 30,
    tee: { targets: [], sourcebind: null, queue: 10_000, filter: [] },
  });
  assert.deepEqual(c.general, {
    statsinterval: 60,
    templatedb: null,
    templatedbinterval: 60,
    downsample: 1,
    maxclockskew: 10,
    datadir: './data',
  });
  assert.deepEqual(c.decode, {
    maxexporters: 10_000,
    maxtemplatesperexporter: 1_024,
    maxtemplates: 100_000,
    exporteridle: 600,
    maxfieldspertemplate: 256,
    maxfieldlength: 4_096,
    maxsflowsamples: 256,
    maxsflowrecords: 64,
    templatettl: 604_800,
    extrafields: [],
  });
  assert.equal(c.decode.templatettl * 1000, DEFAULT_DECODE_LIMITS.templateTtlMs);
  assert.deepEqual(c.exporters, []);
  assert.deepEqual(c.output, {
    stdout: false,
    file: null,
    discard: false,
    // Connector defaults: flush 5 s or 2000 records, 5 retries 5 s apart; the spool on by default.
    ingest: {
      url: null,
      profile: 'generic',
      format: 'jsonlines',
      compression: 'gzip',
      token: null,
      authheader: 'Authorization',
      flushcount: 2000,
      flushinterval: 5,
      retries: 5,
      retryinterval: 5,
      timeout: 30,
      closetimeout: 10,
      maxbatchesinmemory: 4,
      spool: { enabled: true, dir: null, maxbytes: 1024 ** 3, whenfull: 'dropoldest' },
      index: null,
      headers: {},
    },
    rotate: { maxbytes: null, maxage: null, compress: true, keep: 24 },
    batchsize: 1024,
    queue: 100_000,
  });
  assert.deepEqual(c.store, {
    enabled: true,
    engine: 'duckdb',
    clickhouse: {
      url: 'http://127.0.0.1:8123',
      database: 'flowgate',
      username: 'default',
      password: null,
      table: 'flows',
      cluster: null,
      shards: [],
    },
    dir: null,
    retentiondays: 30,
    maxbytes: null,
    batchsize: 10_000,
    queue: 200_000,
    retryinterval: 5,
    memorylimit: 256 * 1024 * 1024,
  });
  assert.deepEqual(c.log, { level: 'info', format: 'json' });
  assert.deepEqual(c.syslog, { server: null, protocol: 'udp', level: 'info', facility: 'daemon' });
});

test('defaults are not shared between parses', () => {
  const a = configSchema.parse({});
  a.flow.listen.push('127.0.0.1:1');
  a.flow.allow.push('10.0.0.0/8');
  const b = configSchema.parse({});
  assert.deepEqual(b.flow.listen, ['[::]:2055', '[::]:4739', '[::]:6343']);
  assert.deepEqual(b.flow.allow, []);
});

test('exporter entries get their defaults; extra fields default enterprise 0 and type null', () => {
  const c = configSchema.parse({
    exporters: [{ match: '192.0.2.0/24', samplerate: 1000 }],
    decode: { extrafields: [{ name: 'appid', id: 95 }] },
  });
  assert.deepEqual(c.exporters[0], {
    match: '192.0.2.0/24',
    name: null,
    site: null,
    samplerate: 1000,
    samplerateoverride: null,
    keybyport: false,
    tags: [],
  });
  assert.deepEqual(c.decode.extrafields[0], { name: 'appid', id: 95, enterprise: 0, type: null });
});

test('listen addresses: host:port and [v6]:port with port 1-65535', () => {
  for (const ok of ['[::]:2055', '0.0.0.0:2055', '127.0.0.1:1', '[2001:db8::1]:65535', 'localhost:9995']) {
    assert.equal(isListenAddress(ok), true, ok);
  }
  for (const bad of [
    ':2055',
    '[::]:0',
    '[::]:65536',
    '::1:2055',
    '10.0.0.1',
    '10.0.0.300:2055',
    '[10.0.0.1]:1',
    'x y:1',
  ]) {
    assert.equal(isListenAddress(bad), false, bad);
  }
});

test('CIDRs: IPv4 up to /32, IPv6 up to /128, no shorthand addresses', () => {
  for (const ok of ['10.0.0.0/8', '192.0.2.1/32', '2001:db8::/32', '::/0'])
    assert.equal(isCidr(ok), true, ok);
  for (const bad of ['10/8', '10.0.0.0/33', '2001:db8::/129', '10.0.0.0', '10.0.0.0/', 'x/8']) {
    assert.equal(isCidr(bad), false, bad);
  }
});

test('strict: unknown keys, wrong types and out-of-range values are rejected', () => {
  const cases: [unknown, string, RegExp][] = [
    [{ flow: { udpbufer: 1 } }, 'flow', /Unrecognized key/],
    [{ flow: { udpbuffer: 0 } }, 'flow.udpbuffer', /expected a positive integer, got 0/],
    [{ flow: { workers: -1 } }, 'flow.workers', /non-negative integer, got -1/],
    [{ flow: { queue: 1.5 } }, 'flow.queue', /positive integer, got 1.5/],
    [{ log: { format: 'xml' } }, 'log.format', /one of json, pretty, got "xml"/],
    [{ exporters: [{ match: '10.0.0.0/8', keybyport: 'yes' }] }, 'exporters.0.keybyport', /true or false/],
    [{ exporters: [{ match: 'edge1' }] }, 'exporters.0.match', /IP address or CIDR/],
    [{ decode: { extrafields: [{ name: 'appid', id: 70000 }] } }, 'decode.extrafields.0.id', /0-65535/],
    [{ flow: { allow: ['10.0.0.0/8', 'any'] } }, 'flow.allow.1', /IP address or CIDR.*"any"/],
  ];
  for (const [input, path, message] of cases) {
    const r = configSchema.safeParse(input);
    assert.equal(r.success, false, JSON.stringify(input));
    const issue = r.error?.issues[0];
    assert.equal(issue?.path.join('.'), path, JSON.stringify(input));
    assert.match(issue?.message ?? '', message, JSON.stringify(input));
  }
});
