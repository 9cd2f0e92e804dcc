/**
 * HTTPS for the API (api.tlscert, api.tlskey): a self-signed certificate made by the openssl CLI
 * in a temporary directory; requests pin it as their only CA. Plain HTTP to the port fails, TLS
 * below 1.2 is refused by the server, a wrong file fails the start naming the setting and the file
 * (never the key), and TLS does not stand in for a token on a non-loopback address.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import tls from 'node:tls';
import type { CollectorStats } from '../../src/collector.js';
import { FlowDecoder } from '../../src/decode/flow-decoder.js';
import { defaultDecoderSettings } from '../../src/decode/settings.js';
import { type ApiServerOptions, HSTS, startApiServer } from '../../src/serve/api-server.js';
import { startApiFromConfig } from '../../src/serve/start-from-config.js';
import { logCapture, quietLogger, testConfig } from '../collector/helpers.js';
import { startStack } from './helpers.js';

const TOKEN = 'tls-test-token-0123456789';
let dir = '';
let cert = '';
let key = '';
let otherKey = '';
let certPem: Buffer;

/** A self-signed certificate for 127.0.0.1 and localhost, and its key, as PEM files. */
function selfSigned(name: string): { cert: string; key: string } {
  const files = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  execFileSync('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    files.key,
    '-out',
    files.cert,
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
    '-addext',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ]);
  return files;
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'flowgate-api-tls-'));
  ({ cert, key } = selfSigned('flowgate'));
  otherKey = selfSigned('other').key;
  certPem = readFileSync(cert);
});

after(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  protocol: string | null;
}

/** GET over HTTPS trusting only `ca` (no agent: every request is a fresh handshake). */
function httpsGet(url: string, opts: { ca?: Buffer; token?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      url,
      {
        agent: false,
        ca: opts.ca,
        headers: opts.token === undefined ? {} : { authorization: `Bearer ${opts.token}` },
      },
      (res) => {
        const protocol = (res.socket as tls.TLSSocket).getProtocol();
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, protocol }));
      },
    );
    req.on('error', reject);
  });
}

