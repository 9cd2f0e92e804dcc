/**
 * Counting each flow once. A flow that crosses several exporters, or enters and leaves one router,
 * is exported several times; summing every copy doubles the totals. `countonce:` rules say which
 * copies count: per exporter (address or CIDR, or every exporter), the records whose ingress
 * (input) or egress (output) interface has a given class, e.g. ingress on "boundary" interfaces
 * only. A record of an exporter some rule covers counts when one of those rules matches it;
 * exporters no rule covers count everything.
 *
 * A copy that does not count is kept (searchable, delivered) but stands for no flow: its `weight`
 * becomes 0, so every estimate (bits × samplerate × weight, flows = sum of weight) in the store,
 * the API, detection and downstream consumers leaves it out, and the tag "uncounted" says why.
 */
import { addressMatcher } from '../config/decoder-settings.js';
import type { CountOnceConfig } from '../config/types.js';
import type { FlowRecord } from '../record/flow-record.js';

export const UNCOUNTED_TAG = 'uncounted';
const UNCOUNTED_ONLY: readonly string[] = Object.freeze([UNCOUNTED_TAG]);

interface Rule {
  /** Null: the rule covers every exporter. */
  covers: ((exporter: string) => CountOnceConfig | null) | null;
  class: string;
  ingress: boolean;
}

export class CountOnce {
  private readonly rules: Rule[];
  /** Rules that apply to an exporter, per address (bounded like other per-exporter state). */
  private readonly byExporter = new Map<string, Rule[]>();
  private uncounted = 0;

  constructor(
    rules: readonly CountOnceConfig[],
    private readonly maxExporters: number,
  ) {
    this.rules = rules.map((r) => ({
      covers: r.exporter === null ? null : addressMatcher([r], (x) => x.exporter as string),
      class: r.class,
      ingress: r.direction === 'ingress',
    }));
  }

  get active(): boolean {
    return this.rules.length > 0;
  }

  /** Records marked as not counted so far. */
  get uncountedRecords(): number {
    return this.uncounted;
  }

  apply(rec: FlowRecord): void {
    const rules = this.rulesFor(rec.flowsrcip);
    if (rules.length === 0) return;
    for (const r of rules) {
      const classes = r.ingress ? rec.inputclasses : rec.outputclasses;
      if (classes?.includes(r.class)) return;
    }
    rec.weight = 0;
    // Tag lists may be shared between records (see FlowRecord.tags): a new one, never a push.
    if (rec.tags === null) rec.tags = UNCOUNTED_ONLY;
    else if (!rec.tags.includes(UNCOUNTED_TAG)) rec.tags = [...rec.tags, UNCOUNTED_TAG];
    this.uncounted++;
  }

  private rulesFor(exporter: string): Rule[] {
    let rules = this.byExporter.get(exporter);
    if (rules !== undefined) return rules;
    rules = this.rules.filter((r) => r.covers === null || r.covers(exporter) !== null);
    if (this.byExporter.size >= this.maxExporters) this.byExporter.clear();
    this.byExporter.set(exporter, rules);
    return rules;
  }
}
