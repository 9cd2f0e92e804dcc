/**
 * The Mitigator's decisions: what is announced for which alert, and the safety rules. The command
 * runner is replaced by one that records argv, since these tests check decisions, not BGP
 * (gobgp-bird.test.ts runs the real CLI against a real gobgpd and BIRD).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type CommandResult,
  type CommandRunner,
  DEFAULT_MITIGATION_CONFIG,
  type MitigationConfig,
  MitigationConfigError,
  Mitigator,
} from '../../src/mitigate/index.js';
import { alertEvent } from './alerts.js';
import { capturedLogger, waitFor } from './logs.js';

const OK: CommandResult = { exitCode: 0, stdout: '', stderr: '', failure: null };

interface Rig {
  mitigator: Mitigator;
  calls: string[][];
  logs: () => Record<string, unknown>[];
  /** Resolves once every queued command has run (close() is not needed for that). */
  settle: () => Promise<void>;
}

function rig(over: Partial<MitigationConfig> = {}, result: CommandResult = OK): Rig {
  const calls: string[][] = [];
  const runner: CommandRunner = async (argv) => {
    calls.push([...argv]);
    return result;
  };
  const { logger, lines } = capturedLogger();
  const config: MitigationConfig = { ...DEFAULT_MITIGATION_CONFIG, enabled: true, minduration: 0, ...over };
  const mitigator = new Mitigator({ config, logger, runner });
  return { mitigator, calls, logs: lines, settle: () => new Promise((r) => setTimeout(r, 20)) };
}

const GOBGP = ['gobgp', '-u', '127.0.0.1', '-p', '50051', 'global', 'rib'];

test('a UDP flood on 192.0.2.10 announces 192.0.2.10/32 with 65535:666 and withdraws it at the end', async () => {
  const r = rig({ nexthop: '192.0.2.254' });
  r.mitigator.handle(alertEvent('start', { id: 'a1', target: '192.0.2.10' }));
  await r.settle();
  assert.deepEqual(r.calls, [
    [...GOBGP, '-a', 'ipv4', 'add', '192.0.2.10/32', 'community', '65535:666', 'nexthop', '192.0.2.254'],
  ]);
  assert.equal(r.mitigator.status().active.length, 1);
  assert.deepEqual(r.mitigator.status().active[0].alerts, ['a1']);
  r.mitigator.handle(alertEvent('end', { id: 'a1', target: '192.0.2.10' }));
  await r.settle();
  assert.deepEqual(r.calls[1], [...GOBGP, '-a', 'ipv4', 'del', '192.0.2.10/32']);
  const s = r.mitigator.status();
  assert.equal(s.active.length, 0);
  assert.equal(s.announced, 1);
  assert.equal(s.withdrawn, 1);
  await r.mitigator.close();
  assert.equal(r.calls.length, 2, 'nothing left to withdraw on close');
});

test('an IPv6 victim (any spelling) is announced as its /128 in the ipv6 family', async () => {
  const r = rig({ community: '64500:666', nexthop6: '2001:db8:ffff::1' });
  r.mitigator.handle(alertEvent('start', { id: 'a1', target: '2001:DB8:0:0::10', kind: 'syn_flood' }));
  await r.mitigator.close();
  assert.deepEqual(r.calls[0], [
    ...GOBGP,
    '-a',
    'ipv6',
    'add',
    '2001:db8::10/128',
    'community',
    '64500:666',
    'nexthop',
    '2001:db8:ffff::1',
  ]);
});

test('flowspec: reflection from NTP becomes destination + udp + source port 123, then discard', async () => {
  const r = rig({ action: 'flowspec' });
  r.mitigator.handle(
    alertEvent('start', { id: 'r1', target: '192.0.2.20', kind: 'reflection', srcport: '123' }),
  );
  r.mitigator.handle(alertEvent('start', { id: 'v1', target: '192.0.2.21', kind: 'volumetric' }));
  await r.mitigator.close();
  assert.deepEqual(r.calls, [
    [
      ...GOBGP,
      '-a',
      'ipv4-flowspec',
      'add',
      'match',
      'destination',
      '192.0.2.20/32',
      'protocol',
      'udp',
      'source-port',
      '==123',
      'then',
      'discard',
    ],
    [...GOBGP, '-a', 'ipv4-flowspec', 'add', 'match', 'destination', '192.0.2.21/32', 'then', 'discard'],
    [
      ...GOBGP,
      '-a',
      'ipv4-flowspec',
      'del',
      'match',
      'destination',
      '192.0.2.20/32',
      'protocol',
      'udp',
      'source-port',
      '==123',
    ],
    [...GOBGP, '-a', 'ipv4-flowspec', 'del', 'match', 'destination', '192.0.2.21/32'],
  ]);
});

