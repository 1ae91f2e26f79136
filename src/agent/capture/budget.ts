/**
 * The state one capture walks with: the limits, the byte budget left, whether anything
 * was cut, and the leaf values every family of values needs (strings, names, bigints,
 * symbols, markers).
 *
 * The families of values (objects.ts, collections.ts, errors.ts, binary.ts, scalars.ts)
 * are functions over a Budget; walk.ts extends it with the recursion itself, so that
 * each family can call `walk` without importing the module that dispatches to it.
 *
 * Strings are scanned for secret-shaped values (secrets.ts) before they are cut, and
 * keys are decided by the redaction list and, while one argument is captured, by what
 * its parameter binds (argument-redaction.ts).
 *
 * Strings are copied: a cut string is copied out of its parent, since V8 would otherwise
 * keep a 10 MB parent alive behind a 255-character slice for as long as the event is
 * queued.
 */
import type { BigIntValue, MarkerValue, StringValue, Value } from '../../protocol/value.js';
import { BigIntPrototypeToString, StringPrototypeCharCodeAt, StringPrototypeSlice, SymbolPrototypeGetDescription } from '../../safe/intrinsics.js';
import type { CaptureLimits } from './limits.js';
import { MARKER_BYTES, REDACTED, TAG_BYTES } from './markers.js';
import { Redactor } from './redaction.js';
import { CLEAN, REDACTED_TEXT, WHOLE, scrub, valueRules, type ValueRules } from './secrets.js';

// V8 shares the characters of a substring of 13 or more with its parent string.
const SLICED_STRING_MIN_LENGTH = 13;

// How far past the string limit a string is scanned for secrets (secrets.ts).
const SECRET_WINDOW = 512;

/** A copy of `s` that shares no storage with any other string. */
function detach(s: string): string {
  if (s.length < SLICED_STRING_MIN_LENGTH) return s;
  // The concatenation is flattened into a fresh string by the slice; its own slice
  // then points into that copy, not into the user's string.
  return StringPrototypeSlice(` ${s}`, 1);
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

export abstract class Budget {
  /** Decides keys; also read to decide parameter names (argument-redaction.ts). */
  readonly redactor: Redactor;
  /** The value rules (secrets.ts) left on. */
  readonly rules: ValueRules;
  /** While one argument is captured: keys its destructuring parameter binds to a secret name. */
  argumentKeys: Readonly<Record<string, true>> | undefined;
  readonly depth: number;
  readonly items: number;
  readonly fieldLimit: number;
  readonly stringLimit: number;
  /** 10^stringLimit (at most 10^1024): a bigint this large or larger is cut from its hex form. */
  private readonly hugeBigInt: bigint;
  /** Approximate JSON bytes still to spend; containers stop adding once it is spent. */
  budget: number;
  truncated = false;
  // Results of fields() besides its return value, read right after it returns.
  lastMore = 0;
  lastDollar = false;

  constructor(limits: CaptureLimits) {
    this.redactor = new Redactor(limits.redact);
    this.rules = valueRules(limits.keepValues);
    this.depth = limits.depth;
    this.items = limits.items;
    this.fieldLimit = limits.fields;
    this.stringLimit = limits.stringLimit;
    // Capped so that a huge string limit cannot make this power itself expensive.
    this.hugeBigInt = 10n ** BigInt(Math.min(limits.stringLimit, 1024));
    this.budget = limits.eventBytes;
  }

  /** Captures `value`, found `level` levels below the top. */
  abstract walk(value: unknown, level: number): Value;

  /** A key whose value is not captured: by the redaction list, or by the current argument's parameter. */
  redacts(key: string): boolean {
    return this.redactor.matches(key) || (this.argumentKeys !== undefined && this.argumentKeys[key] === true);
  }

  string(s: string, limit: number): StringValue | MarkerValue {
    // The scan reaches a little past the cut, so a secret the cut splits is still seen whole.
    const window = limit + SECRET_WINDOW;
    const scanned = s.length > window ? StringPrototypeSlice(s, 0, window) : s;
    const found = scrub(scanned, this.rules);
    if (found === WHOLE) return this.mark(REDACTED);
    if (found === CLEAN) return this.cut(s, limit, s.length);
    return this.cut(scanned === s ? found : `${found}${StringPrototypeSlice(s, window)}`, limit, s.length);
  }

  /** A string that must stay a string (an error's stack): a whole secret becomes '<redacted>'. */
  text(s: string, limit: number): StringValue {
    const window = limit + SECRET_WINDOW;
    const found = scrub(s.length > window ? StringPrototypeSlice(s, 0, window) : s, this.rules);
    if (found === WHOLE) return this.cut(REDACTED_TEXT, limit, REDACTED_TEXT.length);
    return found === CLEAN ? this.cut(s, limit, s.length) : this.cut(found, limit, found.length);
  }

  /**
   * `s` cut to `limit` and the budget, not scanned. `originalLength`: the length reported
   * when cut (a scrubbed string reports the length of the string it stands for).
   */
  cut(s: string, limit: number, originalLength: number): StringValue {
    const length = s.length;
    const room = this.budget - 2;
    if (length <= limit && length <= room) {
      this.budget -= length + 2;
      return detach(s);
    }
    let keep = limit < room ? limit : room > 0 ? room : 0;
    if (keep > 0 && isHighSurrogate(StringPrototypeCharCodeAt(s, keep - 1))) keep--;
    this.truncated = true;
    this.budget -= keep + TAG_BYTES;
    return { $: 'string', value: detach(StringPrototypeSlice(s, 0, keep)), length: originalLength };
  }

  /** A name (class, function, symbol key): always a plain string, cut with '…'. */
  name(s: string): string {
    if (s.length <= this.stringLimit) return s;
    this.truncated = true;
    let keep = this.stringLimit;
    if (keep > 0 && isHighSurrogate(StringPrototypeCharCodeAt(s, keep - 1))) keep--;
    return `${detach(StringPrototypeSlice(s, 0, keep))}…`;
  }

  bigint(value: bigint): BigIntValue {
    if (value < this.hugeBigInt && value > -this.hugeBigInt) {
      const digits = `${value}`;
      this.budget -= digits.length + TAG_BYTES;
      return { $: 'bigint', value: digits };
    }
    // Decimal conversion of a huge bigint is superlinear; hex is linear and cut the same.
    const negative = value < 0n;
    const hex = BigIntPrototypeToString(negative ? -value : value, 16);
    this.truncated = true;
    this.budget -= this.stringLimit + TAG_BYTES;
    return { $: 'bigint', value: `${negative ? '-' : ''}0x${StringPrototypeSlice(hex, 0, this.stringLimit)}`, length: hex.length };
  }

  symbol(value: symbol): Value {
    const description = SymbolPrototypeGetDescription(value);
    this.budget -= TAG_BYTES;
    return description === undefined ? { $: 'symbol' } : { $: 'symbol', description: this.cut(description, this.stringLimit, description.length) };
  }

  mark(value: MarkerValue): MarkerValue {
    this.budget -= MARKER_BYTES;
    return value;
  }
}
