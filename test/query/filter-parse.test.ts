import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type {
  AddressField,
  CompareOp,
  FilterExpr,
  NumericField,
  StringField,
} from '../../src/query/filter-ast.js';
import { formatFilter } from '../../src/query/filter-format.js';
import {
  FilterSyntaxError,
  MAX_FILTER_DEPTH,
  MAX_FILTER_LENGTH,
  MAX_LIST_ITEMS,
  parseFilter,
} from '../../src/query/filter-parse.js';

const ANY: FilterExpr = { kind: 'any' };
const num = (field: NumericField, value: number, op: CompareOp = '='): FilterExpr => ({
  kind: 'num',
  field,
  op,
  value,
});
const str = (field: StringField, value: string, op: '=' | '!=' = '='): FilterExpr => ({
  kind: 'str',
  field,
  op,
  value,
});
const cidr = (field: AddressField, network: string, prefix: number, family: 4 | 6): FilterExpr => ({
  kind: 'cidr',
  field,
  network,
  prefix,
  family,
});
const or = (left: FilterExpr, right: FilterExpr): FilterExpr => ({ kind: 'or', left, right });
const and = (left: FilterExpr, right: FilterExpr): FilterExpr => ({ kind: 'and', left, right });
const not = (expr: FilterExpr): FilterExpr => ({ kind: 'not', expr });
const range = (field: NumericField, lo: number, hi: number): FilterExpr =>
  and(num(field, lo, '>='), num(field, hi, '<='));

