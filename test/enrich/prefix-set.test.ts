import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { EnrichOptionError } from '../../src/enrich/option-error.js';
import { ParsedAddress, PrefixSet, parseNetwork } from '../../src/enrich/prefix-set.js';
import { ipv4FromU32, ipv6At } from '../../src/record/address.js';

describe('PrefixSet', () => {
  it('IPv4 networks: edges of each range, outside neighbours', () => {
    const set = PrefixSet.compile(['10.0.0.0/8', '192.168.1.0/24', '203.0.113.7/32', '203.0.113.7'], 'nets');
    for (const a of ['10.0.0.0', '10.255.255.255', '192.168.1.0', '192.168.1.255', '203.0.113.7']) {
      assert.equal(set.has(a), true, a);
    }
    for (const a of [
      '9.255.255.255',
      '11.0.0.0',
      '192.168.0.255',
      '192.168.2.0',
      '203.0.113.6',
      '203.0.113.8',
    ]) {
      assert.equal(set.has(a), false, a);
    }
    assert.equal(set.ranges, 3);
  });

  it('IPv6 networks, /128 and the families kept apart', () => {
    const set = PrefixSet.compile(['2001:db8::/32', 'fe80::/10', '2001:4860:4860::8888/128'], 'nets');
    assert.equal(set.has('2001:db8::'), true);
    assert.equal(set.has('2001:db8:ffff:ffff:ffff:ffff:ffff:ffff'), true);
    assert.equal(set.has('2001:db9::'), false);
    assert.equal(set.has('2001:db7:ffff:ffff:ffff:ffff:ffff:ffff'), false);
    assert.equal(set.has('febf:ffff::1'), true);
    assert.equal(set.has('fec0::'), false);
    assert.equal(set.has('2001:4860:4860::8888'), true);
    assert.equal(set.has('2001:4860:4860::8889'), false);
    assert.equal(set.has('32.1.13.184'), false, 'IPv4 text never matches an IPv6 network');
  });

  it('/0 of each family matches only that family', () => {
    const v4 = PrefixSet.compile(['0.0.0.0/0'], 'nets');
    assert.equal(v4.has('0.0.0.0'), true);
    assert.equal(v4.has('255.255.255.255'), true);
    assert.equal(v4.has('2001:db8::1'), false);
    const v6 = PrefixSet.compile(['::/0'], 'nets');
    assert.equal(v6.has('::'), true);
    assert.equal(v6.has('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'), true);
    assert.equal(v6.has('10.0.0.1'), false);
  });

  it('IPv4-mapped addresses are looked up as IPv4, in any spelling', () => {
    const set = PrefixSet.compile(['10.0.0.0/8'], 'nets');
    assert.equal(set.has('::ffff:10.1.2.3'), true);
    assert.equal(set.has('::ffff:a01:203'), true);
    assert.equal(set.has('::ffff:11.1.2.3'), false);
    // A network written in mapped form is the IPv4 network.
    const mapped = PrefixSet.compile(['::ffff:192.0.2.0/120'], 'nets');
    assert.equal(mapped.has('192.0.2.200'), true);
    assert.equal(mapped.has('192.0.3.1'), false);
    assert.deepEqual(parseNetwork('::ffff:192.0.2.0/120'), {
      family: 4,
      first: 0xc0000200n,
      last: 0xc00002ffn,
      prefix: 24,
    });
  });

  it('null, empty and malformed text is never a member', () => {
    const set = PrefixSet.compile(['0.0.0.0/0', '::/0'], 'nets');
    for (const a of [
      null,
      '',
      '1.2.3',
      '1.2.3.4.5',
      '01.2.3.4',
      '256.1.1.1',
      'fe80::1%eth0',
      'host',
      ':::',
    ]) {
      assert.equal(set.has(a), false, String(a));
    }
  });

  it('overlapping and adjacent networks merge', () => {
    const set = PrefixSet.compile(
      ['10.0.0.0/9', '10.128.0.0/9', '10.1.0.0/16', '2001:db8::/33', '2001:db8:8000::/33'],
      'n',
    );
    assert.equal(set.ranges, 2);
    assert.equal(set.has('10.200.0.1'), true);
  });

  it('longest prefix wins with fromEntries (holes inside members)', () => {
    const set = PrefixSet.fromEntries(
      [
        { network: '192.0.0.0/24', member: true },
        { network: '192.0.0.9/32', member: false },
        { network: '2001::/23', member: true },
        { network: '2001:3::/32', member: false },
        { network: '2001:3:1::/48', member: true },
      ],
      'e',
    );
    assert.equal(set.has('192.0.0.8'), true);
    assert.equal(set.has('192.0.0.9'), false);
    assert.equal(set.has('192.0.0.10'), true);
    assert.equal(set.has('2001:2::1'), true);
    assert.equal(set.has('2001:3::1'), false);
    assert.equal(set.has('2001:3:1::1'), true);
    assert.equal(set.has('2001:4::1'), true);
  });

  it('rejects bad networks with the entry and the reason', () => {
    const bad: [string, RegExp][] = [
      ['10.0.0.0/33', /nets\[1\]: "10.0.0.0\/33": prefix length must be 0-32/],
      ['10.1.0.0/8', /host bits are set \(did you mean 10.0.0.0\/8\?\)/],
      ['2001:db8::1/32', /did you mean 2001:db8:0:0:0:0:0:0\/32/],
      ['10.0.0/8', /not an IPv4\/IPv6 address/],
      ['::/129', /prefix length must be 0-128/],
      ['10.0.0.0/', /prefix length/],
    ];
    for (const [network, message] of bad) {
      assert.throws(
        () => PrefixSet.compile(['192.0.2.0/24', network], 'nets'),
        (e: unknown) => e instanceof EnrichOptionError && message.test(e.message),
        network,
      );
    }
    assert.throws(
      () => PrefixSet.compile([42], 'nets'),
      /nets\[0\]: expected a network such as "10.0.0.0\/8", got 42/,
    );
  });

  it('ParsedAddress reports the family', () => {
    const p = new ParsedAddress();
    assert.equal(p.parse('192.0.2.1'), true);
    assert.equal(p.family, 4);
    assert.equal(p.v4, 0xc0000201);
    assert.equal(p.parse('2001:db8::1'), true);
    assert.equal(p.family, 6);
    assert.deepEqual([...p.words], [0x20010db8, 0, 0, 1]);
    assert.equal(p.parse(null), false);
    assert.equal(p.family, 0);
  });
});

