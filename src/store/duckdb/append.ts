/**
 * FlowRecords into DuckDB data chunks, in two steps that may run on different threads:
 * fillPartitions (where the records are) lays a batch out per partition in column chunks (one
 * ArrayBuffer of fixed-width values and validity bitmaps per 2048 rows, plus string arrays) and
 * sums the per-minute rollup rows on the way; appendChunk (where DuckDB is) copies each column
 * into a data chunk with one native call (strings: one per non-null value) and appends it.
 *
 * Why not DuckDBDataChunk.setColumns: it sets values one by one through per-type vector classes
 * whose validity mask is a BigUint64Array updated with BigInt arithmetic per value; with ~80
 * columns that was 9 µs per record, the largest cost of a write (bench/duckdb-append.ts,
 * docs/benchmarks.md). The rollup is summed in JavaScript from the values just laid out (about
 * 0.3 µs per record): a GROUP BY over the rows in SQL cost ten times that.
 */

import { type DuckDBAppender, DuckDBDataChunk, type DuckDBType } from '@duckdb/node-api';
import duckdb from '@duckdb/node-bindings';
import { parseIPv4 } from '../../query/filter-address.js';
import type { FlowRecord } from '../../record/flow-record.js';
import { addressInt, ipv6Groups } from '../sql/address-int.js';
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
export function more(r: FlowRecord): string | null {
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
  // A 16-bit index into the chunk's dictionary of that column (2048 rows: at most 2048 values).
  [Kind.Str]: 2,
  [Kind.StrList]: 0,
};

/** Bytes of one column's validity bitmap in a chunk (DuckDB's layout: 64-bit little-endian words). */
const VALIDITY_BYTES = CHUNK_ROWS / 8;

/**
 * Where each fixed-width column's values and every column's validity bitmap sit in a chunk's one
 * ArrayBuffer. Offsets are multiples of 8, so Float64Array/BigUint64Array views over the whole
 * buffer can index any column; validity bitmaps are contiguous at the end (set to "valid" at once).
 */
const LAYOUT = (() => {
  const data: number[] = [];
  let offset = 0;
  for (const kind of KINDS) {
    data.push(offset);
    offset += CHUNK_ROWS * WIDTH[kind]; // 2048 × 1, 2, 4 or 8 bytes: stays a multiple of 8
  }
  const validityBase = offset;
  return { data, validityBase, bytes: validityBase + KINDS.length * VALIDITY_BYTES };
})();

/**
 * Up to 2048 rows in column layout, ready to copy into one DuckDB data chunk. Plain data only (an
 * ArrayBuffer, arrays of strings), so it can be posted to the store's worker thread with the
 * buffer transferred, not copied.
 */
export interface ColumnChunk {
  rows: number;
  /** Fixed-width values and validity bitmaps, at LAYOUT offsets. */
  data: ArrayBuffer;
  /** 1 where the column has a null in this chunk (its validity bitmap must be copied). */
  hasNull: Uint8Array;
  /**
   * Per VARCHAR column: its distinct values in this chunk (rows hold 16-bit indexes into it), else
   * empty. Most columns repeat a few values (exporter, flow type, interface names), and posting a
   * chunk to the worker clones each string in it: cloning every row's strings was the largest
   * single cost of a write on the receiving thread (bench/udp-duckdb.ts profile).
   */
  text: string[][];
  lists: (readonly string[] | null)[][];
}

/** Scratch for ipv6Groups (filling is synchronous: one is enough). */
const GROUPS = new Uint16Array(8);

/** Fills one chunk record by record (column order of schema.ts). */
class ChunkWriter {
  readonly chunk: ColumnChunk;
  private readonly u8: Uint8Array;
  private readonly i32: Int32Array;
  private readonly u32: Uint32Array;
  private readonly f64: Float64Array;
  private readonly u64: BigUint64Array;
  private readonly u16: Uint16Array;
  private readonly dictionaries: Map<string, number>[];

