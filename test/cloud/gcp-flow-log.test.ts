import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseGcpFlowLog } from '../../src/cloud/gcp-flow-log.js';
import type { FlowRecord } from '../../src/record/flow-record.js';

const DIR = join(process.cwd(), '..', 'shared', 'testdata', 'cloud', 'gcp');
const SAMPLE = join(DIR, 'beats_vpc-flow-log-entries_part1.json.log');
const sampleText = readFileSync(SAMPLE, 'utf8');

function find(recs: FlowRecord[], srcport: number, dstport: number): FlowRecord {
  const r = recs.find((x) => x.srcport === srcport && x.dstport === dstport);
  assert.ok(r, `no record ${srcport} -> ${dstport}`);
  return r;
}

/** A minimal valid entry; `over` replaces jsonPayload fields. */
function entry(
  over: Record<string, unknown> = {},
  conn: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    insertId: 'x',
    logName: 'projects/p/logs/compute.googleapis.com%2Fvpc_flows',
    jsonPayload: {
      connection: {
        src_ip: '10.0.0.1',
        src_port: 1234,
        dest_ip: '10.0.0.2',
        dest_port: 443,
        protocol: 6,
        ...conn,
      },
      start_time: '2024-01-02T03:04:05.123456789Z',
      end_time: '2024-01-02T03:04:06.5Z',
      bytes_sent: '1000',
      packets_sent: '10',
      reporter: 'SRC',
      ...over,
    },
  };
}

test('every GCP sample parses without errors', () => {
  const files = readdirSync(DIR);
  assert.ok(files.length >= 1);
  for (const f of files) {
    const res = parseGcpFlowLog(readFileSync(join(DIR, f)));
    assert.deepEqual(res.errors, [], f);
    assert.ok(res.records.length > 0, f);
    for (const r of res.records) {
      assert.equal(r.flowtype, 'gcp');
      assert.equal(r.action, 'accept');
    }
  }
});

test('NDJSON sample: counts and exact values', () => {
  const res = parseGcpFlowLog(sampleText);
  assert.equal(res.entries, 8);
  assert.equal(res.records.length, 8);
  assert.equal(res.errors.length, 0);
  // Lines 5 and 6 are the two directions of one connection (ports swapped), not a duplicate.
  assert.equal(res.duplicates, 0);

  const a = find(res.records, 5601, 33478);
  assert.equal(a.srcip, '10.87.40.76');
  assert.equal(a.dstip, '203.0.113.12');
  assert.equal(a.protocolint, 6);
  assert.equal(a.ipversion, 4);
  assert.equal(a.bits, 1776 * 8);
  assert.equal(a.packets, 7);
  assert.equal(a.start, Date.UTC(2019, 5, 14, 3, 45, 37, 186));
  assert.equal(a.end, Date.UTC(2019, 5, 14, 3, 45, 37, 301));
  assert.equal(a.duration, 115);
  assert.equal(a.timestamp, Math.floor(Date.UTC(2019, 5, 14, 3, 45, 37) / 1000));
  assert.equal(a.flowdirection, 'egress');
  assert.equal(a.revbits, null);
  assert.equal(a.srcas, null);
  assert.equal(a.dstas, 15169);
  assert.equal(a.extra?.reporter, 'SRC');
  assert.equal(a.extra?.rttmsec, 36);
  assert.equal(a.extra?.srcvm, 'kibana');
  assert.equal(a.extra?.dstvm, null);
  assert.equal(a.extra?.srcvpc, 'default');
  assert.equal(a.extra?.srcproject, 'my-sample-project');
  assert.equal(a.extra?.dstcountry, 'usa');

  const b = find(res.records, 9200, 33970);
  assert.equal(b.srcip, '198.51.100.248');
  assert.equal(b.dstip, '10.87.40.76');
  assert.equal(b.bits, 173663 * 8);
  assert.equal(b.packets, 68);
  assert.equal(b.start, Date.UTC(2019, 5, 14, 3, 40, 8, 466));
  assert.equal(b.end, Date.UTC(2019, 5, 14, 3, 49, 51, 821));
  assert.equal(b.flowdirection, 'ingress');
  assert.equal(b.srcas, 15169);
  assert.equal(b.extra?.reporter, 'DEST');
  assert.equal(b.extra?.rttmsec, 1);
  assert.equal(b.extra?.srcvm, 'elasticsearch');
  assert.equal(b.extra?.dstvm, 'kibana');

  // Zero bytes is a value, not unknown.
  const c = find(res.records, 22, 59679);
  assert.equal(c.bits, 0);
  assert.equal(c.packets, 1);

  const d = find(res.records, 33880, 9200);
  assert.equal(d.bits, 15169 * 8);
  assert.equal(d.packets, 92);
  assert.equal(d.extra?.rttmsec, 3);
});

test('JSON array, single object and {entries} give the same records as NDJSON', () => {
  const list = sampleText
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as unknown);
  const nd = parseGcpFlowLog(sampleText).records;
  const arr = parseGcpFlowLog(JSON.stringify(list, null, 2));
  assert.equal(arr.errors.length, 0);
  assert.deepEqual(arr.records, nd);
  const wrapped = parseGcpFlowLog(JSON.stringify({ entries: list }));
  assert.deepEqual(wrapped.records, nd);
  const one = parseGcpFlowLog(JSON.stringify(list[0], null, 2));
  assert.equal(one.records.length, 1);
  assert.deepEqual(one.records[0], nd[0]);
});

