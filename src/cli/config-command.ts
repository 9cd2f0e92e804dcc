/** `flowgate config check` and `flowgate config print`. */
import { ConfigError } from '../config/errors.js';
import { type LoadOptions, loadConfig } from '../config/load.js';
import { printConfig } from '../config/print.js';
import { apiExposureProblem } from '../serve/api-server.js';

export interface Output {
  out: (text: string) => void;
  err: (text: string) => void;
}

/** Validates the file with the environment and flags on top, as `collect` would see it. Exit code. */
export function configCheck(load: LoadOptions, io: Output): number {
  try {
    const { config, file } = loadConfig(load);
    const where = file ?? '(no file: defaults, environment and flags)';
    // What only `collect` would otherwise find at start: an API exposed without a token.
    const a = config.api;
    const exposed = a.enabled
      ? apiExposureProblem(a.listen, a.token, a.allownotoken, a.tlscert !== null)
      : null;
    if (exposed !== null) {
      io.err(`${where}: ${exposed}\n`);
      return 1;
    }
    io.out(`${where}: ok\n`);
    return 0;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    io.err(`${e.message}\n`);
    return 1;
  }
}

/** The effective configuration as YAML, secrets masked. Exit code. */
export function configPrint(load: LoadOptions, io: Output): number {
  const { config, file } = loadConfig(load);
  io.out(`# effective configuration (${file ?? 'no file'} < environment < flags)\n${printConfig(config)}`);
  return 0;
}
