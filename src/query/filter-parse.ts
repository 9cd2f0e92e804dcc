/**
 * Parser of the flow filter language (docs/filter-language.md) into a FilterExpr. Recursive
 * descent: `or` < `and` < `not` < predicate. Filters arrive from HTTP query strings, so the input
 * length and the nesting depth are bounded and every error is a FilterSyntaxError naming the
 * column and the token.
 */
import { ipv4FromU32, ipv6At } from '../record/address.js';
import { protocolKeyword } from '../record/protocols.js';
import { parseIPv4, parseIPv6, samePrefix } from './filter-address.js';
import type { AddressField, CompareOp, FilterExpr, NumericField, StringField } from './filter-ast.js';
import { describeToken, FilterSyntaxError, type Token, tokenize } from './filter-lexer.js';

export { FilterSyntaxError } from './filter-lexer.js';

export const MAX_FILTER_LENGTH = 4096;
export const MAX_FILTER_DEPTH = 64;
/** Items in one `in [...]` list: each becomes a node of an `or` chain the stores must compile. */
export const MAX_LIST_ITEMS = 256;

type Direction = 'src' | 'dst' | 'either' | 'both';

interface NumericSpec {
  /** What the value is, for messages: "a port number". */
  readonly what: string;
  readonly max: number;
  /** Names accepted besides numbers (protocol keywords). */
  readonly names?: (word: string) => number | undefined;
  /** Multiplier from what the user types to the field (bytes -> bits). */
  readonly scale?: number;
}

interface StringSpec {
  readonly what: string;
  /** Checks and normalises a value; returns an error text when it is not acceptable. */
  readonly normalise?: (value: string) => string | { error: string };
}

const U32 = 4294967295;
const PORT: NumericSpec = { what: 'a port number', max: 65535 };
const AS: NumericSpec = { what: 'an AS number', max: U32 };
const IFINDEX: NumericSpec = { what: 'an interface index', max: U32 };
const VLAN: NumericSpec = { what: 'a VLAN id', max: 4095 };
const MASK: NumericSpec = { what: 'a prefix length', max: 128 };
const BYTE: NumericSpec = { what: 'a number from 0 to 255', max: 255 };
const COUNT: NumericSpec = { what: 'a number', max: Number.MAX_SAFE_INTEGER };

const PROTOCOL_NUMBERS = new Map<string, number>([
  ['icmp6', 58],
  ['icmpv6', 58],
]);
for (let p = 0; p < 256; p++) {
  const k = protocolKeyword(p);
  if (k !== null) PROTOCOL_NUMBERS.set(k, p);
}
const PROTO: NumericSpec = {
  what: 'a protocol name or number',
  max: 255,
  names: (w) => PROTOCOL_NUMBERS.get(w.toLowerCase()),
};

/** Protocols that stand alone as a predicate, like pcap's `tcp`. */
const PROTOCOL_SHORTHANDS = new Set(['tcp', 'udp', 'icmp', 'icmp6', 'sctp', 'gre', 'esp', 'ah']);

/** Numeric keywords with no direction: keyword -> field and value spec. */
const PLAIN_NUMERIC: ReadonlyMap<string, [NumericField, NumericSpec]> = new Map<
  string,
  [NumericField, NumericSpec]
>([
  ['proto', ['protocolint', PROTO]],
  ['tos', ['tos', BYTE]],
  ['ipversion', ['ipversion', { what: 'an IP version', max: 15 }]],
  ['samplerate', ['samplerate', COUNT]],
  ['flowversion', ['flowversion', { what: 'a flow protocol version', max: 65535 }]],
  ['packets', ['packets', COUNT]],
  ['bits', ['bits', COUNT]],
  ['bytes', ['bits', { what: 'a number of bytes', max: Math.floor(Number.MAX_SAFE_INTEGER / 8), scale: 8 }]],
  ['duration', ['duration', { what: 'a duration in milliseconds', max: Number.MAX_SAFE_INTEGER }]],
  ['icmp-type', ['icmptype', BYTE]],
  ['icmp-code', ['icmpcode', BYTE]],
]);

/** Numeric keywords that take src/dst (or both when no direction is given). */
const DIRECTED_NUMERIC: ReadonlyMap<string, [NumericField, NumericField, NumericSpec]> = new Map<
  string,
  [NumericField, NumericField, NumericSpec]
