/**
 * A configuration problem an operator can act on. `problems` holds one line per problem, each
 * naming where the value came from (file and line, environment variable, flag), the dotted key and
 * what is wrong; the message is those lines joined, so printing it is enough (no stack trace).
 */
export class ConfigError extends Error {
  readonly problems: string[];

  constructor(problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
    this.problems = problems;
  }
}
