/**
 * The `flowgate` command line: parses arguments, loads the configuration and hands it to a
 * command. Separate from main.ts (which only runs it) so tests can drive it in-process with
 * their own collect/decode functions and output.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import type { Logger } from 'pino';
import type { AgentOptions } from '../agent/agent.js';
import { CLOUD_PROVIDERS, type CloudProvider } from '../cloud/parse-flow-log.js';
import { ConfigError } from '../config/errors.js';
import { type LoadOptions, loadConfig } from '../config/load.js';
import type { FlowgateConfig } from '../config/types.js';
import { closeLogger, createLogger } from '../log/logger.js';
import { agentOptionsFromFlags, runAgent } from './agent.js';
import { runCollect } from './collect.js';
import { configCheck, configPrint, type Output } from './config-command.js';
import { type DecodeCommandOptions, runDecode } from './decode.js';
import { type DemoCommandOptions, runDemo } from './demo.js';
import { type IngestCommandOptions, runIngest } from './ingest.js';
import { type QueryCommandOptions, runQuery, runTop, type TopCommandOptions } from './query-commands.js';

export interface CliDeps extends Output {
  runCollect: (config: FlowgateConfig, logger: Logger, readConfig?: () => FlowgateConfig) => Promise<void>;
  runDemo: (config: FlowgateConfig, logger: Logger, opts: DemoCommandOptions) => Promise<void>;
  runDecode: (files: string[], config: FlowgateConfig, opts: DecodeCommandOptions) => Promise<number>;
  env: NodeJS.ProcessEnv;
  /** Whether stderr is a terminal (decode progress default). */
  stderrIsTTY: boolean;
  /** Tests only: where the default configuration file is looked for. */
  defaultConfigFile?: string;
  /** Tests only: logger for collect (default: from the configuration's log section). */
  logger?: Logger;
}

const defaultDeps: CliDeps = {
  runCollect: (config, logger, readConfig) => runCollect(config, logger, null, readConfig ?? null),
  runDemo,
  runDecode,
  env: process.env,
  stderrIsTTY: process.stderr.isTTY === true,
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
};

interface GlobalOptions {
  config?: string;
  logLevel?: string;
  set?: string[];
}

interface CollectOptions {
  listen?: string[];
  tcpListen?: string[];
  allow?: string[];
  outputFile?: string;
  /** undefined unless --stdout or --no-stdout is given (the configuration decides). */
  stdout?: boolean;
  templatedb?: string;
}