  constructor() {
    const data = new ArrayBuffer(LAYOUT.bytes);
    this.u8 = new Uint8Array(data);
    this.u8.fill(0xff, LAYOUT.validityBase);
    this.i32 = new Int32Array(data);
    this.u32 = new Uint32Array(data);
    this.f64 = new Float64Array(data);
    this.u64 = new BigUint64Array(data);
    this.u16 = new Uint16Array(data);
    this.dictionaries = KINDS.map(() => new Map<string, number>());
    this.chunk = {
      rows: 0,
      data,
      hasNull: new Uint8Array(KINDS.length),
      text: KINDS.map(() => []),
      lists: KINDS.map((k) => (k === Kind.StrList ? new Array<readonly string[] | null>(CHUNK_ROWS) : [])),
    };
  }

  nul(c: number, i: number): void {
    const at = LAYOUT.validityBase + c * VALIDITY_BYTES + (i >> 3);
    this.u8[at] = (this.u8[at] as number) & ~(1 << (i & 7));
    this.chunk.hasNull[c] = 1;
  }

  f(c: number, i: number, v: number | null): void {
    if (v === null) this.nul(c, i);
    else this.f64[(LAYOUT.data[c] as number) / 8 + i] = v;
  }

  s32(c: number, i: number, v: number | null): void {
    if (v === null) this.nul(c, i);
    else this.i32[(LAYOUT.data[c] as number) / 4 + i] = v;
  }

  n32(c: number, i: number, v: number | null): void {
    if (v === null) this.nul(c, i);
    else this.u32[(LAYOUT.data[c] as number) / 4 + i] = v;
  }

  b(c: number, i: number, v: boolean | null): void {
    if (v === null) this.nul(c, i);
    else this.u8[(LAYOUT.data[c] as number) + i] = v ? 1 : 0;
  }

  t(c: number, i: number, v: string | null): void {
    if (v === null) {
      this.nul(c, i);
      return;
    }
    const dictionary = this.dictionaries[c] as Map<string, number>;
    let k = dictionary.get(v);
    if (k === undefined) {
      const values = this.chunk.text[c] as string[];
      k = values.length;
      values.push(v);
      dictionary.set(v, k);
    }
    this.u16[(LAYOUT.data[c] as number) / 2 + i] = k;
  }

  list(c: number, i: number, v: readonly string[] | null): void {
    (this.chunk.lists[c] as (readonly string[] | null)[])[i] = v;
    if (v === null) this.nul(c, i);
  }

  /**
   * Text + family + hi + lo at column `c`; an unparsable string keeps its text only. `known4`:
   * the address as the u32 the decoder read (FlowRecord.srcip4 and friends), -1 to parse the text.
   */
  address(c: number, i: number, v: string | null, known4 = -1): void {
    const text = v === '' ? null : v;
    this.t(c, i, text);
    if (text === null) {
      this.nul(c + 1, i);
      this.nul(c + 2, i);
      this.nul(c + 3, i);
      return;
    }
    const v4 = known4 >= 0 ? known4 : parseIPv4(text);
    if (v4 >= 0) {
      // UBIGINT halves written as 32-bit words (little-endian): no BigInt per IPv4 address.
      this.u8[(LAYOUT.data[c + 1] as number) + i] = 4;
      const hi = (LAYOUT.data[c + 2] as number) / 4 + 2 * i;
      this.u32[hi] = 0;
      this.u32[hi + 1] = 0;
      const lo = (LAYOUT.data[c + 3] as number) / 4 + 2 * i;
      this.u32[lo] = v4;
      this.u32[lo + 1] = 0;
      return;
    }
    const g = GROUPS;
    if (ipv6Groups(text, g)) {
      // Each half as two little-endian 32-bit words, low word first.
      this.u8[(LAYOUT.data[c + 1] as number) + i] = 6;
      const hi = (LAYOUT.data[c + 2] as number) / 4 + 2 * i;
      this.u32[hi] = (((g[2] as number) << 16) | (g[3] as number)) >>> 0;
      this.u32[hi + 1] = (((g[0] as number) << 16) | (g[1] as number)) >>> 0;
      const lo = (LAYOUT.data[c + 3] as number) / 4 + 2 * i;
      this.u32[lo] = (((g[6] as number) << 16) | (g[7] as number)) >>> 0;
      this.u32[lo + 1] = (((g[4] as number) << 16) | (g[5] as number)) >>> 0;
      return;
    }
    // Anything else ipaddr.js still reads (a zone id); otherwise the text alone is kept.
    const a = addressInt(text);
    if (a === null) {
      this.nul(c + 1, i);
      this.nul(c + 2, i);
      this.nul(c + 3, i);
      return;
    }
    this.u8[(LAYOUT.data[c + 1] as number) + i] = a.family;
    this.u64[(LAYOUT.data[c + 2] as number) / 8 + i] = a.hi;
    this.u64[(LAYOUT.data[c + 3] as number) / 8 + i] = a.lo;
  }
}