>([
  ['port', ['srcport', 'dstport', PORT]],
  ['as', ['srcas', 'dstas', AS]],
  ['vlan', ['srcvlan', 'dstvlan', VLAN]],
  ['mask', ['srcmask', 'dstmask', MASK]],
]);

const DIRECTED_ADDRESS: ReadonlyMap<string, [AddressField, AddressField, AddressMode]> = new Map<
  string,
  [AddressField, AddressField, AddressMode]
>([
  ['host', ['srcip', 'dstip', 'host']],
  ['ip', ['srcip', 'dstip', 'host']],
  ['net', ['srcip', 'dstip', 'net']],
  ['natip', ['postnatsrcip', 'postnatdstip', 'net']],
  ['xip', ['postnatsrcip', 'postnatdstip', 'net']],
]);

const PLAIN_ADDRESS: ReadonlyMap<string, AddressField> = new Map<string, AddressField>([
  ['nexthop', 'nexthop'],
  ['bgpnexthop', 'bgpnexthop'],
]);

function oneOf(what: string, allowed: readonly string[]): StringSpec {
  return {
    what,
    normalise: (v) => {
      const lower = v.toLowerCase();
      return allowed.includes(lower) ? lower : { error: `expected ${allowed.join(' or ')}` };
    },
  };
}

const COUNTRY: StringSpec = {
  what: 'a two-letter country code',
  normalise: (v) =>
    /^[A-Za-z]{2}$/.test(v) ? v.toUpperCase() : { error: 'expected a two-letter country code' },
};
const NAME: StringSpec = { what: 'a name' };

const PLAIN_STRING: ReadonlyMap<string, [StringField, StringSpec]> = new Map<
  string,
  [StringField, StringSpec]
>([
  ['flowtype', ['flowtype', oneOf('a flow type', ['netflow', 'sflow', 'aws', 'gcp', 'azure'])]],
  ['direction', ['flowdirection', oneOf('a direction', ['ingress', 'egress'])]],
  ['site', ['site', NAME]],
  ['fwevent', ['fwevent', { what: 'a firewall event' }]],
  ['natevent', ['natevent', { what: 'a NAT event' }]],
]);

const NUMERIC_OPS: ReadonlyMap<string, CompareOp> = new Map<string, CompareOp>([
  ['=', '='],
  ['==', '='],
  ['!=', '!='],
  ['<', '<'],
  ['<=', '<='],
  ['>', '>'],
  ['>=', '>='],
  ['eq', '='],
  ['ne', '!='],
  ['lt', '<'],
  ['le', '<='],
  ['gt', '>'],
  ['ge', '>='],
]);

const FLAG_BITS: Record<string, number> = { F: 1, S: 2, R: 4, P: 8, A: 16, U: 32, E: 64, C: 128, N: 256 };
/** TCP flag letters in bit order (RFC 9293 section 3.1, RFC 3168, RFC 3540 for NS). */
export const FLAG_LETTERS = 'FSRPAUECN';

type AddressMode = 'host' | 'net';

type NumCondition =
  | { kind: 'cmp'; op: CompareOp; value: number }
  | { kind: 'range'; lo: number; hi: number }
  | { kind: 'list'; items: NumCondition[] };

type StrCondition = { kind: 'cmp'; op: '=' | '!='; value: string } | { kind: 'list'; values: string[] };

interface Network {
  network: string;
  prefix: number;
  family: 4 | 6;
}

function or(left: FilterExpr, right: FilterExpr): FilterExpr {
  return { kind: 'or', left, right };
}

function and(left: FilterExpr, right: FilterExpr): FilterExpr {
  return { kind: 'and', left, right };
}

/** `src`/`dst` predicate, or both sides joined by `or` (no direction, `src or dst`) or `and`. */
function directed(dir: Direction, build: (side: 0 | 1) => FilterExpr): FilterExpr {
  if (dir === 'src') return build(0);
  if (dir === 'dst') return build(1);
  return dir === 'both' ? and(build(0), build(1)) : or(build(0), build(1));
}

function numExpr(field: NumericField, c: NumCondition): FilterExpr {
  if (c.kind === 'cmp') return { kind: 'num', field, op: c.op, value: c.value };
  if (c.kind === 'range') {
    return and({ kind: 'num', field, op: '>=', value: c.lo }, { kind: 'num', field, op: '<=', value: c.hi });
  }
  let e = numExpr(field, c.items[0]);
  for (let i = 1; i < c.items.length; i++) e = or(e, numExpr(field, c.items[i]));
  return e;
}

