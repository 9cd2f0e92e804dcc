import { join } from 'node:path';
import type { Logger } from 'pino';
import type { CloudSourceConfig } from '../config/types.js';
import type { FlowRecord } from '../record/flow-record.js';
import { FlowLogSource, type FlowLogSourceStats } from './flow-log-source.js';
import { Checkpoint } from './read/checkpoint.js';
import { azureConnectionStringFromEnv, openFlowLogReader } from './read/open-reader.js';

/**
 * The collector's continuous cloud flow-log reading (`cloud.sources`): one FlowLogSource per
 * entry, each following its folder, bucket or container, its progress in
 * `<datadir>/cloud/<name>.checkpoint.json` so a restart neither skips nor repeats an object.
 */
export class CloudSources {
  private readonly sources: FlowLogSource[] = [];
  private readonly running: Promise<void>[] = [];
  private readonly abort = new AbortController();

  /**
   * Opens every source (throws, naming the source, when one cannot be opened: a typo in a
   * bucket name should stop the start, not be found a day later) and starts reading.
   * `accept` takes a piece's records; the piece is checkpointed when it resolves.
   */
  constructor(
    configs: readonly CloudSourceConfig[],
    datadir: string,
    accept: (records: FlowRecord[]) => Promise<void>,
    private readonly logger: Logger,
  ) {
    for (const c of configs) {
      let reader: ReturnType<typeof openFlowLogReader>;
      try {
        reader = openFlowLogReader({
          source: c.source,
          checkpoint: Checkpoint.open(join(datadir, 'cloud', `${c.name}.checkpoint.json`)),
          pollMs: c.poll * 1000,
          pattern: c.pattern === null ? null : new RegExp(c.pattern),
          endpoint: c.endpoint,
          region: c.region,
          accessKeyId: c.accesskeyid,
          secretAccessKey: c.secretaccesskey,
          connectionString: c.connectionstring ?? azureConnectionStringFromEnv(process.env),
        });
      } catch (e) {
        throw new Error(`cloud source ${c.name}: ${(e as Error).message}`);
      }
      this.sources.push(
        new FlowLogSource(reader, {
          name: c.name,
          provider: c.provider,
          ...(c.format === null ? {} : { format: c.format }),
          onRecords: accept,
          onProblem: (where, problem) => logger.warn({ cloud: c.name, source: where }, problem),
        }),
      );
    }
  }

  start(): void {
    for (const s of this.sources) {
      this.logger.info({ cloud: s.stats.name, source: s.stats.description }, 'reading cloud flow logs');
      this.running.push(
        s.run(true, this.abort.signal).catch((e: unknown) => {
          // Only a failing `accept` ends a run; the collector is stopping or its pipeline broke.
          s.stats.lastError = (e as Error).message;
          this.logger.error(
            { cloud: s.stats.name, err: (e as Error).message },
            'cloud flow-log reading stopped',
          );
        }),
      );
    }
  }

  stats(): FlowLogSourceStats[] {
    return this.sources.map((s) => ({ ...s.stats }));
  }

  /** Stops polling and waits for the piece being delivered, so its checkpoint is written. */
  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.all(this.running);
  }
}
