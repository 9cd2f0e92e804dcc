/**
 * Generates src/decode/template/iana-elements.generated.ts from IANA's "IPFIX Information Elements"
 * registry CSV (data/iana/ipfix-information-elements.csv; where it came from: data/iana/PROVENANCE.md).
 *
 * Usage: tsx scripts/gen-ipfix-ie.ts [output-path] [--csv input-path]
 * (`npm run gen:ipfix-ie` writes the committed file; the test writes to a temp path and compares.)
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
/** Repo-relative, so the generated header is the same on every machine. */
export const CSV_PATH = 'data/iana/ipfix-information-elements.csv';
export const OUTPUT_PATH = 'src/decode/template/iana-elements.generated.ts';
/** biome.json lineWidth: the output is written the way `biome format` would write it. */
const LINE_WIDTH = 110;

/**
 * RFC 4180 parser: quoted fields may hold commas, doubled quotes and line breaks (the IANA CSV has
 * multi-line descriptions, CRLF throughout). Records end at CRLF or LF outside quotes; a final line
 * break does not start an empty record. Throws on a stray or unterminated quote rather than guessing.
 */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let i = 0;
  let fieldStart = true;
  const n = text.length;
  const endField = (): void => {
    record.push(field);
    field = '';
    fieldStart = true;
  };
  const endRecord = (): void => {
    endField();
    records.push(record);
    record = [];
  };
  while (i < n) {
    const c = text[i];
    if (fieldStart && c === '"') {
      // Quoted field: runs to the closing quote; "" is a literal quote.
      i++;
      for (;;) {
        if (i >= n) throw new Error(`CSV: unterminated quoted field in record ${records.length + 1}`);
        const q = text[i];
        if (q === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += q;
        i++;
      }
      const after = text[i];
      if (i < n && after !== ',' && after !== '\n' && after !== '\r') {
        throw new Error(`CSV: text after closing quote in record ${records.length + 1}`);
      }
      fieldStart = false;
      continue;
    }
    if (c === ',') {
      endField();
      i++;
    } else if (c === '\r' && text[i + 1] === '\n') {
      endRecord();
      i += 2;
    } else if (c === '\n') {
      endRecord();
      i++;
    } else if (c === '"') {
      throw new Error(`CSV: quote inside unquoted field in record ${records.length + 1}`);
    } else {
      field += c;
      fieldStart = false;
      i++;
    }
  }
  if (!fieldStart || field !== '' || record.length > 0) endRecord();
  return records;
}

export interface GeneratedElement {
  id: number;
  name: string;
  dataType: string;
  semantics: string | null;
  units: string | null;
  status: string;
}

const REQUIRED_COLUMNS = [
  'ElementID',
  'Name',
  'Abstract Data Type',
  'Data Type Semantics',
  'Status',
  'Units',
];

/**
 * Assigned elements only: rows whose ElementID is a range ("105-127 Assigned for NetFlow v9
 * compatibility", "530-32767 Unassigned") or that carry no data type ("0 Reserved", "97 Assigned for
 * NetFlow v9 compatibility", the unnamed deprecated duplicates 416 and 419) are skipped. Deprecated
 * elements are kept: exporters still send them (34 samplingInterval, 48 samplerId, ...).
 */
export function elementsFromCsv(text: string): GeneratedElement[] {
  const rows = parseCsv(text);
  const header = rows[0] ?? [];
  const col = new Map(header.map((h, idx) => [h.trim(), idx]));
  for (const name of REQUIRED_COLUMNS) {
    if (!col.has(name))
      throw new Error(`CSV: column "${name}" missing from header ${JSON.stringify(header)}`);
  }
  const at = (row: string[], name: string): string => (row[col.get(name)!] ?? '').trim();
  const out: GeneratedElement[] = [];
  const seenIds = new Set<number>();
  const seenNames = new Set<string>();
  for (let r = 1; r < rows.length; r++) {
    const row = rows[r];
    const idText = at(row, 'ElementID');
    const dataType = at(row, 'Abstract Data Type');
    if (!/^\d+$/.test(idText) || dataType === '') continue;
    const id = Number(idText);
    const name = at(row, 'Name');
    if (id < 1 || id > 32767) throw new Error(`CSV row ${r + 1}: element id ${id} outside 1-32767`);
    if (!/^[A-Za-z][A-Za-z0-9]*$/.test(name)) throw new Error(`CSV row ${r + 1}: element name ${name}`);
    if (!/^[A-Za-z][A-Za-z0-9]*$/.test(dataType)) throw new Error(`CSV row ${r + 1}: data type ${dataType}`);
    if (seenIds.has(id)) throw new Error(`CSV row ${r + 1}: element id ${id} listed twice`);
    if (seenNames.has(name)) throw new Error(`CSV row ${r + 1}: element name ${name} listed twice`);
    seenIds.add(id);
    seenNames.add(name);
    const semantics = at(row, 'Data Type Semantics');
    const units = at(row, 'Units');
    out.push({
      id,
      name,
      dataType,
      semantics: semantics === '' ? null : semantics,
      units: units === '' ? null : units,
      status: at(row, 'Status') || 'current',
    });
  }
  out.sort((a, b) => a.id - b.id);
  return out;
}

