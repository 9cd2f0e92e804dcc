/**
 * Tagging rules: ordered; every rule whose conditions all hold appends its labels to `rec.tags`
 * (in rule order, each label once); a matching rule with `final: true` stops evaluation.
 * Conditions and their syntax: conditions.ts.
 */
import type { FlowRecord } from '../record/flow-record.js';
import {
  type Conditions,
  compileConditions,
  TAG_CONDITION_KEYS,
  type TagConditionOptions,
} from './conditions.js';
import { EnrichOptionError, listOption, mappingOption, shown } from './option-error.js';
import { RecordAddresses } from './record-addresses.js';

/** One rule as in the config file. */
export interface TagRuleOptions extends TagConditionOptions {
  /** Labels appended when the rule matches (at least one). */
  labels: string[];
  /** Stop evaluating later rules when this one matches; default false. */
  final?: boolean;
}

const RULE_KEYS = ['labels', 'final', ...TAG_CONDITION_KEYS] as const;

interface TagRule {
  readonly conditions: Conditions;
  readonly labels: readonly string[];
  readonly final: boolean;
}

export class Tagger {
  private readonly addresses = new RecordAddresses();
  /** Records each rule matched, by rule index (for /stats). */
  readonly matched: number[];
  /**
   * For records that had no tags before the rules: the label list of each combination of matched
   * rules (bit i = rule i; rules 0-30), built once, frozen and shared by every record with that
   * combination. An array per tagged record was most of the rules' cost (garbage collection).
   */
  private readonly byMatched = new Map<number, readonly string[]>();

  constructor(private readonly rules: readonly TagRule[]) {
    this.matched = rules.map(() => 0);
  }

  get size(): number {
    return this.rules.length;
  }

  /**
   * Applies the rules to `rec`; returns true when at least one matched. `addresses`, when given, is
   * the pipeline's view already begun on `rec` (shared with the other steps, see record-addresses.ts).
   */
  tag(rec: FlowRecord, addresses?: RecordAddresses): boolean {
    const rules = this.rules;
    if (rules.length === 0) return false;
    const view = addresses ?? this.addresses;
    if (addresses === undefined) view.begin(rec);
    if (rec.tags === null && rules.length <= 31) return this.tagUntagged(rec, view);
    // A copy, made once per record: rec.tags may be an array shared with other records (an
    // exporter's configured tags), which must not grow.
    let own: string[] | null = null;
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i];
      if (!rule.conditions.matches(rec, view)) continue;
      this.matched[i]++;
      if (own === null) {
        own = rec.tags === null ? [] : rec.tags.slice();
        rec.tags = own;
      }
      for (const label of rule.labels) if (!own.includes(label)) own.push(label);
      if (rule.final) break;
    }
    return own !== null;
  }

  private tagUntagged(rec: FlowRecord, view: RecordAddresses): boolean {
    const rules = this.rules;
    let matched = 0;
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i] as TagRule;
      if (!rule.conditions.matches(rec, view)) continue;
      this.matched[i]++;
      matched |= 1 << i;
      if (rule.final) break;
    }
    if (matched === 0) return false;
    let labels = this.byMatched.get(matched);
    if (labels === undefined) {
      const list: string[] = [];
      rules.forEach((rule, i) => {
        if ((matched & (1 << i)) === 0) return;
        for (const label of rule.labels) if (!list.includes(label)) list.push(label);
      });
      labels = Object.freeze(list);
      // At most 2^31 combinations in theory, a handful in practice; bounded all the same.
      if (this.byMatched.size >= 4096) this.byMatched.clear();
      this.byMatched.set(matched, labels);
    }
    rec.tags = labels;
    return true;
  }
}

/** Validates the rule list (path names it in error texts) and compiles it. */
export function compileTags(rules: unknown = [], path = 'tags'): Tagger {
  const compiled = listOption(rules ?? [], path).map((raw, i): TagRule => {
    const where = `${path}[${i}]`;
    const r = mappingOption(raw, where, RULE_KEYS);
    const labels = listOption(r.labels, `${where}.labels`);
    if (labels.length === 0)
      throw new EnrichOptionError(`${where}.labels`, 'a rule needs at least one label');
    labels.forEach((l, j) => {
      if (typeof l !== 'string' || l.trim() === '') {
        throw new EnrichOptionError(`${where}.labels[${j}]`, `expected a non-empty label, got ${shown(l)}`);
      }
    });
    const final = r.final ?? false;
    if (typeof final !== 'boolean') {
      throw new EnrichOptionError(`${where}.final`, `expected true or false, got ${shown(final)}`);
    }
    return {
      conditions: compileConditions(r, where),
      labels: [...new Set(labels as string[])],
      final,
    };
  });
  return new Tagger(compiled);
}
