/**
 * Appends a batch of FlowRecords to one partition's flow table and sums its per-minute rollup rows
 * on the way. Each column is filled record by record (straight-line, column order of schema.ts)
 * into a reused typed array plus a validity bitmap, then copied into a DuckDB data chunk of up to
 * 2048 rows with one native copy per column (strings: one native call per non-null value).
 *
 * Why not DuckDBDataChunk.setColumns: it sets values one by one through per-type vector classes
 * whose validity mask is a BigUint64Array updated with BigInt arithmetic per value; with ~80
 * columns that was 9 µs per record, the largest cost of a write (bench/duckdb-append.ts,
 * docs/benchmarks.md). The rollup is summed here, from the values just written, because the rows
 * now go straight into the partition table (no staging table to aggregate with SQL).
 */

import { type DuckDBAppender, DuckDBDataChunk, type DuckDBType } from '@duckdb/node-api';
import duckdb from '@duckdb/node-bindings';
import { parseIPv4 } from '../../query/filter-address.js';
import type { FlowRecord } from '../../record/flow-record.js';
import { addressInt } from '../sql/address-int.js';
import { FLOW_COLUMNS } from './schema.js';

/** The flow time a record is partitioned and range-filtered by (contract.ts: end, else start). */
export function flowTimeMs(r: FlowRecord): number {
  const t = r.end ?? r.start;
  // A NaN time would name no partition: fall back to the receive time, as for a missing one.
  return t !== null && Number.isFinite(t) ? t : r.timestamp * 1000;
}

function double(v: number | null): number | null {
  return v === null || !Number.isFinite(v) ? null : v;
}

function int(v: number | null): number | null {
  return v === null || !Number.isInteger(v) || v < -2147483648 || v > 2147483647 ? null : v;
}

function uint(v: number | null): number | null {
  return v === null || !Number.isInteger(v) || v < 0 || v > 4294967295 ? null : v;
}

/** The nested/rare fields as one JSON object (row-record.ts reads it back); null when all absent. */
function more(r: FlowRecord): string | null {
  if (
    r.srcowneras === null &&
    r.dstowneras === null &&
    r.nexthopowneras === null &&
    r.bgpnexthopowneras === null &&
    r.srcgeo === null &&
    r.dstgeo === null &&
    r.inputclasses === null &&
    r.outputclasses === null &&
    r.extra === null
  ) {
    return null;
  }
  return JSON.stringify({
    srcowneras: r.srcowneras,
    dstowneras: r.dstowneras,
    nexthopowneras: r.nexthopowneras,
    bgpnexthopowneras: r.bgpnexthopowneras,
    srcgeo: r.srcgeo,
    dstgeo: r.dstgeo,
    inputclasses: r.inputclasses,
    outputclasses: r.outputclasses,
    extra: r.extra,
  });
}

/** DuckDB's vector size: a data chunk holds at most this many rows. */
const CHUNK_ROWS = 2048;

enum Kind {
  F64,
  I32,
  U32,
  U8,
  U64,
  Bool,
  Str,
  StrList,
}

function kindOf(type: string): Kind {
  switch (type.replace(' NOT NULL', '')) {
    case 'DOUBLE':
      return Kind.F64;
    case 'INTEGER':
      return Kind.I32;
    case 'UINTEGER':
      return Kind.U32;
    case 'UTINYINT':
      return Kind.U8;
    case 'UBIGINT':
      return Kind.U64;
    case 'BOOLEAN':
      return Kind.Bool;
    case 'VARCHAR':
      return Kind.Str;
    case 'VARCHAR[]':
      return Kind.StrList;
    default:
      throw new Error(`no column writer for DuckDB type ${type}`);
  }
}

const KINDS: readonly Kind[] = FLOW_COLUMNS.map(([, type]) => kindOf(type));

// appendRecords writes columns by index: refuse to load if schema.ts moved one.
for (const [index, name] of [
  [5, 'srcip'],
  [33, 'srcport'],
  [54, 'flowtype'],
  [64, 'tags'],
  [81, 'more'],
] as const) {
  if (FLOW_COLUMNS[index]?.[0] !== name || FLOW_COLUMNS.length !== 82) {
    throw new Error(`append.ts column ${index} is not ${name}: update it with schema.ts`);
  }
}
const WIDTH: Record<Kind, number> = {
  [Kind.F64]: 8,
  [Kind.I32]: 4,
  [Kind.U32]: 4,
  [Kind.U8]: 1,
  [Kind.U64]: 8,
  [Kind.Bool]: 1,
  [Kind.Str]: 0,
  [Kind.StrList]: 0,
};

