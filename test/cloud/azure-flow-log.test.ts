import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseAzureFlowLog } from '../../src/cloud/azure-flow-log.js';
import type { FlowRecord } from '../../src/record/flow-record.js';
import { pickFields } from './pick.js';

const DIR = join(import.meta.dirname, '..', '..', '..', 'shared', 'testdata', 'cloud', 'azure');
const NSG = 'integrations_nsg_sample_logs_testdata.log';
const VNET = 'integrations_vnet_sample_logs_testdata.log';

/** The fields a test asserts, so a failure names the field and the sample. */
const FIELDS = [
  'srcip',
  'dstip',
  'srcport',
  'dstport',
  'protocolint',
  'bits',
  'packets',
  'start',
  'end',
  'action',
  'flowtype',
  'flowversion',
  'flowdirection',
  'extra',
] as const;

function pick(r: FlowRecord | undefined) {
  return pickFields(r, FIELDS);
}

function wrapNsg(version: number, tuples: string[]): string {
  return JSON.stringify({
    records: [
      {
        time: '2018-11-13T12:00:35.3899262Z',
        category: 'NetworkSecurityGroupFlowEvent',
        resourceId: '/X/NSG',
        properties: { Version: version, flows: [{ rule: 'R', flows: [{ mac: 'M', flowTuples: tuples }] }] },
      },
    ],
  });
}

test(`${NSG}: NSG v2, every tuple parses, both directions split`, () => {
  const res = parseAzureFlowLog(readFileSync(join(DIR, NSG)));
  assert.deepEqual(res.errors, []);
  assert.equal(res.tuples, 11);
  // 8 tuples with no traffic give one record, 3 with traffic both ways give two.
  assert.equal(res.records.length, 14);
  const resourceid =
    '/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/FABRIKAMRG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/FABRIAKMVM1-NSG';
  assert.deepEqual(pick(res.records[0]), {
    srcip: '94.102.49.190',
    dstip: '10.5.16.4',
    srcport: 28746,
    dstport: 443,
    protocolint: 17,
    bits: null,
    packets: null,
    start: 1542110402000,
    end: 1542110402000,
    action: 'reject',
    flowtype: 'azure',
    flowversion: 2,
    flowdirection: 'ingress',
    extra: { rule: 'DefaultRule_DenyAllInBound', flowstate: 'B', resourceid, mac: '000D3AF87856' },
  });
  assert.equal(res.records[0]?.timestamp, 1542110435);
  // "1542110379,10.5.16.4,13.67.143.115,44931,443,T,O,A,C,30,16978,24,14008"
  const ext = { rule: 'DefaultRule_AllowInternetOutBound', flowstate: 'C', resourceid, mac: '000D3AF87856' };
  assert.deepEqual(pick(res.records[6]), {
    srcip: '10.5.16.4',
    dstip: '13.67.143.115',
    srcport: 44931,
    dstport: 443,
    protocolint: 6,
    bits: 16978 * 8,
    packets: 30,
    start: 1542110379000,
    end: 1542110379000,
    action: 'accept',
    flowtype: 'azure',
    flowversion: 2,
    flowdirection: 'egress',
    extra: ext,
  });
  assert.deepEqual(pick(res.records[7]), {
    srcip: '13.67.143.115',
    dstip: '10.5.16.4',
    srcport: 443,
    dstport: 44931,
    protocolint: 6,
    bits: 14008 * 8,
    packets: 24,
    start: 1542110379000,
    end: 1542110379000,
    action: 'accept',
    flowtype: 'azure',
    flowversion: 2,
    flowdirection: 'ingress',
    extra: ext,
  });
  // Last tuple, second entry of the blob.
  const last = pick(res.records[13]);
  assert.equal(last.srcip, '176.119.4.30');
  assert.equal(last.dstport, 52801);
  assert.equal(last.start, 1542110490000);
  assert.equal(res.records[13]?.timestamp, 1542110495);
  assert.equal(res.records.filter((r) => r.action === 'reject').length, 7);
});