/** Copies a chunk's columns into a DuckDB data chunk and appends it. */
export function appendChunk(a: DuckDBAppender, types: readonly DuckDBType[], c: ColumnChunk): void {
  const n = c.rows;
  const chunk = DuckDBDataChunk.create(types as DuckDBType[], n);
  for (let col = 0; col < KINDS.length; col++) {
    const kind = KINDS[col] as Kind;
    const vector = duckdb.data_chunk_get_vector(chunk.chunk, col);
    if (kind === Kind.Str) {
      const values = c.text[col] as string[];
      const index = new Uint16Array(c.data, LAYOUT.data[col] as number, n);
      const valid = new Uint8Array(c.data, LAYOUT.validityBase + col * VALIDITY_BYTES, VALIDITY_BYTES);
      for (let i = 0; i < n; i++) {
        if (((valid[i >> 3] as number) & (1 << (i & 7))) !== 0) {
          duckdb.vector_assign_string_element(vector, i, values[index[i] as number] as string);
        }
      }
    } else if (kind === Kind.StrList) {
      copyLists(vector, c.lists[col] as (readonly string[] | null)[], n);
    } else {
      duckdb.copy_data_to_vector(vector, 0, c.data, LAYOUT.data[col] as number, n * WIDTH[kind]);
    }
    if (c.hasNull[col] === 1) {
      duckdb.vector_ensure_validity_writable(vector);
      duckdb.copy_data_to_vector_validity(
        vector,
        0,
        c.data,
        LAYOUT.validityBase + col * VALIDITY_BYTES,
        Math.ceil(n / 64) * 8,
      );
    }
  }
  a.appendDataChunk(chunk);
}

