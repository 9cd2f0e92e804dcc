import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import fc from 'fast-check';
import type { FilterExpr } from '../../src/query/filter-ast.js';
import { matchFilter } from '../../src/query/filter-match.js';
import { DuckDbStore } from '../../src/store/duckdb/duckdb-store.js';
import { addressInt, cidrBounds } from '../../src/store/sql/address-int.js';
import {
  CLICKHOUSE_DIALECT,
  clickHouseString,
  FilterSqlError,
  filterToSql,
  sqlString,
} from '../../src/store/sql/filter-sql.js';
import { conformanceRecords } from './store-conformance.js';

describe('address integers', () => {
  test('IPv4 is family 4, lo only', () => {
    assert.deepEqual(addressInt('10.1.2.3'), { family: 4, hi: 0n, lo: 0x0a010203n });
    assert.deepEqual(addressInt('255.255.255.255'), { family: 4, hi: 0n, lo: 0xffffffffn });
    assert.equal(addressInt('256.1.1.1'), null);
    assert.equal(addressInt('not an address'), null);
  });
  test('IPv6 halves', () => {
    assert.deepEqual(addressInt('2001:db8::1'), { family: 6, hi: 0x20010db800000000n, lo: 1n });
    assert.deepEqual(addressInt('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'), {
      family: 6,
      hi: 0xffffffffffffffffn,
      lo: 0xffffffffffffffffn,
    });
  });
  test('CIDR bounds ignore host bits and check family and prefix', () => {
    assert.deepEqual(cidrBounds('10.1.2.3', 8, 4), { first: 0x0a000000n, last: 0x0affffffn });
    assert.deepEqual(cidrBounds('2001:db8::', 127, 6), {
      first: 0x20010db8000000000000000000000000n,
      last: 0x20010db8000000000000000000000001n,
    });
    assert.equal(cidrBounds('10.0.0.0', 33, 4), null);
    assert.equal(cidrBounds('2001:db8::', 24, 4), null);
  });
});

