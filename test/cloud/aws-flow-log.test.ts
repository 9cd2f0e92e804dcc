import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { parseAwsFlowLog } from '../../src/cloud/aws-flow-log.js';
import type { FlowRecord } from '../../src/record/flow-record.js';
import { pickFields } from './pick.js';

const DIR = join(import.meta.dirname, '..', '..', '..', 'shared', 'testdata', 'cloud', 'aws');
const read = (name: string): Buffer => readFileSync(join(DIR, name));

/** The fields a test asserts, so a failure names the field. */
const FIELDS = [
  'srcip',
  'dstip',
  'srcport',
  'dstport',
  'protocolint',
  'ipversion',
  'bits',
  'packets',
  'start',
  'end',
  'duration',
  'timestamp',
  'tcpflagsint',
  'action',
  'flowtype',
  'flowversion',
  'flowdirection',
  'extra',
] as const;

function pick(r: FlowRecord | undefined) {
  return pickFields(r, FIELDS);
}

const V2_EXTRA = { account_id: '123456789010', interface_id: 'eni-1235b8ca123456789', log_status: 'OK' };

test('beats_accept-reject-traffic.log: header line, v2 fields, accept/reject, ICMP', () => {
  const res = parseAwsFlowLog(read('beats_accept-reject-traffic.log'));
  assert.deepEqual(res.errors, []);
  assert.equal(res.lines, 4);
  assert.equal(res.records.length, 4);
  assert.deepEqual(pick(res.records[0]), {
    srcip: '78.24.182.42',
    dstip: '158.109.0.1',
    srcport: 20641,
    dstport: 22,
    protocolint: 6,
    ipversion: 4,
    bits: 4249 * 8,
    packets: 20,
    start: 1418530010000,
    end: 1418530070000,
    duration: 60000,
    timestamp: 1418530070,
    tcpflagsint: null,
    action: 'accept',
    flowtype: 'aws',
    flowversion: 2,
    flowdirection: null,
    extra: V2_EXTRA,
  });
  assert.equal(res.records[1]?.action, 'reject');
  assert.equal(res.records[1]?.dstport, 3389);
  // ICMP: AWS writes 0/0 ports and no type/code; neither becomes "echo reply".
  const icmp = res.records[3];
  assert.deepEqual(pick(icmp), {
    srcip: '172.31.16.139',
    dstip: '203.0.113.12',
    srcport: null,
    dstport: null,
    protocolint: 1,
    ipversion: 4,
    bits: 336 * 8,
    packets: 4,
    start: 1432917094000,
    end: 1432917142000,
    duration: 48000,
    timestamp: 1432917142,
    tcpflagsint: null,
    action: 'reject',
    flowtype: 'aws',
    flowversion: 2,
    flowdirection: null,
    extra: V2_EXTRA,
  });
  assert.equal(icmp?.icmptype, null);
  assert.equal(icmp?.icmpcode, null);
});

test('beats_ipv6.log: no header, default v2 order, IPv6', () => {
  const res = parseAwsFlowLog(read('beats_ipv6.log'));
  assert.deepEqual(res.errors, []);
  assert.equal(res.records.length, 1);
  const r = pick(res.records[0]);
  assert.equal(r.srcip, '2001:db8:1234:a100:8d6e:3477:df66:f105');
  assert.equal(r.dstip, '2001:db8:1234:a102:3304:8879:34cf:4071');
  assert.equal(r.ipversion, 6);
  assert.equal(r.srcport, 34892);
  assert.equal(r.dstport, 22);
  assert.equal(r.packets, 54);
  assert.equal(r.bits, 8855 * 8);
  assert.equal(r.start, 1477913708000);
  assert.equal(r.end, 1477913820000);
  assert.equal(r.action, 'accept');
});

test('integrations_test-extra-samples.log: NODATA and SKIPDATA lines are counted, no record', () => {
  const res = parseAwsFlowLog(read('integrations_test-extra-samples.log'));
  assert.deepEqual(res.errors, []);
  assert.equal(res.lines, 7);
  assert.equal(res.nodata, 1);
  assert.equal(res.skipdata, 1);
  assert.equal(res.records.length, 5);
  assert.deepEqual(
    res.records.map((r) => [r.srcip, r.dstport, r.action]),
    [
      ['2001:db8:1234:a100:8d6e:3477:df66:f105', 22, 'accept'],
      ['78.24.182.42', 22, 'accept'],
      ['78.24.182.42', 3389, 'reject'],
      ['203.0.113.12', null, 'accept'],
      ['172.31.16.139', null, 'reject'],
    ],
  );
});

