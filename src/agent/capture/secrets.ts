/**
 * Values that are secrets whatever they are called.
 *
 * Redaction by key (redaction.ts) hides `{ password: ... }`; it cannot see the bearer
 * token in `log('Bearer eyJ...')`, the password in `postgres://app:s3cret@db/app`, the
 * private key a PEM string carries, or the credentials an Error message repeats from
 * the URL that failed. So every captured string is also scanned for these shapes, each a
 * rule the user may turn off by name (`--keep-values <rule>`, library `keepValues`):
 *
 *   auth     `Bearer …`, `Basic …`, `Digest …` credentials
 *   jwt      JSON Web Tokens (`eyJ….eyJ….…`)
 *   url      the password of a URL with credentials (`https://user:<redacted>@host`)
 *   pem      PEM private key blocks (`-----BEGIN … PRIVATE KEY-----` … `-----END …`)
 *   headers  the value after a secret header name in a raw header list (Node's and
 *            Express's `req.rawHeaders`: `['Authorization', 'Bearer …', ...]`), applied by
 *            the capturer, which sees the list
 *
 * A string that is nothing but the secret becomes `{"$":"redacted"}`, as a redacted key's
 * value does; a secret inside longer text (an error message, a log line) is replaced by
 * `<redacted>` and the rest of the text is kept, since that text is usually what the
 * user is tracing for. The URL rule keeps the user name, which is rarely the secret.
 *
 * Scanning is on the hot path of every captured string and runs inside the target, so it
 * is one pass of a literal-alternation regular expression (linear: no quantified group
 * can backtrack) that finds where a secret could start, and then a hand-written scan of
 * each candidate that never goes back. The free-text `auth` rule asks the credential to
 * look random (a digit, an upper-case letter or a base64 sign) so "basic authentication"
 * survives; a string that is only `Bearer abc` is redacted whatever abc looks like.
 */
import { LivetraceError } from '../../protocol/errors.js';
import { RegExpPrototypeExec, StringPrototypeCharCodeAt, StringPrototypeSlice, uncurryThis } from '../../safe/intrinsics.js';

const StringPrototypeIndexOf = uncurryThis(String.prototype.indexOf as (this: string, search: string, from?: number) => number);

export const VALUE_RULES: readonly string[] = Object.freeze(['auth', 'jwt', 'url', 'pem', 'headers']);

export interface ValueRules {
  readonly auth: boolean;
  readonly jwt: boolean;
  readonly url: boolean;
  readonly pem: boolean;
  readonly headers: boolean;
}

export const ALL_VALUE_RULES: ValueRules = Object.freeze({ auth: true, jwt: true, url: true, pem: true, headers: true });

/** The rules left on when `keep` (rule names, or 'all') are turned off. Throws LT_OPTION_INVALID for an unknown name. */
export function valueRules(keep: readonly string[] = []): ValueRules {
  const on = { ...ALL_VALUE_RULES } as Record<string, boolean>;
  for (const name of keep) {
    if (name === 'all') {
      for (const rule of VALUE_RULES) on[rule] = false;
    } else if (VALUE_RULES.includes(name)) {
      on[name] = false;
    } else {
      throw new LivetraceError('LT_OPTION_INVALID', `--keep-values takes a redaction rule, not ${JSON.stringify(name)}`, {
        input: name,
        hint: `The value rules are ${VALUE_RULES.join(', ')}, or all.`,
      });
    }
  }
  return on as unknown as ValueRules;
}

export const REDACTED_TEXT = '<redacted>';

/** The string is a secret through and through: capture `{"$":"redacted"}`. */
export const WHOLE = 1;
/** Nothing to hide. */
export const CLEAN = 0;

/** No value rule finds a secret in a shorter string (capturer.ts takes such strings as they are). */
export const MIN_SECRET_LENGTH = 7;

// Where a secret could start. Literals only, so a failed position costs a few compares.
const TRIGGER = /(?:bearer|basic|digest)[ \t]|:\/\/|eyJ|-----BEGIN /gi;
const PEM_END = /-----END [A-Z0-9 ]{0,64}-----/g;

function isToken68(c: number): boolean {
  // A-Z a-z 0-9 - . _ ~ + / =
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 46 || c === 95 || c === 126 || c === 43 || c === 47 || c === 61;
}

function isBase64Url(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 95;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

function isWordChar(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95;
}

/** Ends a URL's authority: where a user-info part can no longer be. */
function endsAuthority(c: number): boolean {
  return c === 47 || c === 63 || c === 35 || c === 64 || isSpace(c) || c === 34 || c === 39 || c === 60 || c === 62;
}

/** A digit, an upper-case letter or a base64 sign: a credential, not a word. */
function looksRandom(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = StringPrototypeCharCodeAt(text, i);
    if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || c === 43 || c === 47 || c === 61 || c === 45 || c === 95 || c === 46) return true;
  }
  return false;
}