function quote(s: string | null): string {
  return s === null ? 'null' : `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function unionType(name: string, members: string[]): string {
  const oneLine = `export type ${name} = ${members.map(quote).join(' | ')};`;
  if (oneLine.length <= LINE_WIDTH) return oneLine;
  return `export type ${name} =\n${members.map((m) => `  | ${quote(m)}`).join('\n')};`;
}

function elementRow(e: GeneratedElement): string {
  const cells = [
    String(e.id),
    quote(e.name),
    quote(e.dataType),
    quote(e.semantics),
    quote(e.units),
    quote(e.status),
  ];
  const oneLine = `  [${cells.join(', ')}],`;
  if (oneLine.length <= LINE_WIDTH) return oneLine;
  return `  [\n${cells.map((c) => `    ${c},`).join('\n')}\n  ],`;
}

/** The whole generated module, deterministic for a given CSV text. */
export function renderModule(csvText: string): string {
  const elements = elementsFromCsv(csvText);
  const dataTypes = [...new Set(elements.map((e) => e.dataType))].sort();
  const statuses = [...new Set(elements.map((e) => e.status))].sort();
  const sha256 = createHash('sha256').update(csvText).digest('hex');
  const maxId = elements[elements.length - 1]?.id ?? 0;
  const lines = [
    '// GENERATED FILE: do not edit. Produced by scripts/gen-ipfix-ie.ts (`npm run gen:ipfix-ie`) from',
    `// ${CSV_PATH}, IANA's IPFIX Information Elements registry`,
    `// (CSV sha256 ${sha256}).`,
    '// See data/iana/PROVENANCE.md and docs/ipfix-elements.md.',
    '',
    '/** RFC 7012 section 3.1 abstract data types (RFC 6313 lists, RFC 9740 unsigned256) used by the registry. */',
    unionType('IpfixDataType', dataTypes),
    '',
    unionType('IpfixElementStatus', statuses),
    '',
    'export interface IanaElement {',
    '  id: number;',
    '  name: string;',
    '  dataType: IpfixDataType;',
    '  /** RFC 7012 section 3.2 data type semantics (deltaCounter, identifier, flags, ...). */',
    '  semantics: string | null;',
    '  units: string | null;',
    '  status: IpfixElementStatus;',
    '}',
    '',
    '// One row per element keeps the table short and its diffs one line per element.',
    'type Row = readonly [number, string, IpfixDataType, string | null, string | null, IpfixElementStatus];',
    '',
    '// [id, name, dataType, semantics, units, status]',
    'const ROWS: readonly Row[] = [',
    ...elements.map(elementRow),
    '];',
    '',
    `/** ${elements.length} assigned IANA elements (enterprise 0), sorted by id. */`,
    'export const IANA_ELEMENTS: readonly IanaElement[] = ROWS.map(',
    '  ([id, name, dataType, semantics, units, status]): IanaElement => ({',
    '    id,',
    '    name,',
    '    dataType,',
    '    semantics,',
    '    units,',
    '    status,',
    '  }),',
    ');',
    '',
    '// Dense array indexed by element id, built once at load; ids are at most 32767.',
    `const BY_ID: (IanaElement | undefined)[] = new Array<IanaElement | undefined>(${maxId + 1}).fill(undefined);`,
    'for (const e of IANA_ELEMENTS) BY_ID[e.id] = e;',
    '',
    '/** The IANA element with this id (enterprise bit cleared), or undefined when none is assigned. */',
    'export function ianaElement(id: number): IanaElement | undefined {',
    '  return BY_ID[id];',
    '}',
    '',
  ];
  return lines.join('\n');
}

function main(argv: string[]): void {
  // Defaults are repo paths; paths given on the command line are relative to the working directory.
  let outPath = resolve(REPO_ROOT, OUTPUT_PATH);
  let inPath = resolve(REPO_ROOT, CSV_PATH);
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--csv' && i + 1 < argv.length) inPath = resolve(argv[++i]);
    else outPath = resolve(argv[i]);
  }
  const text = readFileSync(inPath, 'utf8');
  const module = renderModule(text);
  writeFileSync(outPath, module);
  process.stdout.write(`wrote ${outPath} (${elementsFromCsv(text).length} elements)\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1]))
  main(process.argv.slice(2));