function strExpr(field: StringField, c: StrCondition): FilterExpr {
  if (c.kind === 'cmp') return { kind: 'str', field, op: c.op, value: c.value };
  let e: FilterExpr = { kind: 'str', field, op: '=', value: c.values[0] };
  for (let i = 1; i < c.values.length; i++) e = or(e, { kind: 'str', field, op: '=', value: c.values[i] });
  return e;
}

const v6scratch = new Uint8Array(16);
const v6network = new Uint8Array(16);

class Parser {
  private readonly tokens: Token[];
  private i = 0;
  private depth = 0;
  /** Offset where the predicate being parsed starts, for "after "dst port"" in messages. */
  private predicateStart = 0;

  constructor(private readonly text: string) {
    this.tokens = tokenize(text);
  }

  parse(): FilterExpr {
    if (this.peek().type === 'eof') return { kind: 'any' };
    const e = this.parseOr();
    const t = this.peek();
    if (t.type !== 'eof') {
      if (t.text === ')') this.fail(`unmatched ")"`, t);
      this.failBetween(t);
    }
    return e;
  }

  private peek(ahead = 0): Token {
    return this.tokens[Math.min(this.i + ahead, this.tokens.length - 1)];
  }

  private next(): Token {
    const t = this.peek();
    if (t.type !== 'eof') this.i++;
    return t;
  }

  private isWord(t: Token, ...words: string[]): boolean {
    return t.type === 'word' && words.includes(t.text.toLowerCase());
  }

  private isOp(t: Token, op: string): boolean {
    return t.type === 'op' && t.text === op;
  }

  private fail(message: string, t: Token): never {
    throw new FilterSyntaxError(`${message} at column ${t.pos + 1}`, t.pos);
  }

  private failFound(expected: string, t: Token): never {
    const ctx = this.text.slice(this.predicateStart, this.tokens[this.i - 1]?.end ?? 0).trim();
    const after = ctx === '' ? '' : ` after "${ctx}"`;
    this.fail(`expected ${expected}${after}, found ${describeToken(t)}`, t);
  }

  /** A token where a condition ended and only `and`, `or`, `)` or the end may follow. */
  private failBetween(t: Token): never {
    const startsCondition = t.type !== 'op' || t.text === '(' || t.text === '!';
    if (!startsCondition) this.fail(`unexpected "${t.text}"`, t);
    this.fail(`expected "and", "or" or ")" before ${describeToken(t)}: two conditions need an operator`, t);
  }

  private enter(t: Token): void {
    if (++this.depth > MAX_FILTER_DEPTH) {
      this.fail(`filter nested deeper than ${MAX_FILTER_DEPTH} levels`, t);
    }
  }

  private parseOr(): FilterExpr {
    let e = this.parseAnd();
    while (this.isWord(this.peek(), 'or') || this.isOp(this.peek(), '||')) {
      this.next();
      e = or(e, this.parseAnd());
    }
    return e;
  }

  private parseAnd(): FilterExpr {
    let e = this.parseUnary();
    for (;;) {
      const t = this.peek();
      if (this.isWord(t, 'and') || this.isOp(t, '&&')) {
        this.next();
        e = and(e, this.parseUnary());
        continue;
      }
      if (t.type === 'eof' || this.isWord(t, 'or') || this.isOp(t, '||') || this.isOp(t, ')')) {
        return e;
      }
      this.failBetween(t);
    }
  }

  private parseUnary(): FilterExpr {
    const t = this.peek();
    if (this.isWord(t, 'not') || this.isOp(t, '!')) {
      this.next();
      this.enter(t);
      const expr = this.parseUnary();
      this.depth--;
      return { kind: 'not', expr };
    }
    if (this.isOp(t, '(')) {
      this.next();
      this.enter(t);
      const e = this.parseOr();
      const close = this.peek();
      if (!this.isOp(close, ')')) {
        if (close.type === 'eof')
          this.fail(
            `expected ")" to close the "(" of column ${t.pos + 1}, found the end of the filter`,
            close,
          );
        this.failBetween(close);
      }
      this.next();
      this.depth--;
      return e;
    }
    return this.parsePredicate();
  }

