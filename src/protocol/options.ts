/**
 * Trace options: one table, and the one check that uses it.
 *
 * Every option a session takes is a row of OPTIONS below: its name (the library's and
 * the socket's key), its kind, its default, its range, its CLI flag (or none) and one
 * line of help. Everything else derives from the rows: `resolveOptions`, the single
 * check, run where options enter the agent (the Session constructor, whether they came
 * from `trace()`, a socket `trace` request or `livetrace run`'s environment); the CLI's
 * flag definitions and their `--help` text; and the flag-to-value conversion the CLI does
 * (it converts strings to the table's types and lets this check refuse them, so a bad
 * `--depth` gets the same message from the CLI as from the library). docs/cli.md's table
 * is checked against the rows by a test.
 *
 * The defaults are deliberately conservative (redbug's spirit): every session ends by
 * itself, and a busy function can't flood anything. The upper bounds are there so that
 * no option, however given, can make a session hold unbounded memory or time: a queue
 * of 1 GiB at most, a week at most, 100 levels of nesting (deeper, the capture's own
 * recursion could exhaust the stack of a deeply recursive caller). Redaction is on by
 * default: keys, parameter names and secret-shaped values (`keepValues`, `redactValues`
 * turn the value rules off, never the key list).
 *
 * Types are strict: a count is a number (never "20"), a switch is a boolean (never
 * "yes"). Two forms are accepted because they mean one thing only: `for` as a number is
 * milliseconds, `rate` as a number N is N calls per second (as the string 'N' is).
 * `rate: false` and `rate: 'off'` both mean no rate limit. Unknown keys are refused: a
 * misspelt limit must not silently fall back to its default.
 */
import { LivetraceError } from './errors.js';
import type { Limits } from './events.js';
import { MAX_FRAME_BYTES } from './frame.js';

export interface TraceOptions {
  /** Calls to report before the session stops (default 100). */
  max?: number;
  /** Session duration: ms or '500ms', '30s', '5m', '1h' (default 60s). */
  for?: string | number;
  /** At most N calls per period: '100/1s', '10/500ms', N (per second), or false / 'off' for no rate limit (default 100/1s). */
  rate?: string | number | false;
  /** Over the rate, stop the session (reason 'rate') instead of dropping calls. */
  trip?: boolean;
  /** Add the `stack` action to every pattern. */
  stack?: boolean;
  /** Capture limits. */
  depth?: number;
  stringLimit?: number;
  items?: number;
  fields?: number;
  eventBytes?: number;
  /** Keys to redact besides the defaults. */
  redact?: string[];
  /** Value redaction rules to turn off ('auth', 'jwt', 'url', 'pem', 'headers', or 'all'); default none. */
  keepValues?: string[];
  /** false turns off every value redaction rule (as keepValues ['all']); keys and parameter names stay redacted. Default true. */
  redactValues?: boolean;
  /** Queue bounds for records nobody has read yet. */
  queueEvents?: number;
  queueBytes?: number;
  /** livetrace's own time in the target, ms a second on average (a bounded burst, a ceiling for one second: agent/session/breaker.ts), over which the session stops (reason 'overload') (CLI: --cpu-budget). */
  overloadMsPerSec?: number;
  /** Refuse patterns matching more functions than this (default 500) unless `force`. */
  maxFunctions?: number;
  force?: boolean;
  /** Track parent calls (call trees). Default true. Across await and callbacks once the session traces more than one function (docs/transparency.md). */
  parents?: boolean;
  /** Start even if nothing matches yet: patterns apply to modules that load later. */
  waitForModules?: boolean;
}

export type OptionName = keyof TraceOptions;
/** count: a whole number; duration: ms or '30s'; rate: '100/1s'; switch: a boolean; keys: strings; names: strings from `choices`. */
export type OptionKind = 'count' | 'duration' | 'rate' | 'switch' | 'keys' | 'names';

