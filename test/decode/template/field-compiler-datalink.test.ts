/**
 * IE 315 dataLinkFrameSection (RFC 7133) and 312 dataLinkFrameSize through both compiled readers
 * (generated and operation table), on hand-built records shaped like Juniper inline monitoring
 * (akvorado_netflow_datalink: 10 input, 14 output, 61 direction, 312, 315 variable length).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultDecoderSettings } from '../../../src/decode/settings.js';
import { RecordScratch, VARIABLE_LENGTH } from '../../../src/decode/template/contract.js';
import { readerSource } from '../../../src/decode/template/field-codegen.js';
import { compileInterpretedTemplate, compileTemplate } from '../../../src/decode/template/field-compiler.js';
import { Op } from '../../../src/decode/template/field-semantics.js';
import { FlowRecord } from '../../../src/record/flow-record.js';
import { type FieldBytes, ip4, templateRecord, u } from '../../helpers/template-fields.js';

/** Ethernet, 802.1Q VLAN 231, IPv4 51.51.51.51 -> 52.52.52.52 TOS 0, UDP 55501 -> 11777. */
const FRAME = Buffer.from(
  '182ad36e503f b40216 5592f4 8100 00e7 0800 4500 0060 8f00 0000 7711 e9b0 33333333 34343434 d8cd 2e01 004c da0f'.replace(
    / /g,
    '',
  ),
  'hex',
);
/** The same frame cut 2 bytes into the UDP header: ports are beyond the field. */
const FRAME_CUT = FRAME.subarray(0, 14 + 4 + 20 + 2);

function juniper(section: FieldBytes, extra: FieldBytes[] = []): FieldBytes[] {
  return [
    { id: 10, bytes: u(582, 4) },
    { id: 14, bytes: u(0, 4) },
    { id: 61, bytes: u(0, 1) },
    { id: 312, bytes: u(114, 2) },
    section,
    ...extra,
  ];
}

type Compile = typeof compileTemplate;

