#!/usr/bin/env node
// A stand-in ingest backend for the uploader's tests, run as its own process:
//   node test/deliver/ingest-receiver.mjs --port 0 --out FILE   → prints "listening <port>"
// Any POST (but /control) is a batch: gunzipped if needed, de-duplicated by X-Flowgate-Batch-Id
// (ids already in FILE count too, so a restarted receiver still knows them), and each record
// appended to FILE as {"batch": id, "record": ...}. POST /control {"mode": "ok"|"500"|"429"|"400"|
// "slow", "retryAfter": s, "delayMs": ms} changes how it answers; GET /control returns the counts
// and one entry per batch request ({at, id, status}).
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { gunzipSync } from 'node:zlib';

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const port = Number(arg('port', '0'));
const out = arg('out', null);
if (out === null) {
  console.error('usage: ingest-receiver.mjs --port N --out FILE');
  process.exit(2);
}

const control = { mode: 'ok', retryAfter: 1, delayMs: 1000 };
const counts = { requests: 0, accepted: 0, duplicates: 0, records: 0, failed: 0 };
const requests = [];
const seen = new Set();
let lastHeaders = null;

if (existsSync(out)) {
  for (const line of readFileSync(out, 'utf8').split('\n')) {
    if (line !== '') seen.add(JSON.parse(line).batch);
  }
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function records(text) {
  const t = text.trim();
  if (t === '') return [];
  if (t.startsWith('[')) return JSON.parse(t);
  return t.split('\n').map((line) => {
    try {
      return JSON.parse(line);
    } catch {
      return line;
    }
  });
}

function answer(res, status, body, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

async function batch(req, res) {
  const raw = await readBody(req);
  const id = req.headers['x-flowgate-batch-id'] ?? null;
  const entry = { at: Date.now(), id, status: 0 };
  requests.push(entry);
  counts.requests++;
  lastHeaders = req.headers;
  const mode = control.mode;
  if (mode === 'slow') await new Promise((r) => setTimeout(r, control.delayMs));
  if (mode === '500' || mode === '429' || mode === '400') {
    entry.status = Number(mode);
    counts.failed++;
    if (mode === '429')
      return answer(res, 429, { error: 'slow down' }, { 'retry-after': String(control.retryAfter) });
    // Echoes the credentials back, as careless backends do: the uploader must not repeat them.
    if (mode === '400') return answer(res, 400, { error: `bad request from ${req.headers.authorization}` });
    return answer(res, 500, { error: 'backend unavailable' });
  }
  const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
  entry.status = 200;
  if (req.url.endsWith('/_bulk')) return bulk(body.toString('utf8'), entry, res);
  if (id !== null && seen.has(id)) {
    counts.duplicates++;
    return answer(res, 200, { duplicate: true });
  }
  const list = records(body.toString('utf8'));
  appendFileSync(out, list.map((record) => `${JSON.stringify({ batch: id, record })}\n`).join(''));
  if (id !== null) seen.add(id);
  counts.accepted++;
  counts.records += list.length;
  return answer(res, 200, { accepted: list.length });
}

// Elasticsearch `_bulk`: de-duplicated by document _id; the documents whose source.port is in
// control.bulk429 fail once with 429, those in control.bulk400 always fail with 400.
function bulk(text, entry, res) {
  const lines = text.split('\n').filter((l) => l !== '');
  const items = [];
  let failed = false;
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const { _id } = JSON.parse(lines[i]).index;
    const doc = JSON.parse(lines[i + 1]);
    const port = doc.source?.port;
    let status = 201;
    if ((control.bulk400 ?? []).includes(port)) status = 400;
    else if ((control.bulk429 ?? []).includes(port)) {
      status = 429;
      control.bulk429 = control.bulk429.filter((p) => p !== port);
    } else if (seen.has(_id)) counts.duplicates++;
    else {
      appendFileSync(out, `${JSON.stringify({ batch: _id, record: doc })}\n`);
      seen.add(_id);
      counts.records++;
    }
    if (status !== 201) failed = true;
    items.push({ index: { _id, status } });
  }
  entry.items = items.length;
  counts.accepted++;
  return answer(res, 200, { took: 1, errors: failed, items });
}

const server = createServer((req, res) => {
  const handle = async () => {
    if (req.url === '/control') {
      if (req.method === 'GET') return answer(res, 200, { ...counts, log: requests, lastHeaders });
      Object.assign(control, JSON.parse((await readBody(req)).toString('utf8')));
      return answer(res, 200, control);
    }
    if (req.method !== 'POST') return answer(res, 405, { error: 'POST only' });
    return batch(req, res);
  };
  handle().catch((err) => answer(res, 500, { error: String(err) }));
});

server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