export interface OptionSpec {
  readonly name: OptionName;
  readonly kind: OptionKind;
  /** For counts and durations (ms) the range of the value; for rates of N; for keys and names of the list's length. */
  readonly min: number;
  readonly max: number;
  /** The default, in the form a user would give it. */
  readonly default: number | string | boolean | readonly string[];
  /** The default as `--help` and docs/cli.md show it ('' for none). */
  readonly shown: string;
  /** The CLI flag with its argument ('--cpu-budget <ms>'), or null for a library-only option. */
  readonly flag: string | null;
  readonly help: string;
  /** For names: the names the list may hold. */
  readonly choices?: readonly string[];
}

const MiB = 1024 * 1024;
/** Long enough for any real session; bounds every timer. */
const MAX_DURATION_MS = 7 * 24 * 3_600_000;
/** The longest redaction key: key names, not documents. */
const MAX_KEY_CHARS = 200;

/** The value redaction rules `keepValues` may turn off (src/agent/capture/secrets.ts), and 'all'. */
export const VALUE_RULES: readonly string[] = Object.freeze(['auth', 'jwt', 'url', 'pem', 'headers', 'all']);

type Default = OptionSpec['default'];

function row(name: OptionName, kind: OptionKind, range: [number, number], value: Default, flag: string | null, help: string, choices?: readonly string[]): OptionSpec {
  const shown = typeof value === 'boolean' ? (value ? 'on' : 'off') : Array.isArray(value) ? value.join(', ') : String(value);
  return Object.freeze({ name, kind, min: range[0], max: range[1], default: value, shown, flag, help, ...(choices === undefined ? {} : { choices }) });
}

/** The options, in the order `--help` lists them. */
export const OPTIONS: readonly OptionSpec[] = Object.freeze([
  row('max', 'count', [1, 1_000_000_000], 100, '--max <n>', 'stop after N reported calls'),
  row('for', 'duration', [1, MAX_DURATION_MS], '60s', '--for <duration>', 'stop after this long: 500ms, 30s, 5m, 1h; at most 7 days'),
  row('rate', 'rate', [1, 1_000_000], '100/1s', '--rate <n/period>', "at most N calls per period, e.g. 10/1s; over it calls are dropped and counted; 'off' for none"),
  row('trip', 'switch', [0, 0], false, '--trip', 'stop the session when the rate is exceeded, instead of dropping calls'),
  row('stack', 'switch', [0, 0], false, '--stack', "capture the caller's stack for every call (as the 'stack' action)"),
  row('depth', 'count', [0, 100], 3, '--depth <n>', 'how deep captured values are expanded, 0 to 100; 0 keeps an argument\'s own fields, nested objects by class'),
  row('stringLimit', 'count', [1, MiB], 255, '--string-limit <n>', 'longest captured string, in characters'),
  row('redact', 'keys', [0, 100], Object.freeze([]), '--redact <key>', 'also redact this key (repeatable; password, token, secret, ... always are)'),
  row(
    'keepValues',
    'names',
    [0, VALUE_RULES.length],
    Object.freeze([]),
    '--keep-values <rule>',
    'turn off one rule of value redaction: auth, jwt, url, pem, headers, or all (repeatable)',
    VALUE_RULES,
  ),
  row('redactValues', 'switch', [0, 0], true, '--no-redact-values', 'turn off every rule of value redaction (keys and parameter names stay redacted)'),
  row('maxFunctions', 'count', [1, 100_000], 500, '--max-functions <n>', 'refuse patterns matching more functions than this'),
  row('overloadMsPerSec', 'count', [1, 1000], 50, '--cpu-budget <ms>', "stop (reason 'overload') when livetrace's own time in the target passes this many ms a second on average (bursts up to 6x more, never over 7x in one second)"),
  row('force', 'switch', [0, 0], false, '--force', 'trace even a pattern that matches too much'),
  row('items', 'count', [0, 100_000], 100, null, 'elements captured per array, Map, Set or typed array; bytes per Buffer'),
  row('fields', 'count', [0, 10_000], 20, null, 'fields captured per object'),
  row('eventBytes', 'count', [256, MAX_FRAME_BYTES / 2], 8192, null, 'approximate JSON bytes of the values captured for one call'),
  row('queueEvents', 'count', [1, 1_000_000], 10_000, null, 'call records held for a reader before new ones are dropped'),
  row('queueBytes', 'count', [1024, 1024 * MiB], 4 * MiB, null, 'bytes of call records held for a reader before new ones are dropped'),
  row('parents', 'switch', [0, 0], true, null, 'track parent calls (call trees); across await and callbacks once the session traces more than one function'),
  row('waitForModules', 'switch', [0, 0], false, '--wait', 'start even if nothing matches yet: patterns apply to modules that load later, and to functions that run only in worker threads'),
]);

