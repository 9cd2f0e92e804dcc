import type { Logger } from 'pino';
import type { FlowgateConfig } from '../config/types.js';

/** `flowgate collect`: runs until SIGINT/SIGTERM. STUB. */
export async function runCollect(config: FlowgateConfig, logger: Logger): Promise<void> {
  void config;
  logger.error('collect not implemented yet');
}