test('flowspec rate-limit carries the configured bytes/s', async () => {
  const r = rig({ action: 'flowspec', flowspecaction: 'ratelimit', ratelimit: 1_250_000 });
  r.mitigator.handle(
    alertEvent('start', { id: 'r1', target: '192.0.2.20', kind: 'reflection', srcport: '53' }),
  );
  await r.settle();
  assert.deepEqual(r.calls[0].slice(-3), ['then', 'rate-limit', '1250000']);
  await r.mitigator.close();
});

test('a victim inside a protected network is refused, counted and logged, and nothing is run', async () => {
  const r = rig({ protected: ['192.0.2.0/28', '2001:db8:53::/48'] });
  r.mitigator.handle(alertEvent('start', { id: 'p1', target: '192.0.2.5' }));
  r.mitigator.handle(alertEvent('start', { id: 'p2', target: '2001:db8:53::1' }));
  r.mitigator.handle(alertEvent('update', { id: 'p1', target: '192.0.2.5' }));
  r.mitigator.handle(alertEvent('start', { id: 'ok', target: '192.0.2.16' }));
  await r.mitigator.close();
  assert.equal(
    r.mitigator.status().refused.protected,
    2,
    'an update of a refused alert is not refused again',
  );
  assert.deepEqual(
    r.calls.map((c) => c[c.indexOf('rib') + 4]),
    ['192.0.2.16/32', '192.0.2.16/32'],
    'only the unprotected victim is announced (and withdrawn on close)',
  );
  const refusals = r.logs().filter((l) => l.reason === 'protected');
  assert.deepEqual(
    refusals.map((l) => l.target),
    ['192.0.2.5', '2001:db8:53::1'],
  );
});

test('maxannouncements: beyond the cap alerts are refused; room is made when one is withdrawn', async () => {
  const r = rig({ maxannouncements: 2 });
  for (const [id, target] of [
    ['c1', '192.0.2.1'],
    ['c2', '192.0.2.2'],
    ['c3', '192.0.2.3'],
  ]) {
    r.mitigator.handle(alertEvent('start', { id, target }));
  }
  await r.settle();
  let s = r.mitigator.status();
  assert.equal(s.active.length, 2);
  assert.equal(s.refused.cap, 1);
  assert.ok(
    r.logs().some((l) => l.reason === 'cap' && l.target === '192.0.2.3'),
    'the refusal is logged',
  );
  assert.equal(r.calls.filter((c) => c.includes('add')).length, 2);
  // The same victim as an announced one needs no new announcement, so the cap does not apply.
  r.mitigator.handle(alertEvent('start', { id: 'c1bis', target: '192.0.2.1', kind: 'volumetric' }));
  r.mitigator.handle(alertEvent('end', { id: 'c2', target: '192.0.2.2' }));
  r.mitigator.handle(alertEvent('start', { id: 'c4', target: '192.0.2.4' }));
  await r.settle();
  s = r.mitigator.status();
  assert.equal(s.refused.cap, 1);
  assert.deepEqual(s.active.map((a) => a.description).sort(), [
    'blackhole 192.0.2.1/32 community 65535:666',
    'blackhole 192.0.2.4/32 community 65535:666',
  ]);
  await r.mitigator.close();
});

test('dry run: decisions and status as usual, the command runner is never called', async () => {
  const r = rig({ dryrun: true, protected: ['192.0.2.99'] });
  r.mitigator.handle(alertEvent('start', { id: 'd1', target: '192.0.2.10' }));
  r.mitigator.handle(alertEvent('start', { id: 'd2', target: '192.0.2.99' }));
  await r.settle();
  const s = r.mitigator.status();
  assert.equal(s.dryRun, true);
  assert.deepEqual(
    s.active.map((a) => a.description),
    ['blackhole 192.0.2.10/32 community 65535:666'],
  );
  assert.equal(s.refused.protected, 1);
  r.mitigator.handle(alertEvent('end', { id: 'd1', target: '192.0.2.10' }));
  await r.mitigator.close();
  assert.deepEqual(r.calls, []);
  const wouldRun = r
    .logs()
    .filter((l) => l.msg === 'dry run: not running')
    .map((l) => (l.argv as string[]).join(' '));
  assert.deepEqual(wouldRun, [
    'gobgp -u 127.0.0.1 -p 50051 global rib -a ipv4 add 192.0.2.10/32 community 65535:666',
    'gobgp -u 127.0.0.1 -p 50051 global rib -a ipv4 del 192.0.2.10/32',
  ]);
});