/** Naive membership: BigInt prefix comparison against every network. */
function naiveHas(
  networks: { family: 4 | 6; value: bigint; prefix: number }[],
  address: { family: 4 | 6; value: bigint },
): boolean {
  return networks.some((n) => {
    if (n.family !== address.family) return false;
    const width = n.family === 4 ? 32 : 128;
    const shift = BigInt(width - n.prefix);
    return address.value >> shift === n.value >> shift;
  });
}

function v6Text(v: bigint): string {
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 16; i++) bytes[i] = Number((v >> BigInt(8 * (15 - i))) & 255n);
  return ipv6At(bytes, 0);
}

function v6Mask(value: bigint, prefix: number): bigint {
  const host = (1n << BigInt(128 - prefix)) - 1n;
  return value & ~host;
}

describe('PrefixSet property', () => {
  // Addresses drawn near the networks' own bounds so the edges get exercised, not just random space.
  const v4Net = fc.record({ value: fc.nat({ max: 0xffffffff }), prefix: fc.integer({ min: 0, max: 32 }) });
  const v6Net = fc.record({
    value: fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }),
    prefix: fc.integer({ min: 0, max: 128 }),
  });

  it('membership agrees with a naive prefix check (IPv4 and IPv6, random networks and addresses)', () => {
    fc.assert(
      fc.property(
        fc.array(v4Net, { maxLength: 12 }),
        fc.array(v6Net, { maxLength: 12 }),
        fc.array(fc.nat({ max: 0xffffffff }), { maxLength: 20 }),
        fc.array(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), { maxLength: 20 }),
        (n4, n6, a4, a6) => {
          const networks = [
            ...n4.map((n) => {
              const masked = n.prefix === 0 ? 0 : (n.value >>> (32 - n.prefix)) * 2 ** (32 - n.prefix);
              return { family: 4 as const, value: BigInt(masked), prefix: n.prefix };
            }),
            // ::ffff:0:0/96 and below would be stored as IPv4 (mapped); keep the v6 side outside it.
            ...n6
              .map((n) => ({ family: 6 as const, value: v6Mask(n.value, n.prefix), prefix: n.prefix }))
              .filter((n) => n.value >> 32n !== 0xffffn || n.prefix < 96),
          ];
          const texts = networks.map((n) =>
            n.family === 4 ? `${ipv4FromU32(Number(n.value))}/${n.prefix}` : `${v6Text(n.value)}/${n.prefix}`,
          );
          const set = PrefixSet.compile(texts, 'nets');
          const probes: { family: 4 | 6; value: bigint }[] = [
            ...a4.map((v) => ({ family: 4 as const, value: BigInt(v) })),
            ...a6.map((v) => ({ family: 6 as const, value: v })).filter((a) => a.value >> 32n !== 0xffffn),
          ];
          for (const n of networks) {
            const width = n.family === 4 ? 32 : 128;
            const last = n.value | ((1n << BigInt(width - n.prefix)) - 1n);
            const max = (1n << BigInt(width)) - 1n;
            for (const v of [n.value - 1n, n.value, last, last + 1n]) {
              if (v >= 0n && v <= max && !(n.family === 6 && v >> 32n === 0xffffn))
                probes.push({ family: n.family, value: v });
            }
          }
          for (const p of probes) {
            const text = p.family === 4 ? ipv4FromU32(Number(p.value)) : v6Text(p.value);
            assert.equal(set.has(text), naiveHas(networks, p), `${text} in [${texts.join(', ')}]`);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
