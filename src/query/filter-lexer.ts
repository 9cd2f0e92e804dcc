/**
 * Tokens of the flow filter language (docs/filter-language.md). A word is any run of characters
 * that are not blanks, quotes or operator characters, so addresses (`2001:db8::/32`), ranges
 * (`1000-2000`) and protocol names (`ipv6-icmp`) stay one token and the parser decides what a word
 * means from where it stands.
 */

export type TokenType = 'word' | 'string' | 'op' | 'eof';

export interface Token {
  readonly type: TokenType;
  /** The word, the unquoted string or the operator (`(`, `)`, `[`, `]`, `,`, `&&`, `||`, `!`, comparisons). */
  readonly text: string;
  /** 0-based offset of the token's first character in the filter text. */
  readonly pos: number;
  /** Offset just past the token's last character (quotes included). */
  readonly end: number;
}

/**
 * A filter that does not parse. `position` is the 0-based offset of the offending character or
 * token (the message shows it 1-based as "column").
 */
export class FilterSyntaxError extends Error {
  override readonly name = 'FilterSyntaxError';
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
  }
}

const OPERATOR_CHARS = '()[],!&|<>=';

function isBlank(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0b || c === 0x0c;
}

/** True for a character that can be part of a word. */
export function isWordChar(ch: string): boolean {
  return !isBlank(ch.charCodeAt(0)) && ch !== '"' && ch !== "'" && !OPERATOR_CHARS.includes(ch);
}

/** Human text for a token in an error message. */
export function describeToken(t: Token): string {
  if (t.type === 'eof') return 'the end of the filter';
  if (t.type === 'string') return `the string ${JSON.stringify(t.text)}`;
  return `"${t.text}"`;
}

function lexString(text: string, start: number, out: Token[]): number {
  const quote = text[start];
  let value = '';
  let i = start + 1;
  while (i < text.length) {
    const ch = text[i];
    if (ch === quote) {
      out.push({ type: 'string', text: value, pos: start, end: i + 1 });
      return i + 1;
    }
    if (ch === '\\' && i + 1 < text.length) {
      value += text[i + 1];
      i += 2;
      continue;
    }
    value += ch;
    i++;
  }
  throw new FilterSyntaxError(`string opened at column ${start + 1} is not closed`, start);
}

/** Splits `text` into tokens, ending with one `eof` token. */
export function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (isBlank(ch.charCodeAt(0))) {
      i++;
      continue;
    }
    if (ch === '"' || ch === "'") {
      i = lexString(text, i, out);
      continue;
    }
    const two = text.slice(i, i + 2);
    if (two === '&&' || two === '||' || two === '!=' || two === '<=' || two === '>=' || two === '==') {
      out.push({ type: 'op', text: two, pos: i, end: i + 2 });
      i += 2;
      continue;
    }
    if (ch === '&' || ch === '|') {
      throw new FilterSyntaxError(`unexpected "${ch}" at column ${i + 1}: did you mean "${ch}${ch}"?`, i);
    }
    if (OPERATOR_CHARS.includes(ch)) {
      out.push({ type: 'op', text: ch, pos: i, end: i + 1 });
      i++;
      continue;
    }
    const start = i;
    while (i < text.length && isWordChar(text[i])) i++;
    out.push({ type: 'word', text: text.slice(start, i), pos: start, end: i });
  }
  out.push({ type: 'eof', text: '', pos: text.length, end: text.length });
  return out;
}