test('SRC and DEST reports of the same flow keep one record, the SRC one, in either order', () => {
  const src = entry({ reporter: 'SRC', bytes_sent: '1000', packets_sent: '10' });
  const dest = entry({ reporter: 'DEST', bytes_sent: '900', packets_sent: '9' });
  for (const order of [
    [src, dest],
    [dest, src],
  ]) {
    const res = parseGcpFlowLog(order.map((e) => JSON.stringify(e)).join('\n'));
    assert.equal(res.entries, 2);
    assert.equal(res.duplicates, 1);
    assert.equal(res.records.length, 1);
    assert.equal(res.records[0]?.bits, 8000);
    assert.equal(res.records[0]?.flowdirection, 'egress');
  }
  // Another interval of the same 5-tuple is a separate flow.
  const later = entry({
    reporter: 'DEST',
    start_time: '2024-01-02T03:04:07Z',
    end_time: '2024-01-02T03:04:08Z',
  });
  const res = parseGcpFlowLog(JSON.stringify([src, later]));
  assert.equal(res.duplicates, 0);
  assert.equal(res.records.length, 2);
});

test('int64 as numbers or strings, IPv6 normalised, ICMP ports cleared', () => {
  const res = parseGcpFlowLog(
    JSON.stringify([
      entry({ bytes_sent: 5, packets_sent: 1 }, { src_ip: '2001:0DB8:0:0::1', dest_ip: '2001:db8::2' }),
      entry({}, { protocol: 1, src_port: 0, dest_port: 0 }),
      entry({ start_time: '2024-01-02T05:04:05+02:00', end_time: '2024-01-02T05:04:05.5+02:00' }),
    ]),
  );
  assert.deepEqual(res.errors, []);
  const [v6, icmp, tz] = res.records;
  assert.equal(v6?.srcip, '2001:db8::1');
  assert.equal(v6?.ipversion, 6);
  assert.equal(v6?.bits, 40);
  assert.equal(icmp?.srcport, null);
  assert.equal(icmp?.dstport, null);
  assert.equal(tz?.start, Date.UTC(2024, 0, 2, 3, 4, 5));
  assert.equal(tz?.end, Date.UTC(2024, 0, 2, 3, 4, 5, 500));
});

test('hostile and invalid input gives counted errors, never a throw', () => {
  const good = JSON.stringify(entry());
  const lines = [
    good,
    good.slice(0, 80), // truncated
    JSON.stringify(entry({ bytes_sent: 'lots' })),
    JSON.stringify(entry({ bytes_sent: '99999999999999999999' })), // > 2^53 / 8
    JSON.stringify(entry({ packets_sent: -3 })),
    JSON.stringify(entry({}, { src_port: 70000 })),
    JSON.stringify(entry({}, { dest_ip: '10.0.0.300' })),
    JSON.stringify(entry({}, { protocol: '6x' })),
    JSON.stringify(entry({ start_time: 'yesterday' })),
    JSON.stringify(entry({ end_time: '2024-01-02T03:04:00Z' })), // before start
    JSON.stringify(entry({ reporter: 'BOTH' })),
    JSON.stringify(entry({}, { dest_ip: '2001:db8::2' })), // mixed IP versions
    JSON.stringify({ textPayload: 'not a flow' }),
    '42',
    'null',
    '',
    '   ',
  ];
  const res = parseGcpFlowLog(lines.join('\n'));
  assert.equal(res.records.length, 1);
  assert.equal(res.entries, 15);
  assert.equal(res.errors.length, 14);
  assert.deepEqual(
    res.errors.map((e) => e.line),
    [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
  );
  const reasons = res.errors.map((e) => `${e.where}: ${e.reason}`);
  assert.match(reasons[0] ?? '', /not valid JSON/);
  assert.match(reasons[1] ?? '', /bytes_sent: bytes_sent is not a non-negative integer: "lots"/);
  assert.match(reasons[2] ?? '', /bytes_sent 99999999999999999999 is larger than/);
  assert.match(reasons[3] ?? '', /packets_sent is not a non-negative integer: -3/);
  assert.match(reasons[4] ?? '', /src_port 70000 is larger than 65535/);
  assert.match(reasons[5] ?? '', /dest_ip is not an IP address/);
  assert.match(reasons[6] ?? '', /protocol is not a non-negative integer/);
  assert.match(reasons[7] ?? '', /start_time is not an RFC 3339 time/);
  assert.match(reasons[8] ?? '', /end_time is before start_time/);
  assert.match(reasons[9] ?? '', /reporter is neither SRC nor DEST/);
  assert.match(reasons[10] ?? '', /different IP versions/);
  assert.match(reasons[11] ?? '', /jsonPayload is missing/);
  assert.match(reasons[12] ?? '', /entry is not a JSON object/);

  // Non-text garbage and empty input.
  const bin = parseGcpFlowLog(Buffer.from([0x1f, 0x8b, 0x00, 0xff, 0x0a, 0x7b]));
  assert.equal(bin.records.length, 0);
  assert.equal(bin.errors.length, 2);
  const empty = parseGcpFlowLog('');
  assert.deepEqual([empty.records.length, empty.errors.length, empty.entries], [0, 0, 0]);
  // A huge, deeply nested document is an error, not a stack overflow.
  const deep = parseGcpFlowLog(`${'['.repeat(100_000)}${']'.repeat(100_000)}`);
  assert.equal(deep.records.length, 0);
});