test('two alerts on one victim: announced once, withdrawn when the last one ends', async () => {
  const r = rig();
  r.mitigator.handle(alertEvent('start', { id: 's1', target: '192.0.2.10', kind: 'syn_flood' }));
  r.mitigator.handle(alertEvent('start', { id: 'u1', target: '192.0.2.10', kind: 'udp_flood' }));
  r.mitigator.handle(alertEvent('start', { id: 's1', target: '192.0.2.10', kind: 'syn_flood' }));
  r.mitigator.handle(alertEvent('update', { id: 'u1', target: '192.0.2.10', kind: 'udp_flood' }));
  await r.settle();
  assert.equal(r.calls.length, 1);
  r.mitigator.handle(alertEvent('end', { id: 's1', target: '192.0.2.10' }));
  await r.settle();
  assert.equal(r.calls.length, 1, 'still needed by u1');
  r.mitigator.handle(alertEvent('end', { id: 'u1', target: '192.0.2.10' }));
  await r.settle();
  assert.deepEqual(r.calls[1].slice(-2), ['del', '192.0.2.10/32']);
  await r.mitigator.close();
});

test('minimum duration: an early end withdraws only after minduration; a new start cancels it', async () => {
  const r = rig({ minduration: 1 });
  r.mitigator.handle(alertEvent('start', { id: 'm1', target: '192.0.2.10' }));
  await r.settle();
  r.mitigator.handle(alertEvent('end', { id: 'm1', target: '192.0.2.10' }));
  await r.settle();
  assert.equal(r.calls.length, 1, 'not withdrawn at once');
  assert.notEqual(r.mitigator.status().active[0].withdrawAt, null);
  // The attack flaps back before the hold expires: the announcement simply stays.
  r.mitigator.handle(alertEvent('start', { id: 'm2', target: '192.0.2.10' }));
  await new Promise((resolve) => setTimeout(resolve, 1300));
  assert.equal(r.calls.length, 1, 'not withdrawn while m2 is active');
  r.mitigator.handle(alertEvent('end', { id: 'm2', target: '192.0.2.10' }));
  await waitFor('the withdrawal after the hold', () => r.calls.length === 2, 10_000);
  assert.deepEqual(r.calls[1].slice(-2), ['del', '192.0.2.10/32']);
  await r.mitigator.close();
});

test('only inbound attacks on hosts of the configured kinds are acted on', async () => {
  const r = rig({ kinds: ['reflection', 'syn_flood'] });
  r.mitigator.handle(alertEvent('start', { id: 'x1', target: '192.0.2.1', kind: 'udp_flood' }));
  r.mitigator.handle(alertEvent('start', { id: 'x2', target: '192.0.2.2', kind: 'port_scan' }));
  r.mitigator.handle(
    alertEvent('start', { id: 'x3', target: '192.0.2.3', kind: 'syn_flood', direction: 'outbound' }),
  );
  r.mitigator.handle(
    alertEvent('start', { id: 'x4', target: '192.0.2.4', kind: 'syn_flood', targetKind: 'exporter' }),
  );
  r.mitigator.handle(alertEvent('start', { id: 'x5', target: '192.0.2.5', kind: 'syn_flood' }));
  await r.mitigator.close();
  assert.deepEqual(
    r.calls.filter((c) => c.includes('add')).map((c) => c.at(-3)),
    ['192.0.2.5/32'],
  );
});

