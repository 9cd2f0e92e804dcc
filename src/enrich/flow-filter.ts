/**
 * Flow filters with the connector's semantics (research/netoflow.md: "firewall-like rules to drop
 * flows by srcnets, dstnets, srcports, dstports, protocols, srcasns, dstasns; fields AND-ed,
 * default action + rules"). Read as a firewall: rules are tried in order and the first whose
 * conditions all hold decides; a record no rule matches gets the default action. A rule without
 * `action` takes the opposite of the default (a list of exceptions), so under the default
 * `accept` a bare rule drops. Dropped records are counted per rule and for the default.
 */
import type { FlowRecord } from '../record/flow-record.js';
import {
  type Conditions,
  compileConditions,
  FILTER_CONDITION_KEYS,
  type FilterConditionOptions,
} from './conditions.js';
import { EnrichOptionError, listOption, mappingOption, shown } from './option-error.js';
import { RecordAddresses } from './record-addresses.js';

export type FilterAction = 'accept' | 'drop';

/** One rule as in the config file. */
export interface FlowFilterRuleOptions extends FilterConditionOptions {
  /** Shown in counters; default "rule N" (1-based). */
  name?: string;
  /** Default: the opposite of the filter's defaultaction. */
  action?: FilterAction;
}

/** The filter as in the config file. */
export interface FlowFilterOptions {
  /** For records no rule matches; default "accept". */
  defaultaction?: FilterAction;
  rules?: FlowFilterRuleOptions[];
}

const FILTER_KEYS = ['defaultaction', 'rules'] as const;
const RULE_KEYS = ['name', 'action', ...FILTER_CONDITION_KEYS] as const;

interface FilterRule {
  readonly name: string;
  readonly keep: boolean;
  readonly conditions: Conditions;
}

export interface FilterRuleCount {
  readonly rule: string;
  readonly action: FilterAction;
  /** Records this rule decided. */
  readonly matched: number;
  /** Records this rule dropped (0 for accept rules). */
  readonly dropped: number;
}

export class FlowFilter {
  private readonly addresses = new RecordAddresses();
  private readonly matchedByRule: number[];
  /** Records dropped because no rule matched and the default is drop. */
  droppedByDefault = 0;

  constructor(
    readonly defaultAction: FilterAction,
    private readonly rules: readonly FilterRule[],
  ) {
    this.matchedByRule = rules.map(() => 0);
  }

  /**
   * True to keep the record, false to drop it (and count the drop). `addresses`: as Tagger.tag.
   */
  keep(rec: FlowRecord, addresses?: RecordAddresses): boolean {
    const rules = this.rules;
    if (rules.length > 0) {
      const view = addresses ?? this.addresses;
      if (addresses === undefined) view.begin(rec);
      for (let i = 0; i < rules.length; i++) {
        const rule = rules[i];
        if (rule.conditions.matches(rec, view)) {
          this.matchedByRule[i]++;
          return rule.keep;
        }
      }
    }
    if (this.defaultAction === 'accept') return true;
    this.droppedByDefault++;
    return false;
  }

  /** Per-rule counters in rule order. */
  counts(): FilterRuleCount[] {
    return this.rules.map((r, i) => ({
      rule: r.name,
      action: r.keep ? 'accept' : 'drop',
      matched: this.matchedByRule[i],
      dropped: r.keep ? 0 : this.matchedByRule[i],
    }));
  }

  /** All records dropped so far. */
  get dropped(): number {
    let n = this.droppedByDefault;
    this.rules.forEach((r, i) => {
      if (!r.keep) n += this.matchedByRule[i];
    });
    return n;
  }
}

function action(v: unknown, path: string): FilterAction {
  if (v !== 'accept' && v !== 'drop') {
    throw new EnrichOptionError(path, `expected "accept" or "drop", got ${shown(v)}`);
  }
  return v;
}

/** Validates the filter options (path names them in error texts) and compiles them. */
export function compileFlowFilter(options: unknown = {}, path = 'filter'): FlowFilter {
  const o = mappingOption(options ?? {}, path, FILTER_KEYS);
  const defaultAction =
    o.defaultaction === undefined ? 'accept' : action(o.defaultaction, `${path}.defaultaction`);
  const names = new Set<string>();
  const rules = listOption(o.rules ?? [], `${path}.rules`).map((raw, i): FilterRule => {
    const where = `${path}.rules[${i}]`;
    const r = mappingOption(raw, where, RULE_KEYS);
    let name = `rule ${i + 1}`;
    if (r.name !== undefined) {
      if (typeof r.name !== 'string' || r.name.trim() === '') {
        throw new EnrichOptionError(`${where}.name`, `expected a non-empty name, got ${shown(r.name)}`);
      }
      name = r.name;
    }
    if (names.has(name)) throw new EnrichOptionError(`${where}.name`, `"${name}" names two rules`);
    names.add(name);
    const ruleAction =
      r.action === undefined
        ? defaultAction === 'accept'
          ? 'drop'
          : 'accept'
        : action(r.action, `${where}.action`);
    return { name, keep: ruleAction === 'accept', conditions: compileConditions(r, where) };
  });
  return new FlowFilter(defaultAction, rules);
}
