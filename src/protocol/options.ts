/**
 * Trace options: parsing of the forms the CLI and the library accept ('30s', '100/1s')
 * and the defaults, which are deliberately conservative (redbug's spirit): every session
 * ends by itself, and a busy function can't flood anything.
 */
import { LivetraceError } from './errors.js';
import type { Limits } from './events.js';

export interface TraceOptions {
  /** Calls to report before the session stops (default 100). */
  max?: number;
  /** Session duration: ms or '500ms', '30s', '5m', '1h' (default 60s). */
  for?: string | number;
  /** At most N calls per period: '100/1s', '10/500ms', or false for no rate limit (default 100/1s). */
  rate?: string | false;
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
  /** Queue bounds for records nobody has read yet. */
  queueEvents?: number;
  queueBytes?: number;
  /** Engine time per second over which the session stops (reason 'overload'), ms. */
  overloadMsPerSec?: number;
  /** Refuse patterns matching more functions than this (default 500) unless `force`. */
  maxFunctions?: number;
  force?: boolean;
  /** Track parent calls (call trees). Default true. */
  parents?: boolean;
  /** Start even if nothing matches yet: patterns apply to modules that load later. */
  waitForModules?: boolean;
}

export interface ResolvedOptions extends Limits {
  stack: boolean;
  capture: { depth: number; stringLimit: number; items: number; fields: number; eventBytes: number; redact: string[]; keepValues: string[] };
  maxFunctions: number;
  force: boolean;
  parents: boolean;
  waitForModules: boolean;
}

export const defaults = {
  max: 100,
  forMs: 60_000,
  rate: { count: 100, perMs: 1000 },
  queueEvents: 10_000,
  queueBytes: 4 * 1024 * 1024,
  overloadMsPerSec: 50,
  maxFunctions: 500,
  depth: 3,
  stringLimit: 255,
  items: 100,
  fields: 20,
  eventBytes: 8192,
} as const;

/** The value redaction rules `keepValues` may turn off (src/agent/capture/secrets.ts). */
export const VALUE_RULES: readonly string[] = ['auth', 'jwt', 'url', 'pem', 'headers', 'all'];

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
/** Long enough for any real session; bounds every timer. */
const MAX_DURATION_MS = 7 * 24 * 3_600_000;

/** '30s' -> 30000. A bare number is ms. */
export function parseDuration(input: string | number, option = 'for'): number {
  if (typeof input === 'number') {
    if (Number.isFinite(input) && input > 0 && input <= MAX_DURATION_MS) return input;
  } else {
    const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(input);
    if (match) {
      const ms = Number(match[1]) * UNITS[match[2] ?? 'ms']!;
      if (ms > 0 && ms <= MAX_DURATION_MS) return ms;
    }
  }
  throw new LivetraceError('LT_OPTION_INVALID', `--${option} takes a duration such as 500ms, 30s, 5m or 1h`, {
    input,
    hint: `Durations are a positive number with ms, s, m or h (at most 7 days); got ${JSON.stringify(input)}.`,
  });
}

/** '100/1s' -> { count: 100, perMs: 1000 }; '50' -> 50 per second. */
export function parseRate(input: string): { count: number; perMs: number } {
  const match = /^\s*(\d+)\s*(?:\/\s*(.+))?$/.exec(input);
  if (match) {
    const count = Number(match[1]);
    let perMs = 1000;
    if (match[2] !== undefined) {
      // '/s' is one second, '/1s' too.
      const period = /^[a-z]+$/.test(match[2].trim()) ? `1${match[2].trim()}` : match[2];
      try {
        perMs = parseDuration(period, 'rate');
      } catch {
        perMs = NaN;
      }
    }
    if (count >= 1 && Number.isSafeInteger(count) && perMs >= 1) return { count, perMs };
  }
  throw new LivetraceError('LT_OPTION_INVALID', '--rate takes calls per period such as 100/1s or 10/500ms', {
    input,
    hint: `Give N/period with N >= 1 and a period of at least 1ms; got ${JSON.stringify(input)}.`,
  });
}

function positiveInt(value: number | undefined, fallback: number, option: string): number {
  if (value === undefined) return fallback;
  if (Number.isSafeInteger(value) && value > 0) return value;
  throw new LivetraceError('LT_OPTION_INVALID', `--${option} takes a positive whole number`, { input: value });
}

export function resolveOptions(options: TraceOptions = {}): ResolvedOptions {
  const rate = options.rate === false ? { count: Number.MAX_SAFE_INTEGER, perMs: 1000 } :
    options.rate === undefined ? { ...defaults.rate } : parseRate(options.rate);
  const redact = options.redact ?? [];
  if (!Array.isArray(redact) || redact.some((k) => typeof k !== 'string' || k.length === 0)) {
    throw new LivetraceError('LT_OPTION_INVALID', '--redact takes non-empty key names', { input: redact });
  }
  const keepValues = options.keepValues ?? [];
  if (!Array.isArray(keepValues) || keepValues.some((k) => typeof k !== 'string' || !VALUE_RULES.includes(k))) {
    throw new LivetraceError('LT_OPTION_INVALID', `--keep-values takes ${VALUE_RULES.join(', ')}`, {
      input: keepValues,
      hint: 'Each names a rule of value redaction to turn off (docs/security.md, "Redaction").',
    });
  }
  return {
    max: positiveInt(options.max, defaults.max, 'max'),
    forMs: options.for === undefined ? defaults.forMs : parseDuration(options.for),
    rate,
    trip: options.trip === true,
    queueEvents: positiveInt(options.queueEvents, defaults.queueEvents, 'queue-events'),
    queueBytes: positiveInt(options.queueBytes, defaults.queueBytes, 'queue-bytes'),
    overloadMsPerSec: positiveInt(options.overloadMsPerSec, defaults.overloadMsPerSec, 'overload'),
    stack: options.stack === true,
    capture: {
      depth: positiveInt(options.depth, defaults.depth, 'depth'),
      stringLimit: positiveInt(options.stringLimit, defaults.stringLimit, 'string-limit'),
      items: positiveInt(options.items, defaults.items, 'items'),
      fields: positiveInt(options.fields, defaults.fields, 'fields'),
      eventBytes: positiveInt(options.eventBytes, defaults.eventBytes, 'event-bytes'),
      redact,
      keepValues,
    },
    maxFunctions: positiveInt(options.maxFunctions, defaults.maxFunctions, 'max-functions'),
    force: options.force === true,
    parents: options.parents !== false,
    waitForModules: options.waitForModules === true,
  };
}