test('targets that are not unicast host addresses are refused as invalid, never passed to the CLI', async () => {
  const r = rig();
  const bad = ['192.0.2.1; reboot', '-h', '224.0.0.5', '0.0.0.0', '127.0.0.1', '10', 'fe80::1%eth0', '::'];
  bad.forEach((target, i) => {
    r.mitigator.handle(alertEvent('start', { id: `b${i}`, target }));
  });
  r.mitigator.handle(alertEvent('start', { id: 'mapped', target: '::ffff:192.0.2.7' }));
  await r.mitigator.close();
  assert.equal(r.mitigator.status().refused.invalid, bad.length);
  assert.deepEqual(r.calls[0].slice(-4), ['add', '192.0.2.7/32', 'community', '65535:666']);
  assert.equal(r.calls.length, 2);
});

test('a failing CLI is counted with its output, the announcement dropped, and the next update retries', async () => {
  const failing: CommandResult = {
    exitCode: 1,
    stdout: '',
    stderr: 'rpc error: connection refused',
    failure: null,
  };
  const r = rig({}, failing);
  r.mitigator.handle(alertEvent('start', { id: 'f1', target: '192.0.2.10' }));
  await r.settle();
  let s = r.mitigator.status();
  assert.equal(s.errors, 1);
  assert.match(
    s.lastError ?? '',
    /announce blackhole 192\.0\.2\.10\/32: exit code 1: rpc error: connection refused/,
  );
  assert.equal(s.active.length, 0);
  r.mitigator.handle(alertEvent('update', { id: 'f1', target: '192.0.2.10' }));
  await r.settle();
  s = r.mitigator.status();
  assert.equal(r.calls.length, 2, 'the update tried again');
  assert.equal(s.errors, 2);
  await r.mitigator.close();
});

test('close(): withdraws everything by default, nothing with withdrawonclose: false', async () => {
  const a = rig({ minduration: 600 });
  a.mitigator.handle(alertEvent('start', { id: 'k1', target: '192.0.2.1' }));
  a.mitigator.handle(alertEvent('start', { id: 'k2', target: '192.0.2.2' }));
  a.mitigator.handle(alertEvent('end', { id: 'k2', target: '192.0.2.2' }));
  await a.mitigator.close();
  assert.deepEqual(
    a.calls.filter((c) => c.includes('del')).map((c) => c.at(-1)),
    ['192.0.2.1/32', '192.0.2.2/32'],
    'held announcements are withdrawn at shutdown too',
  );
  a.mitigator.handle(alertEvent('start', { id: 'k3', target: '192.0.2.3' }));
  await a.settle();
  assert.equal(a.calls.length, 4, 'events after close are ignored');

  const b = rig({ withdrawonclose: false });
  b.mitigator.handle(alertEvent('start', { id: 'k1', target: '192.0.2.1' }));
  await b.mitigator.close();
  assert.equal(b.calls.length, 1);
  assert.ok(b.logs().some((l) => String(l.msg).includes('left in the BGP speaker')));
});

test('bad settings are rejected at construction, naming the key', () => {
  const cases: [Partial<MitigationConfig>, string][] = [
    [{ community: '65535:66x' }, 'mitigation.community'],
    [{ community: '65536:666' }, 'mitigation.community'],
    [{ nexthop: '2001:db8::1' }, 'mitigation.nexthop'],
    [{ nexthop: '192.0.2.1 community 1:1' }, 'mitigation.nexthop'],
    [{ nexthop6: '192.0.2.1' }, 'mitigation.nexthop6'],
    [{ protected: ['192.0.2.1/24'] }, 'mitigation.protected'],
    [{ flowspecaction: 'ratelimit', ratelimit: 0 }, 'mitigation.ratelimit'],
    [{ maxannouncements: -1 }, 'mitigation.maxannouncements'],
    [{ gobgp: { ...DEFAULT_MITIGATION_CONFIG.gobgp, port: 70000 } }, 'mitigation.gobgp.port'],
    [{ gobgp: { ...DEFAULT_MITIGATION_CONFIG.gobgp, host: 'localhost' } }, 'mitigation.gobgp.host'],
    [{ gobgp: { ...DEFAULT_MITIGATION_CONFIG.gobgp, command: [] } }, 'mitigation.gobgp.command'],
    [{ kinds: ['port_scan' as never] }, 'mitigation.kinds[0]'],
  ];
  for (const [over, key] of cases) {
    assert.throws(
      () => rig(over),
      (err: unknown) => err instanceof MitigationConfigError && err.message.startsWith(`${key}:`),
      `${JSON.stringify(over)} should be rejected as ${key}`,
    );
  }
});