function suite(compile: Compile): void {
  function decode(fields: FieldBytes[], scratch = new RecordScratch()) {
    const t = templateRecord(fields);
    const compiled = compile(t.fields, 'ipfix', defaultDecoderSettings());
    const rec = new FlowRecord();
    const next = compiled.read(t.record, 0, t.record.length, rec, scratch);
    return { rec, next, length: t.record.length };
  }

  it('variable-length 315: flow keys and VLAN from the frame, one frame of 312 octets', () => {
    const r = decode(juniper({ id: 315, length: VARIABLE_LENGTH, bytes: FRAME }));
    assert.equal(r.next, r.length);
    assert.equal(r.rec.input, 582);
    assert.equal(r.rec.flowdirection, 'ingress');
    assert.equal(r.rec.srcvlan, 231);
    assert.equal(r.rec.ipversion, 4);
    assert.equal(r.rec.srcip, '51.51.51.51');
    assert.equal(r.rec.dstip, '52.52.52.52');
    assert.equal(r.rec.protocolint, 17);
    assert.equal(r.rec.srcport, 55501);
    assert.equal(r.rec.dstport, 11777);
    assert.equal(r.rec.tos, 0);
    assert.equal(r.rec.fragmented, false);
    assert.equal(r.rec.bits, 114 * 8);
    assert.equal(r.rec.packets, 1);
  });

  it("the template's own elements win, whether they come before or after 315", () => {
    const section: FieldBytes = { id: 315, length: VARIABLE_LENGTH, bytes: FRAME };
    const before = decode([
      { id: 8, bytes: ip4('192.0.2.1') },
      { id: 4, bytes: u(6, 1) },
      ...juniper(section),
    ]);
    const after = decode(
      juniper(section, [
        { id: 8, bytes: ip4('192.0.2.1') },
        { id: 4, bytes: u(6, 1) },
      ]),
    );
    for (const r of [before, after]) {
      assert.equal(r.rec.srcip, '192.0.2.1');
      assert.equal(r.rec.protocolint, 6);
      // what the template does not say still comes from the frame
      assert.equal(r.rec.dstip, '52.52.52.52');
      assert.equal(r.rec.srcport, 55501);
      assert.equal(r.rec.srcvlan, 231);
    }
  });

  it('octet and packet counters of the template win over 312 in any order', () => {
    const section: FieldBytes = { id: 315, length: VARIABLE_LENGTH, bytes: FRAME };
    const after = decode(
      juniper(section, [
        { id: 1, bytes: u(1000, 4) },
        { id: 2, bytes: u(3, 4) },
      ]),
    );
    const before = decode([{ id: 1, bytes: u(1000, 4) }, { id: 2, bytes: u(3, 4) }, ...juniper(section)]);
    for (const r of [before, after]) {
      assert.equal(r.rec.bits, 8000);
      assert.equal(r.rec.packets, 3);
    }
  });

  it('fixed-length 315: the frame is read only up to the end of the field', () => {
    // The next field's bytes would be ports 55501 -> 11777 if the parser read past the section.
    const r = decode(
      juniper({ id: 315, bytes: FRAME_CUT }, [{ id: 252, bytes: Buffer.from('2e01004c', 'hex') }]),
    );
    assert.equal(r.next, r.length);
    assert.equal(r.rec.srcip, '51.51.51.51');
    assert.equal(r.rec.protocolint, 17);
    assert.equal(r.rec.srcport, null);
    assert.equal(r.rec.dstport, null);
  });

  it('an empty section fills nothing; the scratch forgets a frame between records', () => {
    const empty = decode(juniper({ id: 315, length: VARIABLE_LENGTH, bytes: Buffer.alloc(0) }));
    assert.equal(empty.next, empty.length);
    assert.equal(empty.rec.srcip, null);
    assert.equal(empty.rec.srcvlan, null);
    assert.equal(empty.rec.bits, 114 * 8);
    const scratch = new RecordScratch();
    decode(juniper({ id: 315, length: VARIABLE_LENGTH, bytes: FRAME }), scratch);
    const plain = decode([{ id: 10, bytes: u(7, 4) }], scratch);
    assert.equal(plain.rec.input, 7);
    assert.equal(plain.rec.srcip, null);
    assert.equal(scratch.frameOffset, -1);
  });
}

describe('IE 315 dataLinkFrameSection: generated reader', () => suite(compileTemplate));
describe('IE 315 dataLinkFrameSection: operation-table reader', () => suite(compileInterpretedTemplate));

describe('IE 315 in the generated source', () => {
  const plan = (ops: number[], lengths: number[]) => ({
    ops: Uint8Array.from(ops),
    rules: new Uint8Array(ops.length),
    lengths: Int32Array.from(lengths),
    extraSlots: new Int16Array(ops.length).fill(-1),
    extraNames: [],
    extraKinds: [],
    minRecordLength: lengths.reduce((a, b) => a + (b < 0 ? 1 : b), 0),
    variable: lengths.some((l) => l < 0),
    hasReverse: false,
    maxFieldLength: 4096,
  });

  it('the frame is parsed after the last field, and only by templates that carry 315', () => {
    const fixed = readerSource(plan([Op.INPUT, Op.FRAME_SECTION, Op.SRCIP4], [4, 64, 4]));
    assert.match(fixed, /scratch\.frameOffset = off \+ 4; scratch\.frameLength = 64;/);
    assert.ok(fixed.indexOf('applyDataLinkFrame') > fixed.indexOf('rec.srcip = ipv4At'));
    const variable = readerSource(plan([Op.INPUT, Op.FRAME_SECTION, Op.SRCIP4], [4, -1, 4]));
    assert.ok(variable.indexOf('applyDataLinkFrame') > variable.indexOf('rec.srcip = ipv4At'));
    assert.doesNotMatch(readerSource(plan([Op.INPUT, Op.SRCIP4], [4, 4])), /applyDataLinkFrame/);
  });
});