/** Column buffers for one chunk, reused for every chunk (the store writes one batch at a time). */
class Columns {
  readonly bytes: Uint8Array<ArrayBuffer>[] = [];
  readonly f64: Float64Array[] = [];
  readonly i32: Int32Array[] = [];
  readonly u32: Uint32Array[] = [];
  readonly u64: BigUint64Array[] = [];
  readonly str: (string | null)[][] = [];
  readonly lists: (readonly string[] | null)[][] = [];
  /** One bit per row, set = valid (DuckDB's validity mask layout, little-endian 64-bit words). */
  readonly valid: Uint8Array<ArrayBuffer>[] = [];
  readonly hasNull: boolean[] = [];

  constructor() {
    for (const kind of KINDS) {
      const buf = new ArrayBuffer(CHUNK_ROWS * Math.max(WIDTH[kind], 16));
      this.bytes.push(new Uint8Array(buf));
      this.f64.push(new Float64Array(buf));
      this.i32.push(new Int32Array(buf));
      this.u32.push(new Uint32Array(buf));
      this.u64.push(new BigUint64Array(buf));
      this.str.push(kind === Kind.Str ? new Array<string | null>(CHUNK_ROWS).fill(null) : []);
      this.lists.push(kind === Kind.StrList ? new Array<string[] | null>(CHUNK_ROWS).fill(null) : []);
      this.valid.push(new Uint8Array(CHUNK_ROWS / 8));
      this.hasNull.push(false);
    }
  }

  reset(): void {
    for (let c = 0; c < KINDS.length; c++) {
      (this.valid[c] as Uint8Array).fill(0xff);
      this.hasNull[c] = false;
    }
  }

  nul(c: number, i: number): void {
    const v = this.valid[c] as Uint8Array;
    v[i >> 3] = (v[i >> 3] as number) & ~(1 << (i & 7));
    this.hasNull[c] = true;
  }

  f(c: number, i: number, v: number | null): void {
    if (v === null) this.nul(c, i);
    else (this.f64[c] as Float64Array)[i] = v;
  }

  s32(c: number, i: number, v: number | null): void {
    if (v === null) this.nul(c, i);
    else (this.i32[c] as Int32Array)[i] = v;
  }

  n32(c: number, i: number, v: number | null): void {
    if (v === null) this.nul(c, i);
    else (this.u32[c] as Uint32Array)[i] = v;
  }

  b(c: number, i: number, v: boolean | null): void {
    if (v === null) this.nul(c, i);
    else (this.bytes[c] as Uint8Array)[i] = v ? 1 : 0;
  }

  t(c: number, i: number, v: string | null): void {
    (this.str[c] as (string | null)[])[i] = v;
    if (v === null) this.nul(c, i);
  }

  list(c: number, i: number, v: readonly string[] | null): void {
    (this.lists[c] as (readonly string[] | null)[])[i] = v;
    if (v === null) this.nul(c, i);
  }

  /** Text + family + hi + lo at column `c`; an unparsable string keeps its text only. */
  address(c: number, i: number, v: string | null): void {
    const text = v === '' ? null : v;
    this.t(c, i, text);
    if (text === null) {
      this.nul(c + 1, i);
      this.nul(c + 2, i);
      this.nul(c + 3, i);
      return;
    }
    const v4 = parseIPv4(text);
    if (v4 >= 0) {
      // UBIGINT halves written as 32-bit words (little-endian): no BigInt per IPv4 address.
      (this.bytes[c + 1] as Uint8Array)[i] = 4;
      const hi = this.u32[c + 2] as Uint32Array;
      hi[2 * i] = 0;
      hi[2 * i + 1] = 0;
      const lo = this.u32[c + 3] as Uint32Array;
      lo[2 * i] = v4;
      lo[2 * i + 1] = 0;
      return;
    }
    const a = addressInt(text);
    if (a === null) {
      this.nul(c + 1, i);
      this.nul(c + 2, i);
      this.nul(c + 3, i);
      return;
    }
    (this.bytes[c + 1] as Uint8Array)[i] = a.family;
    (this.u64[c + 2] as BigUint64Array)[i] = a.hi;
    (this.u64[c + 3] as BigUint64Array)[i] = a.lo;
  }