test('integrations_test-v5-all-fields.log: 29 fields without header = all v5 fields', () => {
  const res = parseAwsFlowLog(read('integrations_test-v5-all-fields.log'));
  assert.deepEqual(res.errors, []);
  assert.equal(res.records.length, 1);
  assert.deepEqual(pick(res.records[0]), {
    srcip: '89.160.20.156',
    dstip: '10.200.0.0',
    srcport: 50041,
    dstport: 33004,
    protocolint: 17,
    ipversion: 4,
    bits: 8,
    packets: 52,
    start: 164000066000,
    end: 1640000297000,
    duration: 1640000297000 - 164000066000,
    timestamp: 1640000297,
    tcpflagsint: null, // tcp-flags 1 on a UDP flow means nothing (finalizeRecord)
    action: 'reject',
    flowtype: 'aws',
    flowversion: 5,
    flowdirection: 'ingress',
    extra: {
      account_id: '64111117617',
      interface_id: 'eni-069xxxxxb7a490',
      log_status: 'OK',
      vpc_id: 'vpc-09676f97xxxxxb8a7',
      subnet_id: 'subnet-02d645xxxxxxxdbc0',
      instance_id: 'i-0axxxxxx1ad77',
      type: 'IPv4',
      pkt_srcaddr: '89.160.20.156',
      pkt_dstaddr: '10.200.0.80',
      region: 'us-east-1',
      az_id: 'use1-az5',
      pkt_src_aws_service: 'AMAZON',
      pkt_dst_aws_service: 'CLOUDFRONT',
      traffic_path: 1,
    },
  });
});

test('integrations_test-ecs-samples.log: 39 fields = all v7 fields (ECS), mixed families', () => {
  const res = parseAwsFlowLog(read('integrations_test-ecs-samples.log'));
  assert.deepEqual(res.errors, []);
  assert.equal(res.lines, 10);
  assert.equal(res.nodata, 4);
  assert.equal(res.skipdata, 2);
  assert.equal(res.records.length, 4);
  const r = res.records[0];
  assert.deepEqual(pick(r), {
    srcip: '1.128.0.0',
    dstip: '2a02:cf40::',
    srcport: 64072,
    dstport: 22,
    protocolint: 17,
    ipversion: 4,
    bits: 14927 * 8,
    packets: 46,
    start: 1755678619000,
    end: 1755678641000,
    duration: 22000,
    timestamp: 1755678641,
    tcpflagsint: null,
    action: 'reject',
    flowtype: 'aws',
    flowversion: 3,
    flowdirection: 'ingress',
    extra: {
      account_id: '000000000000',
      log_status: 'OK',
      ecs_cluster_arn: 'arn:aws:ecs:us-east-1:000000000000:cluster/frontend-cluster',
      ecs_cluster_name: 'frontend-cluster',
      ecs_container_instance_arn:
        'arn:aws:ecs:us-east-1:000000000000:container-instance/frontend-cluster/i-82bfd814a3c34e21a',
      ecs_container_instance_id: 'i-82bfd814a3c34e21a',
      ecs_container_id: '574fc0af-908',
      ecs_second_container_id: '816bc224-160',
      ecs_service_name: 'payments-service',
      ecs_task_definition_arn: 'arn:aws:ecs:us-east-1:000000000000:task-definition/backend:3',
      ecs_task_arn: 'arn:aws:ecs:us-east-1:000000000000:task/frontend-cluster/6adbd0d6-211',
      ecs_task_id: '6adbd0d6-211',
    },
  });
  assert.deepEqual(
    res.records.map((x) => [x.srcip, x.dstip, x.dstport, x.protocolint, x.packets, x.flowdirection]),
    [
      ['1.128.0.0', '2a02:cf40::', 22, 17, 46, 'ingress'],
      ['81.2.69.142', '89.160.20.112', 80, 17, 97, 'egress'],
      ['81.2.69.144', '81.2.69.192', 80, 17, 59, 'egress'],
      ['81.2.69.192', '81.2.69.144', 8080, 6, 35, 'ingress'],
    ],
  );
});

