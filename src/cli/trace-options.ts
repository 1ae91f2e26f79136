/**
 * The options every tracing command shares (trace, run, demo): the session options of
 * the table in protocol/options.ts, and the output options that are the CLI's own.
 *
 * The session flags, their help and their defaults are generated from the table. The CLI
 * does not judge their values: it converts each flag's string to the table's type (a
 * count to a number, 'off' to false) and hands the result to the engine's own check,
 * `resolveOptions`, before anything touches a process. So a bad `--depth` is exit 2 with
 * the message the library and the agent give, and the agent never sees a session it
 * would refuse.
 */
import { Option, type Command } from 'commander';
import { OPTIONS, resolveOptions, type OptionSpec, type TraceOptions } from '../protocol/options.js';

export type OutputFormat = 'pretty' | 'json' | 'pino';

/** What commander collects: the table's flags as strings (camelCase of the flag), and the output options. */
export interface TraceCommandOptions {
  [flag: string]: unknown;
  format: OutputFormat;
  json?: boolean;
  output?: string;
}

/** commander's attribute name for a flag: '--cpu-budget <ms>' -> 'cpuBudget', '--no-redact-values' -> 'redactValues'. */
function attributeOf(flag: string): string {
  return flag.split(' ')[0]!.slice(2).replace(/^no-/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** The help line of a table row, with its default when it has a value. */
export function helpOf(spec: OptionSpec): string {
  return spec.kind === 'switch' || spec.shown === '' ? spec.help : `${spec.help} (default ${spec.shown})`;
}

const FLAGGED = OPTIONS.filter((spec): spec is OptionSpec & { flag: string } => spec.flag !== null);

export function addTraceOptions(command: Command): Command {
  for (const spec of FLAGGED) {
    if (spec.kind === 'keys' || spec.kind === 'names') command.option(spec.flag, helpOf(spec), collect);
    else command.option(spec.flag, helpOf(spec));
  }
  return command
    .addOption(new Option('--format <format>', 'output format').choices(['pretty', 'json', 'pino']).default('pretty'))
    .option('--json', 'same as --format json')
    .option('--output <file>', 'write the events to this file instead of stdout');
}

/** A flag's string in the table's type; what the table would refuse is passed on as given, for its check to name. */
function convert(spec: OptionSpec, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const text = value.trim();
  switch (spec.kind) {
    case 'count':
      return /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : value;
    case 'rate':
      // false, not 'off', so that an agent of any version takes it.
      return text.toLowerCase() === 'off' ? false : value;
    default:
      return value;
  }
}

/** The session options for the engine; throws LT_OPTION_INVALID for a value it would refuse. */
export function traceOptionsOf(options: TraceCommandOptions): TraceOptions {
  const trace: Record<string, unknown> = {};
  for (const spec of FLAGGED) {
    const value = options[attributeOf(spec.flag)];
    // commander gives a `--no-x` switch its default (true) when the flag is absent: not sent.
    if (value === undefined || (spec.kind === 'switch' && value === spec.default)) continue;
    trace[spec.name] = Array.isArray(value) ? [...(value as unknown[])] : convert(spec, value);
  }
  resolveOptions(trace as TraceOptions);
  return trace as TraceOptions;
}

export function formatOf(options: Pick<TraceCommandOptions, 'format' | 'json'>): OutputFormat {
  return options.json === true ? 'json' : options.format;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