/** A LIST vector: (offset, length) UBIGINT pairs per row over one child string vector. */
function copyLists(vector: duckdb.Vector, values: (readonly string[] | null)[], n: number): void {
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

/** One partition's share of a batch: its rows in column chunks and its per-minute sums. */
export interface PartitionColumns {
  /** Partition start, ms. */
  start: number;
  chunks: ColumnChunk[];
  rollup: RollupRow[];
}

/** A partition's share while it is being filled. */
interface Filling {
  start: number;
  chunks: ColumnChunk[];
  writer: ChunkWriter;
  sums: Map<string, RollupRow>;
}

/**
 * Lays `batch` out in column chunks per partition (`partitionMs` wide, by flow time) and sums each
 * partition's per-minute rollup rows on the way, with the values as stored (so the sums equal what
 * SQL over the raw rows gives: contract.ts Metric). Runs where the records are (the decode thread);
 * only the plain result goes to the thread that writes DuckDB.
 */
export function fillPartitions(batch: readonly FlowRecord[], partitionMs: number): PartitionColumns[] {
  const parts = new Map<number, Filling>();
  let last: Filling | null = null;
  for (const r of batch) {
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
    const start = Math.floor(ts / partitionMs) * partitionMs;
    let p = last as Filling | null;
    if (p === null || p.start !== start) {
      p = parts.get(start) ?? null;
      if (p === null) {
        p = { start, chunks: [], writer: new ChunkWriter(), sums: new Map() };
        parts.set(start, p);
      }
      last = p;
    }
    let w = p.writer;
    if (w.chunk.rows === CHUNK_ROWS) {
      p.chunks.push(w.chunk);
      w = new ChunkWriter();
      p.writer = w;
    }
    const i = w.chunk.rows++;
    w.f(0, i, ts);
    w.f(1, i, double(r.timestamp));
    w.f(2, i, double(r.start));
    w.f(3, i, double(r.end));
    w.f(4, i, double(r.duration));
    w.address(5, i, r.srcip, r.srcip4);
    w.address(9, i, r.dstip, r.dstip4);
    w.address(13, i, r.nexthop, r.nexthop4);
    w.address(17, i, r.bgpnexthop, r.bgpnexthop4);
    w.address(21, i, flowsrcip);
    w.address(25, i, r.postnatsrcip);
    w.address(29, i, r.postnatdstip);
    w.s32(33, i, int(r.srcport));
    w.s32(34, i, int(r.dstport));
    w.s32(35, i, protocolint);
    w.s32(36, i, int(r.ipversion));
    w.f(37, i, bits);
    w.f(38, i, packets);
    w.f(39, i, samplerate);
    w.f(40, i, weight);
    w.s32(41, i, int(r.tos));
    w.s32(42, i, int(r.tcpflagsint));
    w.s32(43, i, int(r.icmptype));
    w.s32(44, i, int(r.icmpcode));
    w.s32(45, i, int(r.srcmask));
    w.s32(46, i, int(r.dstmask));
    w.n32(47, i, input);
    w.n32(48, i, output);
    w.s32(49, i, int(r.srcvlan));
    w.s32(50, i, int(r.dstvlan));
    w.n32(51, i, srcas);
    w.n32(52, i, dstas);
    w.s32(53, i, int(r.flowversion));
    w.t(54, i, r.flowtype);
    w.t(55, i, r.flowsrcname);
    w.t(56, i, r.site);
    w.t(57, i, srccountry);
    w.t(58, i, dstcountry);
    w.t(59, i, r.inputname);
    w.t(60, i, r.outputname);
    w.t(61, i, r.flowdirection);
    w.t(62, i, r.fwevent);
    w.t(63, i, r.natevent);
    w.list(64, i, r.tags);
    w.f(65, i, double(r.uptime));
    w.f(66, i, double(r.revbits));
    w.f(67, i, double(r.revpackets));
    w.t(68, i, r.forwardingstatus);
    w.b(69, i, r.fragmented);
    w.s32(70, i, int(r.postnatsrcport));
    w.s32(71, i, int(r.postnatdstport));
    w.t(72, i, r.action);
    w.t(73, i, r.srcasorg);
    w.t(74, i, r.dstasorg);
    w.b(75, i, r.srcinternal);
    w.b(76, i, r.dstinternal);
    w.b(77, i, r.bogonsrc);
    w.b(78, i, r.bogondst);
    w.t(79, i, r.inputalias);
    w.t(80, i, r.outputalias);
    w.t(81, i, more(r));

    // Rollup: same bucket and estimates as the SQL over raw rows (duckdb-store.ts SUMS).
    const bucket = Math.floor(ts / 60000) * 60000;
    const key =
      `${bucket}\u0000${part(flowsrcip)}\u0000${part(r.flowsrcname)}\u0000${part(r.flowtype)}\u0000` +
      `${part(protocolint)}\u0000${part(input)}\u0000${part(output)}\u0000${part(srcas)}\u0000` +
      `${part(dstas)}\u0000${part(srccountry)}\u0000${part(dstcountry)}`;
    const rate = samplerate === null || samplerate === 0 ? 1 : samplerate;
    const row = p.sums.get(key);
    if (row === undefined) {
      p.sums.set(key, {
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
  const out: PartitionColumns[] = [];
  for (const p of parts.values()) {
    if (p.writer.chunk.rows > 0) p.chunks.push(p.writer.chunk);
    out.push({ start: p.start, chunks: p.chunks, rollup: [...p.sums.values()] });
  }
  return out;
}

/** The buffers to transfer (not copy) when posting `parts` to another thread. */
export function transferables(parts: readonly PartitionColumns[]): ArrayBuffer[] {
  return parts.flatMap((p) => p.chunks.map((c) => c.data));
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
