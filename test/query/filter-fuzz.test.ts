/**
 * Property tests of the filter language: any text either parses or throws FilterSyntaxError (never
 * another error, never slowly), and any tree prints as text that parses back to the same tree.
 * Fixed seeds keep failures reproducible.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type {
  AddressField,
  CompareOp,
  FilterExpr,
  NumericField,
  StringField,
} from '../../src/query/filter-ast.js';
import { formatFilter } from '../../src/query/filter-format.js';
import { matchFilter } from '../../src/query/filter-match.js';
import { FilterSyntaxError, MAX_FILTER_LENGTH, parseFilter } from '../../src/query/filter-parse.js';
import { ipv4FromU32, ipv6At } from '../../src/record/address.js';
import { FlowRecord } from '../../src/record/flow-record.js';

const SEED = 20261123;
const SLOW_MS = 50;

/** Parses `text`; fails on any error but FilterSyntaxError and on a slow parse. */
function parseChecked(text: string): FilterExpr | null {
  let ms = Number.POSITIVE_INFINITY;
  let result: FilterExpr | null = null;
  // A GC pause can stall any single call; a slow input is slow every time, so the best of three counts.
  for (let attempt = 0; attempt < 3 && ms > SLOW_MS; attempt++) {
    const t0 = performance.now();
    try {
      result = parseFilter(text);
    } catch (err) {
      if (!(err instanceof FilterSyntaxError)) assert.fail(`${JSON.stringify(text)} threw ${String(err)}`);
      assert.ok(err.position >= 0 && err.position <= Math.max(text.length, MAX_FILTER_LENGTH));
      assert.match(err.message, /column \d+/);
      result = null;
    }
    ms = Math.min(ms, performance.now() - t0);
  }
  assert.ok(ms <= SLOW_MS, `${JSON.stringify(text.slice(0, 200))} took ${ms.toFixed(1)} ms`);
  return result;
}

// biome-ignore format: a word list reads better packed than one per line
const VOCABULARY = [
  'src', 'dst', 'host', 'ip', 'net', 'port', 'as', 'vlan', 'mask', 'country', 'natip', 'proto', 'tcp',
  'udp', 'icmp', 'and', 'or', 'not', '&&', '||', '!', '(', ')', '[', ']', ',', 'in', 'if', 'out', 'name',
  'exporter', 'nexthop', 'flags', 'SA', 'tag', 'any', 'bytes', 'packets', '>', '<=', '!=', '=', 'eq',
  '53', '1000-2000', '70000', '10.0.0.0/8', '10/8', '2001:db8::/32', '::1', 'FR', '"x y"', "'", '"',
  'ipv6', 'ipv6-icmp', 'direction', 'ingress', 'flowtype', 'sflow', 'duration', 'icmp-type', '-', '&', '|',
];

const tokenSoup = fc.array(fc.constantFrom(...VOCABULARY), { maxLength: 25 }).map((words) => words.join(' '));

const NUMERIC_MAX: Record<NumericField, number> = {
  srcport: 65535,
  dstport: 65535,
  protocolint: 255,
  srcas: 4294967295,
  dstas: 4294967295,
  input: 4294967295,
  output: 4294967295,
  srcvlan: 4095,
  dstvlan: 4095,
  tos: 255,
  ipversion: 15,
  samplerate: Number.MAX_SAFE_INTEGER,
  flowversion: 65535,
  packets: Number.MAX_SAFE_INTEGER,
  bits: Number.MAX_SAFE_INTEGER,
  duration: Number.MAX_SAFE_INTEGER,
  icmptype: 255,
  icmpcode: 255,
  srcmask: 128,
  dstmask: 128,
};
const NUMERIC_FIELDS = Object.keys(NUMERIC_MAX) as NumericField[];
const OPS: CompareOp[] = ['=', '!=', '<', '<=', '>', '>='];
const ADDRESS_FIELDS: AddressField[] = [
  'srcip',
  'dstip',
  'nexthop',
  'bgpnexthop',
  'flowsrcip',
  'postnatsrcip',
  'postnatdstip',
];
const FREE_STRING_FIELDS: StringField[] = [
  'flowsrcname',
  'site',
  'inputname',
  'outputname',
  'fwevent',
  'natevent',
];

const anyText = fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 12 }));

const numLeaf: fc.Arbitrary<FilterExpr> = fc.constantFrom(...NUMERIC_FIELDS).chain((field) =>
  fc.record({
    kind: fc.constant('num' as const),
    field: fc.constant(field),
    op: fc.constantFrom(...OPS),
    value: fc.oneof(
      fc.integer({ min: 0, max: Math.min(NUMERIC_MAX[field], 70000) }),
      fc.constant(NUMERIC_MAX[field]),
    ),
  }),
);

