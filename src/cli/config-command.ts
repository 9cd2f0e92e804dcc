/** `flowgate config check` and `flowgate config print`. */
import { ConfigError } from '../config/errors.js';
import { type LoadOptions, loadConfig } from '../config/load.js';
import { printConfig } from '../config/print.js';

export interface Output {
  out: (text: string) => void;
  err: (text: string) => void;
}

/** Validates the file with the environment and flags on top, as `collect` would see it. Exit code. */
export function configCheck(load: LoadOptions, io: Output): number {
  try {
    const { file } = loadConfig(load);
    io.out(`${file ?? '(no file: defaults, environment and flags)'}: ok\n`);
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
