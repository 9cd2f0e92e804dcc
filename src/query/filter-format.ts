/**
 * Prints a FilterExpr back as filter text that parses to the same tree (the property test in
 * test/query/filter-fuzz.test.ts holds it to that). Direction expansions stay expanded: `port 53`
 * prints as `src port 53 or dst port 53`.
 */
import type { AddressField, FilterExpr, NumericField, StringField } from './filter-ast.js';
import { FLAG_LETTERS } from './filter-parse.js';

const NUMERIC_KEYWORDS: Record<NumericField, string> = {
  srcport: 'src port',
  dstport: 'dst port',
  protocolint: 'proto',
  srcas: 'src as',
  dstas: 'dst as',
  input: 'in if',
  output: 'out if',
  srcvlan: 'src vlan',
  dstvlan: 'dst vlan',
  tos: 'tos',
  ipversion: 'ipversion',
  samplerate: 'samplerate',
  flowversion: 'flowversion',
  packets: 'packets',
  bits: 'bits',
  duration: 'duration',
  icmptype: 'icmp-type',
  icmpcode: 'icmp-code',
  srcmask: 'src mask',
  dstmask: 'dst mask',
};

const STRING_KEYWORDS: Record<StringField, string> = {
  flowtype: 'flowtype',
  flowsrcname: 'exporter name',
  site: 'site',
  srccountry: 'src country',
  dstcountry: 'dst country',
  inputname: 'in if name',
  outputname: 'out if name',
  flowdirection: 'direction',
  fwevent: 'fwevent',
  natevent: 'natevent',
};

const ADDRESS_KEYWORDS: Record<AddressField, string> = {
  srcip: 'src net',
  dstip: 'dst net',
  nexthop: 'nexthop',
  bgpnexthop: 'bgpnexthop',
  flowsrcip: 'exporter',
  postnatsrcip: 'src natip',
  postnatdstip: 'dst natip',
};

/** Words that would read as an operator where a value stands; printed quoted. */
const RESERVED = new Set(['and', 'or', 'not', 'eq', 'ne', 'in', 'name']);

/** A string value as a bare word when that is unambiguous, else double-quoted with `\` escapes. */
export function quoteValue(v: string): string {
  if (/^[A-Za-z0-9._:@/+-]+$/.test(v) && !RESERVED.has(v.toLowerCase())) return v;
  return `"${v.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

function flagLetters(mask: number): string {
  let out = '';
  for (let b = 0; b < FLAG_LETTERS.length; b++) if (mask & (1 << b)) out += FLAG_LETTERS[b];
  return out;
}

/** Binding strength: or 1, and 2, not 3, predicates 4. */
function strength(e: FilterExpr): number {
  return e.kind === 'or' ? 1 : e.kind === 'and' ? 2 : e.kind === 'not' ? 3 : 4;
}

function wrap(e: FilterExpr, parens: boolean): string {
  const s = formatFilter(e);
  return parens ? `(${s})` : s;
}

/**
 * Filter text for `e`; parseFilter(formatFilter(e)) deep-equals `e` for every filter whose text
 * stays within the parser's bounds (length and nesting depth): printing adds parentheses, so an
 * expression parsed near those bounds may print past them.
 */
export function formatFilter(e: FilterExpr): string {
  switch (e.kind) {
    case 'any':
      return 'any';
    case 'or':
      // Both operators associate to the left, so a right operand of the same kind needs parentheses.
      return `${wrap(e.left, strength(e.left) < 1)} or ${wrap(e.right, strength(e.right) <= 1)}`;
    case 'and':
      return `${wrap(e.left, strength(e.left) < 2)} and ${wrap(e.right, strength(e.right) <= 2)}`;
    case 'not':
      return `not ${wrap(e.expr, strength(e.expr) < 3)}`;
    case 'num':
      return e.op === '='
        ? `${NUMERIC_KEYWORDS[e.field]} ${e.value}`
        : `${NUMERIC_KEYWORDS[e.field]} ${e.op} ${e.value}`;
    case 'str':
      return e.op === '='
        ? `${STRING_KEYWORDS[e.field]} ${quoteValue(e.value)}`
        : `${STRING_KEYWORDS[e.field]} != ${quoteValue(e.value)}`;
    case 'cidr': {
      const host = e.prefix === (e.family === 4 ? 32 : 128);
      if (host && (e.field === 'srcip' || e.field === 'dstip')) {
        return `${e.field === 'srcip' ? 'src' : 'dst'} host ${e.network}`;
      }
      return host
        ? `${ADDRESS_KEYWORDS[e.field]} ${e.network}`
        : `${ADDRESS_KEYWORDS[e.field]} ${e.network}/${e.prefix}`;
    }
    case 'tag':
      return `tag ${quoteValue(e.value)}`;
    case 'flags':
      return `flags ${flagLetters(e.mask)}`;
  }
}