const CASES: [string, FilterExpr][] = [
  ['', ANY],
  ['   ', ANY],
  ['any', ANY],
  ['ANY', ANY],
  // addresses
  ['src host 10.0.0.1', cidr('srcip', '10.0.0.1', 32, 4)],
  ['dst host 192.0.2.255', cidr('dstip', '192.0.2.255', 32, 4)],
  ['src ip 10.0.0.1', cidr('srcip', '10.0.0.1', 32, 4)],
  ['dst ip 2001:DB8::1', cidr('dstip', '2001:db8::1', 128, 6)],
  ['host 10.0.0.1', or(cidr('srcip', '10.0.0.1', 32, 4), cidr('dstip', '10.0.0.1', 32, 4))],
  ['ip 2001:db8:0:0:0:0:0:1', or(cidr('srcip', '2001:db8::1', 128, 6), cidr('dstip', '2001:db8::1', 128, 6))],
  ['src net 10.0.0.0/8', cidr('srcip', '10.0.0.0', 8, 4)],
  ['dst net 2001:db8::/32', cidr('dstip', '2001:db8::', 32, 6)],
  ['net 192.168.0.0/16', or(cidr('srcip', '192.168.0.0', 16, 4), cidr('dstip', '192.168.0.0', 16, 4))],
  ['src net 10/8', cidr('srcip', '10.0.0.0', 8, 4)],
  ['src net 172.16/12', cidr('srcip', '172.16.0.0', 12, 4)],
  ['src net 0.0.0.0/0', cidr('srcip', '0.0.0.0', 0, 4)],
  ['dst net ::/0', cidr('dstip', '::', 0, 6)],
  ['src net ::ffff:192.0.2.0/120', cidr('srcip', '::ffff:192.0.2.0', 120, 6)],
  ['net 10.0.0.1', or(cidr('srcip', '10.0.0.1', 32, 4), cidr('dstip', '10.0.0.1', 32, 4))],
  ['nexthop 192.0.2.1', cidr('nexthop', '192.0.2.1', 32, 4)],
  ['nexthop 2001:db8::/48', cidr('nexthop', '2001:db8::', 48, 6)],
  ['bgpnexthop 203.0.113.0/24', cidr('bgpnexthop', '203.0.113.0', 24, 4)],
  ['exporter 10.1.1.1', cidr('flowsrcip', '10.1.1.1', 32, 4)],
  ['exporter 10.1.0.0/16', cidr('flowsrcip', '10.1.0.0', 16, 4)],
  ['src natip 100.64.0.1', cidr('postnatsrcip', '100.64.0.1', 32, 4)],
  ['dst xip 100.64.0.0/10', cidr('postnatdstip', '100.64.0.0', 10, 4)],
  // ports and numbers
  ['src port 53', num('srcport', 53)],
  ['dst port 443', num('dstport', 443)],
  ['port 53', or(num('srcport', 53), num('dstport', 53))],
  ['PORT 53', or(num('srcport', 53), num('dstport', 53))],
  ['dst port > 1024', num('dstport', 1024, '>')],
  ['dst port >= 1024', num('dstport', 1024, '>=')],
  ['dst port < 1024', num('dstport', 1024, '<')],
  ['dst port <= 1024', num('dstport', 1024, '<=')],
  ['dst port != 22', num('dstport', 22, '!=')],
  ['dst port == 22', num('dstport', 22)],
  ['dst port = 22', num('dstport', 22)],
  ['dst port gt 1024', num('dstport', 1024, '>')],
  ['dst port 1000-2000', range('dstport', 1000, 2000)],
  ['port 1000-2000', or(range('srcport', 1000, 2000), range('dstport', 1000, 2000))],
  ['dst port in [80 443]', or(num('dstport', 80), num('dstport', 443))],
  [
    'dst port in [80, 443, 8000-8080]',
    or(or(num('dstport', 80), num('dstport', 443)), range('dstport', 8000, 8080)),
  ],
  ['src or dst port 53', or(num('srcport', 53), num('dstport', 53))],
  ['src and dst port 53', and(num('srcport', 53), num('dstport', 53))],
  ['dst or src port 53', or(num('srcport', 53), num('dstport', 53))],
  ['proto tcp', num('protocolint', 6)],
  ['proto UDP', num('protocolint', 17)],
  ['proto icmp', num('protocolint', 1)],
  ['proto ipv6-icmp', num('protocolint', 58)],
  ['proto 47', num('protocolint', 47)],
  ['proto != tcp', num('protocolint', 6, '!=')],
  ['tcp', num('protocolint', 6)],
  ['udp', num('protocolint', 17)],
  ['icmp', num('protocolint', 1)],
  ['icmp6', num('protocolint', 58)],
  ['src as 64496', num('srcas', 64496)],
  ['dst as 4200000000', num('dstas', 4200000000)],
  ['as 15169', or(num('srcas', 15169), num('dstas', 15169))],
  ['in if 3', num('input', 3)],
  ['out if 7', num('output', 7)],
  ['if 2', or(num('input', 2), num('output', 2))],
  ['vlan 100', or(num('srcvlan', 100), num('dstvlan', 100))],
  ['src vlan 10', num('srcvlan', 10)],
  ['tos 184', num('tos', 184)],
  ['ipv4', num('ipversion', 4)],
  ['inet6', num('ipversion', 6)],
  ['ipversion 6', num('ipversion', 6)],
  ['packets > 1000', num('packets', 1000, '>')],
  ['bytes > 1500', num('bits', 12000, '>')],
  ['bits >= 1000000', num('bits', 1000000, '>=')],
  ['duration > 60000', num('duration', 60000, '>')],
  ['samplerate 1000', num('samplerate', 1000)],
  ['flowversion 10', num('flowversion', 10)],
  ['icmp-type 8', num('icmptype', 8)],
  ['icmp-code 3', num('icmpcode', 3)],
  ['src mask 24', num('srcmask', 24)],
  // strings
  ['src country FR', str('srccountry', 'FR')],
  ['dst country de', str('dstcountry', 'DE')],
  ['country US', or(str('srccountry', 'US'), str('dstcountry', 'US'))],
  ['dst country != CN', str('dstcountry', 'CN', '!=')],
  ['dst country in [RU, CN]', or(str('dstcountry', 'RU'), str('dstcountry', 'CN'))],
  ['exporter name edge-1', str('flowsrcname', 'edge-1')],
  ['exporter name "Edge Router 1"', str('flowsrcname', 'Edge Router 1')],
  ["exporter name 'a\"b'", str('flowsrcname', 'a"b')],
  ['in if name Gi0/0/1', str('inputname', 'Gi0/0/1')],
  ['out if name ge-0/0/0', str('outputname', 'ge-0/0/0')],
  ['if name eth0', or(str('inputname', 'eth0'), str('outputname', 'eth0'))],
  ['flowtype sflow', str('flowtype', 'sflow')],
  ['flowtype NetFlow', str('flowtype', 'netflow')],
  ['direction ingress', str('flowdirection', 'ingress')],
  ['fwevent deny', str('fwevent', 'deny')],
  ['natevent "nat44 create"', str('natevent', 'nat44 create')],
  ['site paris', str('site', 'paris')],
  // tags, flags
  ['tag scanner', { kind: 'tag', value: 'scanner' }],
  ['tag "two words"', { kind: 'tag', value: 'two words' }],
  ['flags S', { kind: 'flags', mask: 2 }],
  ['flags SA', { kind: 'flags', mask: 18 }],
  ['flags rf', { kind: 'flags', mask: 5 }],
  ['flags FSRPAUECN', { kind: 'flags', mask: 511 }],
  ['flags 18', { kind: 'flags', mask: 18 }],
  // boolean structure
  ['not port 53', not(or(num('srcport', 53), num('dstport', 53)))],
  ['! tcp', not(num('protocolint', 6))],
  ['!tcp', not(num('protocolint', 6))],
  ['not not tcp', not(not(num('protocolint', 6)))],
  ['tcp and port 80', and(num('protocolint', 6), or(num('srcport', 80), num('dstport', 80)))],
  ['tcp && udp', and(num('protocolint', 6), num('protocolint', 17))],
  ['tcp || udp', or(num('protocolint', 6), num('protocolint', 17))],
  ['tcp OR udp', or(num('protocolint', 6), num('protocolint', 17))],
  ['(tcp)', num('protocolint', 6)],
  ['((tcp))', num('protocolint', 6)],
  [
    'src net 10.0.0.0/8 and dst port 443 and proto tcp',
    and(and(cidr('srcip', '10.0.0.0', 8, 4), num('dstport', 443)), num('protocolint', 6)),
  ],
  ['tcp or udp or icmp', or(or(num('protocolint', 6), num('protocolint', 17)), num('protocolint', 1))],
  ['any and tcp', and(ANY, num('protocolint', 6))],
];