/** The error code a TLS handshake with these client options ends in, or "connected". */
function handshake(port: number, options: tls.ConnectionOptions): Promise<string> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca: certPem, ...options }, () => {
      socket.end();
      resolve(`connected ${socket.getProtocol()}`);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

const noCollector = {
  token: TOKEN,
  allowNoToken: false,
  collector: { stats: () => ({ listeners: [] }) as unknown as CollectorStats },
  templates: () => [],
  logger: quietLogger,
} satisfies ApiServerOptions;

test('HTTPS: served with the pinned CA (HSTS, token still required); unverified and plain HTTP fail', async () => {
  const { logger, lines } = logCapture();
  const s = await startStack({ token: TOKEN, tls: { cert, key } }, logger);
  try {
    assert.equal(s.api.url, `https://127.0.0.1:${s.api.port}`);
    const stats = await httpsGet(`${s.api.url}/stats`, { ca: certPem, token: TOKEN });
    assert.equal(stats.status, 200, stats.body);
    assert.equal((JSON.parse(stats.body) as CollectorStats).exporters[0].address, '127.0.0.1');
    assert.equal(stats.headers['strict-transport-security'], HSTS);
    assert.ok(stats.protocol === 'TLSv1.3' || stats.protocol === 'TLSv1.2', String(stats.protocol));
    const page = await httpsGet(`${s.api.url}/`, { ca: certPem });
    assert.equal(page.status, 200);
    assert.equal(page.headers['strict-transport-security'], HSTS);
    assert.equal((await httpsGet(`${s.api.url}/stats`, { ca: certPem })).status, 401, 'TLS is not a token');
    // Without the pinned CA the self-signed certificate is refused: the client really verifies.
    await assert.rejects(httpsGet(`${s.api.url}/healthz`), /self-signed|SELF_SIGNED/i);
    await assert.rejects(fetch(`http://127.0.0.1:${s.api.port}/healthz`), 'plain HTTP to the HTTPS port');
    const listening = lines.find((l) => l.msg === 'HTTP API listening');
    assert.equal(listening?.url, s.api.url);
    assert.equal(listening?.tls, true);
    assert.ok(!JSON.stringify(lines).includes('PRIVATE KEY'), 'no key material logged');
  } finally {
    await s.close();
  }
});

test('HTTPS: TLS 1.2 and 1.3 accepted, TLS 1.1 refused by the server (protocol_version alert)', async () => {
  const api = await startApiServer({ ...noCollector, listen: '127.0.0.1:0', tls: { cert, key } });
  try {
    assert.equal(
      await handshake(api.port, { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' }),
      'connected TLSv1.2',
    );
    assert.equal(await handshake(api.port, { minVersion: 'TLSv1.3' }), 'connected TLSv1.3');
    // SECLEVEL=0 lets this client offer TLS 1.1, so the refusal comes from the server's side.
    const old = await handshake(api.port, {
      minVersion: 'TLSv1',
      maxVersion: 'TLSv1.1',
      ciphers: 'DEFAULT@SECLEVEL=0',
    });
    assert.equal(old, 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION');
  } finally {
    await api.close();
  }
});

test('HTTPS from the configuration: api.tlscert and api.tlskey', async () => {
  const base = testConfig({});
  const config = { ...base, api: { ...base.api, enabled: true, tlscert: cert, tlskey: key } };
  const collector = { stats: () => ({ listeners: [] }) as unknown as CollectorStats };
  const api = await startApiFromConfig(
    config,
    collector,
    new FlowDecoder(defaultDecoderSettings()),
    quietLogger,
  );
  assert.ok(api !== null);
  try {
    assert.match(api.url, /^https:\/\//);
    const r = await httpsGet(`${api.url}/healthz`, { ca: certPem });
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { status: 'ok' });
  } finally {
    await api.close();
  }
});

test('HTTPS: a wrong, missing or mismatched file fails the start naming the setting and the file, not the key', async () => {
  const start = (files: { cert: string; key: string }) =>
    startApiServer({ ...noCollector, listen: '127.0.0.1:0', tls: files });
  const keyPem = readFileSync(key, 'utf8');
  const keyBody = keyPem.split('\n')[1];
  const cases: [{ cert: string; key: string }, RegExp][] = [
    [
      { cert, key: otherKey },
      new RegExp(`^api\\.tlskey ${otherKey} is not the key of the certificate in api\\.tlscert ${cert}$`),
    ],
    [{ cert: join(dir, 'missing.crt'), key }, /^api\.tlscert \S+missing\.crt: cannot read it \(ENOENT\)$/],
    [{ cert, key: join(dir, 'missing.key') }, /^api\.tlskey \S+missing\.key: cannot read it \(ENOENT\)$/],
    [{ cert: key, key }, /^api\.tlscert \S+flowgate\.key: not a PEM certificate$/],
    [{ cert, key: cert }, /^api\.tlskey \S+flowgate\.crt: not an unencrypted PEM private key/],
  ];
  const garbled = join(dir, 'garbled.key');
  writeFileSync(garbled, keyPem.replace(keyBody, keyBody.split('').reverse().join('')));
  cases.push([{ cert, key: garbled }, /^api\.tlskey \S+garbled\.key: not an unencrypted PEM private key/]);
  for (const [files, message] of cases) {
    const err = await start(files).then(
      (api) => api.close().then(() => null),
      (e: Error) => e,
    );
    assert.ok(err !== null, `${files.cert} / ${files.key} accepted`);
    assert.match(err.message, message);
    assert.ok(!err.message.includes(keyBody) && !err.message.includes('PRIVATE KEY'), err.message);
  }
});

test('HTTPS on a non-loopback address still needs a token: TLS encrypts, it does not authenticate', async () => {
  await assert.rejects(
    startApiServer({ ...noCollector, token: null, listen: '0.0.0.0:0', tls: { cert, key } }),
    /api\.listen 0\.0\.0\.0:0 is not a loopback address and api\.token is not set.*TLS encrypts, it does not authenticate/,
  );
  const api = await startApiServer({ ...noCollector, listen: '0.0.0.0:0', tls: { cert, key } });
  try {
    const r = await httpsGet(`https://127.0.0.1:${api.port}/stats`, { ca: certPem });
    assert.equal(r.status, 401);
  } finally {
    await api.close();
  }
});
