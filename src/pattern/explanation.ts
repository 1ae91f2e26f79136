/** A pattern's meaning in words, for `livetrace explain` and for error reports. */
import { isTooBroad, splitGuard, type ArgPattern, type PatternAst, type TypeName } from './ast.js';
import { printExpr, printLiteral, printPattern, printRegex, quoteString } from './printer.js';
import { ArrayPrototypePush } from '../safe/intrinsics.js';

const TYPE_WORDS: Readonly<Record<TypeName, string>> = {
  string: 'a string',
  number: 'a number (NaN included)',
  bigint: 'a bigint',
  boolean: 'a boolean',
  symbol: 'a symbol',
  function: 'a function (classes included)',
  object: 'an object (arrays included; not null, not a function)',
  array: 'an array',
  promise: 'a native promise',
  error: 'an error',
};

const ACTION_WORDS: Readonly<Record<string, string>> = {
  stack: "stack (the caller's stack)",
  this: 'this (a snapshot of the receiver)',
  count: 'count (per-function call counts instead of single calls)',
  hist: 'hist (per-function latency quantiles instead of single calls)',
};

function hasWildcard(glob: string): boolean {
  return /[*?[\]{}!]/.test(glob);
}

function describeModule(glob: string): string {
  if (glob === '**') return 'every module';
  const quoted = quoteString(glob, "'");
  if (glob.includes('/')) {
    return `modules whose path from the app root (or inside a package) matches ${quoted}; the extension is optional and a directory means its index module`;
  }
  if (hasWildcard(glob)) return `packages (their entry module), builtins, and app modules whose name matches ${quoted}`;
  const builtin = glob.startsWith('node:') ? glob : `node:${glob}`;
  const bare = glob.startsWith('node:') ? glob.slice('node:'.length) : glob;
  return `the package '${bare}' (its entry module), the builtin '${builtin}', or app modules named '${bare}' (file name without extension)`;
}

function describeFunction(glob: string): string {
  if (glob === '**') return 'every exported function';
  const notes: string[] = [];
  if (glob.includes('#')) ArrayPrototypePush(notes, "'#' names a prototype method");
  if (/(^|[^*])\*($|[^*])/.test(glob)) ArrayPrototypePush(notes, "'*' stays within one segment between '.' and '#'");
  if (glob.includes('**')) ArrayPrototypePush(notes, "'**' crosses '.' and '#'");
  const note = notes.length > 0 ? ` (${notes.join('; ')})` : '';
  if (glob.startsWith('~')) {
    return `internal functions (found in the module's source, reached by probes) whose path matches ${quoteString(glob, "'")}${note}`;
  }
  return `exported functions whose path matches ${quoteString(glob, "'")}${note}`;
}

function ordinal(n: number): string {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${suffix}`;
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/** Words for one argument pattern; `seen` tracks names so a repeat reads as an equality. */
function describeArg(pattern: ArgPattern, seen: Set<string>): string {
  switch (pattern.kind) {
    case 'any':
      return 'anything';
    case 'bind':
      if (seen.has(pattern.name)) return `the same value as ${pattern.name}`;
      seen.add(pattern.name);
      return `any value, named ${pattern.name}`;
    case 'nil':
      return 'nil (null or undefined)';
    case 'null':
      return 'null';
    case 'undefined':
      return 'undefined';
    case 'type':
      return TYPE_WORDS[pattern.name];
    case 'regex':
      return `a string matching ${printRegex(pattern)}`;
    case 'object':
      if (pattern.entries.length === 0) return 'any object or function';
      return `an object with ${pattern.entries.map((entry) => `${quoteString(entry.key, "'")}: ${describeArg(entry.pattern, seen)}`).join(', ')}`;
    case 'array': {
      const count = pattern.rest ? `at least ${plural(pattern.elements.length, 'element')}` : `exactly ${plural(pattern.elements.length, 'element')}`;
      if (pattern.elements.length === 0) return pattern.rest ? 'any array' : 'an empty array';
      return `an array of ${count}: [${pattern.elements.map((element) => describeArg(element, seen)).join(', ')}${pattern.rest ? ', ...' : ''}]`;
    }
    case 'alt':
      return pattern.alternatives.map((alternative) => describeArg(alternative, seen)).join(' or ');
    default:
      return `the ${pattern.kind} ${printLiteral(pattern)}`;
  }
}

function describeArguments(ast: PatternAst): string[] {
  const params = ast.params;
  if (params === null) return ['arguments:  any'];
  if (params.kind === 'arity') return [`arguments:  exactly ${plural(params.arity, 'argument')}`];
  const count = params.patterns.length;
  const head = params.rest
    ? count === 0
      ? 'any number'
      : `any number; the first ${count === 1 ? 'one' : count} as follows (a missing one counts as undefined)`
    : count === 0
      ? 'none'
      : `at most ${plural(count, 'argument')} (a missing one counts as undefined)`;
  const seen = new Set<string>();
  return [`arguments:  ${head}`, ...params.patterns.map((pattern, index) => `  ${ordinal(index + 1)}: ${describeArg(pattern, seen)}`)];
}

/** The normalized form of a pattern, one aspect per line. */
export function explainPattern(ast: PatternAst): string[] {
  const { pre, post } = splitGuard(ast.guard);
  const lines = [
    `pattern:    ${printPattern(ast)}`,
    `module:     ${describeModule(ast.module)}`,
    `function:   ${describeFunction(ast.function)}`,
    ...describeArguments(ast),
    `pre-guard:  ${pre === null ? 'none' : `${printExpr(pre)} (checked before the call)`}`,
    `post-guard: ${post === null ? 'none' : `${printExpr(post)} (checked after the call, with ret, err, threw and ms)`}`,
    `actions:    ${ast.actions.length === 0 ? 'none (each matching call is reported)' : ast.actions.map((action) => ACTION_WORDS[action]).join(', ')}`,
  ];
  if (isTooBroad(ast)) ArrayPrototypePush(lines, 'too broad:  it matches every call of every function; trace refuses it unless forced');
  return lines;
}