describe('parseFilter: filter strings and their trees', () => {
  it(`parses ${CASES.length} filters`, () => {
    assert.ok(CASES.length >= 60);
    for (const [text, expected] of CASES) assert.deepEqual(parseFilter(text), expected, text);
  });

  it('prints every parsed filter back as text that parses to the same tree', () => {
    for (const [text, expected] of CASES)
      assert.deepEqual(parseFilter(formatFilter(expected)), expected, text);
  });

  it('prints readable text', () => {
    assert.equal(formatFilter(parseFilter('port 53')), 'src port 53 or dst port 53');
    assert.equal(
      formatFilter(parseFilter('not (tcp or udp) and bytes > 10')),
      'not (proto 6 or proto 17) and bits > 80',
    );
    assert.equal(formatFilter(parseFilter('exporter name "a b"')), 'exporter name "a b"');
    assert.equal(formatFilter(parseFilter('flags AS')), 'flags SA');
    assert.equal(formatFilter(parseFilter('dst net 2001:db8::/32')), 'dst net 2001:db8::/32');
    assert.equal(formatFilter(parseFilter('tcp or (udp or icmp)')), 'proto 6 or (proto 17 or proto 1)');
  });
});

describe('parseFilter: precedence', () => {
  const T = num('protocolint', 6);
  const U = num('protocolint', 17);
  const I = num('protocolint', 1);
  it('and binds tighter than or', () => {
    assert.deepEqual(parseFilter('tcp or udp and icmp'), or(T, and(U, I)));
    assert.deepEqual(parseFilter('tcp and udp or icmp'), or(and(T, U), I));
  });
  it('not binds tighter than and', () => {
    assert.deepEqual(parseFilter('not tcp and udp'), and(not(T), U));
    assert.deepEqual(parseFilter('not tcp or udp'), or(not(T), U));
    assert.deepEqual(parseFilter('tcp and not udp'), and(T, not(U)));
  });
  it('parentheses override', () => {
    assert.deepEqual(parseFilter('not (tcp and udp)'), not(and(T, U)));
    assert.deepEqual(parseFilter('(tcp or udp) and icmp'), and(or(T, U), I));
    assert.deepEqual(parseFilter('tcp and (udp or icmp)'), and(T, or(U, I)));
  });
  it('and and or associate to the left', () => {
    assert.deepEqual(parseFilter('tcp and udp and icmp'), and(and(T, U), I));
    assert.deepEqual(parseFilter('tcp or udp or icmp'), or(or(T, U), I));
  });
});