/**
 * Scans `text` with `rules`: CLEAN, WHOLE, or the text with each secret replaced by
 * `<redacted>`.
 */
export function scrub(text: string, rules: ValueRules): string | typeof CLEAN | typeof WHOLE {
  const n = text.length;
  // The shortest secret a rule knows is a URL's `://u:p@` or `Bearer x`: most strings are shorter.
  if (n < MIN_SECRET_LENGTH || (!rules.auth && !rules.jwt && !rules.url && !rules.pem)) return CLEAN;
  let first = 0;
  while (first < n && isSpace(StringPrototypeCharCodeAt(text, first))) first++;
  let last = n;
  while (last > first && isSpace(StringPrototypeCharCodeAt(text, last - 1))) last--;
  let out = '';
  let copied = 0;
  TRIGGER.lastIndex = 0;
  for (;;) {
    const match = RegExpPrototypeExec(TRIGGER, text);
    if (match === null) break;
    const at = match.index;
    const c0 = StringPrototypeCharCodeAt(text, at);
    // [secretStart, secretEnd): the whole secret; [hideStart, hideEnd): the part replaced.
    let secretStart = -1;
    let secretEnd = -1;
    let hideStart = -1;
    let hideEnd = -1;
    let next = at + 1;
    if (c0 === 58 /* : */) {
      if (rules.url) {
        let colon = -1;
        let i = at + 3;
        for (; i < n; i++) {
          const c = StringPrototypeCharCodeAt(text, i);
          if (c === 58 && colon === -1) colon = i;
          if (endsAuthority(c)) break;
        }
        if (i < n && StringPrototypeCharCodeAt(text, i) === 64 /* @ */ && colon !== -1 && i > colon + 1) {
          hideStart = colon + 1;
          hideEnd = i;
        }
        next = i > at + 3 ? i : at + 3;
      }
    } else if (c0 === 101 /* e */ && StringPrototypeCharCodeAt(text, at + 1) === 121 && StringPrototypeCharCodeAt(text, at + 2) === 74) {
      if (rules.jwt && (at === 0 || !isBase64Url(StringPrototypeCharCodeAt(text, at - 1)))) {
        let i = at;
        while (i < n && isBase64Url(StringPrototypeCharCodeAt(text, i))) i++;
        const header = i - at;
        if (header >= 10 && StringPrototypeCharCodeAt(text, i) === 46) {
          const payloadStart = ++i;
          while (i < n && isBase64Url(StringPrototypeCharCodeAt(text, i))) i++;
          if (i - payloadStart >= 10 && StringPrototypeCharCodeAt(text, i) === 46) {
            i++;
            while (i < n && isBase64Url(StringPrototypeCharCodeAt(text, i))) i++;
            secretStart = hideStart = at;
            secretEnd = hideEnd = i;
          }
        }
        next = i > at + 3 ? i : at + 3;
      }
    } else if (c0 === 45 /* - */) {
      if (rules.pem) {
        const labelStart = at + 11;
        const labelEnd = StringPrototypeIndexOf(text, '-----', labelStart);
        if (labelEnd !== -1 && labelEnd - labelStart <= 64 && StringPrototypeSlice(text, labelEnd - 11, labelEnd) === 'PRIVATE KEY') {
          PEM_END.lastIndex = labelEnd + 5;
          const end = RegExpPrototypeExec(PEM_END, text);
          secretStart = hideStart = at;
          secretEnd = hideEnd = end === null ? n : end.index + end[0].length;
          next = secretEnd;
        }
      }
    } else if (rules.auth && (at === 0 || !isWordChar(StringPrototypeCharCodeAt(text, at - 1)))) {
      let start = at + match[0].length;
      while (start < n && (StringPrototypeCharCodeAt(text, start) === 32 || StringPrototypeCharCodeAt(text, start) === 9)) start++;
      let i = start;
      while (i < n && isToken68(StringPrototypeCharCodeAt(text, i))) i++;
      if (i > start) {
        const whole = at <= first && i >= last;
        if (whole || (i - start >= 8 && looksRandom(text, start, i))) {
          secretStart = at;
          secretEnd = i;
          hideStart = start;
          hideEnd = i;
        }
      }
      next = i > at + 1 ? i : at + 1;
    }
    if (secretStart !== -1 && secretStart <= first && secretEnd >= last) return WHOLE;
    if (hideStart !== -1 && hideStart >= copied) {
      out += `${StringPrototypeSlice(text, copied, hideStart)}${REDACTED_TEXT}`;
      copied = hideEnd;
    }
    TRIGGER.lastIndex = next;
  }
  if (copied === 0) return CLEAN;
  return out + StringPrototypeSlice(text, copied);
}
