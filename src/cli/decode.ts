import type { FlowgateConfig } from '../config/types.js';

export interface DecodeCommandOptions {
  /** Show a progress bar (default: when stderr is a terminal). */
  progress: boolean;
}

/** `flowgate decode FILE...`: JSON lines on stdout, summary on stderr. Returns the exit code. STUB. */
export async function runDecode(files: string[], config: FlowgateConfig, opts: DecodeCommandOptions): Promise<number> {
  void files;
  void config;
  void opts;
  return 1;
}