test(`${VNET}: VNet flow log, millisecond times, state D is reject`, () => {
  const res = parseAzureFlowLog(readFileSync(join(DIR, VNET), 'utf8'));
  assert.deepEqual(res.errors, []);
  assert.equal(res.tuples, 19);
  // 5 B tuples (zero counters) + 5 E tuples with both directions (×2) + 9 denied.
  assert.equal(res.records.length, 24);
  const targ =
    '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/myResourceGroup/providers/Microsoft.Network/virtualNetworks/myVNet';
  const allow = {
    rule: 'DefaultRule_AllowInternetOutBound',
    resourceid: targ,
    aclid: '00000000-1234-abcd-ef00-c1c2c3c4c5c6',
    encryption: 'NX',
  };
  assert.deepEqual(pick(res.records[0]), {
    srcip: '10.0.0.6',
    dstip: '52.239.184.180',
    srcport: 23956,
    dstport: 443,
    protocolint: 6,
    bits: 0,
    packets: 0,
    start: 1663146003599,
    end: 1663146003599,
    action: 'accept',
    flowtype: 'azure',
    flowversion: 4,
    flowdirection: 'egress',
    extra: { ...allow, flowstate: 'B' },
  });
  // "1663146022793,10.0.0.6,104.16.218.84,36776,443,6,O,E,NX,22,2217,33,32466"
  const out = res.records.findLast((r) => r.srcip === '10.0.0.6' && r.dstip === '104.16.218.84');
  const back = res.records.findLast((r) => r.srcip === '104.16.218.84');
  assert.deepEqual(pick(out), {
    srcip: '10.0.0.6',
    dstip: '104.16.218.84',
    srcport: 36776,
    dstport: 443,
    protocolint: 6,
    bits: 2217 * 8,
    packets: 22,
    start: 1663146022793,
    end: 1663146022793,
    action: 'accept',
    flowtype: 'azure',
    flowversion: 4,
    flowdirection: 'egress',
    extra: { ...allow, flowstate: 'E' },
  });
  assert.deepEqual(
    [back?.srcport, back?.dstport, back?.packets, back?.bits, back?.flowdirection],
    [443, 36776, 33, 32466 * 8, 'ingress'],
  );
  const denied = res.records.filter((r) => r.action === 'reject');
  assert.equal(denied.length, 9);
  assert.deepEqual(pick(denied[0]), {
    srcip: '101.33.218.153',
    dstip: '10.0.0.6',
    srcport: 55188,
    dstport: 22,
    protocolint: 6,
    bits: 0,
    packets: 0,
    start: 1663145998065,
    end: 1663145998065,
    action: 'reject',
    flowtype: 'azure',
    flowversion: 4,
    flowdirection: 'ingress',
    extra: {
      rule: 'BlockHighRiskTCPPortsFromInternet',
      flowstate: 'D',
      resourceid: targ,
      aclid: '01020304-abcd-ef00-1234-102030405060',
      encryption: 'NX',
    },
  });
  assert.equal(res.records[0]?.timestamp, 1663146052);
});

test('NSG v1 tuples (8 fields), IPv6 in RFC 5952 form, milliseconds in an NSG tuple', () => {
  const res = parseAzureFlowLog(
    wrapNsg(1, [
      '1487282421,42.119.146.95,10.1.0.4,51529,5358,T,I,D',
      '1487282421250,2001:DB8:0:0::1,2001:db8::2,53,5353,U,O,A',
    ]),
  );
  assert.deepEqual(res.errors, []);
  assert.equal(res.records.length, 2);
  const [a, b] = res.records;
  assert.deepEqual(
    [a?.flowversion, a?.action, a?.protocolint, a?.packets, a?.extra?.flowstate],
    [1, 'reject', 6, null, null],
  );
  assert.deepEqual(
    [b?.srcip, b?.dstip, b?.ipversion, b?.protocolint, b?.action],
    ['2001:db8::1', '2001:db8::2', 6, 17, 'accept'],
  );
  assert.deepEqual([a?.start, b?.start, b?.end], [1487282421000, 1487282421250, 1487282421250]);
});

test('traffic only in the reply direction gives one reply record', () => {
  const res = parseAzureFlowLog(
    wrapNsg(2, ['1542110379,10.5.16.4,13.67.143.117,59932,443,T,O,A,C,0,0,2,120']),
  );
  assert.equal(res.records.length, 1);
  assert.deepEqual(
    [res.records[0]?.srcip, res.records[0]?.srcport, res.records[0]?.packets, res.records[0]?.bits],
    ['13.67.143.117', 443, 2, 960],
  );
});

