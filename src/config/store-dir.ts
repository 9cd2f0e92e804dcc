import { join } from 'node:path';
import type { FlowgateConfig } from './types.js';

/** The flow store directory: `store.dir`, else `flows` under `general.datadir`. */
export function storeDir(config: Pick<FlowgateConfig, 'general' | 'store'>): string {
  return config.store.dir ?? join(config.general.datadir, 'flows');
}
