/**
 * A tee toward a real second collector: nfcapd (Debian package `nfdump`) receives an IPFIX capture
 * through UdpTee, and `nfdump -o json` must show the same flows Flowgate's own decoder finds in it.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { UdpTee } from '../../src/receive/tee.js';
import { startNfcapd, stopNfcapd } from '../helpers/nfcapd.js';
import { chainDatagrams, replayChain } from '../helpers/replay.js';
import { freePort } from '../helpers/traffic.js';

/** 583 IPFIX datagrams (templates, options, 657 flows, IPv4 and IPv6) from one exporter. */
const CAPTURE = 'ipfix/pmacct_400-IPFIXv10-BMP-CISCO-SRv6-multiple-sources_traffic-00.pcap';

function installed(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}
const missing = ['nfcapd', 'nfdump'].filter((c) => !installed(c));
const skip =
  missing.length === 0
    ? false
    : `${missing.join(' and ')} not installed: add Debian package "nfdump" to scripts/install-test-deps.sh`;

interface NfdumpFlow {
  src4_addr?: string;
  dst4_addr?: string;
  src6_addr?: string;
  dst6_addr?: string;
  /** Absent for ICMP (nfdump shows icmp_type/icmp_code instead); Flowgate has null ports there. */
  src_port?: number;
  dst_port?: number;
  proto: number;
  in_bytes: number;
  ip4_router?: string;
}

/** One line per flow: addresses, ports, protocol, bytes; sorted so the two sides compare. */
function flowKeys(flows: { src: string; dst: string; sp: number; dp: number; pr: number; bytes: number }[]) {
  return flows.map((f) => `${f.src} ${f.dst} ${f.sp} ${f.dp} ${f.pr} ${f.bytes}`).sort();
}

test('tee to nfcapd: nfdump reads the same flows Flowgate decodes', { skip, timeout: 30_000 }, async () => {
  const datagrams = chainDatagrams([CAPTURE]);
  const expected = replayChain([CAPTURE]).records;
  assert.equal(expected.length, 657, `${CAPTURE}: Flowgate's flow count`);

  const dir = mkdtempSync(join(tmpdir(), 'flowgate-tee-nfcapd-'));
  const port = await freePort('udp');
  const nfcapd = await startNfcapd(dir, port);
  try {
    const tee = await UdpTee.start({ targets: [`127.0.0.1:${port}`] });
    try {
      // Paced, so nfcapd's socket buffer never overflows on a busy machine.
      for (let i = 0; i < datagrams.length; i += 10) {
        for (const d of datagrams.slice(i, i + 10)) tee.forward(d.payload, d.srcAddress);
        await new Promise((r) => setTimeout(r, 2));
      }
      // Time for nfcapd to read what is still in its socket buffer before it is told to stop.
      await new Promise((r) => setTimeout(r, 1000));
      const [s] = tee.stats();
      assert.equal(s!.sent, datagrams.length, `tee stats: ${JSON.stringify(s)}`);
      assert.equal(s!.errors, 0, `tee stats: ${JSON.stringify(s)}`);
    } finally {
      await tee.close();
    }
    await stopNfcapd(nfcapd.proc);

    const files = readdirSync(dir).filter((f) => /^nfcapd\.\d+$/.test(f));
    assert.equal(files.length, 1, `nfcapd files in ${dir}: ${readdirSync(dir).join(', ')}\n${nfcapd.log()}`);
    const json = execFileSync('nfdump', ['-r', join(dir, files[0]!), '-o', 'json'], {
      maxBuffer: 64 * 1024 * 1024,
    }).toString();
    const flows = (JSON.parse(json) as ({ type: string } & NfdumpFlow)[]).filter((f) => f.type === 'FLOW');

    assert.equal(flows.length, expected.length, `${CAPTURE}: flows nfcapd stored\n${nfcapd.log()}`);
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    assert.equal(
      sum(flows.map((f) => f.in_bytes)),
      sum(expected.map((r) => (r.bits ?? 0) / 8)),
      `${CAPTURE}: total bytes`,
    );
    // nfdump fills both address families for records that carry both; the IPv4 one is what
    // Flowgate reports for those.
    const theirs = flowKeys(
      flows.map((f) => ({
        src: f.src4_addr ?? f.src6_addr ?? '',
        dst: f.dst4_addr ?? f.dst6_addr ?? '',
        sp: f.src_port ?? 0,
        dp: f.dst_port ?? 0,
        pr: f.proto,
        bytes: f.in_bytes,
      })),
    );
    const ours = flowKeys(
      expected.map((r) => ({
        src: r.srcip ?? '',
        dst: r.dstip ?? '',
        sp: r.srcport ?? 0,
        dp: r.dstport ?? 0,
        pr: r.protocolint ?? 0,
        bytes: (r.bits ?? 0) / 8,
      })),
    );
    assert.deepEqual(theirs, ours, `${CAPTURE}: flows (src dst sport dport proto bytes)`);
    // No spoofing: the second collector sees the tee's address as the exporter.
    assert.deepEqual([...new Set(flows.map((f) => f.ip4_router))], ['127.0.0.1']);
  } finally {
    await stopNfcapd(nfcapd.proc);
    rmSync(dir, { recursive: true, force: true });
  }
});