function version(): string {
  // ../../package.json from both src/cli (tsx) and dist/cli (built).
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

function collectValues(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Global options as loadConfig input: --set pairs first, so that dedicated flags win over them. */
function loadOptions(g: GlobalOptions, deps: CliDeps, file: string | undefined = g.config): LoadOptions {
  const flags: Record<string, unknown> = {};
  const flagLabels: Record<string, string> = {};
  for (const pair of g.set ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0)
      throw new ConfigError([`flag --set: expected KEY=VALUE (e.g. flow.udpbuffer=8388608), got "${pair}"`]);
    flags[pair.slice(0, eq).trim()] = pair.slice(eq + 1);
  }
  if (g.logLevel !== undefined) {
    flags['log.level'] = g.logLevel;
    flagLabels['log.level'] = '--log-level';
  }
  return { file: file ?? null, env: deps.env, flags, flagLabels, defaultFile: deps.defaultConfigFile };
}

/** `collect` options onto their configuration keys (only those given: the file keeps the rest). */
export function collectFlags(o: CollectOptions): {
  flags: Record<string, unknown>;
  labels: Record<string, string>;
} {
  const flags: Record<string, unknown> = {};
  const labels: Record<string, string> = {};
  const put = (key: string, label: string, value: unknown) => {
    if (value === undefined) return;
    flags[key] = value;
    labels[key] = label;
  };
  put('flow.listen', '--listen', o.listen);
  put('flow.tcplisten', '--tcp-listen', o.tcpListen);
  put('flow.allow', '--allow', o.allow);
  put('output.file', '--output-file', o.outputFile);
  put('output.stdout', o.stdout === false ? '--no-stdout' : '--stdout', o.stdout);
  put('general.templatedb', '--templatedb', o.templatedb);
  return { flags, labels };
}

function buildProgram(deps: CliDeps, setExit: (code: number) => void): Command {
  const program = new Command('flowgate');
  program
    .description('Network flow collector: NetFlow v5/v9, IPFIX and sFlow v5')
    .version(version(), '-V, --version')
    .option('-c, --config <file>', 'configuration file (default /etc/flowgate/flowgate.yaml if it exists)')
    .option('--log-level <level>', 'trace, debug, info, warn, error or fatal (log.level)')
    .option(
      '--set <key=value>',
      'set any configuration key, e.g. --set flow.udpbuffer=8388608 (repeatable)',
      collectValues,
    )
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: deps.out, writeErr: deps.err });

  program
    .command('collect')
    .description('receive flows on UDP (and TCP for IPFIX), store them and serve the API')
    .option('--listen <addr...>', 'UDP listen addresses "host:port" / "[v6]:port" (flow.listen)')
    .option('--tcp-listen <addr...>', 'IPFIX over TCP listen addresses (flow.tcplisten)')
    .option('--allow <cidr...>', 'accept only these exporters (flow.allow)')
    .option('--output-file <file>', 'append JSON lines to this file (output.file)')
    .option('--stdout', 'also print JSON lines on stdout (output.stdout)')
    .option('--no-stdout', 'do not print JSON lines on stdout (output.stdout)')
    .option('--templatedb <file>', 'template database file (general.templatedb)')
    .action(async (opts: CollectOptions, cmd: Command) => {
      const load = loadOptions(cmd.optsWithGlobals<GlobalOptions & CollectOptions>(), deps);
      const extra = collectFlags(opts);
      const read = () =>
        loadConfig({
          ...load,
          flags: { ...load.flags, ...extra.flags },
          flagLabels: { ...load.flagLabels, ...extra.labels },
        });
      const { config, file } = read();
      const logger = deps.logger ?? createLogger(config.log, { syslog: config.syslog });
      logger.info({ file }, 'configuration loaded');
      try {
        await deps.runCollect(config, logger, () => read().config);
      } finally {
        await closeLogger(logger);
      }
      setExit(0);
    });

  program
    .command('demo')
    .description(
      'the collector plus built-in NetFlow v9, IPFIX and sFlow exporters sending realistic traffic (with an attack) over loopback: open the dashboard',
    )
    .option('--rate <flows>', 'flows per second sent by the built-in exporters', '1000')
    .option('--attack-after <seconds>', 'seconds before the reflection flood and port scan start', '45')
    .option('--no-attack', 'no attack traffic')
    .option('--seed <n>', 'seed of the traffic model (same seed, same traffic)', '1')
    .action(
      async (opts: { rate: string; attackAfter: string; attack: boolean; seed: string }, cmd: Command) => {
        const { config, file } = loadConfig(loadOptions(cmd.optsWithGlobals<GlobalOptions>(), deps));
        const number = (v: string, what: string): number => {
          const n = Number(v);
          if (!Number.isFinite(n) || n < 0)
            throw new Error(`demo: ${what} must be a non-negative number, got "${v}"`);
          return n;
        };
        const demo: DemoCommandOptions = {
          rate: number(opts.rate, '--rate'),
          attackAfterSec: opts.attack === false ? null : number(opts.attackAfter, '--attack-after'),
          seed: number(opts.seed, '--seed'),
        };
        const logger = deps.logger ?? createLogger(config.log, { syslog: config.syslog });
        logger.info({ file }, 'configuration loaded');
        try {
          await deps.runDemo(config, logger, demo);
        } finally {
          await closeLogger(logger);
        }
        setExit(0);
      },
    );

  program
    .command('decode')
    .description(
      'decode capture files (pcap, pcapng, RFC 5655 IPFIX files, raw UDP payloads) to JSON lines on stdout',
    )
    .argument('<files...>', 'capture files')
    .option('--no-progress', 'no progress bar (shown by default when stderr is a terminal)')
    .action(async (files: string[], opts: { progress: boolean }, cmd: Command) => {
      const { config } = loadConfig(loadOptions(cmd.optsWithGlobals<GlobalOptions>(), deps));
      const progress = opts.progress !== false && deps.stderrIsTTY;
      setExit(await deps.runDecode(files, config, { progress }));
    });

  program
    .command('ingest')
    .description('read cloud flow logs (AWS VPC, GCP VPC, Azure NSG/VNet) to JSON lines on stdout')
    .argument('<provider>', 'aws, gcp or azure')
    .argument(
      '<source>',
      'a file, a folder, s3://bucket/prefix or azure://container/prefix (AZURE_STORAGE_CONNECTION_STRING[_FILE])',
    )
    .option('--format <logformat>', "AWS: the flow log's LogFormat, for files without a header line")
    .option('--checkpoint <file>', 'progress file: a later run continues where this one stopped')
    .option('--follow', 'keep reading new objects and appended data until interrupted')
    .option('--poll <seconds>', 'with --follow: seconds between looks for new data (default 10)')
    .option('--pattern <regex>', 'only objects whose name matches')
    .option(
      '--endpoint <url>',
      "S3: an S3-compatible endpoint (credentials: the AWS SDK's chain, e.g. AWS_ACCESS_KEY_ID)",
    )
    .option('--region <region>', "S3: the bucket's region (default AWS_REGION, else us-east-1)")
    .option('--no-progress', 'no progress bar (shown by default when stderr is a terminal)')
    .action(async (provider: string, source: string, opts: IngestCommandOptions, cmd: Command) => {
      if (!(CLOUD_PROVIDERS as readonly string[]).includes(provider)) {
        deps.err(`flowgate ingest: provider must be aws, gcp or azure, got ${JSON.stringify(provider)}\n`);
        setExit(1);
        return;
      }
      const { config } = loadConfig(loadOptions(cmd.optsWithGlobals<GlobalOptions>(), deps));
      const progress = opts.progress !== false && deps.stderrIsTTY;
      setExit(await runIngest(provider as CloudProvider, source, config, { ...opts, progress }));
    });

  program
    .command('agent')
    .description(
      "meter this host's own traffic (conntrack, else libpcap) and export it as IPFIX to a collector",
    )
    .requiredOption(
      '--collector <host:port>',
      'the IPFIX collector, e.g. 10.0.0.5:4739 or [2001:db8::5]:4739',
    )
    .option('--transport <udp|tcp>', 'IPFIX over UDP or TCP (default udp)')
    .option(
      '--source <auto|conntrack|pcap>',
      'conntrack accounting, libpcap, or auto: conntrack when usable (default auto)',
    )
    .option('--interface <name>', 'pcap: the interface to capture on (default any)')
    .option('--active-timeout <seconds>', 'export long flows every this many seconds (default 60)')
    .option('--inactive-timeout <seconds>', 'export a flow idle this long (default 15)')
    .option('--max-flows <n>', 'flows held at once; the oldest is exported early beyond it (default 65536)')
    .option('--domain-id <n>', 'IPFIX observation domain id (default 1)')
    .option('--template-refresh <seconds>', 'UDP: send the templates again this often (default 60)')
    .action(async (opts: Record<string, string | boolean | undefined>, cmd: Command) => {
      const { config } = loadConfig(loadOptions(cmd.optsWithGlobals<GlobalOptions>(), deps));
      let options: AgentOptions;
      try {
        options = agentOptionsFromFlags(opts);
      } catch (e) {
        deps.err(`flowgate agent: ${(e as Error).message}\n`);
        setExit(1);
        return;
      }
      const logger = deps.logger ?? createLogger(config.log, { syslog: config.syslog });
      try {
        await runAgent(options, logger);
      } finally {
        await closeLogger(logger);
      }
      setExit(0);
    });

  const apiOptions = (cmd: Command): Command =>
    cmd
      .option(
        '--from <time>',
        'start of the flow-time range: epoch ms or ISO 8601 (default: 1 hour before --to)',
      )
      .option('--to <time>', 'end of the range (default: now)')
      .option('--api <url>', 'the collector API (default: http://<api.listen>, e.g. http://127.0.0.1:8080)')
      .option(
        '--token-file <file>',
        'file holding the API token (default: api.token / FLOWGATE_API_TOKEN_FILE)',
      );
  apiOptions(
    program
      .command('query')
      .description('flow records from the running collector, newest first, as JSON lines')
      .argument('[filter...]', 'filter, e.g. src net 10.0.0.0/8 and dst port 443 (docs/filter-language.md)')
      .option('--limit <n>', 'at most this many records (API default 100, at most 10000)'),
  ).action(async (filter: string[], opts: QueryCommandOptions, cmd: Command) => {
    const { config } = loadConfig(loadOptions(cmd.optsWithGlobals<GlobalOptions>(), deps));
    setExit(await runQuery(filter.join(' '), opts, config, deps));
  });
  apiOptions(
    program
      .command('top')
      .description('top talkers, ports, protocols, ... from the running collector, as a table')
      .argument(
        '<dimension>',
        'srcip, dstip, srcport, dstport, protocol, srcas, dstas, srccountry, dstcountry, exporter, input, output or flowtype',
      )
      .argument('[filter...]', 'filter, e.g. proto udp and not dst port 53')
      .option('--metric <metric>', 'order by bits, packets or flows (default bits)')
      .option('--limit <n>', 'rows (default 10, at most 1000)'),
  ).action(async (dimension: string, filter: string[], opts: TopCommandOptions, cmd: Command) => {
    const { config } = loadConfig(loadOptions(cmd.optsWithGlobals<GlobalOptions>(), deps));
    setExit(await runTop(dimension, filter.join(' '), opts, config, deps));
  });

  const configCmd = program.command('config').description('check or print the configuration');
  configCmd
    .command('check')
    .description('validate a configuration file (with environment and flags applied); exit 1 on errors')
    .argument('[file]', 'configuration file (default: --config, else /etc/flowgate/flowgate.yaml)')
    .action((file: string | undefined, _opts: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      setExit(configCheck(loadOptions(g, deps, file ?? g.config), deps));
    });
  configCmd
    .command('print')
    .description('print the effective configuration as YAML (secrets masked)')
    .action((_opts: unknown, cmd: Command) => {
      setExit(configPrint(loadOptions(cmd.optsWithGlobals<GlobalOptions>(), deps), deps));
    });
  return program;
}

/** Runs the command line; resolves to the exit code. Configuration errors: message only, exit 1. */
export async function runCli(argv: string[], overrides: Partial<CliDeps> = {}): Promise<number> {
  const deps: CliDeps = { ...defaultDeps, ...overrides };
  let code = 0;
  const program = buildProgram(deps, (c) => {
    code = c;
  });
  try {
    await program.parseAsync(argv);
    return code;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    if (e instanceof ConfigError) {
      deps.err(`${e.message}\n`);
      return 1;
    }
    deps.err(`flowgate: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}
