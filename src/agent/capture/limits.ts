/**
 * The limits a capturer works under, checked once when it is built: depth, items per
 * collection, fields per object, characters per string, a byte budget per event, the
 * keys to redact, and the value rules (secrets.ts) turned off.
 */
import { LivetraceError } from '../../protocol/errors.js';
import { ObjectFreeze } from '../../safe/intrinsics.js';

export interface CaptureOptions {
  /** Nesting levels expanded below a captured value (as util.inspect's depth). Default 3, at most 100. */
  depth?: number;
  /** Elements per array, Map, Set, typed array; bytes per Buffer. Default 100. */
  items?: number;
  /** Fields per object. Default 20. */
  fields?: number;
  /** Characters (UTF-16 code units) per string. Default 255. */
  stringLimit?: number;
  /** Approximate JSON bytes for everything captured between begin() and end(). Default 8192. */
  eventBytes?: number;
  /** Keys to redact besides the defaults: exact names or `*`/`?` globs (src/agent/capture/redaction.ts). */
  redact?: readonly string[];
  /** Value rules (src/agent/capture/secrets.ts) turned off, or 'all'. */
  keepValues?: readonly string[];
}

export interface CaptureLimits {
  depth: number;
  items: number;
  fields: number;
  stringLimit: number;
  eventBytes: number;
  redact: readonly string[];
  keepValues: readonly string[];
}

export const DEFAULT_CAPTURE_LIMITS: Readonly<CaptureLimits> = ObjectFreeze({
  depth: 3,
  items: 100,
  fields: 20,
  stringLimit: 255,
  eventBytes: 8192,
  redact: ObjectFreeze([]) as readonly string[],
  keepValues: ObjectFreeze([]) as readonly string[],
});

/** Deeper than this, recursion itself could exhaust the stack of a deeply recursive caller. */
export const MAX_CAPTURE_DEPTH = 100;

function checkLimit(name: string, value: unknown, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    throw new LivetraceError('LT_OPTION_INVALID', `capture ${name} must be an integer from 0 to ${max}, got ${String(value)}`, {
      input: value,
    });
  }
  return value;
}

export function resolveCaptureLimits(options: CaptureOptions = {}): CaptureLimits {
  const d = DEFAULT_CAPTURE_LIMITS;
  return {
    depth: checkLimit('depth', options.depth, d.depth, MAX_CAPTURE_DEPTH),
    items: checkLimit('items', options.items, d.items),
    fields: checkLimit('fields', options.fields, d.fields),
    stringLimit: checkLimit('stringLimit', options.stringLimit, d.stringLimit),
    eventBytes: checkLimit('eventBytes', options.eventBytes, d.eventBytes),
    redact: options.redact === undefined ? d.redact : ObjectFreeze([...options.redact]),
    keepValues: options.keepValues === undefined ? d.keepValues : ObjectFreeze([...options.keepValues]),
  };
}
