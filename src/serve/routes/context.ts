/** What the route groups need from the running process (all read-only snapshots). */
import type { CollectorStats, ReloadResult } from '../../collector.js';
import type { TemplateExporterStats } from '../../decode/template/template-decoder.js';
import type { AlertStore } from '../../detect/alert-store.js';
import type { FlowStore, StoreHealth } from '../../store/contract.js';
import type { FlowgateMetrics } from '../metrics.js';

export interface RouteContext {
  collector: { stats(): CollectorStats };
  templates: () => TemplateExporterStats[];
  store: { health(): StoreHealth } | null;
  /** For the query routes; null = they answer 503. */
  flowStore: FlowStore | null;
  metrics: FlowgateMetrics;
  /** For /api/alerts; absent or null = detection is off. */
  alerts?: AlertStore | null;
  /** For POST /api/reload (what SIGHUP does); absent or null: 404. */
  reload?: ReloadHandler | null;
}

/** Re-reads and applies the configuration: what changed, or why the new one is not valid. */
export type ReloadHandler = () => Promise<ReloadResult | { error: string }>;
