/**
 * The parsed form of Flowgate's flow filter language (nfdump / pcap style, e.g.
 * `src net 10.0.0.0/8 and dst port 443 and proto tcp`). The parser (`query/filter-parse.ts`)
 * produces it; each store compiles it to its own query language (SQL for DuckDB/ClickHouse) and
 * `query/filter-match.ts` evaluates it on a FlowRecord in memory. Direction words are expanded at
 * parse time: `port 53` becomes `srcport = 53 or dstport = 53`, so the AST has no direction node.
 */

/** Numeric record fields a filter can compare. */
export type NumericField =
  | 'srcport'
  | 'dstport'
  | 'protocolint'
  | 'srcas'
  | 'dstas'
  | 'input'
  | 'output'
  | 'srcvlan'
  | 'dstvlan'
  | 'tos'
  | 'ipversion'
  | 'samplerate'
  | 'flowversion'
  | 'packets'
  | 'bits'
  | 'duration'
  | 'icmptype'
  | 'icmpcode'
  | 'srcmask'
  | 'dstmask';

/** String record fields a filter can compare (exact match, case-insensitive for codes/names). */
export type StringField =
  | 'flowtype'
  | 'flowsrcname'
  | 'site'
  | 'srccountry'
  | 'dstcountry'
  | 'inputname'
  | 'outputname'
  | 'flowdirection'
  | 'fwevent'
  | 'natevent';

/** Address fields a CIDR can apply to. */
export type AddressField =
  | 'srcip'
  | 'dstip'
  | 'nexthop'
  | 'bgpnexthop'
  | 'flowsrcip'
  | 'postnatsrcip'
  | 'postnatdstip';

export type CompareOp = '=' | '!=' | '<' | '<=' | '>' | '>=';

export type FilterExpr =
  | { kind: 'and'; left: FilterExpr; right: FilterExpr }
  | { kind: 'or'; left: FilterExpr; right: FilterExpr }
  | { kind: 'not'; expr: FilterExpr }
  | { kind: 'num'; field: NumericField; op: CompareOp; value: number }
  | { kind: 'str'; field: StringField; op: '=' | '!='; value: string }
  /** Address within a network; a host is a /32 or /128. IPv4 and IPv6 never match each other. */
  | { kind: 'cidr'; field: AddressField; network: string; prefix: number; family: 4 | 6 }
  /** The record carries this user tag. */
  | { kind: 'tag'; value: string }
  /** Every TCP flag bit in `mask` is set (`flags S`, `flags SA`; TCP records only). */
  | { kind: 'flags'; mask: number }
  /** Matches every record (the empty filter). */
  | { kind: 'any' };