const BY_NAME: ReadonlyMap<string, OptionSpec> = new Map(OPTIONS.map((spec) => [spec.name, spec]));

export function optionSpec(name: OptionName): OptionSpec {
  return BY_NAME.get(name)!;
}



export interface ResolvedOptions extends Limits {
  stack: boolean;
  capture: { depth: number; stringLimit: number; items: number; fields: number; eventBytes: number; redact: string[]; keepValues: string[] };
  maxFunctions: number;
  force: boolean;
  parents: boolean;
  waitForModules: boolean;
}

/** The unlimited rate of `rate: false` / 'off'. */
const NO_RATE = { count: Number.MAX_SAFE_INTEGER, perMs: 1000 } as const;

/** Where an option can be given, for the hint of its error. */
function whereGiven(spec: OptionSpec): string {
  const flag = spec.flag === null ? 'no CLI flag (library and socket only)' : `CLI flag ${spec.flag}`;
  return `Option '${spec.name}': ${flag}; default ${spec.shown === '' ? 'none' : spec.shown}. ${spec.help}.`;
}

function invalid(spec: OptionSpec, input: unknown, expected: string): LivetraceError {
  const label = spec.flag === null ? spec.name : `${spec.name} (${spec.flag.split(' ')[0]})`;
  return new LivetraceError('LT_OPTION_INVALID', `${label} takes ${expected}, not ${show(input)}`, { input, hint: whereGiven(spec) });
}

function show(input: unknown): string {
  if (typeof input === 'string') return JSON.stringify(input.length > 80 ? `${input.slice(0, 80)}...` : input);
  if (typeof input === 'number' || typeof input === 'boolean' || input === null || input === undefined) return String(input);
  return Array.isArray(input) ? 'an array' : typeof input === 'object' ? 'an object' : `a ${typeof input}`;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** '30s' -> 30000. A bare number is ms. */
export function parseDuration(input: string | number, option: OptionName = 'for'): number {
  let ms = NaN;
  if (typeof input === 'number') ms = input;
  else if (typeof input === 'string') {
    const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(input);
    if (match) ms = Number(match[1]) * UNITS[match[2] ?? 'ms']!;
  }
  if (Number.isFinite(ms) && ms > 0 && ms <= MAX_DURATION_MS) return ms;
  throw invalid(optionSpec(option), input, 'a duration such as 500ms, 30s, 5m or 1h (a positive number of ms, s, m or h, at most 7 days)');
}

/** '100/1s' -> { count: 100, perMs: 1000 }; '50' or 50 -> 50 per second; 'off' -> no limit. */
export function parseRate(input: string | number): { count: number; perMs: number } {
  const spec = optionSpec('rate');
  if (typeof input === 'string' && input.trim().toLowerCase() === 'off') return { ...NO_RATE };
  let count = typeof input === 'number' ? input : NaN;
  let perMs = 1000;
  const match = typeof input === 'string' ? /^\s*(\d+)\s*(?:\/\s*(.+))?$/.exec(input) : null;
  if (match) {
    count = Number(match[1]);
    if (match[2] !== undefined) {
      // '/s' is one second, '/1s' too.
      const period = /^[a-z]+$/.test(match[2].trim()) ? `1${match[2].trim()}` : match[2];
      try {
        perMs = parseDuration(period, 'rate');
      } catch {
        perMs = NaN;
      }
    }
  }
  if (Number.isSafeInteger(count) && count >= spec.min && count <= spec.max && perMs >= 1) return { count, perMs };
  throw invalid(spec, input, `calls per period such as 100/1s or 10/500ms (N from ${spec.min} to ${spec.max}, a period of at least 1ms), or 'off'`);
}

function count(spec: OptionSpec, value: unknown): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= spec.min && value <= spec.max) return value;
  throw invalid(spec, value, `a whole number from ${spec.min} to ${spec.max}`);
}

