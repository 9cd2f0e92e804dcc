/**
 * Mitigation against a real BGP peer: the Mitigator runs the real gobgp CLI (inside the speaker's
 * namespace) against a real gobgpd, and BIRD on the other side of the session must receive, then
 * lose, the blackhole route or the FlowSpec rule. Needs root (network namespaces) and Debian's
 * gobgpd, bird2 and iproute2.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_MITIGATION_CONFIG, type MitigationConfig, Mitigator } from '../../src/mitigate/index.js';
import { alertEvent } from './alerts.js';
import { type BgpLab, namespacesUnavailable, startBgpLab } from './bgp-lab.js';
import { capturedLogger, waitFor } from './logs.js';

const unavailable = namespacesUnavailable();
const skip = unavailable === null ? false : `network namespaces unavailable here (${unavailable})`;

describe('mitigation through gobgpd to a BIRD peer', { skip }, () => {
  let lab: BgpLab;

  before(async () => {
    lab = await startBgpLab();
  });

  after(async () => {
    await lab?.stop();
  });

  function mitigator(over: Partial<MitigationConfig>): Mitigator {
    return new Mitigator({
      config: {
        ...DEFAULT_MITIGATION_CONFIG,
        enabled: true,
        minduration: 0,
        gobgp: {
          ...DEFAULT_MITIGATION_CONFIG.gobgp,
          command: ['ip', 'netns', 'exec', lab.speakerNs, 'gobgp'],
        },
        ...over,
      },
      logger: capturedLogger().logger,
    });
  }

  async function routeAppears(args: string[], pattern: RegExp, what: string): Promise<string> {
    let seen = '';
    try {
      await waitFor(what, () => {
        seen = lab.birdRoutes(args);
        return pattern.test(seen);
      });
    } catch (err) {
      throw new Error(`${(err as Error).message}\nlast birdc output:\n${seen}\n${lab.logs()}`);
    }
    return seen;
  }

  async function routeGone(args: string[], pattern: RegExp, what: string): Promise<void> {
    await waitFor(what, () => !pattern.test(lab.birdRoutes(args)));
  }

  test('alert start: BIRD receives 192.0.2.10/32 with BLACKHOLE 65535:666 and the next hop; end: it is withdrawn', async () => {
    const m = mitigator({ nexthop: lab.spareAddress });
    try {
      m.handle(alertEvent('start', { id: 'bh1', target: '192.0.2.10' }));
      const route = await routeAppears(
        ['192.0.2.10/32', 'all'],
        /BGP\.community: \(65535,666\)/,
        '192.0.2.10/32 with community (65535,666) at BIRD',
      );
      assert.match(route, /^192\.0\.2\.10\/32\s+unicast \[gobgp /m);
      assert.match(route, /BGP\.next_hop: 10\.255\.0\.3/);
      assert.match(route, /BGP\.as_path: 65001/);
      assert.deepEqual(m.status().announced, 1);
      m.handle(alertEvent('end', { id: 'bh1', target: '192.0.2.10' }));
      await routeGone(['192.0.2.10/32'], /192\.0\.2\.10\/32/, '192.0.2.10/32 to be withdrawn at BIRD');
      const s = m.status();
      assert.equal(s.withdrawn, 1);
      assert.equal(s.errors, 0, s.lastError ?? '');
    } finally {
      await m.close();
    }
  });

  test('flowspec: NTP reflection becomes { dst /32; proto 17; sport 123 } with traffic-rate 0 (discard)', async () => {
    const m = mitigator({ action: 'flowspec' });
    const flow = /flow4 \{ dst 192\.0\.2\.20\/32; proto 17; sport 123; \}/;
    try {
      m.handle(alertEvent('start', { id: 'fs1', target: '192.0.2.20', kind: 'reflection', srcport: '123' }));
      const rule = await routeAppears(['table', 'flowtab4', 'all'], flow, 'the flowspec rule at BIRD');
      // RFC 8955 traffic-rate-bytes (type 0x8006) with rate 0.0: discard.
      assert.match(rule, /BGP\.ext_community: \(generic, 0x80060000, 0x0\)/);
      m.handle(alertEvent('end', { id: 'fs1', target: '192.0.2.20' }));
      await routeGone(['table', 'flowtab4'], flow, 'the flowspec rule to be withdrawn at BIRD');
      assert.equal(m.status().errors, 0, m.status().lastError ?? '');
    } finally {
      await m.close();
    }
  });

  test('close() withdraws every announcement still in place', async () => {
    const m = mitigator({});
    m.handle(alertEvent('start', { id: 'c1', target: '192.0.2.31' }));
    m.handle(alertEvent('start', { id: 'c2', target: '192.0.2.32', kind: 'volumetric' }));
    const both = /^(?=[\s\S]*192\.0\.2\.31\/32)(?=[\s\S]*192\.0\.2\.32\/32)/;
    await routeAppears([], both, 'both victims at BIRD');
    await m.close();
    await routeGone([], /192\.0\.2\.3[12]\/32/, 'both victims to be withdrawn at BIRD after close()');
    assert.equal(m.status().withdrawn, 2);
  });
});