describe('filter to SQL', () => {
  test('leaves are two-valued and strings are quoted', () => {
    assert.equal(filterToSql(null), 'TRUE');
    assert.equal(
      filterToSql({ kind: 'num', field: 'dstport', op: '>=', value: 1024 }),
      'coalesce("dstport" >= 1024, false)',
    );
    assert.equal(
      filterToSql({ kind: 'str', field: 'site', op: '=', value: "O'Hare" }),
      `coalesce(lower("site") = 'o''hare', false)`,
    );
    assert.equal(sqlString("a'b''c"), "'a''b''''c'");
    assert.equal(
      filterToSql({ kind: 'cidr', field: 'srcip', network: '192.168.0.0', prefix: 16, family: 4 }),
      'coalesce("srcip_fam" = 4 AND "srcip_lo" BETWEEN 3232235520::UBIGINT AND 3232301055::UBIGINT, false)',
    );
  });

  test('the ClickHouse dialect: 1/0, plain UInt64 literals, has, bitAnd, backslash escapes', () => {
    const ch = (f: FilterExpr | null) => filterToSql(f, CLICKHOUSE_DIALECT);
    assert.equal(ch(null), '1');
    assert.equal(ch({ kind: 'any' }), '1');
    assert.equal(
      ch({ kind: 'not', expr: { kind: 'num', field: 'dstport', op: '>=', value: 1024 } }),
      '(NOT coalesce("dstport" >= 1024, 0))',
    );
    assert.equal(
      ch({ kind: 'cidr', field: 'srcip', network: '2001:db8::', prefix: 32, family: 6 }),
      'coalesce("srcip_fam" = 6 AND "srcip_hi" BETWEEN 2306139568115548160 AND 2306139572410515455, 0)',
    );
    assert.equal(ch({ kind: 'tag', value: 'dns' }), `coalesce(has("tags", 'dns'), 0)`);
    assert.equal(
      ch({ kind: 'flags', mask: 18 }),
      'coalesce("protocolint" = 6 AND bitAnd("tcpflagsint", 18) = 18, 0)',
    );
    // A trailing backslash must not end the literal early (ClickHouse reads \' as a quote).
    assert.equal(
      ch({ kind: 'str', field: 'site', op: '=', value: "x\\' OR 1 = 1 OR '" }),
      `coalesce(lower("site") = 'x\\\\\\' or 1 = 1 or \\'', 0)`,
    );
    assert.equal(clickHouseString('a\0b'), "'a\\0b'");
    // The DuckDB spellings, unchanged by default.
    assert.equal(filterToSql({ kind: 'tag', value: 'dns' }), `coalesce(list_contains("tags", 'dns'), false)`);
    assert.equal(
      filterToSql({ kind: 'flags', mask: 18 }),
      'coalesce("protocolint" = 6 AND ("tcpflagsint" & 18) = 18, false)',
    );
  });

  test('invalid ASTs are refused, never passed through', () => {
    const bad: unknown[] = [
      { kind: 'num', field: 'dstport', op: '=', value: Number.NaN },
      { kind: 'num', field: 'dstport', op: '=', value: Number.POSITIVE_INFINITY },
      { kind: 'num', field: 'dstport; DROP TABLE flows', op: '=', value: 1 },
      { kind: 'num', field: 'dstport', op: '= 1 OR 1', value: 1 },
      { kind: 'str', field: 'json', op: '=', value: 'x' },
      { kind: 'str', field: 'site', op: '=', value: 'a\0b' },
      { kind: 'cidr', field: 'srcip', network: '10.0.0.0', prefix: 40, family: 4 },
      { kind: 'cidr', field: 'srcip', network: "1.2.3.4' OR 1=1 --", prefix: 32, family: 4 },
      { kind: 'cidr', field: 'srcip_lo', network: '10.0.0.0', prefix: 8, family: 4 },
      { kind: 'flags', mask: 1.5 },
      { kind: 'bogus' },
    ];
    for (const f of bad) assert.throws(() => filterToSql(f as FilterExpr), FilterSqlError, JSON.stringify(f));
  });

  describe('evaluated by DuckDB', () => {
    let instance: DuckDBInstance;
    let conn: DuckDBConnection;
    before(async () => {
      instance = await DuckDBInstance.create(':memory:');
      conn = await instance.connect();
      await conn.run(`CREATE TABLE t (id INTEGER, srcip_fam UTINYINT, srcip_hi UBIGINT, srcip_lo UBIGINT,
        dstport INTEGER, protocolint INTEGER, tcpflagsint INTEGER, site VARCHAR, tags VARCHAR[])`);
      await conn.run(`INSERT INTO t VALUES
        (1, 4, 0, 167772161, 443, 6, 18, 'Par1', ['a']),
        (2, 6, ${0x20010db800000000n}, 1, 53, 17, NULL, NULL, NULL),
        (3, 6, ${0x20010db800000000n}, ${0xffffffffffffffffn}, NULL, 1, NULL, 'x''y', ['b', 'c']),
        (4, 6, ${0x20010db800010000n}, 0, 80, 6, 2, NULL, [])`);
    });
    after(() => {
      conn.closeSync();
      instance.closeSync();
    });
    async function ids(f: FilterExpr): Promise<number[]> {
      const r = await conn.runAndReadAll(`SELECT id FROM t WHERE ${filterToSql(f)} ORDER BY id`);
      return r.getRowsJS().map((row) => Number(row[0]));
    }
    const cases: Array<[string, FilterExpr, number[]]> = [
      ['v4 /8', { kind: 'cidr', field: 'srcip', network: '10.0.0.0', prefix: 8, family: 4 }, [1]],
      [
        'v6 /32 spans hi',
        { kind: 'cidr', field: 'srcip', network: '2001:db8::', prefix: 32, family: 6 },
        [2, 3, 4],
      ],
      ['v6 /64', { kind: 'cidr', field: 'srcip', network: '2001:db8::', prefix: 64, family: 6 }, [2, 3]],
      [
        'v6 /127 uses lo',
        { kind: 'cidr', field: 'srcip', network: '2001:db8::', prefix: 127, family: 6 },
        [2],
      ],
      [
        'v6 host, top of lo',
        { kind: 'cidr', field: 'srcip', network: '2001:db8::ffff:ffff:ffff:ffff', prefix: 128, family: 6 },
        [3],
      ],
      ['::/0 is v6 only', { kind: 'cidr', field: 'srcip', network: '::', prefix: 0, family: 6 }, [2, 3, 4]],
      [
        'not port 53 keeps NULL port',
        { kind: 'not', expr: { kind: 'num', field: 'dstport', op: '=', value: 53 } },
        [1, 3, 4],
      ],
      ['port != 53 drops NULL port', { kind: 'num', field: 'dstport', op: '!=', value: 53 }, [1, 4]],
      ['site case-insensitive', { kind: 'str', field: 'site', op: '=', value: 'PAR1' }, [1]],
      ['quote in a value', { kind: 'str', field: 'site', op: '=', value: "X'Y" }, [3]],
      ['tag', { kind: 'tag', value: 'c' }, [3]],
      ['not tag', { kind: 'not', expr: { kind: 'tag', value: 'a' } }, [2, 3, 4]],
      ['flags SA', { kind: 'flags', mask: 0x12 }, [1]],
      ['flags S', { kind: 'flags', mask: 0x02 }, [1, 4]],
      [
        'or binds looser than and',
        {
          kind: 'or',
          left: { kind: 'num', field: 'protocolint', op: '=', value: 1 },
          right: {
            kind: 'and',
            left: { kind: 'num', field: 'protocolint', op: '=', value: 6 },
            right: { kind: 'num', field: 'dstport', op: '=', value: 80 },
          },
        },
        [3, 4],
      ],
    ];
    for (const [label, f, want] of cases) {
      test(label, async () => assert.deepEqual(await ids(f), want));
    }
  });
});

