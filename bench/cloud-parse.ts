/**
 * Flow-log lines (AWS), entries (GCP) and flow tuples (Azure) parsed per second, through
 * `parseFlowLog` as readers hand it pieces: text in, FlowRecords out. The logs are generated
 * (seeded) in the providers' layouts: AWS v2 default lines with a header, plain and gzip; GCP
 * Cloud Logging entries as NDJSON, every flow reported by both ends (two entries, one record:
 * de-duplication included); Azure NSG v2 documents of 100 tuples per rule, half with traffic both ways.
 *
 *   node --import tsx bench/cloud-parse.ts [--units 300000] [--runs 5]
 */
import { gzipSync } from 'node:zlib';
import { type CloudProvider, parseFlowLog } from '../src/cloud/parse-flow-log.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const UNITS = arg('--units', 300_000);
const RUNS = arg('--runs', 5);

let seed = 42;
function rand(n: number): number {
  seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff;
  return seed % n;
}
const T0 = 1_763_900_000;
const ip = (a: number) => `10.${rand(256)}.${rand(256)}.${a}`;
const pub = () => `${1 + rand(200)}.${rand(256)}.${rand(256)}.${rand(256)}`;

function awsLog(lines: number): string {
  const out = [
    'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status',
  ];
  for (let i = 0; i < lines; i++) {
    const t = T0 + rand(3600);
    out.push(
      `2 123456789012 eni-0a1b2c3d4e5f${rand(10)} ${ip(rand(250) + 1)} ${pub()} ${1024 + rand(60000)} ${[443, 80, 53, 22][rand(4)]} ${[6, 17][rand(2)]} ${1 + rand(1000)} ${40 + rand(1_000_000)} ${t} ${t + 60} ${rand(10) === 0 ? 'REJECT' : 'ACCEPT'} OK`,
    );
  }
  return `${out.join('\n')}\n`;
}

function gcpLog(entries: number): string {
  const out: string[] = [];
  for (let i = 0; i < entries; i++) {
    const start = new Date((T0 + rand(3600)) * 1000).toISOString().replace('Z', '123456Z');
    const end = new Date((T0 + 3600) * 1000).toISOString().replace('Z', '654321Z');
    const conn = {
      src_ip: ip(rand(250) + 1),
      src_port: 1024 + rand(60000),
      dest_ip: pub(),
      dest_port: 443,
      protocol: 6,
    };
    const entry = (reporter: string) =>
      JSON.stringify({
        insertId: `id${i}${reporter}`,
        jsonPayload: {
          bytes_sent: String(40 + rand(1_000_000)),
          packets_sent: String(1 + rand(1000)),
          connection: conn,
          reporter,
          rtt_msec: '12',
          start_time: start,
          end_time: end,
          src_instance: { project_id: 'p', region: 'us-east1', vm_name: 'vm', zone: 'us-east1-b' },
          src_vpc: { project_id: 'p', subnetwork_name: 'default', vpc_name: 'default' },
        },
        logName: 'projects/p/logs/compute.googleapis.com%2Fvpc_flows',
        receiveTimestamp: end,
        resource: {
          labels: { location: 'us-east1-b', project_id: 'p', subnetwork_id: '1', subnetwork_name: 'default' },
          type: 'gce_subnetwork',
        },
        timestamp: end,
      });
    out.push(entry('SRC'));
    // The other end reports the same flow: one more entry, dropped as a duplicate.
    if (i % 2 === 0 && i + 1 < entries) {
      out.push(entry('DEST'));
      i++;
    }
  }
  return `${out.join('\n')}\n`;
}

function azureLog(tuples: number): string {
  const records: unknown[] = [];
  for (let done = 0; done < tuples; ) {
    const flowTuples: string[] = [];
    for (let k = 0; k < 100 && done < tuples; k++, done++) {
      const both = k % 2 === 0;
      flowTuples.push(
        `${T0 + rand(60)},${ip(4)},${pub()},${1024 + rand(60000)},443,T,O,A,E,${1 + rand(100)},${60 + rand(100000)},${both ? 1 + rand(100) : ''},${both ? 60 + rand(100000) : ''}`,
      );
    }
    records.push({
      time: new Date(T0 * 1000).toISOString(),
      systemId: 'a0fca5ce-022c-47b1-9735-89943b42f2fa',
      category: 'NetworkSecurityGroupFlowEvent',
      resourceId: '/SUBSCRIPTIONS/0/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG',
      operationName: 'NetworkSecurityGroupFlowEvents',
      properties: {
        Version: 2,
        flows: [{ rule: 'DefaultRule_AllowInternetOutBound', flows: [{ mac: '000D3AF87856', flowTuples }] }],
      },
    });
  }
  return JSON.stringify({ records });
}

function measure(name: string, provider: CloudProvider, data: string | Buffer): void {
  const times: number[] = [];
  let units = 0;
  let records = 0;
  for (let r = 0; r < RUNS; r++) {
    const t = process.hrtime.bigint();
    const res = parseFlowLog(provider, data);
    times.push(Number(process.hrtime.bigint() - t) / 1e9);
    units = res.units;
    records = res.records.length;
    if (res.errors.length > 0) throw new Error(`${name}: ${res.errors[0]?.reason}`);
  }
  times.sort((a, b) => a - b);
  const s = times[Math.floor(times.length / 2)] as number;
  const mb = data.length / 1e6;
  console.log(
    `${name.padEnd(22)} ${String(units).padStart(8)} units ${String(records).padStart(8)} records  ${Math.round(
      units / s,
    )
      .toLocaleString('en')
      .padStart(10)} units/s  ${(mb / s).toFixed(0).padStart(4)} MB/s (${mb.toFixed(1)} MB)`,
  );
}

const aws = awsLog(UNITS);
measure('aws v2 text', 'aws', aws);
measure('aws v2 gzip', 'aws', gzipSync(aws));
measure('gcp ndjson', 'gcp', gcpLog(UNITS));
measure('azure nsg v2', 'azure', azureLog(UNITS));
console.log(`node ${process.version}, median of ${RUNS} runs`);
