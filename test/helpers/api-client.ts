/**
 * A small HTTP client for a running collector's API (`/api/top`, `/api/timeseries`,
 * `/api/exporters`, `/stats`), for end-to-end tests that check what the store answers. Errors carry
 * the status and the body the API sent, so a failing assertion says why the API refused.
 */
import type {
  ExporterSummary,
  Metric,
  TimeRange,
  TimeseriesPoint,
  TopRow,
} from '../../src/store/contract.js';

/** bits, packets and flows added up over rows or points. */
export interface Totals {
  bits: number;
  packets: number;
  flows: number;
}

/** What `/stats` says about the store (the collector's own entry: health plus its queue). */
export interface StoreStats {
  name: string;
  ready: boolean;
  lastError: string | null;
  recordsWritten: number;
  queueDepth: number;
  drops: number;
}

export class ApiClient {
  constructor(readonly baseUrl: string) {}

  async get<T>(path: string, params: Record<string, string | number | undefined> = {}): Promise<T> {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined) query.set(k, String(v));
    const url = `${this.baseUrl}${path}${query.size > 0 ? `?${query}` : ''}`;
    const res = await fetch(url, { signal: AbortSignal.timeout(15_000) });
    const text = await res.text();
    if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${text}`);
    return JSON.parse(text) as T;
  }

  async top(q: {
    range: TimeRange;
    dimension: string;
    metric: Metric;
    filter?: string;
    limit?: number;
  }): Promise<TopRow[]> {
    const body = await this.get<{ rows: TopRow[] }>('/api/top', {
      from: q.range.fromMs,
      to: q.range.toMs,
      dimension: q.dimension,
      metric: q.metric,
      filter: q.filter,
      limit: q.limit,
    });
    return body.rows;
  }

  async timeseries(q: { range: TimeRange; bucketSec: number; filter?: string }): Promise<TimeseriesPoint[]> {
    const body = await this.get<{ points: TimeseriesPoint[] }>('/api/timeseries', {
      from: q.range.fromMs,
      to: q.range.toMs,
      bucket: q.bucketSec,
      filter: q.filter,
    });
    return body.points;
  }

  async exporters(range: TimeRange): Promise<ExporterSummary[]> {
    const body = await this.get<{ exporters: ExporterSummary[] }>('/api/exporters', {
      from: range.fromMs,
      to: range.toMs,
    });
    return body.exporters;
  }

  async storeStats(): Promise<StoreStats | null> {
    const body = await this.get<{ store: StoreStats | null }>('/stats');
    return body.store;
  }
}

export function sumTotals(rows: readonly Totals[]): Totals {
  return rows.reduce(
    (a, r) => ({ bits: a.bits + r.bits, packets: a.packets + r.packets, flows: a.flows + r.flows }),
    {
      bits: 0,
      packets: 0,
      flows: 0,
    },
  );
}