test('hostile and invalid tuples give counted errors, the good ones still parse', () => {
  const good = '1542110379,10.5.16.4,13.67.143.117,59932,443,T,O,A,E,1,66,1,66';
  const bad: [string | number | null, RegExp][] = [
    ['1542110379,10.5.16.4,13.67.143.117,59932', /4 fields, 13 expected/],
    ['abc,10.5.16.4,13.67.143.117,59932,443,T,O,A,E,1,66,1,66', /timestamp "abc"/],
    ['1542110379,10.5.16.999,13.67.143.117,59932,443,T,O,A,E,1,66,1,66', /address "10.5.16.999"/],
    ['1542110379,10.5.16.4,13.67.143.117,70000,443,T,O,A,E,1,66,1,66', /port "70000"/],
    ['1542110379,10.5.16.4,13.67.143.117,1,443,X,O,A,E,1,66,1,66', /protocol "X"/],
    ['1542110379,10.5.16.4,13.67.143.117,1,443,T,Q,A,E,1,66,1,66', /direction "Q"/],
    ['1542110379,10.5.16.4,13.67.143.117,1,443,T,O,Z,E,1,66,1,66', /decision "Z"/],
    ['1542110379,10.5.16.4,13.67.143.117,1,443,T,O,A,E,1,99999999999999999999,1,66', /counter bytes src→dst/],
    ['1542110379,10.5.16.4,13.67.143.117,1,443,T,O,A,E,-1,66,1,66', /counter packets src→dst "-1"/],
    ['1542110379,10.5.16.4,13.67.143.117,1,443,T,O,A,E,1,2e5,1,66', /counter bytes src→dst "2e5"/],
    ['1542110379,10.5.16.4,13.67.143.117,1,443,T,O,A,X,1,66,1,66', /flow state "X"/],
    [42, /not a string/],
    [null, /not a string/],
  ];
  const res = parseAzureFlowLog(wrapNsg(2, [good, ...(bad.map(([t]) => t) as string[]), good]));
  assert.equal(res.tuples, 2);
  assert.equal(res.records.length, 4);
  assert.equal(res.errors.length, bad.length);
  bad.forEach(([, re], i) => {
    const e = res.errors[i];
    assert.match(e?.reason ?? '', re, `tuple ${i}`);
    assert.equal(e?.where, `records[0].properties.flows[0].flows[0].flowTuples[${i + 1}]`);
    assert.equal(e?.line, 1);
  });
});

test('broken documents: truncated blob, wrong shapes, unknown version, NDJSON with a bad line', () => {
  const text = readFileSync(join(DIR, NSG), 'utf8');
  const truncated = parseAzureFlowLog(text.slice(0, 700));
  assert.equal(truncated.records.length, 0);
  assert.equal(truncated.errors.length, 1);
  assert.match(truncated.errors[0]?.reason ?? '', /not valid JSON/);

  assert.match(parseAzureFlowLog('42').errors[0]?.reason ?? '', /expected an object/);
  assert.match(parseAzureFlowLog('{"records":[7]}').errors[0]?.reason ?? '', /not a JSON object/);
  assert.match(
    parseAzureFlowLog('{"records":[{"time":"x"}]}').errors[0]?.reason ?? '',
    /neither "properties"/,
  );
  assert.match(parseAzureFlowLog(wrapNsg(3, [])).errors[0]?.reason ?? '', /version 3 unknown/);
  assert.match(
    parseAzureFlowLog('{"records":[{"properties":{"Version":2,"flows":[{"rule":"r","flows":"x"}]}}]}')
      .errors[0]?.reason ?? '',
    /expected \{rule, flows/,
  );
  assert.deepEqual(parseAzureFlowLog(''), { records: [], errors: [], tuples: 0 });

  const vnet = readFileSync(join(DIR, VNET), 'utf8').trim();
  const nd = parseAzureFlowLog(`${text.trim()}\n{"records":[\n${vnet}\n`);
  assert.equal(nd.records.length, 14 + 24);
  assert.deepEqual(
    nd.errors.map((e) => e.line),
    [2],
  );
});
