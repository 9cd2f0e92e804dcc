/**
 * A record's addresses, parsed lazily and at most once per record, shared by every enrichment step
 * that looks at them. Parsing is most of the cost of an address rule, so the text is read as little
 * as possible: an IPv4 address the decoder handed over as a number (FlowRecord.srcip4/dstip4) is
 * taken as it is; an IPv6 address the decoder has just formatted is taken back as the numbers it was
 * formatted from (ParsedAddress.parse, record/address.ts); the exporter address, the same for a run
 * of records, is parsed again only when it changes. The pipeline calls begin(rec) once and hands the
 * same instance to AddressClassifier.classify, Tagger.tag and FlowFilter.keep.
 */
import type { FlowRecord } from '../record/flow-record.js';
import { ParsedAddress } from './prefix-set.js';

export class RecordAddresses {
  private rec: FlowRecord | null = null;
  private srcDone = false;
  private dstDone = false;
  private exporterDone = false;
  private readonly srcAddr = new ParsedAddress();
  private readonly dstAddr = new ParsedAddress();
  private readonly exporterAddr = new ParsedAddress();
  /** The text exporterAddr was parsed from: equal text, equal result. */
  private exporterText: string | null = null;

  /** Starts on a new record: addresses of the previous one are forgotten. */
  begin(rec: FlowRecord): void {
    this.rec = rec;
    this.srcDone = false;
    this.dstDone = false;
    this.exporterDone = false;
  }

  src(): ParsedAddress {
    if (!this.srcDone) {
      const rec = this.rec!;
      if (rec.srcip4 >= 0) this.srcAddr.setIpv4(rec.srcip4);
      else this.srcAddr.parse(rec.srcip);
      this.srcDone = true;
    }
    return this.srcAddr;
  }

  dst(): ParsedAddress {
    if (!this.dstDone) {
      const rec = this.rec!;
      if (rec.dstip4 >= 0) this.dstAddr.setIpv4(rec.dstip4);
      else this.dstAddr.parse(rec.dstip);
      this.dstDone = true;
    }
    return this.dstAddr;
  }

  exporter(): ParsedAddress {
    if (!this.exporterDone) {
      const text = this.rec!.flowsrcip;
      if (text !== this.exporterText) {
        this.exporterAddr.parse(text);
        this.exporterText = text;
      }
      this.exporterDone = true;
    }
    return this.exporterAddr;
  }
}
