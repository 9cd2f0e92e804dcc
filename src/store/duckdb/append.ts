/**
 * Appends a batch of FlowRecords to one partition's flow table: column arrays filled record by
 * record (straight-line, column order of schema.ts), handed to DuckDB as data chunks of up to 2048
 * rows (appendDataChunk). Numeric columns then cross into DuckDB as one buffer copy per column;
 * appending value by value (one native call per field, ~100 per row) was the bottleneck.
 */
import { type DuckDBAppender, DuckDBDataChunk, type DuckDBValue, listValue } from '@duckdb/node-api';
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

/** Text + family + hi + lo at column `c` of row `i`; an unparsable string keeps its text only. */
function address(cols: DuckDBValue[][], c: number, i: number, v: string | null): void {
  const text = v === '' ? null : v;
  (cols[c] as DuckDBValue[])[i] = text;
  let fam: number | null = null;
  let hi: bigint | null = null;
  let lo: bigint | null = null;
  if (text !== null) {
    const v4 = parseIPv4(text);
    if (v4 >= 0) {
      fam = 4;
      hi = 0n;
      lo = BigInt(v4);
    } else {
      const a = addressInt(text);
      if (a !== null) {
        fam = a.family;
        hi = a.hi;
        lo = a.lo;
      }
    }
  }
  (cols[c + 1] as DuckDBValue[])[i] = fam;
  (cols[c + 2] as DuckDBValue[])[i] = hi;
  (cols[c + 3] as DuckDBValue[])[i] = lo;
}

/** DuckDB's vector size: a data chunk holds at most this many rows. */
const CHUNK_ROWS = 2048;

export function appendRecords(a: DuckDBAppender, batch: readonly FlowRecord[]): void {
  const types = FLOW_COLUMNS.map((_, c) => a.columnType(c));
  for (let from = 0; from < batch.length; from += CHUNK_ROWS) {
    const n = Math.min(CHUNK_ROWS, batch.length - from);
    const cols: DuckDBValue[][] = FLOW_COLUMNS.map(() => new Array<DuckDBValue>(n));
    for (let i = 0; i < n; i++) {
      const r = batch[from + i] as FlowRecord;
      let c = 0;
      (cols[c++] as DuckDBValue[])[i] = flowTimeMs(r);
      (cols[c++] as DuckDBValue[])[i] = double(r.timestamp);
      (cols[c++] as DuckDBValue[])[i] = double(r.start);
      (cols[c++] as DuckDBValue[])[i] = double(r.end);
      (cols[c++] as DuckDBValue[])[i] = double(r.duration);
      address(cols, c, i, r.srcip);
      address(cols, c + 4, i, r.dstip);
      address(cols, c + 8, i, r.nexthop);
      address(cols, c + 12, i, r.bgpnexthop);
      address(cols, c + 16, i, r.flowsrcip);
      address(cols, c + 20, i, r.postnatsrcip);
      address(cols, c + 24, i, r.postnatdstip);
      c += 28;
      (cols[c++] as DuckDBValue[])[i] = int(r.srcport);
      (cols[c++] as DuckDBValue[])[i] = int(r.dstport);
      (cols[c++] as DuckDBValue[])[i] = int(r.protocolint);
      (cols[c++] as DuckDBValue[])[i] = int(r.ipversion);
      (cols[c++] as DuckDBValue[])[i] = double(r.bits);
      (cols[c++] as DuckDBValue[])[i] = double(r.packets);
      (cols[c++] as DuckDBValue[])[i] = double(r.samplerate);
      (cols[c++] as DuckDBValue[])[i] = double(r.weight) ?? 1;
      (cols[c++] as DuckDBValue[])[i] = int(r.tos);
      (cols[c++] as DuckDBValue[])[i] = int(r.tcpflagsint);
      (cols[c++] as DuckDBValue[])[i] = int(r.icmptype);
      (cols[c++] as DuckDBValue[])[i] = int(r.icmpcode);
      (cols[c++] as DuckDBValue[])[i] = int(r.srcmask);
      (cols[c++] as DuckDBValue[])[i] = int(r.dstmask);
      (cols[c++] as DuckDBValue[])[i] = uint(r.input);
      (cols[c++] as DuckDBValue[])[i] = uint(r.output);
      (cols[c++] as DuckDBValue[])[i] = int(r.srcvlan);
      (cols[c++] as DuckDBValue[])[i] = int(r.dstvlan);
      (cols[c++] as DuckDBValue[])[i] = uint(r.srcas);
      (cols[c++] as DuckDBValue[])[i] = uint(r.dstas);
      (cols[c++] as DuckDBValue[])[i] = int(r.flowversion);
      (cols[c++] as DuckDBValue[])[i] = r.flowtype;
      (cols[c++] as DuckDBValue[])[i] = r.flowsrcname;
      (cols[c++] as DuckDBValue[])[i] = r.site;
      (cols[c++] as DuckDBValue[])[i] = r.srcgeo?.countrycode ?? null;
      (cols[c++] as DuckDBValue[])[i] = r.dstgeo?.countrycode ?? null;
      (cols[c++] as DuckDBValue[])[i] = r.inputname;
      (cols[c++] as DuckDBValue[])[i] = r.outputname;
      (cols[c++] as DuckDBValue[])[i] = r.flowdirection;
      (cols[c++] as DuckDBValue[])[i] = r.fwevent;
      (cols[c++] as DuckDBValue[])[i] = r.natevent;
      (cols[c++] as DuckDBValue[])[i] = r.tags === null ? null : listValue(r.tags);
      (cols[c++] as DuckDBValue[])[i] = double(r.uptime);
      (cols[c++] as DuckDBValue[])[i] = double(r.revbits);
      (cols[c++] as DuckDBValue[])[i] = double(r.revpackets);
      (cols[c++] as DuckDBValue[])[i] = r.forwardingstatus;
      (cols[c++] as DuckDBValue[])[i] = r.fragmented;
      (cols[c++] as DuckDBValue[])[i] = int(r.postnatsrcport);
      (cols[c++] as DuckDBValue[])[i] = int(r.postnatdstport);
      (cols[c++] as DuckDBValue[])[i] = r.action;
      (cols[c++] as DuckDBValue[])[i] = r.srcasorg;
      (cols[c++] as DuckDBValue[])[i] = r.dstasorg;
      (cols[c++] as DuckDBValue[])[i] = r.srcinternal;
      (cols[c++] as DuckDBValue[])[i] = r.dstinternal;
      (cols[c++] as DuckDBValue[])[i] = r.bogonsrc;
      (cols[c++] as DuckDBValue[])[i] = r.bogondst;
      (cols[c++] as DuckDBValue[])[i] = r.inputalias;
      (cols[c++] as DuckDBValue[])[i] = r.outputalias;
      (cols[c++] as DuckDBValue[])[i] = more(r);
    }
    const chunk = DuckDBDataChunk.create(types, n);
    chunk.setColumns(cols);
    a.appendDataChunk(chunk);
  }
}