// The beats test configures this custom format for the file (despite its name, VPC fields).
const BEATS_CUSTOM_NAMES =
  'version interface-id account-id vpc-id subnet-id instance-id srcaddr dstaddr srcport dstport protocol tcp-flags type pkt-srcaddr pkt-dstaddr action log-status';
/** The same, as the flow log's LogFormat (`${version} ${interface-id} ...`). */
const BEATS_CUSTOM_FORMAT = BEATS_CUSTOM_NAMES.split(' ')
  .map((n) => `\${${n}}`)
  .join(' ');

test('beats_custom-transit-gateway.log: custom field order from the log format', () => {
  const text = read('beats_custom-transit-gateway.log');
  const guessed = parseAwsFlowLog(text);
  assert.equal(guessed.records.length, 0);
  assert.equal(guessed.errors.length, 1);
  assert.match(guessed.errors[0]?.reason ?? '', /17 fields and no header line/);

  const res = parseAwsFlowLog(text, { format: BEATS_CUSTOM_FORMAT });
  assert.deepEqual(res.errors, []);
  assert.deepEqual(pick(res.records[0]), {
    srcip: '10.20.33.164',
    dstip: '10.40.2.236',
    srcport: 39812,
    dstport: 80,
    protocolint: 6,
    ipversion: 4,
    bits: null,
    packets: null,
    start: null,
    end: null,
    duration: null,
    timestamp: 0,
    tcpflagsint: 3,
    action: 'accept',
    flowtype: 'aws',
    flowversion: 3,
    flowdirection: null,
    extra: {
      interface_id: 'eni-33333333333333333',
      account_id: '123456789010',
      vpc_id: 'vpc-abcdefab012345678',
      subnet_id: 'subnet-22222222bbbbbbbbb',
      instance_id: 'i-01234567890123456',
      type: 'IPv4',
      pkt_srcaddr: '10.20.33.164',
      pkt_dstaddr: '10.40.2.236',
      log_status: 'OK',
    },
  });
  // The same order given as a header line instead.
  const viaHeader = parseAwsFlowLog(`${BEATS_CUSTOM_NAMES}\n${text.toString('utf8')}`);
  assert.deepEqual(viaHeader.records.map(pick), res.records.map(pick));
});

test('custom header order, "-" as null, and a second header in concatenated files', () => {
  const text = [
    'srcaddr dstaddr bytes action log-status start end version',
    '10.0.0.1 10.0.0.2 1000 ACCEPT OK 1700000000 1700000010 4',
    '10.0.0.3 - - REJECT OK - 1700000010 4',
    'version srcaddr dstaddr',
    '2 10.0.0.9 10.0.0.8',
  ].join('\r\n');
  const res = parseAwsFlowLog(text);
  assert.deepEqual(res.errors, []);
  assert.equal(res.lines, 3);
  assert.deepEqual(
    res.records.map((r) => [r.srcip, r.dstip, r.bits, r.action, r.start, r.end, r.flowversion]),
    [
      ['10.0.0.1', '10.0.0.2', 8000, 'accept', 1700000000000, 1700000010000, 4],
      ['10.0.0.3', null, null, 'reject', null, 1700000010000, 4],
      ['10.0.0.9', '10.0.0.8', null, null, null, null, 2],
    ],
  );
});

test('Transit Gateway records: default TGW layout, their own fields, no action', () => {
  const line =
    '6 TransitGateway 123456789010 tgw-0123 tgw-attach-01 123456789010 123456789011 vpc-a vpc-b subnet-a subnet-b eni-a eni-b use1-az1 use1-az2 tgw-attach-02 10.0.1.5 10.1.2.6 443 51234 6 10 5000 1700000000 1700000060 OK IPv4 0 2 0 0 19 us-east-1 egress - -';
  const res = parseAwsFlowLog(`${line}\n`);
  assert.deepEqual(res.errors, []);
  const r = res.records[0];
  assert.deepEqual(
    [r?.srcip, r?.dstip, r?.srcport, r?.dstport, r?.protocolint, r?.packets, r?.bits, r?.start, r?.end],
    ['10.0.1.5', '10.1.2.6', 443, 51234, 6, 10, 40000, 1700000000000, 1700000060000],
  );
  assert.equal(r?.action, null);
  assert.equal(r?.flowversion, 6);
  assert.equal(r?.tcpflagsint, 19);
  assert.equal(r?.flowdirection, 'egress');
  assert.equal(r?.extra?.tgw_id, 'tgw-0123');
  assert.equal(r?.extra?.resource_type, 'TransitGateway');
  assert.equal(r?.extra?.tgw_pair_attachment_id, 'tgw-attach-02');
  assert.equal(r?.extra?.packets_lost_blackhole, 2);
  assert.equal(r?.extra?.tgw_dst_az_id, 'use1-az2');
});

