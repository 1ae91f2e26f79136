/**
 * Which keys have their values replaced by `{"$":"redacted"}` in captured values.
 *
 * A key is first normalized: lower-cased, with `_ - . $ @` and spaces removed, so
 * `API_KEY`, `apiKey` and `x-api-key` all read `apikey` / `xapikey`. Then:
 *
 * - a default term redacts every key whose normalized form contains it (`accessToken`,
 *   `set-cookie`, `DB_PASSWORD`, `sessionId`); over-redacting a `tokenizer` is the safe
 *   side of the trade;
 * - a default word redacts the keys equal to it: words too short to be searched inside
 *   other keys (`auth` would hide every `author`, `pass` every `compass`), so `auth`,
 *   `DB_PASS` and `pwd` are redacted but `authorName` is not; keys ending in `pass` or
 *   `pwd` are (`smtpPass`, `DB-PASS`);
 * - a user entry without wildcards redacts the keys equal to it after the same
 *   normalization (`--redact ssn` hides `ssn` and `SSN`, not `lessons`);
 * - a user entry with `*` (any run) or `?` (one character) is a glob over the whole
 *   normalized key (`--redact '*ssn*'` for a substring, `'card*'`). Globs are matched by
 *   the two-pointer wildcard algorithm, never by a backtracking regular expression:
 *   `*a*a*a*a*a*b` against a long key takes time proportional to the key times the glob,
 *   where a regular expression took exponential time.
 *
 * Deciding is called for every captured key, so results are memoized per key in a small
 * dictionary that is emptied when it fills up. This module runs inside the target: it
 * calls no method reachable from a user-replaceable prototype (string and RegExp
 * methods are taken at load).
 */
import { LivetraceError } from '../../protocol/errors.js';
import {
  ObjectCreate,
  StringPrototypeCharCodeAt,
  StringPrototypeIncludes,
  StringPrototypeSlice,
  StringPrototypeToLowerCase,
  ArrayPrototypePush,
} from '../../safe/intrinsics.js';

/** Normalized terms: a key whose normalized form contains one is always redacted. */
export const DEFAULT_REDACT_TERMS: readonly string[] = Object.freeze([
  'password',
  'passwd',
  'secret',
  'token',
  'authorization',
  'cookie',
  'apikey',
  'privatekey',
  'session',
  'credential',
  'passphrase',
]);

/** Normalized words: a key equal to one is always redacted (too short to search inside other keys). */
export const DEFAULT_REDACT_WORDS: readonly string[] = Object.freeze([
  'auth',
  'pass',
  'pwd',
  'dbpass',
  'jwt',
  'bearer',
  'pfx',
  'ssn',
]);

/** Normalized endings: `DB_PASS`, `smtpPass`, `user-pwd` (and, the safe side again, `bypass`). */
export const DEFAULT_REDACT_SUFFIXES: readonly string[] = Object.freeze(['pass', 'pwd']);

// Characters a key may spell in several ways: API_KEY, api-key, apiKey, api.key, $apikey.
function isSeparator(code: number): boolean {
  return code === 95 || code === 45 || code === 46 || code === 36 || code === 64 || code === 32;
}

export function normalizeKey(key: string): string {
  const lower = StringPrototypeToLowerCase(key);
  let out = '';
  let start = 0;
  for (let i = 0; i < lower.length; i++) {
    if (isSeparator(StringPrototypeCharCodeAt(lower, i))) {
      out += StringPrototypeSlice(lower, start, i);
      start = i + 1;
    }
  }
  return start === 0 ? lower : out + StringPrototypeSlice(lower, start);
}

/**
 * Whether `glob` (`*` any run, `?` one character) matches all of `text`. On a mismatch
 * after a `*`, the `*` takes one more character and matching resumes from there; only the
 * last `*` is ever resumed (an earlier one can't do better: whatever it would swallow
 * the last one can), so the work is at most the text's length times the glob's.
 */