  /** Copies rows [0, n) of every column into the chunk's vectors. */
  copyTo(chunk: DuckDBDataChunk, n: number): void {
    for (let c = 0; c < KINDS.length; c++) {
      const kind = KINDS[c] as Kind;
      const vector = duckdb.data_chunk_get_vector(chunk.chunk, c);
      if (kind === Kind.Str) {
        const values = this.str[c] as (string | null)[];
        for (let i = 0; i < n; i++) {
          const s = values[i];
          if (s !== null && s !== undefined) duckdb.vector_assign_string_element(vector, i, s);
        }
      } else if (kind === Kind.StrList) {
        this.copyLists(vector, c, n);
      } else {
        duckdb.copy_data_to_vector(
          vector,
          0,
          (this.bytes[c] as Uint8Array<ArrayBuffer>).buffer,
          0,
          n * WIDTH[kind],
        );
      }
      if (this.hasNull[c]) {
        duckdb.vector_ensure_validity_writable(vector);
        duckdb.copy_data_to_vector_validity(
          vector,
          0,
          (this.valid[c] as Uint8Array<ArrayBuffer>).buffer,
          0,
          Math.ceil(n / 64) * 8,
        );
      }
    }
  }

  /** A LIST vector: (offset, length) UBIGINT pairs per row over one child string vector. */
  private copyLists(vector: duckdb.Vector, c: number, n: number): void {
    const values = this.lists[c] as (readonly string[] | null)[];
    let total = 0;
    for (let i = 0; i < n; i++) total += values[i]?.length ?? 0;
    const entries = new Uint32Array(n * 4);
    duckdb.list_vector_reserve(vector, total);
    const child = duckdb.list_vector_get_child(vector);
    let offset = 0;
    for (let i = 0; i < n; i++) {
      const list = values[i];
      if (list === null || list === undefined) continue;
      entries[4 * i] = offset;
      entries[4 * i + 2] = list.length;
      for (const s of list) duckdb.vector_assign_string_element(child, offset++, s);
    }
    duckdb.list_vector_set_size(vector, total);
    duckdb.copy_data_to_vector(vector, 0, entries.buffer, 0, entries.byteLength);
  }
}

/** One row of the per-minute rollup (schema.ts ROLLUP_TABLE column order). */
export interface RollupRow {
  bucket: number;
  flowsrcip: string | null;
  flowsrcname: string | null;
  flowtype: string | null;
  protocolint: number | null;
  input: number | null;
  output: number | null;
  srcas: number | null;
  dstas: number | null;
  srccountry: string | null;
  dstcountry: string | null;
  bits: number;
  packets: number;
  flows: number;
  records: number;
  firstMs: number;
  lastMs: number;
}

/** A null-safe, collision-free key part (a \u0001 can not be confused with text "null"). */
function part(v: string | number | null): string {
  return v === null ? '\u0001' : String(v);
}

let columns: Columns | null = null;

/**
 * Appends `batch` (all of one partition) and adds its per-minute sums to `rollup`, with the values
 * as stored (so the sums equal what SQL over the raw rows gives: contract.ts Metric).
 */