function switchOf(spec: OptionSpec, value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  throw invalid(spec, value, 'true or false');
}

function keys(spec: OptionSpec, value: unknown): string[] {
  if (Array.isArray(value) && value.length <= spec.max && value.every((k) => typeof k === 'string' && k.trim() !== '' && k.length <= MAX_KEY_CHARS)) {
    return [...(value as string[])];
  }
  throw invalid(spec, value, `a list of at most ${spec.max} key names (non-empty strings of at most ${MAX_KEY_CHARS} characters)`);
}

function names(spec: OptionSpec, value: unknown): string[] {
  const choices = spec.choices ?? [];
  if (Array.isArray(value) && value.length <= spec.max && value.every((k) => typeof k === 'string' && choices.includes(k))) {
    return [...(value as string[])];
  }
  throw invalid(spec, value, `a list of ${choices.join(', ')}`);
}

/** Checks a value against its row; returns it in the form the engine uses. */
function checked(spec: OptionSpec, value: unknown): number | boolean | string[] | { count: number; perMs: number } {
  switch (spec.kind) {
    case 'count':
      return count(spec, value);
    case 'switch':
      return switchOf(spec, value);
    case 'keys':
      return keys(spec, value);
    case 'names':
      return names(spec, value);
    case 'duration':
      if (typeof value !== 'number' && typeof value !== 'string') throw invalid(spec, value, 'a duration such as 30s, or a number of ms');
      return parseDuration(value, spec.name);
    case 'rate':
      if (value === false) return { ...NO_RATE };
      if (typeof value !== 'number' && typeof value !== 'string') throw invalid(spec, value, "a rate such as 100/1s, or false / 'off'");
      return parseRate(value);
  }
}

/** The defaults, through the same check as given values (so a bad row fails at load, not in a session). */
const DEFAULTS: ReadonlyMap<OptionName, ReturnType<typeof checked>> = new Map(OPTIONS.map((spec) => [spec.name, checked(spec, spec.default)]));

/**
 * The one check of trace options (LT_OPTION_INVALID with the offending input and a hint
 * naming the CLI flag), and their defaults filled in. `undefined` values count as absent.
 */
export function resolveOptions(options: TraceOptions = {}): ResolvedOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new LivetraceError('LT_OPTION_INVALID', `trace options must be an object, not ${show(options)}`, { input: options });
  }
  const given = new Map<OptionName, ReturnType<typeof checked>>();
  for (const key of Object.keys(options)) {
    const spec = BY_NAME.get(key);
    if (spec === undefined) {
      throw new LivetraceError('LT_OPTION_INVALID', `unknown trace option ${show(key)}`, {
        input: key,
        hint: `Trace options are ${OPTIONS.map((s) => s.name).join(', ')} (docs/api.md).`,
      });
    }
    const value = (options as Record<string, unknown>)[key];
    if (value !== undefined) given.set(spec.name, checked(spec, value));
  }
  const get = <T>(name: OptionName): T => (given.has(name) ? given.get(name) : DEFAULTS.get(name)) as T;
  const rate = get<{ count: number; perMs: number }>('rate');
  const trip = get<boolean>('trip');
  if (trip && rate.count === NO_RATE.count) {
    throw new LivetraceError('LT_OPTION_INVALID', 'trip (--trip) needs a rate to trip on; it cannot be used with rate off', {
      input: { trip: options.trip, rate: options.rate },
      hint: whereGiven(optionSpec('trip')),
    });
  }
  return {
    max: get('max'),
    forMs: get('for'),
    rate: { ...rate },
    trip,
    queueEvents: get('queueEvents'),
    queueBytes: get('queueBytes'),
    overloadMsPerSec: get('overloadMsPerSec'),
    stack: get('stack'),
    capture: {
      depth: get('depth'),
      stringLimit: get('stringLimit'),
      items: get('items'),
      fields: get('fields'),
      eventBytes: get('eventBytes'),
      redact: [...get<string[]>('redact')],
      keepValues: get<boolean>('redactValues') ? [...get<string[]>('keepValues')] : ['all'],
    },
    maxFunctions: get('maxFunctions'),
    force: get('force'),
    parents: get('parents'),
    waitForModules: get('waitForModules'),
  };
}
