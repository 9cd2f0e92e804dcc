/**
 * Sampling rates an exporter announced in options data, by sampler id (v9 48 / IPFIX 302
 * selectorId). Id `null` is the exporter-wide rate (options record without a sampler id, e.g. the
 * IOS "System" scope with 34 samplingInterval).
 */
export class SamplingTable {
  private readonly rates = new Map<number | null, number>();

  /** Bound once per table: handed to finishRecord for every record without allocating. */
  readonly lookup = (samplerId: number | null): number | null => this.rateFor(samplerId);

  set(samplerId: number | null, rate: number): void {
    this.rates.set(samplerId, rate);
  }

  has(samplerId: number | null): boolean {
    return this.rates.has(samplerId);
  }

  get size(): number {
    return this.rates.size;
  }

  /**
   * The rate for a sampler id; a record naming an id the exporter never described falls back to
   * the exporter-wide rate. A record without an id gets the exporter-wide rate, or the only rate
   * known when the exporter has a single sampler (Cisco IOS sends the sampler id in options data
   * but not always in the flow template).
   */
  rateFor(samplerId: number | null): number | null {
    if (samplerId !== null) {
      const r = this.rates.get(samplerId);
      if (r !== undefined) return r;
    }
    const wide = this.rates.get(null);
    if (wide !== undefined) return wide;
    if (samplerId === null && this.rates.size === 1) {
      for (const r of this.rates.values()) return r;
    }
    return null;
  }

  entries(): [number | null, number][] {
    return [...this.rates.entries()];
  }

  clear(): void {
    this.rates.clear();
  }
}