export function appendRecords(
  a: DuckDBAppender,
  batch: readonly FlowRecord[],
  rollup: Map<string, RollupRow>,
): void {
  const types: DuckDBType[] = FLOW_COLUMNS.map((_, c) => a.columnType(c));
  columns ??= new Columns();
  const k = columns;
  for (let from = 0; from < batch.length; from += CHUNK_ROWS) {
    const n = Math.min(CHUNK_ROWS, batch.length - from);
    k.reset();
    for (let i = 0; i < n; i++) {
      const r = batch[from + i] as FlowRecord;
      const ts = flowTimeMs(r);
      const bits = double(r.bits);
      const packets = double(r.packets);
      const samplerate = double(r.samplerate);
      const weight = double(r.weight) ?? 1;
      const protocolint = int(r.protocolint);
      const input = uint(r.input);
      const output = uint(r.output);
      const srcas = uint(r.srcas);
      const dstas = uint(r.dstas);
      const flowsrcip = r.flowsrcip === '' ? null : r.flowsrcip;
      const srccountry = r.srcgeo?.countrycode ?? null;
      const dstcountry = r.dstgeo?.countrycode ?? null;
      k.f(0, i, ts);
      k.f(1, i, double(r.timestamp));
      k.f(2, i, double(r.start));
      k.f(3, i, double(r.end));
      k.f(4, i, double(r.duration));
      k.address(5, i, r.srcip);
      k.address(9, i, r.dstip);
      k.address(13, i, r.nexthop);
      k.address(17, i, r.bgpnexthop);
      k.address(21, i, flowsrcip);
      k.address(25, i, r.postnatsrcip);
      k.address(29, i, r.postnatdstip);
      k.s32(33, i, int(r.srcport));
      k.s32(34, i, int(r.dstport));
      k.s32(35, i, protocolint);
      k.s32(36, i, int(r.ipversion));
      k.f(37, i, bits);
      k.f(38, i, packets);
      k.f(39, i, samplerate);
      k.f(40, i, weight);
      k.s32(41, i, int(r.tos));
      k.s32(42, i, int(r.tcpflagsint));
      k.s32(43, i, int(r.icmptype));
      k.s32(44, i, int(r.icmpcode));
      k.s32(45, i, int(r.srcmask));
      k.s32(46, i, int(r.dstmask));
      k.n32(47, i, input);
      k.n32(48, i, output);
      k.s32(49, i, int(r.srcvlan));
      k.s32(50, i, int(r.dstvlan));
      k.n32(51, i, srcas);
      k.n32(52, i, dstas);
      k.s32(53, i, int(r.flowversion));
      k.t(54, i, r.flowtype);
      k.t(55, i, r.flowsrcname);
      k.t(56, i, r.site);
      k.t(57, i, srccountry);
      k.t(58, i, dstcountry);
      k.t(59, i, r.inputname);
      k.t(60, i, r.outputname);
      k.t(61, i, r.flowdirection);
      k.t(62, i, r.fwevent);
      k.t(63, i, r.natevent);
      k.list(64, i, r.tags);
      k.f(65, i, double(r.uptime));
      k.f(66, i, double(r.revbits));
      k.f(67, i, double(r.revpackets));
      k.t(68, i, r.forwardingstatus);
      k.b(69, i, r.fragmented);
      k.s32(70, i, int(r.postnatsrcport));
      k.s32(71, i, int(r.postnatdstport));
      k.t(72, i, r.action);
      k.t(73, i, r.srcasorg);
      k.t(74, i, r.dstasorg);
      k.b(75, i, r.srcinternal);
      k.b(76, i, r.dstinternal);
      k.b(77, i, r.bogonsrc);
      k.b(78, i, r.bogondst);
      k.t(79, i, r.inputalias);
      k.t(80, i, r.outputalias);
      k.t(81, i, more(r));

      // Rollup: same bucket and estimates as the SQL over raw rows (duckdb-store.ts SUMS).
      const bucket = Math.floor(ts / 60000) * 60000;
      const key =
        `${bucket}\u0000${part(flowsrcip)}\u0000${part(r.flowsrcname)}\u0000${part(r.flowtype)}\u0000` +
        `${part(protocolint)}\u0000${part(input)}\u0000${part(output)}\u0000${part(srcas)}\u0000` +
        `${part(dstas)}\u0000${part(srccountry)}\u0000${part(dstcountry)}`;
      const rate = samplerate === null || samplerate === 0 ? 1 : samplerate;
      const row = rollup.get(key);
      if (row === undefined) {
        rollup.set(key, {
          bucket,
          flowsrcip,
          flowsrcname: r.flowsrcname,
          flowtype: r.flowtype,
          protocolint,
          input,
          output,
          srcas,
          dstas,
          srccountry,
          dstcountry,
          bits: (bits ?? 0) * rate * weight,
          packets: (packets ?? 0) * rate * weight,
          flows: weight,
          records: 1,
          firstMs: ts,
          lastMs: ts,
        });
      } else {
        row.bits += (bits ?? 0) * rate * weight;
        row.packets += (packets ?? 0) * rate * weight;
        row.flows += weight;
        row.records++;
        if (ts < row.firstMs) row.firstMs = ts;
        if (ts > row.lastMs) row.lastMs = ts;
      }
    }
    const chunk = DuckDBDataChunk.create(types, n);
    k.copyTo(chunk, n);
    a.appendDataChunk(chunk);
  }
}

/** Appends the rollup rows (few per batch: the plain value-by-value chunk API is fine here). */
export function appendRollup(a: DuckDBAppender, rows: Iterable<RollupRow>): void {
  const list = [...rows];
  const types: DuckDBType[] = [];
  for (let c = 0; c < a.columnCount; c++) types.push(a.columnType(c));
  for (let from = 0; from < list.length; from += CHUNK_ROWS) {
    const rows = list.slice(from, from + CHUNK_ROWS);
    const chunk = DuckDBDataChunk.create(types, rows.length);
    chunk.setColumns([
      rows.map((r) => r.bucket),
      rows.map((r) => r.flowsrcip),
      rows.map((r) => r.flowsrcname),
      rows.map((r) => r.flowtype),
      rows.map((r) => r.protocolint),
      rows.map((r) => r.input),
      rows.map((r) => r.output),
      rows.map((r) => r.srcas),
      rows.map((r) => r.dstas),
      rows.map((r) => r.srccountry),
      rows.map((r) => r.dstcountry),
      rows.map((r) => r.bits),
      rows.map((r) => r.packets),
      rows.map((r) => r.flows),
      rows.map((r) => BigInt(r.records)),
      rows.map((r) => r.firstMs),
      rows.map((r) => r.lastMs),
    ]);
    a.appendDataChunk(chunk);
  }
}
