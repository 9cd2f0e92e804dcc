/**
 * IPv6 addresses on the decode path, in ns per address: RFC 5952 formatting (`ipv6At`), the first
 * character read of its output (what a later reader pays to flatten a rope), and enrichment getting
 * the 16 bytes back (`ParsedAddress.parse`), each against the implementation before issue 7 (copied
 * below as `ipv6AtBefore` and `parseBefore`). The addresses are 10,000 of a realistic mix: global
 * unicast in a few hundred /64s with random interface IDs, some with zero runs (`2001:db8::5`,
 * link-local, multicast, loopback), some IPv4-mapped. Three runs of each.
 *
 *   node --import tsx bench/address-format.ts [--ms 400]
 */

import { ParsedAddress } from '../src/enrich/prefix-set.js';
import { parseIPv4, parseIPv6 } from '../src/query/filter-address.js';
import { ipv6At } from '../src/record/address.js';
import { ipv6AtBefore } from '../test/helpers/ipv6-text-before.js';

const msArg = process.argv.indexOf('--ms');
const MS = msArg > 0 ? Number(process.argv[msArg + 1]) : 400;
const COUNT = 10_000;

/** xorshift32: the same address set on every run. */
let seed = 0x9e3779b9;
function rand(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return seed >>> 0;
}

function randomAddresses(): Uint8Array {
  const out = new Uint8Array(COUNT * 16);
  const prefixes = Array.from({ length: 300 }, () => {
    const p = new Uint8Array(8);
    p[0] = 0x20 | (rand() & 0x1f); // 2000::/3
    for (let i = 1; i < 8; i++) p[i] = rand() & 255;
    // Many allocations end in zero groups (a /48 with subnet 0, a /56 with low byte 0).
    if (rand() % 4 === 0) p[6] = p[7] = 0;
    return p;
  });
  for (let n = 0; n < COUNT; n++) {
    const a = out.subarray(n * 16, n * 16 + 16);
    const kind = rand() % 100;
    if (kind < 75) {
      a.set(prefixes[rand() % prefixes.length] as Uint8Array, 0);
      for (let i = 8; i < 16; i++) a[i] = rand() & 255;
    } else if (kind < 88) {
      // Zero runs: servers and routers numbered ::1, ::53, ::a:1 in their /64.
      a.set(prefixes[rand() % prefixes.length] as Uint8Array, 0);
      a[15] = rand() & 255;
      if (rand() % 2 === 0) a[13] = rand() & 15;
    } else if (kind < 93) {
      a[0] = 0xfe;
      a[1] = 0x80;
      for (let i = 8; i < 16; i++) a[i] = rand() & 255;
    } else if (kind < 96) {
      a[0] = 0xff;
      a[1] = 0x02;
      a[15] = 1 + (rand() % 0xfb);
    } else if (kind < 97) {
      a[15] = 1;
    } else {
      a[10] = a[11] = 0xff;
      for (let i = 12; i < 16; i++) a[i] = rand() & 255;
    }
  }
  return out;
}

// ---- before issue 7, for comparison: ipv6AtBefore is test/helpers/ipv6-text-before.ts ----
const bytesBefore = new Uint8Array(16);
function parseBefore(text: string): number {
  if (parseIPv4(text) >= 0) return 4;
  return parseIPv6(text, bytesBefore) ? 6 : 0;
}

// ---- measurement ----
const addrs = randomAddresses();
let sink = 0;

function nsPer(pass: () => void): number {
  const warmEnd = performance.now() + MS / 2;
  while (performance.now() < warmEnd) pass();
  let passes = 0;
  const start = performance.now();
  const end = start + MS;
  let now = start;
  while (now < end) {
    pass();
    passes++;
    now = performance.now();
  }
  return ((now - start) * 1e6) / (passes * COUNT);
}

const parsed = new ParsedAddress();
const cases: [string, () => void][] = [
  [
    'ipv6At before',
    () => {
      for (let n = 0; n < COUNT; n++) sink += ipv6AtBefore(addrs, n * 16).length;
    },
  ],
  [
    'ipv6At now',
    () => {
      for (let n = 0; n < COUNT; n++) sink += ipv6At(addrs, n * 16).length;
    },
  ],
  [
    'ipv6At + first char read, before',
    () => {
      for (let n = 0; n < COUNT; n++) sink += ipv6AtBefore(addrs, n * 16).charCodeAt(0);
    },
  ],
  [
    'ipv6At + first char read, now',
    () => {
      for (let n = 0; n < COUNT; n++) sink += ipv6At(addrs, n * 16).charCodeAt(0);
    },
  ],
  [
    // What enrichment did per IPv6 address: format, then parse the fresh text (a rope) back.
    'ipv6At + parse, before',
    () => {
      for (let n = 0; n < COUNT; n++) sink += parseBefore(ipv6AtBefore(addrs, n * 16));
    },
  ],
  [
    // A record's src and dst formatted, then both looked up, as the collector does.
    'ipv6At + ParsedAddress.parse, now',
    () => {
      for (let n = 0; n < COUNT; n += 2) {
        const src = ipv6At(addrs, n * 16);
        const dst = ipv6At(addrs, n * 16 + 16);
        parsed.parse(src);
        sink += parsed.family;
        parsed.parse(dst);
        sink += parsed.family;
      }
    },
  ],
  [
    'ipv6At + ParsedAddress.parseText (no shortcut), now',
    () => {
      for (let n = 0; n < COUNT; n++) {
        parsed.parseText(ipv6At(addrs, n * 16));
        sink += parsed.family;
      }
    },
  ],
];

console.log(`${COUNT} addresses, ${MS} ms per measurement, ns per address (3 runs)`);
for (const [label, pass] of cases) {
  const runs = [nsPer(pass), nsPer(pass), nsPer(pass)];
  console.log(`${label.padEnd(52)} ${runs.map((r) => r.toFixed(1).padStart(7)).join(' ')}`);
}
if (sink === 0) console.log('');