describe('filter to SQL agrees with the in-memory matcher on random filters', () => {
  const { batches, all } = conformanceRecords();
  const leaf: fc.Arbitrary<FilterExpr> = fc.oneof(
    fc.record({
      kind: fc.constant('num' as const),
      field: fc.constantFrom(
        'srcport' as const,
        'dstport' as const,
        'protocolint' as const,
        'srcas' as const,
        'input' as const,
        'samplerate' as const,
        'bits' as const,
        'duration' as const,
        'icmptype' as const,
      ),
      op: fc.constantFrom(
        '=' as const,
        '!=' as const,
        '<' as const,
        '<=' as const,
        '>' as const,
        '>=' as const,
      ),
      value: fc.constantFrom(0, 1, 6, 17, 53, 100, 443, 1000, 1024, 2000, 64501, 8080, -1, 1.5),
    }),
    fc.record({
      kind: fc.constant('str' as const),
      field: fc.constantFrom(
        'flowtype' as const,
        'site' as const,
        'srccountry' as const,
        'flowsrcname' as const,
      ),
      op: fc.constantFrom('=' as const, '!=' as const),
      value: fc.constantFrom('sflow', 'NETFLOW', 'par1', 'fr', 'US', 'edge-1', "o'brien", ''),
    }),
    fc
      .tuple(
        fc.constantFrom('srcip' as const, 'dstip' as const, 'flowsrcip' as const),
        fc.constantFrom('10.0.1.7', '192.168.5.9', '198.51.100.200', '192.0.2.2', '0.0.0.0'),
        fc.integer({ min: 0, max: 32 }),
      )
      .map(([field, network, prefix]): FilterExpr => ({ kind: 'cidr', field, network, prefix, family: 4 })),
    fc
      .tuple(
        fc.constantFrom('srcip' as const, 'dstip' as const, 'flowsrcip' as const),
        fc.constantFrom('2001:db8:a:0:1::5', '2001:db8:ffff::53', 'fe80::1', '2001:db8::e', '::'),
        fc.integer({ min: 0, max: 128 }),
      )
      .map(([field, network, prefix]): FilterExpr => ({ kind: 'cidr', field, network, prefix, family: 6 })),
    fc.constantFrom('customer-a', "o'brien", 'none').map((value): FilterExpr => ({ kind: 'tag', value })),
    fc.integer({ min: 0, max: 0x1ff }).map((mask): FilterExpr => ({ kind: 'flags', mask })),
    fc.constant<FilterExpr>({ kind: 'any' }),
  );
  const { expr } = fc.letrec<{ expr: FilterExpr }>((tie) => ({
    expr: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf,
      fc.record({ kind: fc.constant('not' as const), expr: tie('expr') }),
      fc.record({ kind: fc.constant('and' as const), left: tie('expr'), right: tie('expr') }),
      fc.record({ kind: fc.constant('or' as const), left: tie('expr'), right: tie('expr') }),
    ),
  }));

  let dir = '';
  let store: DuckDbStore;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flowgate-filter-sql-'));
    store = new DuckDbStore({ dir });
    await store.open();
    for (const b of batches) await store.write(b);
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('300 random filters select the same records in DuckDB as matchFilter', async () => {
    const range = { fromMs: 0, toMs: 4_102_444_800_000 };
    await fc.assert(
      fc.asyncProperty(expr, async (f) => {
        const want = all
          .filter((r) => matchFilter(f, r))
          .map((r) => r.end ?? r.start)
          .sort((a, b) => (a ?? 0) - (b ?? 0));
        const got = (await store.flows({ range, filter: f, limit: 100_000 }))
          .map((j) => (j.end ?? j.start) as number)
          .sort((a, b) => a - b);
        assert.deepEqual(got, want);
      }),
      { numRuns: 300, seed: 20241123 },
    );
  });
});
