import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  CSV_PATH,
  elementsFromCsv,
  OUTPUT_PATH,
  parseCsv,
  renderModule,
} from '../../../scripts/gen-ipfix-ie.js';
import {
  IANA_ELEMENTS,
  type IanaElement,
  ianaElement,
} from '../../../src/decode/template/iana-elements.generated.js';

const REPO = resolve(fileURLToPath(new URL('../../../', import.meta.url)));

function expectElement(id: number, want: Partial<IanaElement>): void {
  const e = ianaElement(id);
  assert.ok(e, `IANA element ${id} missing from the generated table`);
  for (const [k, v] of Object.entries(want)) {
    assert.equal(e[k as keyof IanaElement], v, `IANA element ${id} ${k}`);
  }
}

describe('IANA IPFIX information elements table', () => {
  it('holds the whole registry, sorted by id with unique names', () => {
    assert.ok(IANA_ELEMENTS.length > 450, `only ${IANA_ELEMENTS.length} elements`);
    for (let i = 1; i < IANA_ELEMENTS.length; i++) {
      assert.ok(
        IANA_ELEMENTS[i].id > IANA_ELEMENTS[i - 1].id,
        `ids not increasing at ${IANA_ELEMENTS[i].id}`,
      );
    }
    assert.equal(new Set(IANA_ELEMENTS.map((e) => e.name)).size, IANA_ELEMENTS.length);
    // The 2024-10 registry revision ends at 529 udpUnsafeExIDList.
    assert.deepEqual(IANA_ELEMENTS[IANA_ELEMENTS.length - 1], {
      id: 529,
      name: 'udpUnsafeExIDList',
      dataType: 'basicList',
      semantics: 'list',
      units: null,
      status: 'current',
    });
  });

  it('spot checks: names, data types, semantics, units', () => {
    expectElement(1, { name: 'octetDeltaCount', dataType: 'unsigned64', semantics: 'deltaCounter' });
    expectElement(1, { units: 'octets', status: 'current' });
    expectElement(8, { name: 'sourceIPv4Address', dataType: 'ipv4Address', semantics: 'default' });
    expectElement(27, { name: 'sourceIPv6Address', dataType: 'ipv6Address' });
    expectElement(82, { name: 'interfaceName', dataType: 'string' });
    expectElement(152, {
      name: 'flowStartMilliseconds',
      dataType: 'dateTimeMilliseconds',
      units: 'milliseconds',
    });
    expectElement(154, {
      name: 'flowStartMicroseconds',
      dataType: 'dateTimeMicroseconds',
      units: 'microseconds',
    });
    expectElement(225, { name: 'postNATSourceIPv4Address', dataType: 'ipv4Address' });
    expectElement(233, { name: 'firewallEvent', dataType: 'unsigned8', semantics: null });
    expectElement(311, { name: 'samplingProbability', dataType: 'float64', semantics: 'quantity' });
    expectElement(515, { name: 'ipv6ExtensionHeadersFull', dataType: 'unsigned256', semantics: 'flags' });
  });

  it('keeps deprecated elements, which v9-era exporters still send', () => {
    expectElement(34, { name: 'samplingInterval', dataType: 'unsigned32', status: 'deprecated' });
    expectElement(48, { name: 'samplerId', dataType: 'unsigned8', status: 'deprecated' });
    expectElement(64, { name: 'ipv6ExtensionHeaders', status: 'deprecated' });
  });

  it('has no entry for reserved, unassigned or v9-compatibility ids', () => {
    for (const id of [0, 65, 69, 97, 105, 127, 416, 419, 530, 32767, 32768, -1, 1.5]) {
      assert.equal(ianaElement(id), undefined, `id ${id}`);
    }
  });

  it('regenerating from the CSV reproduces the committed file byte for byte', () => {
    const csv = readFileSync(join(REPO, CSV_PATH), 'utf8');
    const committed = readFileSync(join(REPO, OUTPUT_PATH), 'utf8');
    assert.equal(
      renderModule(csv),
      committed,
      'run `npm run gen:ipfix-ie` after changing the CSV or generator',
    );

    // The CLI path as `npm run gen:ipfix-ie` uses it, written to a temp file instead.
    const dir = mkdtempSync(join(tmpdir(), 'flowgate-ie-'));
    try {
      const out = join(dir, 'iana-elements.generated.ts');
      const res = spawnSync(
        process.execPath,
        ['--import', 'tsx', join(REPO, 'scripts/gen-ipfix-ie.ts'), out],
        { cwd: REPO, encoding: 'utf8', timeout: 60_000 },
      );
      assert.equal(res.status, 0, res.stderr);
      assert.ok(readFileSync(out).equals(readFileSync(join(REPO, OUTPUT_PATH))), 'CLI output differs');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('generator CSV handling (RFC 4180)', () => {
  it('parses quoted commas, doubled quotes, CRLF and LF line breaks inside fields', () => {
    const text = 'a,b,c\r\n1,"x, y","say ""hi"""\r\n2,"line1\r\nline2\nline3",\r\n3,,"" \n';
    assert.throws(() => parseCsv(text), /text after closing quote/);
    const ok = 'a,b,c\r\n1,"x, y","say ""hi"""\r\n2,"line1\r\nline2\nline3",\r\n3,,""\n';
    assert.deepEqual(parseCsv(ok), [
      ['a', 'b', 'c'],
      ['1', 'x, y', 'say "hi"'],
      ['2', 'line1\r\nline2\nline3', ''],
      ['3', '', ''],
    ]);
    assert.deepEqual(parseCsv('x\ny'), [['x'], ['y']]);
  });

  it('rejects malformed quoting instead of guessing', () => {
    assert.throws(() => parseCsv('a,"never closed\r\n'), /unterminated/);
    assert.throws(() => parseCsv('a,b"c\r\n'), /quote inside unquoted field/);
  });

  it('skips ranges and rows without a data type, and refuses duplicate ids', () => {
    const header =
      'ElementID,Name,Abstract Data Type,Data Type Semantics,Status,Description,Units,Range,' +
      'Additional Information,Reference,Revision,Date\r\n';
    const rows =
      '0,Reserved,,,,,,,,[RFC5102],,2013-02-18\r\n' +
      '1,octetDeltaCount,unsigned64,deltaCounter,current,"The number of octets,\r\nmulti-line",octets,,,[RFC5102],0,2013-02-18\r\n' +
      '65-69,Assigned for NetFlow v9 compatibility,,,,,,,[RFC3954],[RFC5102],0,2013-02-18\r\n' +
      '416,,,,deprecated,"Duplicate of Information Element ID 352.",,,[RFC5477],,2,2014-05-13\r\n';
    assert.deepEqual(elementsFromCsv(header + rows), [
      {
        id: 1,
        name: 'octetDeltaCount',
        dataType: 'unsigned64',
        semantics: 'deltaCounter',
        units: 'octets',
        status: 'current',
      },
    ]);
    const dup = header + rows + '1,again,unsigned8,,current,,,,,,,\r\n';
    assert.throws(() => elementsFromCsv(dup), /listed twice/);
  });
});
