/**
 * Bounded, safe snapshots of the values a traced call sees (arguments, `this`, the
 * return value or the thrown one), in the JSON form of src/protocol/value.ts.
 *
 * The capturer runs inside the user's process, in the middle of the user's call, so it
 * holds itself to four rules:
 *
 * 1. It never runs user code. Every read follows src/safe/property.ts: properties are
 *    read through their descriptors, so a getter is reported as `{"$":"getter"}` and
 *    never called; a Proxy is reported as `{"$":"proxy"}`, never opened (nor is a
 *    prototype chain followed past one). No `toString`, `valueOf`, `toJSON`,
 *    `Symbol.toPrimitive` or `util.inspect.custom` is consulted; Map and Set contents
 *    come from the built-in iterators taken at load (collections.ts). Class names come
 *    from `constructor.name` read as data properties only. An error's `stack` is read
 *    only when formatting it cannot call user code (errors.ts).
 * 2. It is bounded: depth, items per collection, fields per object, characters per
 *    string (limits.ts), and an approximate byte budget shared by everything captured
 *    between `begin()` and `end()` (budget.ts). Hitting any of them sets `truncated`.
 *    Once the budget is spent, containers still say what they are and how big they
 *    were, but hold nothing.
 * 3. It copies. The result holds no reference to a user object, and a cut string is
 *    copied out of its parent (budget.ts).
 * 4. It never throws. A read that fails (a module binding in its TDZ, a stack overflow
 *    in a deeply recursive caller) becomes `{"$":"unreadable"}` and the rest goes on.
 *
 * The walk itself is walk.ts, which dispatches to one module per family of values
 * (objects, collections, errors, binary, scalars); prototypes.ts classifies class
 * instances once per prototype. What is hidden as a secret is decided by key
 * (redaction.ts), by value (secrets.ts) and, for arguments, by parameter name
 * (argument-redaction.ts).
 */
import type { Value } from '../../protocol/value.js';
import { ArrayIsArray, ObjectFreeze } from '../../safe/intrinsics.js';
import { resolveCaptureLimits, type CaptureLimits, type CaptureOptions } from './limits.js';
import type { ArgumentRedaction } from './argument-redaction.js';
import { BOOLEAN_BYTES, NUMBER_BYTES, REDACTED, UNREADABLE } from './markers.js';
import type { Redactor } from './redaction.js';
import { MIN_SECRET_LENGTH } from './secrets.js';
import { Walker } from './walk.js';

export { DEFAULT_CAPTURE_LIMITS, MAX_CAPTURE_DEPTH, resolveCaptureLimits, type CaptureLimits, type CaptureOptions } from './limits.js';

export interface CaptureResult {
  /** Some value was cut by a limit since begin(). */
  truncated: boolean;
  /** Estimated JSON size of what was captured since begin(). */
  bytes: number;
}

export interface Captured extends CaptureResult {
  value: Value;
}

/**
 * Captures values under one set of limits; build one per session. Between `begin()` and
 * `end()` every `value()` / `values()` shares one byte budget (each call may still use
 * at least 1/16 of it, so a large first argument cannot leave `this` with nothing).
 */
export class Capturer {
  readonly limits: Readonly<CaptureLimits>;
  /** Decides keys; also read to decide parameter names (argument-redaction.ts). */
  readonly redactor: Redactor;
  private readonly walker: Walker;
  private readonly items: number;
  private readonly stringLimit: number;
  private readonly floor: number;
  private used = 0;
  private walking = false;

  constructor(options: CaptureOptions = {}) {
    const limits = resolveCaptureLimits(options);
    this.limits = ObjectFreeze(limits);
    this.walker = new Walker(limits);
    this.redactor = this.walker.redactor;
    this.items = limits.items;
    this.stringLimit = limits.stringLimit;
    this.floor = Math.floor(limits.eventBytes / 16);
  }

  /** Starts an event: a fresh byte budget and `truncated` false. */
  begin(): void {
    this.walker.budget = this.limits.eventBytes;
    this.used = 0;
    this.walker.truncated = false;
  }

  /** Captures one value (a return value, a thrown value, `this`). */
  value(value: unknown): Value {
    // A finite number, a boolean or a short string is itself, for the budget's charge: no walk (see `plain`).
    const walker = this.walker;
    const start = walker.budget < this.floor ? this.floor : walker.budget;
    const cost = plain(value, start, this.stringLimit);
    if (cost !== 0 && !this.walking) {
      walker.budget = start - cost;
      this.used += cost;
      return value as Value;
    }
    if (this.walking) return UNREADABLE;
    this.walking = true;
    walker.budget = start;
    try {
      return walker.walk(value, 0);
    } catch {
      return UNREADABLE;
    } finally {
      this.release();
      this.used += start - walker.budget;
    }
  }