test('gzip Buffer input gives the same records as the text; bad gzip is one error', () => {
  const raw = read('beats_accept-reject-traffic.log');
  const plain = parseAwsFlowLog(raw);
  const zipped = parseAwsFlowLog(gzipSync(raw));
  assert.deepEqual(zipped.errors, []);
  assert.equal(zipped.records.length, 4);
  assert.deepEqual(zipped.records.map(pick), plain.records.map(pick));

  const bad = parseAwsFlowLog(Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x01, 0x02]));
  assert.equal(bad.records.length, 0);
  assert.equal(bad.errors.length, 1);
  assert.equal(bad.errors[0]?.line, 0);
  assert.match(bad.errors[0]?.reason ?? '', /gzip/);
});

test('hostile lines give counted errors with the line and the field, never a throw', () => {
  const good = '2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 3 400 1700000000 1700000060 ACCEPT OK';
  const lines = [
    'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status',
    good,
    '2 123456789010 eni-1 10.0.0.1', // truncated
    '2 123456789010 eni-1 10.0.0.1 10.0.0.2 abc 2 6 3 400 1700000000 1700000060 ACCEPT OK',
    '2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 70000 6 3 400 1700000000 1700000060 ACCEPT OK',
    '2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 3 99999999999999999999999 1700000000 1700000060 ACCEPT OK',
    '2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 3 4000000000000000 1700000000 1700000060 ACCEPT OK',
    '2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 -3 400 1700000000 1700000060 ACCEPT OK',
    '2 123456789010 eni-1 10.0.0.999 10.0.0.2 1 2 6 3 400 1700000000 1700000060 ACCEPT OK',
    '2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 3 400 1700000000 1700000060 MAYBE OK',
    '2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 3 400 1700000000 1700000060 ACCEPT WEIRD',
    '1 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 3 400 1700000000 1700000060 ACCEPT OK',
    '2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 3 400 1e9 1700000060 ACCEPT OK',
    `${good} extra-field`,
    '\u0000\u0001\u0002 ☃ \uFFFD',
    '',
    '   ',
    good,
  ];
  const res = parseAwsFlowLog(lines.join('\n'));
  assert.equal(res.records.length, 2);
  assert.equal(res.lines, 15);
  assert.deepEqual(
    res.errors.map((e) => e.line),
    [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
  );
  const reasons = res.errors.map((e) => e.reason);
  assert.match(reasons[0] ?? '', /4 fields where the layout has 14/);
  assert.match(reasons[1] ?? '', /srcport \(column 6\) is 'abc'/);
  assert.match(reasons[2] ?? '', /dstport .* is '70000': expected a whole number 0-65535/);
  assert.match(reasons[3] ?? '', /field bytes/);
  assert.match(reasons[4] ?? '', /field bytes .*'4000000000000000'/);
  assert.match(reasons[5] ?? '', /field packets .*'-3'/);
  assert.match(reasons[6] ?? '', /srcaddr .*'10\.0\.0\.999': not an IP address/);
  assert.match(reasons[7] ?? '', /action .*'MAYBE': expected ACCEPT or REJECT/);
  assert.match(reasons[8] ?? '', /log-status .*'WEIRD'/);
  assert.match(reasons[9] ?? '', /version 1: flow logs have versions 2 to 8/);
  assert.match(reasons[10] ?? '', /field start .*'1e9'/);
  assert.match(reasons[11] ?? '', /15 fields where the layout has 14/);

  // A huge line is reported clipped, not echoed whole.
  const huge = parseAwsFlowLog(`2 1 eni ${'9'.repeat(100000)} 10.0.0.2 1 2 6 3 400 1 2 ACCEPT OK`);
  assert.equal(huge.errors.length, 1);
  assert.ok((huge.errors[0]?.reason.length ?? 0) < 200);
});