const strLeaf: fc.Arbitrary<FilterExpr> = fc.oneof(
  fc.record({
    kind: fc.constant('str' as const),
    field: fc.constantFrom(...FREE_STRING_FIELDS),
    op: fc.constantFrom('=' as const, '!=' as const),
    value: anyText,
  }),
  fc.record({
    kind: fc.constant('str' as const),
    field: fc.constantFrom('srccountry' as const, 'dstcountry' as const),
    op: fc.constantFrom('=' as const, '!=' as const),
    value: fc.stringMatching(/^[A-Z]{2}$/),
  }),
  fc.record({
    kind: fc.constant('str' as const),
    field: fc.constant('flowtype' as const),
    op: fc.constantFrom('=' as const, '!=' as const),
    value: fc.constantFrom('netflow', 'sflow', 'aws', 'gcp', 'azure'),
  }),
  fc.record({
    kind: fc.constant('str' as const),
    field: fc.constant('flowdirection' as const),
    op: fc.constantFrom('=' as const, '!=' as const),
    value: fc.constantFrom('ingress', 'egress'),
  }),
);

const v4Leaf: fc.Arbitrary<FilterExpr> = fc
  .record({
    field: fc.constantFrom(...ADDRESS_FIELDS),
    address: fc.nat({ max: 4294967295 }),
    prefix: fc.integer({ min: 0, max: 32 }),
  })
  .map(({ field, address, prefix }) => {
    const masked = prefix === 0 ? 0 : ((address >>> (32 - prefix)) << (32 - prefix)) >>> 0;
    return { kind: 'cidr', field, network: ipv4FromU32(masked), prefix, family: 4 };
  });

const v6Leaf: fc.Arbitrary<FilterExpr> = fc
  .record({
    field: fc.constantFrom(...ADDRESS_FIELDS),
    bytes: fc.uint8Array({ minLength: 16, maxLength: 16 }),
    sparse: fc.boolean(),
    prefix: fc.integer({ min: 0, max: 128 }),
  })
  .map(({ field, bytes, sparse, prefix }) => {
    // Mostly-zero addresses exercise `::` compression and the IPv4-mapped form.
    if (sparse) for (let i = 0; i < 12; i++) if (bytes[i] % 3 !== 0) bytes[i] = 0;
    for (let b = 0; b < 128; b++) if (b >= prefix) bytes[b >>> 3] &= ~(0x80 >>> (b & 7));
    return { kind: 'cidr', field, network: ipv6At(bytes, 0), prefix, family: 6 };
  });

const leaf: fc.Arbitrary<FilterExpr> = fc.oneof(
  numLeaf,
  strLeaf,
  v4Leaf,
  v6Leaf,
  anyText.map((value): FilterExpr => ({ kind: 'tag', value })),
  fc.integer({ min: 1, max: 511 }).map((mask): FilterExpr => ({ kind: 'flags', mask })),
  fc.constant<FilterExpr>({ kind: 'any' }),
);

const { tree: nullProtoTree } = fc.letrec<{ tree: FilterExpr }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', maxDepth: 8 },
    leaf,
    fc.record({ kind: fc.constant('and' as const), left: tie('tree'), right: tie('tree') }),
    fc.record({ kind: fc.constant('or' as const), left: tie('tree'), right: tie('tree') }),
    fc.record({ kind: fc.constant('not' as const), expr: tie('tree') }),
  ),
}));

/** fc.record builds null-prototype objects; the parser builds plain ones, and deepEqual compares prototypes. */
const tree = nullProtoTree.map((e) => JSON.parse(JSON.stringify(e)) as FilterExpr);

describe('filter language properties', () => {
  it('random text parses or throws FilterSyntaxError, quickly', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 200 }), tokenSoup),
        (text) => {
          parseChecked(text);
        },
      ),
      { seed: SEED, numRuns: 3000 },
    );
  });

  it('text near the limits is refused or parsed quickly', () => {
    parseChecked('('.repeat(MAX_FILTER_LENGTH));
    parseChecked('not '.repeat(1024));
    parseChecked(`dst port in [${'1 '.repeat(2000)}]`);
    parseChecked(`"${'\\'.repeat(MAX_FILTER_LENGTH - 2)}"`);
    parseChecked('x'.repeat(MAX_FILTER_LENGTH + 1));
  });

  it('text that parses prints back to the same tree', () => {
    fc.assert(
      fc.property(tokenSoup, (text) => {
        const e = parseChecked(text);
        if (e !== null) assert.deepEqual(parseFilter(formatFilter(e)), e);
      }),
      { seed: SEED, numRuns: 3000 },
    );
  });

  it('random trees print as text that parses to the same tree', () => {
    fc.assert(
      fc.property(tree, (e) => {
        const text = formatFilter(e);
        fc.pre(text.length <= MAX_FILTER_LENGTH);
        assert.deepEqual(parseFilter(text), e, text);
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });

  it('not always inverts on random trees (two-valued logic)', () => {
    const r = new FlowRecord();
    r.srcip = '10.0.0.1';
    r.dstport = 443;
    r.protocolint = 6;
    r.tcpflagsint = 2;
    fc.assert(
      fc.property(tree, (e) => {
        assert.equal(matchFilter({ kind: 'not', expr: e }, r), !matchFilter(e, r));
      }),
      { seed: SEED, numRuns: 500 },
    );
  });
});