/** Parses `text`, expecting a FilterSyntaxError at `position` whose message matches `pattern`. */
function expectError(text: string, position: number, pattern: RegExp): void {
  assert.throws(
    () => parseFilter(text),
    (err: unknown) => {
      assert.ok(err instanceof FilterSyntaxError, `${text}: ${String(err)}`);
      assert.equal(err.position, position, `${text}: position of "${err.message}"`);
      assert.match(err.message, pattern, text);
      assert.match(err.message, new RegExp(`column ${position + 1}\\b`), `${text}: ${err.message}`);
      return true;
    },
  );
}

describe('parseFilter: syntax errors name the column and the token', () => {
  it('missing or bad values', () => {
    expectError('dst port x', 9, /^expected a port number after "dst port", found "x" at column 10$/);
    expectError('dst port', 8, /expected a port number after "dst port", found the end of the filter/);
    expectError('port 70000', 5, /70000 is out of range for a port number \(0-65535\)/);
    expectError('proto foo', 6, /expected a protocol name or number after "proto", found "foo"/);
    expectError('src as -1', 7, /expected an AS number after "src as"/);
    expectError('dst port 2000-1000', 9, /range 2000-1000 runs backwards/);
    expectError('vlan 5000', 5, /out of range for a VLAN id/);
    expectError('bytes > 9999999999999999', 8, /out of range/);
    expectError('src country FRA', 12, /expected a two-letter country code, found "FRA"/);
    expectError('flowtype foo', 9, /expected netflow or sflow or aws or gcp or azure/);
    expectError('direction up', 10, /expected ingress or egress/);
    expectError('flags SAX', 8, /"X" is not a TCP flag letter/);
    expectError('flags 0', 6, /TCP flag mask 0 is not within 1-511/);
    expectError('tag', 3, /expected a name after "tag", found the end of the filter/);
    expectError('dst port in []', 12, /empty list/);
    expectError('dst port in [80 443', 19, /expected "]" to close the "\[" of column 13/);
  });
  it('addresses and networks', () => {
    expectError('host 10.0.0.0/8', 5, /"10.0.0.0\/8" is a network, not a host/);
    expectError('src host 300.1.1.1', 9, /"300.1.1.1" is not an IP address/);
    expectError('src host 10.1', 9, /"10.1" is not an IP address/);
    expectError('src host 010.0.0.1', 9, /not an IP address/);
    expectError('net 10.1.2.3/8', 4, /has host bits set: did you mean 10.0.0.0\/8\?/);
    expectError('net 2001:db8::1/32', 4, /did you mean 2001:db8::\/32\?/);
    expectError('net 10.0.0.0/33', 4, /IPv4 prefix length 33 is more than 32/);
    expectError('net 2001:db8::/129', 4, /IPv6 prefix length 129 is more than 128/);
    expectError('net 2001:db8:::1/64', 4, /"2001:db8:::1" is not an IPv6 address/);
    expectError('net 1:2:3:4:5:6:7:8:9', 4, /not an IPv6 address/);
    expectError('net fe80::1%eth0', 4, /not an IPv6 address/);
    expectError('net 10.0.0.0/x', 4, /"x" is not a prefix length/);
  });
  it('structure', () => {
    expectError(
      'port 53 host 10.0.0.1',
      8,
      /expected "and", "or" or "\)" before "host": two conditions need an operator/,
    );
    expectError('(tcp udp)', 5, /before "udp"/);
    expectError('(tcp', 4, /expected "\)" to close the "\(" of column 1, found the end of the filter/);
    expectError('tcp)', 3, /unmatched "\)"/);
    expectError('tcp ]', 4, /^unexpected "\]" at column 5$/);
    expectError('tcp (udp)', 4, /before "\(": two conditions need an operator/);
    expectError('tcp !udp', 4, /before "!"/);
    expectError('tcp and', 7, /expected a condition such as "port 53".*found the end of the filter/);
    expectError('and tcp', 0, /unknown keyword "and"/);
    expectError('tcp or or udp', 7, /unknown keyword "or"/);
    expectError('not', 3, /expected a condition/);
    expectError('()', 1, /expected a condition.*found "\)"/);
    expectError('src', 3, /expected host, ip, net, port, as, vlan, mask, country or natip after "src"/);
    expectError('src proto 6', 4, /after "src", found "proto"/);
    expectError('in 3', 3, /expected "if" after "in", found "3"/);
    expectError('foo 1', 0, /unknown keyword "foo"/);
    expectError('tcp & udp', 4, /unexpected "&" at column 5: did you mean "&&"\?/);
    expectError('tcp | udp', 4, /did you mean "\|\|"/);
    expectError('site "paris', 5, /string opened at column 6 is not closed/);
  });
  it('bounds untrusted input: length and nesting depth', () => {
    expectError('tcp or '.repeat(600) + 'tcp', MAX_FILTER_LENGTH, /the limit is 4096/);
    const deep = `${'('.repeat(MAX_FILTER_DEPTH + 1)}tcp${')'.repeat(MAX_FILTER_DEPTH + 1)}`;
    expectError(deep, MAX_FILTER_DEPTH, /nested deeper than 64 levels/);
    expectError(`${'not '.repeat(MAX_FILTER_DEPTH + 1)}tcp`, MAX_FILTER_DEPTH * 4, /nested deeper than 64/);
    const ok = `${'('.repeat(MAX_FILTER_DEPTH)}tcp${')'.repeat(MAX_FILTER_DEPTH)}`;
    assert.deepEqual(parseFilter(ok), num('protocolint', 6));
    const many = `dst port in [${Array.from({ length: MAX_LIST_ITEMS + 1 }, (_, k) => k).join(' ')}]`;
    expectError(many, many.lastIndexOf(' ') + 1, /list has more than 256 items/);
    assert.doesNotThrow(() => parseFilter(`dst port in [${'1 '.repeat(MAX_LIST_ITEMS)}]`));
    // A long flat chain is not nesting: it parses.
    const chain = parseFilter(Array.from({ length: 500 }, () => 'tcp').join(' or '));
    assert.equal(chain.kind, 'or');
  });
});

describe('docs/filter-language.md', () => {
  const doc = readFileSync(new URL('../../docs/filter-language.md', import.meta.url), 'utf8');
  const blocks = [...doc.matchAll(/```\n([\s\S]*?)```/g)].map((m) => m[1].trim().split('\n'));

  it('every example filter parses', () => {
    assert.ok(blocks[0].length >= 5);
    for (const line of blocks[0]) assert.doesNotThrow(() => parseFilter(line), line);
  });

  it('every documented error message is the one thrown', () => {
    const errors = blocks.find((b) => b.some((l) => l.includes('at column')));
    assert.ok(errors !== undefined && errors.length >= 5);
    for (const line of errors) {
      const [text, message] = line.split(/ {2,}/);
      assert.throws(() => parseFilter(text), { name: 'FilterSyntaxError', message }, text);
    }
  });
});