  private parsePredicate(): FilterExpr {
    const t = this.peek();
    this.predicateStart = t.pos;
    if (t.type !== 'word') {
      this.predicateStart = this.tokens[this.i - 1]?.pos ?? 0;
      this.failFound('a condition such as "port 53" or "src net 10.0.0.0/8"', t);
    }
    const kw = t.text.toLowerCase();
    this.next();
    if (kw === 'any') return { kind: 'any' };
    if (kw === 'src' || kw === 'dst') return this.parseDirected(this.parseDirection(kw));
    if (DIRECTED_NUMERIC.has(kw) || DIRECTED_ADDRESS.has(kw) || kw === 'country') {
      this.i--;
      return this.parseDirected('either');
    }
    const plainNum = PLAIN_NUMERIC.get(kw);
    if (plainNum !== undefined) {
      const c = this.parseNumCondition(plainNum[1]);
      return numExpr(plainNum[0], c);
    }
    const plainStr = PLAIN_STRING.get(kw);
    if (plainStr !== undefined) return strExpr(plainStr[0], this.parseStrCondition(plainStr[1]));
    const plainAddr = PLAIN_ADDRESS.get(kw);
    if (plainAddr !== undefined) return this.cidr(plainAddr, this.parseNetwork('net'));
    if (PROTOCOL_SHORTHANDS.has(kw)) {
      return { kind: 'num', field: 'protocolint', op: '=', value: PROTOCOL_NUMBERS.get(kw)! };
    }
    switch (kw) {
      case 'ipv4':
      case 'inet':
        return { kind: 'num', field: 'ipversion', op: '=', value: 4 };
      case 'ipv6':
      case 'inet6':
        return { kind: 'num', field: 'ipversion', op: '=', value: 6 };
      case 'exporter':
        if (this.isWord(this.peek(), 'name')) {
          this.next();
          return strExpr('flowsrcname', this.parseStrCondition(NAME));
        }
        return this.cidr('flowsrcip', this.parseNetwork('net'));
      case 'in':
      case 'out':
      case 'if':
        return this.parseInterface(kw);
      case 'tag':
        return { kind: 'tag', value: this.parseStringValue(NAME) };
      case 'flags':
        return { kind: 'flags', mask: this.parseFlags() };
    }
    this.i--;
    this.fail(`unknown keyword "${t.text}"`, t);
  }

  /** `src`, `dst`, `src or dst`, `src and dst`. */
  private parseDirection(first: 'src' | 'dst'): Direction {
    const joiner = this.peek();
    const other = this.peek(1);
    const isOr = this.isWord(joiner, 'or') || this.isOp(joiner, '||');
    const isAnd = this.isWord(joiner, 'and') || this.isOp(joiner, '&&');
    if ((isOr || isAnd) && this.isWord(other, first === 'src' ? 'dst' : 'src')) {
      this.next();
      this.next();
      return isOr ? 'either' : 'both';
    }
    return first;
  }

  private parseDirected(dir: Direction): FilterExpr {
    const t = this.peek();
    const kw = t.type === 'word' ? t.text.toLowerCase() : '';
    const num = DIRECTED_NUMERIC.get(kw);
    if (num !== undefined) {
      this.next();
      const c = this.parseNumCondition(num[2]);
      return directed(dir, (side) => numExpr(num[side], c));
    }
    const addr = DIRECTED_ADDRESS.get(kw);
    if (addr !== undefined) {
      this.next();
      const n = this.parseNetwork(addr[2]);
      return directed(dir, (side) => this.cidr(addr[side], n));
    }
    if (kw === 'country') {
      this.next();
      const c = this.parseStrCondition(COUNTRY);
      return directed(dir, (side) => strExpr(side === 0 ? 'srccountry' : 'dstcountry', c));
    }
    this.failFound('host, ip, net, port, as, vlan, mask, country or natip', t);
  }

  /** `in if N`, `out if N`, `if N`, and the same with `name NAME`. */
  private parseInterface(kw: string): FilterExpr {
    if (kw !== 'if') {
      if (!this.isWord(this.peek(), 'if')) this.failFound('"if"', this.peek());
      this.next();
    }
    const dir: Direction = kw === 'in' ? 'src' : kw === 'out' ? 'dst' : 'either';
    if (this.isWord(this.peek(), 'name')) {
      this.next();
      const c = this.parseStrCondition(NAME);
      return directed(dir, (side) => strExpr(side === 0 ? 'inputname' : 'outputname', c));
    }
    const c = this.parseNumCondition(IFINDEX);
    return directed(dir, (side) => numExpr(side === 0 ? 'input' : 'output', c));
  }

