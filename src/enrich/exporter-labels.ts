/**
 * Names, sites and tags per exporter from the `exporters:` configuration (first entry whose
 * address or CIDR holds the exporter, as for its sampling settings): flowsrcname, site, and the
 * entry's tags added to the record's. Answers are cached per exporter address, bounded like the
 * rest of the per-exporter state.
 */
import { exporterMatcher } from '../config/decoder-settings.js';
import type { ExporterConfig } from '../config/types.js';
import type { FlowRecord } from '../record/flow-record.js';

interface Labels {
  name: string | null;
  site: string | null;
  tags: readonly string[];
}

const NONE: Labels = { name: null, site: null, tags: [] };

export class ExporterLabels {
  private readonly match: (address: string) => ExporterConfig | null;
  private readonly cache = new Map<string, Labels>();
  /** False when no entry sets a name, site or tag: apply() is then skipped altogether. */
  readonly active: boolean;

  constructor(
    entries: ExporterConfig[],
    private readonly maxExporters: number,
  ) {
    this.match = exporterMatcher(entries);
    this.active = entries.some((e) => e.name !== null || e.site !== null || e.tags.length > 0);
  }

  apply(rec: FlowRecord): void {
    const address = rec.flowsrcip;
    let labels = this.cache.get(address);
    if (labels === undefined) {
      const e = this.match(address);
      labels = e === null ? NONE : { name: e.name, site: e.site, tags: Object.freeze([...e.tags]) };
      if (this.cache.size >= this.maxExporters) this.cache.clear();
      this.cache.set(address, labels);
    }
    if (labels.name !== null) rec.flowsrcname = labels.name;
    if (labels.site !== null) rec.site = labels.site;
    if (labels.tags.length > 0) {
      // Tag lists may be shared between records (see FlowRecord.tags): the exporter's own list
      // as it is when the record has none, else a new list.
      if (rec.tags === null) rec.tags = labels.tags;
      else {
        const tags = [...rec.tags];
        for (const t of labels.tags) if (!tags.includes(t)) tags.push(t);
        rec.tags = tags;
      }
    }
  }
}
