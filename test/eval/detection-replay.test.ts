/**
 * Scenario pcaps through the real Debian exporters: softflowd (NetFlow v9, IPFIX) and pmacctd
 * (sFlow via sfprobe) replay a generated file into a UDP socket on loopback.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { replayPmacctdNetflow, replayPmacctdSflow, replaySoftflowd } from '../../eval/detection/replay.js';
import {
  type GeneratedScenario,
  generateScenario,
  SCENARIO_KINDS,
  SCENARIO_NAMES,
} from '../../eval/detection/scenarios.js';
import { commandExists } from '../helpers/traffic.js';
import { UdpSink } from './udp-sink.js';

const SMALL = { leadSeconds: 20, eventSeconds: 15, tailSeconds: 5 };
const dir = mkdtempSync(join(tmpdir(), 'flowgate-eval-'));
let synFlood: GeneratedScenario;
let portScan: GeneratedScenario;

before(() => {
  synFlood = generateScenario('syn-flood', dir, SMALL);
  portScan = generateScenario('port-scan', dir, SMALL);
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('scenario generator', () => {
  it('labels the attack window inside the capture, after the background lead', () => {
    assert.equal(synFlood.kind, 'syn_flood');
    assert.equal(portScan.kind, 'port_scan');
    assert.equal(portScan.attacker, '203.0.113.66');
    for (const s of [synFlood, portScan]) {
      assert.equal(
        s.attackStartMs - s.captureStartMs >= 19_000,
        true,
        `${s.name}: lead ${s.attackStartMs - s.captureStartMs} ms`,
      );
      assert.equal(s.attackEndMs - s.attackStartMs, 15_000, s.name);
      assert.equal(s.captureEndMs > s.attackEndMs, true, `${s.name}: no tail after the attack`);
    }
  });

  it('writes a classic little-endian microsecond Ethernet pcap whose times stay in order', () => {
    const bytes = readFileSync(synFlood.pcapPath);
    assert.equal(bytes.readUInt32LE(0), 0xa1b2c3d4);
    assert.equal(bytes.readUInt32LE(20), 1, 'link type Ethernet');
    let o = 24;
    let last = 0;
    let n = 0;
    while (o < bytes.length) {
      const ts = bytes.readUInt32LE(o) * 1e6 + bytes.readUInt32LE(o + 4);
      assert.equal(ts >= last, true, `record ${n} goes back in time`);
      last = ts;
      o += 16 + bytes.readUInt32LE(o + 8);
      n++;
    }
    assert.equal(n, synFlood.packets);
    assert.equal(synFlood.captureEndMs, Math.ceil(last / 1000));
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const again = mkdtempSync(join(tmpdir(), 'flowgate-eval-again-'));
    try {
      const same = generateScenario('syn-flood', again, SMALL);
      assert.deepEqual(readFileSync(same.pcapPath), readFileSync(synFlood.pcapPath));
      const other = generateScenario('syn-flood', again, { ...SMALL, seed: 2 });
      assert.notDeepEqual(readFileSync(other.pcapPath), readFileSync(synFlood.pcapPath));
    } finally {
      rmSync(again, { recursive: true, force: true });
    }
  });
});

const missing = ['softflowd', 'pmacctd'].filter((t) => !commandExists(t));

describe('replay through real exporters', {
  skip: missing.length > 0 ? `missing: ${missing.join(', ')}` : false,
}, () => {
  for (const version of [9, 10] as const) {
    it(`softflowd -r sends NetFlow version ${version} datagrams for the SYN flood`, async () => {
      const sink = await UdpSink.open();
      try {
        const r = await replaySoftflowd(synFlood.pcapPath, { port: sink.port, version, timeoutMs: 30_000 });
        await sink.settle();
        assert.equal(r.command.includes('-a'), true);
        // Spoofed sources: every SYN is its own flow, so far more flows than fit one datagram.
        assert.equal(sink.datagrams.length > 10, true, `${sink.datagrams.length} datagrams`);
        const versions = new Set(sink.datagrams.map((d) => d.readUInt16BE(0)));
        assert.deepEqual([...versions], [version]);
      } finally {
        await sink.close();
      }
    });
  }

  it('pmacctd nfprobe sends IPFIX for the SYN flood', async () => {
    const sink = await UdpSink.open();
    try {
      await replayPmacctdNetflow(synFlood.pcapPath, {
        port: sink.port,
        version: 10,
        externalSamplingRate: synFlood.scale,
        timeoutMs: 30_000,
      });
      await sink.settle();
      assert.equal(sink.datagrams.length > 10, true, `${sink.datagrams.length} datagrams`);
      assert.deepEqual([...new Set(sink.datagrams.map((d) => d.readUInt16BE(0)))], [10]);
    } finally {
      await sink.close();
    }
  });

  it('pmacctd sfprobe sends sFlow v5 datagrams announcing the scenario scale as sampling rate', async () => {
    const sink = await UdpSink.open();
    try {
      await replayPmacctdSflow(portScan.pcapPath, {
        port: sink.port,
        sampling: { external: 10 },
        timeoutMs: 30_000,
      });
      await sink.settle();
      assert.equal(sink.datagrams.length > 10, true, `${sink.datagrams.length} datagrams`);
      const versions = new Set(sink.datagrams.map((d) => d.readUInt32BE(0)));
      assert.deepEqual([...versions], [5]);
      // First sample of the first datagram: sflow header (IPv4 agent) is 28 bytes; a flow sample
      // (format 1) has tag, length, sequence, source id, then the sampling rate.
      const first = sink.datagrams[0];
      assert.equal(first.readUInt32BE(28), 1, 'first sample is a flow sample');
      assert.equal(first.readUInt32BE(28 + 16), 10, 'sampling rate');
    } finally {
      await sink.close();
    }
  });
});

describe('scenario catalogue', () => {
  it('covers every kind with small files and labels in documentation/internal ranges only', () => {
    const all = mkdtempSync(join(tmpdir(), 'flowgate-eval-all-'));
    try {
      const kinds = new Set<string>();
      for (const name of SCENARIO_NAMES) {
        const started = Date.now();
        const s = generateScenario(name, all);
        kinds.add(s.kind);
        assert.equal(s.fileBytes < 20_000_000, true, `${name}: ${s.fileBytes} bytes`);
        assert.equal(
          Date.now() - started < 5000,
          true,
          `${name}: generation took ${Date.now() - started} ms`,
        );
        assert.equal(
          s.attackStartMs - s.captureStartMs >= 120_000,
          true,
          `${name}: background lead too short`,
        );
        for (const a of [s.victim, s.attacker]) {
          if (a === null) continue;
          assert.match(a, /^(10\.0\.|203\.0\.113\.|198\.1[89]\.|192\.0\.2\.|2001:db8:)/, `${name}: ${a}`);
        }
        rmSync(s.pcapPath);
      }
      assert.deepEqual([...kinds].sort(), [...SCENARIO_KINDS].sort());
    } finally {
      rmSync(all, { recursive: true, force: true });
    }
  });
});
