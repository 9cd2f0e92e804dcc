/**
 * Evaluates a FilterExpr on one FlowRecord in memory: the reference the SQL compilers are tested
 * against, and what detection uses on live records.
 *
 * Two-valued logic with SQL's reading of unknowns: a comparison on a null field is false, whatever
 * the operator (`port != 53` does not match a record without ports), and `not` simply inverts, so
 * `not port 53` does match it. Strings compare case-insensitively, tags exactly. Addresses are
 * parsed from the record's text on each call into module scratch space: no allocation.
 */
import type { FlowRecord } from '../record/flow-record.js';
import { PROTO_TCP } from '../record/protocols.js';
import { inIPv4Network, parseIPv4, parseIPv6, samePrefix } from './filter-address.js';
import type { CompareOp, FilterExpr, StringField } from './filter-ast.js';

const recordV6 = new Uint8Array(16);
const networkV6 = new Uint8Array(16);

function stringValue(rec: FlowRecord, field: StringField): string | null {
  switch (field) {
    case 'flowtype':
      return rec.flowtype;
    case 'flowsrcname':
      return rec.flowsrcname;
    case 'site':
      return rec.site;
    case 'srccountry':
      return rec.srcgeo?.countrycode ?? null;
    case 'dstcountry':
      return rec.dstgeo?.countrycode ?? null;
    case 'inputname':
      return rec.inputname;
    case 'outputname':
      return rec.outputname;
    case 'flowdirection':
      return rec.flowdirection;
    case 'fwevent':
      return rec.fwevent;
    case 'natevent':
      return rec.natevent;
  }
}

function compare(v: number, op: CompareOp, x: number): boolean {
  switch (op) {
    case '=':
      return v === x;
    case '!=':
      return v !== x;
    case '<':
      return v < x;
    case '<=':
      return v <= x;
    case '>':
      return v > x;
    case '>=':
      return v >= x;
  }
}

/** Case-insensitive equality as SQL's lower(a) = lower(b); allocates only when a !== b. */
function sameText(a: string, b: string): boolean {
  if (a === b) return true;
  return a.toLowerCase() === b.toLowerCase();
}

function inNetwork(address: string, network: string, prefix: number, family: 4 | 6): boolean {
  if (family === 4) {
    const a = parseIPv4(address);
    if (a < 0) return false;
    const n = parseIPv4(network);
    return n >= 0 && inIPv4Network(a, n, prefix);
  }
  if (address.indexOf(':') < 0) return false;
  return (
    parseIPv6(address, recordV6) && parseIPv6(network, networkV6) && samePrefix(recordV6, networkV6, prefix)
  );
}

/** True when `rec` satisfies `expr`. */
export function matchFilter(expr: FilterExpr, rec: FlowRecord): boolean {
  switch (expr.kind) {
    case 'any':
      return true;
    case 'and':
      return matchFilter(expr.left, rec) && matchFilter(expr.right, rec);
    case 'or':
      return matchFilter(expr.left, rec) || matchFilter(expr.right, rec);
    case 'not':
      return !matchFilter(expr.expr, rec);
    case 'num': {
      // Every NumericField is a FlowRecord property of the same name.
      const v: number | null = rec[expr.field];
      return v !== null && compare(v, expr.op, expr.value);
    }
    case 'str': {
      const v = stringValue(rec, expr.field);
      if (v === null) return false;
      return sameText(v, expr.value) === (expr.op === '=');
    }
    case 'cidr': {
      // Every AddressField is a FlowRecord property; the exporter's is '' (not null) when unknown.
      const v: string | null = rec[expr.field];
      return v !== null && v !== '' && inNetwork(v, expr.network, expr.prefix, expr.family);
    }
    case 'tag':
      return rec.tags?.includes(expr.value) === true;
    case 'flags':
      return (
        rec.protocolint === PROTO_TCP &&
        rec.tcpflagsint !== null &&
        (rec.tcpflagsint & expr.mask) === expr.mask
      );
  }
}