export function globMatches(glob: string, text: string): boolean {
  let g = 0;
  let t = 0;
  let star = -1;
  let resume = 0;
  const gl = glob.length;
  const tl = text.length;
  while (t < tl) {
    const c = g < gl ? StringPrototypeCharCodeAt(glob, g) : -1;
    if (c === 42 /* * */) {
      star = g++;
      resume = t;
    } else if (c !== -1 && (c === 63 /* ? */ || c === StringPrototypeCharCodeAt(text, t))) {
      g++;
      t++;
    } else if (star !== -1) {
      g = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (g < gl && StringPrototypeCharCodeAt(glob, g) === 42) g++;
  return g === gl;
}

/**
 * Keys longer than this are decided on their first and last LONG_KEY_PART characters:
 * normalizing (lower-casing) a 50-million-character key took 317 ms per capture. Joining
 * head and tail can only add matches, never hide one at either end.
 */
const LONG_KEY_LENGTH = 512;
const LONG_KEY_PART = 256;

// Memoized decisions: keys repeat (the same shapes are captured call after call), and
// a dictionary lookup is far cheaper than normalizing and matching again.
const CACHE_LIMIT = 4096;
const CACHEABLE_KEY_LENGTH = 128;

export class Redactor {
  private readonly terms: readonly string[];
  private readonly exact: Record<string, true>;
  private readonly globs: readonly string[];
  private cache: Record<string, boolean>;
  private cached = 0;

  /** `extra`: the user's entries (docs/events.md, "Redaction"). Throws LT_OPTION_INVALID for an empty one. */
  constructor(extra: readonly string[] = []) {
    this.terms = DEFAULT_REDACT_TERMS;
    this.exact = ObjectCreate(null) as Record<string, true>;
    for (const word of DEFAULT_REDACT_WORDS) this.exact[word] = true;
    const globs: string[] = [];
    for (let i = 0; i < extra.length; i++) {
      const entry = extra[i];
      const normalized = typeof entry === 'string' ? normalizeKey(entry) : '';
      if (/^\**$/.test(normalized)) {
        throw new LivetraceError('LT_OPTION_INVALID', `--redact entry ${JSON.stringify(entry)} would match no key or every key`, {
          input: entry,
          hint: "Give a key name such as 'ssn', or a glob such as '*card*'.",
        });
      }
      if (normalized.includes('*') || normalized.includes('?')) ArrayPrototypePush(globs, normalized);
      else this.exact[normalized] = true;
    }
    this.globs = globs;
    this.cache = ObjectCreate(null) as Record<string, boolean>;
  }

  /** True when the value under `key` must not be captured. */
  matches(key: string): boolean {
    if (key.length > LONG_KEY_LENGTH) {
      return this.decide(StringPrototypeSlice(key, 0, LONG_KEY_PART) + StringPrototypeSlice(key, key.length - LONG_KEY_PART));
    }
    if (key.length > CACHEABLE_KEY_LENGTH) return this.decide(key);
    const known = this.cache[key];
    if (known !== undefined) return known;
    const decision = this.decide(key);
    if (this.cached >= CACHE_LIMIT) {
      this.cache = ObjectCreate(null) as Record<string, boolean>;
      this.cached = 0;
    }
    this.cache[key] = decision;
    this.cached++;
    return decision;
  }

  private decide(key: string): boolean {
    const normalized = normalizeKey(key);
    const terms = this.terms;
    for (let i = 0; i < terms.length; i++) {
      if (StringPrototypeIncludes(normalized, terms[i]!)) return true;
    }
    if (this.exact[normalized] === true) return true;
    const suffixes = DEFAULT_REDACT_SUFFIXES;
    for (let i = 0; i < suffixes.length; i++) {
      const suffix = suffixes[i]!;
      if (normalized.length >= suffix.length && StringPrototypeSlice(normalized, normalized.length - suffix.length) === suffix) return true;
    }
    const globs = this.globs;
    for (let i = 0; i < globs.length; i++) {
      if (globMatches(globs[i]!, normalized)) return true;
    }
    return false;
  }
}
