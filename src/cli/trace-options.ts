/**
 * The options every tracing command shares (trace, run, demo): limits, capture bounds,
 * output format. They are checked here, before anything touches a process, with the
 * engine's own parser, so a bad `--for` is exit 2 with the same message the library
 * gives, and the agent never sees a session it would refuse.
 */
import { Option, type Command } from 'commander';
import { resolveOptions, VALUE_RULES, type TraceOptions } from '../protocol/options.js';
import { LivetraceError } from '../protocol/errors.js';

export type OutputFormat = 'pretty' | 'json' | 'pino';

/** What commander collects for the shared options. */
export interface TraceCommandOptions {
  max?: number;
  for?: string;
  rate?: string;
  trip?: boolean;
  stack?: boolean;
  depth?: number;
  stringLimit?: number;
  redact?: string[];
  keepValues?: string[];
  redactValues?: boolean;
  format: OutputFormat;
  json?: boolean;
  maxFunctions?: number;
  force?: boolean;
  output?: string;
  cpuBudget?: number;
}

export function addTraceOptions(command: Command): Command {
  return command
    .option('--max <n>', 'stop after N calls (default 100)', positiveInteger('--max'))
    .option('--for <duration>', 'stop after this long: 500ms, 30s, 5m, 1h (default 60s)')
    .option('--rate <n/period>', "at most N calls per period, e.g. 10/1s; over it calls are dropped and counted; 'off' for none (default 100/1s)")
    .option('--trip', 'stop the session when the rate is exceeded, instead of dropping calls')
    .option('--stack', "capture the caller's stack for every call (as the 'stack' action)")
    .option('--depth <n>', 'how deep captured values are expanded (default 3)', positiveInteger('--depth'))
    .option('--string-limit <n>', 'longest captured string, in characters (default 255)', positiveInteger('--string-limit'))
    .option('--redact <key>', 'also redact this key (repeatable; password, token, secret, ... always are)', collect)
    .option('--keep-values <rule>', 'turn off one rule of value redaction: auth, jwt, url, pem, headers (repeatable)', collectRule)
    .option('--no-redact-values', 'turn off every rule of value redaction (keys and parameter names are still redacted)')
    .addOption(new Option('--format <format>', 'output format').choices(['pretty', 'json', 'pino']).default('pretty'))
    .option('--json', 'same as --format json')
    .option('--max-functions <n>', 'refuse patterns matching more functions than this (default 500)', positiveInteger('--max-functions'))
    .option('--force', 'trace even a pattern that matches too much')
    .option('--cpu-budget <ms>', "stop (reason 'overload') when livetrace spends more than this many ms per second in the target (default 50)", positiveInteger('--cpu-budget'))
    .option('--output <file>', 'write the events to this file instead of stdout');
}

/** The session options for the engine; throws LT_OPTION_INVALID for a value it would refuse. */
export function traceOptionsOf(options: TraceCommandOptions): TraceOptions {
  const trace: TraceOptions = {};
  if (options.max !== undefined) trace.max = options.max;
  if (options.for !== undefined) trace.for = options.for;
  if (options.rate !== undefined) trace.rate = options.rate.trim().toLowerCase() === 'off' ? false : options.rate;
  if (options.trip === true) trace.trip = true;
  if (options.stack === true) trace.stack = true;
  if (options.depth !== undefined) trace.depth = options.depth;
  if (options.stringLimit !== undefined) trace.stringLimit = options.stringLimit;
  if (options.redact !== undefined) trace.redact = [...options.redact];
  if (options.redactValues === false) trace.keepValues = ['all'];
  else if (options.keepValues !== undefined) trace.keepValues = [...options.keepValues];
  if (options.maxFunctions !== undefined) trace.maxFunctions = options.maxFunctions;
  if (options.force === true) trace.force = true;
  if (options.cpuBudget !== undefined) trace.overloadMsPerSec = options.cpuBudget;
  if (trace.trip === true && trace.rate === false) {
    throw new LivetraceError('LT_OPTION_INVALID', '--trip needs a rate to trip on; it cannot be used with --rate off', {
      input: '--trip --rate off',
    });
  }
  resolveOptions(trace);
  return trace;
}

export function formatOf(options: Pick<TraceCommandOptions, 'format' | 'json'>): OutputFormat {
  return options.json === true ? 'json' : options.format;
}

function positiveInteger(flag: string): (value: string) => number {
  return (value) => {
    const n = /^\d+$/.test(value.trim()) ? Number(value) : NaN;
    if (!Number.isSafeInteger(n) || n < 1) {
      throw new LivetraceError('LT_OPTION_INVALID', `${flag} takes a positive whole number, not '${value}'`, { input: value });
    }
    return n;
  };
}

function collectRule(value: string, previous: string[] | undefined): string[] {
  const rule = value.trim().toLowerCase();
  if (!VALUE_RULES.includes(rule)) {
    throw new LivetraceError('LT_OPTION_INVALID', `--keep-values takes ${VALUE_RULES.join(', ')}, not '${value}'`, { input: value });
  }
  return [...(previous ?? []), rule];
}

function collect(value: string, previous: string[] | undefined): string[] {
  if (value.trim() === '') throw new LivetraceError('LT_OPTION_INVALID', '--redact takes a key name', { input: value });
  return [...(previous ?? []), value];
}
