import assert from 'node:assert/strict';
import type { FlowRecord } from '../../src/record/flow-record.js';

/** The named fields of a record, for one deepEqual against exact expected values. */
export function pickFields<K extends keyof FlowRecord>(
  r: FlowRecord | undefined,
  keys: readonly K[],
): Pick<FlowRecord, K> {
  assert.ok(r, 'record missing');
  const out = {} as Pick<FlowRecord, K>;
  for (const k of keys) out[k] = r[k];
  return out;
}