  /**
   * Captures an argument list: each argument at the top level, at most `items` of them.
   * `redaction`: what the function's parameter names say to hide (argument-redaction.ts).
   * `keep`: an Array `list` is the caller's own, made for this capture's call and never
   * changed afterwards (a wrapper's argument array: patcher/dispatch.ts Hook.enter), so
   * when every element is plain it is returned as the captured list itself, not copied.
   */
  values(list: ArrayLike<unknown>, redaction?: ArgumentRedaction, keep = false): Value[] {
    if (redaction === undefined && !this.walking) {
      const fast = this.plainValues(list, keep);
      if (fast !== undefined) return fast;
    }
    const out: Value[] = [];
    if (this.walking) return out;
    this.walking = true;
    const walker = this.walker;
    const start = walker.budget < this.floor ? this.floor : walker.budget;
    walker.budget = start;
    try {
      const n = list.length;
      const limit = n < this.items ? n : this.items;
      if (redaction === undefined) for (let i = 0; i < limit; i++) out[i] = this.top(list[i]);
      else for (let i = 0; i < limit; i++) out[i] = this.argument(list, i, redaction);
      if (n > limit) {
        walker.truncated = true;
        out[limit] = { $: 'more', count: n - limit };
      }
    } catch {
      // `list` itself misbehaved (an arguments object cannot; a foreign array-like could).
      out[out.length] = UNREADABLE;
    } finally {
      this.release();
      this.used += start - walker.budget;
    }
    return out;
  }

  /**
   * Whether some value was cut since begin(), and the bytes captured since: what `end()`
   * returns, read without the object (the engine's hot path reads both and then begins
   * its next event with `begin()`, which resets them).
   */
  get truncated(): boolean {
    return this.walker.truncated;
  }

  get bytes(): number {
    return this.used;
  }

  /** Ends the event begun by begin(). */
  end(): CaptureResult {
    const result = { truncated: this.walker.truncated, bytes: this.used };
    this.begin();
    return result;
  }

  /** One value as its own event. */
  capture(value: unknown): Captured {
    this.begin();
    const captured = this.value(value);
    const result = this.end();
    return { value: captured, truncated: result.truncated, bytes: result.bytes };
  }

  /**
   * The arguments when every one is a finite number or a boolean (a hot function's
   * typical `(id, count)`), without the walk: the same values, charged to the budget as
   * the walk charges them (walk.ts); undefined when any is something else (the walk then
   * does it all). Nothing is cut: a number is never truncated, and `items` is checked.
   * A `keep` Array is the result itself (see `values`): the same elements, one array fewer.
   */
  private plainValues(list: ArrayLike<unknown>, keep: boolean): Value[] | undefined {
    const n = list.length;
    if (n > this.items) return undefined;
    const walker = this.walker;
    const start = walker.budget < this.floor ? this.floor : walker.budget;
    let cost = 0;
    for (let i = 0; i < n; i++) {
      // Each argument with the budget the walk would leave it (strings check it).
      const c = plain(list[i], start - cost, this.stringLimit);
      if (c === 0) return undefined;
      cost += c;
    }
    walker.budget = start - cost;
    this.used += cost;
    if (keep && ArrayIsArray(list)) return list as Value[];
    // Sized to `n`: an array grown from [] gets room for 16 elements at its first store.
    const out = new Array<Value>(n);
    for (let i = 0; i < n; i++) out[i] = list[i] as Value;
    return out;
  }

  private argument(list: ArrayLike<unknown>, i: number, redaction: ArgumentRedaction): Value {
    if (i >= redaction.restFrom || redaction.whole[i] === true) return this.walker.mark(REDACTED);
    this.walker.argumentKeys = redaction.keys[i];
    try {
      return this.top(list[i]);
    } finally {
      this.walker.argumentKeys = undefined;
    }
  }

  private top(value: unknown): Value {
    try {
      return this.walker.walk(value, 0);
    } catch {
      this.walker.clearPath();
      return UNREADABLE;
    }
  }

  private release(): void {
    this.walker.clearPath();
    this.walking = false;
  }
}

/**
 * Strings shorter than this may be taken as themselves: shorter than the shortest secret
 * a value rule knows (the scan finds nothing in them), and short enough that V8 shares no
 * parent's characters with them (budget.ts detach; V8's sliced strings start at 13).
 */
const PLAIN_STRING = MIN_SECRET_LENGTH;

/**
 * What the walk charges the budget for a value captured as itself, with `room` bytes of
 * budget left: a finite number other than -0 (NUMBER_BYTES), a boolean (5 bytes), a
 * string of fewer than PLAIN_STRING characters that neither the string limit nor the
 * budget cuts (its length and its quotes), as walk.ts and budget.ts charge them; 0 for
 * anything else, which the walk must see (-0, NaN and the infinities become markers;
 * longer strings are scanned for secrets, and cut).
 */
function plain(value: unknown, room: number, stringLimit: number): number {
  switch (typeof value) {
    case 'number':
      return value - value === 0 && (value !== 0 || 1 / value > 0) ? NUMBER_BYTES : 0;
    case 'boolean':
      return BOOLEAN_BYTES;
    case 'string': {
      const length = value.length;
      return length < PLAIN_STRING && length <= stringLimit && length + 2 <= room ? length + 2 : 0;
    }
    default:
      return 0;
  }
}

let defaultCapturer: Capturer | undefined;

/** Captures one value with its own budget. Without options, a shared default capturer is used. */
export function capture(value: unknown, options?: CaptureOptions): Captured {
  if (options === undefined) {
    defaultCapturer ??= new Capturer();
    return defaultCapturer.capture(value);
  }
  return new Capturer(options).capture(value);
}