  private cidr(field: AddressField, n: Network): FilterExpr {
    return { kind: 'cidr', field, network: n.network, prefix: n.prefix, family: n.family };
  }

  // ---- values ----

  private isListStart(): boolean {
    return this.isWord(this.peek(), 'in') && this.isOp(this.peek(1), '[');
  }

  /** Items between `[` and `]`, separated by blanks or commas. */
  private parseList<T>(item: () => T): T[] {
    this.next(); // in
    const open = this.next();
    const items: T[] = [];
    for (;;) {
      const t = this.peek();
      if (this.isOp(t, ',')) {
        this.next();
        continue;
      }
      if (this.isOp(t, ']')) {
        this.next();
        break;
      }
      if (t.type === 'eof')
        this.fail(`expected "]" to close the "[" of column ${open.pos + 1}, found the end of the filter`, t);
      if (items.length === MAX_LIST_ITEMS) this.fail(`list has more than ${MAX_LIST_ITEMS} items`, t);
      items.push(item());
    }
    if (items.length === 0) this.fail('empty list', open);
    return items;
  }

  private parseNumCondition(spec: NumericSpec): NumCondition {
    if (this.isListStart())
      return { kind: 'list', items: this.parseList(() => this.parseNumValue(spec, true)) };
    const t = this.peek();
    const op = t.type === 'string' ? undefined : NUMERIC_OPS.get(t.text.toLowerCase());
    if (op !== undefined) {
      this.next();
      const v = this.peek();
      if (v.type !== 'word') this.failFound(spec.what, v);
      this.next();
      return { kind: 'cmp', op, value: this.numberOf(v, v.text, v.pos, spec) };
    }
    return this.parseNumValue(spec, true);
  }

  /** A number (or name) or, when `ranges`, `LO-HI`. */
  private parseNumValue(spec: NumericSpec, ranges: boolean): NumCondition {
    const v = this.peek();
    if (v.type !== 'word') this.failFound(spec.what, v);
    this.next();
    const dash = v.text.indexOf('-');
    if (ranges && dash > 0 && /^[0-9]+-[0-9]+$/.test(v.text)) {
      const lo = this.numberOf(v, v.text.slice(0, dash), v.pos, spec);
      const hi = this.numberOf(v, v.text.slice(dash + 1), v.pos + dash + 1, spec);
      if (lo > hi) this.fail(`range ${v.text} runs backwards`, v);
      return { kind: 'range', lo, hi };
    }
    return { kind: 'cmp', op: '=', value: this.numberOf(v, v.text, v.pos, spec) };
  }

  private numberOf(t: Token, text: string, pos: number, spec: NumericSpec): number {
    let n: number | undefined;
    if (/^[0-9]{1,16}$/.test(text)) n = Number(text);
    else if (spec.names !== undefined) n = spec.names(text);
    if (n === undefined) {
      this.i--;
      this.failFound(spec.what, t);
    }
    if (n > spec.max) {
      throw new FilterSyntaxError(
        `${text} is out of range for ${spec.what} (0-${spec.max}) at column ${pos + 1}`,
        pos,
      );
    }
    return n * (spec.scale ?? 1);
  }

  private parseStrCondition(spec: StringSpec): StrCondition {
    if (this.isListStart())
      return { kind: 'list', values: this.parseList(() => this.parseStringValue(spec)) };
    const t = this.peek();
    let op: '=' | '!=' = '=';
    if (t.type === 'op' && (t.text === '=' || t.text === '==' || t.text === '!=')) {
      op = t.text === '!=' ? '!=' : '=';
      this.next();
    } else if (
      this.isWord(t, 'eq', 'ne') &&
      (this.peek(1).type === 'word' || this.peek(1).type === 'string')
    ) {
      op = t.text.toLowerCase() === 'ne' ? '!=' : '=';
      this.next();
    }
    return { kind: 'cmp', op, value: this.parseStringValue(spec) };
  }

  private parseStringValue(spec: StringSpec): string {
    const t = this.peek();
    if (t.type !== 'word' && t.type !== 'string') this.failFound(spec.what, t);
    this.next();
    if (spec.normalise === undefined) return t.text;
    const v = spec.normalise(t.text);
    if (typeof v === 'string') return v;
    this.fail(`${v.error}, found ${describeToken(t)}`, t);
  }

