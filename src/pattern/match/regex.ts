/**
 * Regular expressions of patterns (`/^admin/` as an argument, `=~` in a guard) run in
 * linear time, in RE2's engine (the re2js port, pure JavaScript).
 *
 * A backtracking engine such as V8's Irregexp can take exponential time on a crafted or
 * careless regex (`/(a+)+$/` against 28 a's and a b stalls for seconds) and polynomial
 * time on ordinary ones (`/.*a.*a.*a/` on a 10 KB argument: about a second). A pattern's
 * regex runs inside the traced process, on every call that reaches it, so one of those
 * would stall the application, and no budget can interrupt a regex that is running. RE2
 * matches in time linear in the subject, whatever the regex, at the price of refusing
 * what needs backtracking to mean anything: backreferences and lookarounds, which a
 * pattern rejects with LT_PATTERN_BAD_REGEX. Measured here (loaded machine): a simple
 * anchored regex costs about 8 µs per test in RE2 against 0.4 µs natively, paid only by
 * calls whose other pre-tests passed; `/(a+)+$/` on 'a'*28+'b' takes under 1 ms after a
 * one-time compile, and `.*a.*a.*a` on 1 MB 10 ms.
 *
 * A regex without any quantifier (`/^admin/`, `/@example\.com$/`, the common case) cannot
 * backtrack beyond its own length at each position, so it keeps V8's engine, hardened
 * like every RegExp livetrace holds (src/safe/read.ts) and called through the pristine
 * `exec`: fast, and it never calls a built-in the application could have replaced. RE2
 * (for the rest) reads the subject through `String.prototype.charCodeAt`/`indexOf` and
 * checks it with `Array.isArray`, looked up when it runs: a regex with quantifiers is
 * therefore the one place a pattern's pre-test may call a built-in the application
 * replaced (docs/security.md).
 */
import { createRequire } from 'node:module';
import type { RE2JS as RE2JSClass } from 're2js';
import { livetraceRoot } from '../../protocol/install.js';
import { RegExpPrototypeExec } from '../../safe/intrinsics.js';
import { hardenRegExp } from '../../safe/read.js';

/**
 * RE2 loads on the first regex that needs it: it is a large module (tens of ms to load,
 * measured in a worker thread), and most patterns have no regex with a quantifier, while
 * this module is loaded by every process the agent starts in. Loaded synchronously from
 * livetrace's own installation (a pattern compiles synchronously), in either build.
 */
let re2: typeof RE2JSClass | undefined;
function RE2(): typeof RE2JSClass {
  if (re2 === undefined) {
    // (When the root can't be told, in a bundle, from the working directory.)
    const load = createRequire(`${livetraceRoot() ?? process.cwd()}/package.json`);
    re2 = (load('re2js') as { RE2JS: typeof RE2JSClass }).RE2JS;
  }
  return re2;
}

/** What a compiled pattern regex offers: a search anywhere in the subject, like RegExp#test. */
export interface LinearRegex {
  test(subject: string): boolean;
}

function flagBits(flags: string): number {
  const RE2JS = RE2();
  let bits = 0;
  if (flags.includes('i')) bits |= RE2JS.CASE_INSENSITIVE;
  if (flags.includes('m')) bits |= RE2JS.MULTILINE;
  if (flags.includes('s')) bits |= RE2JS.DOTALL;
  // d (indices) changes nothing for a test; u and v: RE2 matches code points anyway.
  return bits;
}

/** Compiles `/source/flags` for linear-time matching; throws (with RE2's reason) what it cannot run. */
export function linearRegex(source: string, flags: string): LinearRegex {
  if (!hasQuantifier(source)) {
    const native = hardenRegExp(new RegExp(source, flags));
    return { test: (subject) => RegExpPrototypeExec(native, subject) !== null };
  }
  const RE2JS = RE2();
  const compiled = RE2JS.compile(RE2JS.translateRegExp(source), flagBits(flags));
  return { test: (subject) => compiled.test(subject) };
}

/** Why the regex cannot run in linear time (a backreference, a lookaround, ...), or undefined. */
export function linearProblem(source: string, flags: string): string | undefined {
  if (!hasQuantifier(source)) return undefined;
  try {
    linearRegex(source, flags);
    return undefined;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return `livetrace matches regular expressions in linear time (RE2), which has no backreferences or lookarounds: ${reason}`;
  }
}

/**
 * Whether the source has a quantifier (`*`, `+`, `?`, `{n}`, `{n,}`, `{n,m}`) anywhere
 * outside a character class. Errs towards yes (a literal `{1}` counts): RE2 then runs it.
 */
export function hasQuantifier(source: string): boolean {
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const ch = source[i];
    if (ch === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (ch === ']') inClass = false;
      continue;
    }
    if (ch === '[') inClass = true;
    else if (ch === '*' || ch === '+' || ch === '{') return true;
    else if (ch === '?' && source[i - 1] !== '(') return true;
  }
  return false;
}