  private parseFlags(): number {
    const t = this.peek();
    if (t.type !== 'word') this.failFound('TCP flag letters (F S R P A U E C N)', t);
    this.next();
    let mask = 0;
    if (/^[0-9]{1,3}$/.test(t.text)) {
      mask = Number(t.text);
      if (mask < 1 || mask > 511) this.fail(`TCP flag mask ${t.text} is not within 1-511`, t);
      return mask;
    }
    for (let k = 0; k < t.text.length; k++) {
      const bit = FLAG_BITS[t.text[k].toUpperCase()];
      if (bit === undefined) {
        throw new FilterSyntaxError(
          `"${t.text[k]}" is not a TCP flag letter (F S R P A U E C N) at column ${t.pos + k + 1}`,
          t.pos + k,
        );
      }
      mask |= bit;
    }
    return mask;
  }

  /**
   * An address (host) or a network. A network with bits set beyond its prefix is refused, with
   * the network it probably means: `10.1.2.3/8` is more often a typo than a request for 10/8.
   */
  private parseNetwork(mode: AddressMode): Network {
    const t = this.peek();
    const what = mode === 'host' ? 'an IP address' : 'an IP address or a network like 10.0.0.0/8';
    if (t.type !== 'word') this.failFound(what, t);
    this.next();
    const text = t.text;
    const slash = text.indexOf('/');
    if (slash >= 0 && mode === 'host') {
      this.fail(`"${text}" is a network, not a host: use "net" for networks`, t);
    }
    const addr = slash >= 0 ? text.slice(0, slash) : text;
    const prefixText = slash >= 0 ? text.slice(slash + 1) : '';
    if (slash >= 0 && !/^[0-9]{1,3}$/.test(prefixText)) {
      this.fail(`"${prefixText}" is not a prefix length in "${text}"`, t);
    }
    if (addr.includes(':')) {
      if (!parseIPv6(addr, v6network)) this.fail(`"${addr}" is not an IPv6 address`, t);
      const prefix = slash >= 0 ? Number(prefixText) : 128;
      if (prefix > 128) this.fail(`IPv6 prefix length ${prefix} is more than 128 in "${text}"`, t);
      v6scratch.fill(0);
      for (let b = 0; b < prefix; b += 8) {
        const bits = Math.min(8, prefix - b);
        v6scratch[b >>> 3] = v6network[b >>> 3] & ((0xff << (8 - bits)) & 0xff);
      }
      const network = ipv6At(v6scratch, 0);
      if (!samePrefix(v6scratch, v6network, 128)) {
        this.fail(`"${text}" has host bits set: did you mean ${network}/${prefix}?`, t);
      }
      return { network, prefix, family: 6 };
    }
    // `10/8`, `192.168/16`: missing trailing octets are zero (nfdump and pcap accept this).
    let full = addr;
    if (slash >= 0 && /^[0-9]{1,3}(\.[0-9]{1,3}){0,2}$/.test(addr)) {
      while (full.split('.').length < 4) full += '.0';
    }
    const v4 = parseIPv4(full);
    if (v4 < 0) this.fail(`"${addr}" is not an IP address`, t);
    const prefix = slash >= 0 ? Number(prefixText) : 32;
    if (prefix > 32) this.fail(`IPv4 prefix length ${prefix} is more than 32 in "${text}"`, t);
    const masked = prefix === 0 ? 0 : ((v4 >>> (32 - prefix)) << (32 - prefix)) >>> 0;
    const network = ipv4FromU32(masked);
    if (masked !== v4) this.fail(`"${text}" has host bits set: did you mean ${network}/${prefix}?`, t);
    return { network, prefix, family: 4 };
  }
}

/**
 * Parses a filter; the empty filter (or `any`) matches every record. Throws FilterSyntaxError,
 * and nothing else, on any input it does not accept.
 */
export function parseFilter(text: string): FilterExpr {
  if (text.length > MAX_FILTER_LENGTH) {
    throw new FilterSyntaxError(
      `filter is ${text.length} characters long; the limit is ${MAX_FILTER_LENGTH} (too long from column ${MAX_FILTER_LENGTH + 1})`,
      MAX_FILTER_LENGTH,
    );
  }
  return new Parser(text).parse();
}
