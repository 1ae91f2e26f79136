/**
 * The ESM preload's fast path: what rewriteModule (rewrite.ts) needs from a module,
 * found with es-module-lexer instead of a full acorn parse when that is certain.
 *
 * The rewrite needs each export's name and local variable, which locals are `const`
 * (and whether the module ever assigns them), which exports are re-exports (of another
 * module or of an import binding), and for `export default <expression>` where the
 * expression ends. The lexer gives export names, local names and positions, and each
 * import/re-export statement's extent and specifier; it gives no AST. So this path plans
 * only what the lexer's facts and a few textual checks settle, and answers undefined
 * ("ask acorn") for anything else. Plans from either path give the same text for the same
 * module, byte for byte: the unit tests compare both over every real ES module of this
 * checkout and over generated modules (test/unit/agent/source/rewrite-fast*.test.ts).
 *
 * What the lexer's facts settle without looking further:
 * - An export inside its declaration (`export function|class|let|var NAME`, the lexer
 *   reporting the name inside the statement): not a `const`, so nothing but its name is
 *   needed, destructured or not. `export const NAME =` directly: a const, with a single
 *   declarator only when it is the statement's only export and nothing but `=` follows.
 * - Import and re-export statements: their clause is read by a strict little grammar
 *   (names, `as`, `*`, braces, commas, plain string names); anything else in it (a
 *   comment, an escape, a source-phase import) goes to acorn.
 * - `export { X as default }` (the local before the name) against `export default
 *   function|class X` (after it); `export default function () {}` is the anonymous case
 *   acorn reports as unreachable; `export default IDENT;` is an expression whose end is
 *   the `;`. Any other default expression goes to acorn.
 *
 * What the text must settle, each by one pass over the occurrences of one name (found by
 * indexOf, whose whole cost is a memchr-like scan) looking only at the tokens right before
 * and after each occurrence (whitespace and comments skipped):
 * - A local exported by a clause (`export { a }`): its one top-level declaration. An
 *   occurrence after `function`/`class`/`let`/`var`/`const`/`function*` is a declaration;
 *   two of them with a `const` among them, none, or any occurrence that could stand in a
 *   destructuring pattern or a declarator list (`{ a }`, `[a, ...]`, `, a =`, `let x, a;`:
 *   after `,` `{` `[` `:` `...` and not followed by an operator, a call, a member access
 *   or `)`, nor inside parentheses) is doubt.
 *   A `const` found so must be followed by `=`, and its initializer is scanned to its end
 *   (brackets, strings, templates, comments; a `/` that might be a regular expression is
 *   doubt) to prove it is the declaration's only declarator.
 * - A `const` to become `let`: the module must never assign the name, as acorn decides by
 *   name ignoring scopes: any occurrence followed by an assignment operator, `++`/`--`, or
 *   `of`/`in` (also through closing parentheses: `(a) = 1`), or after `++`/`--`, is doubt;
 *   so is any destructuring assignment or destructuring `for` head anywhere.
 * - `globalThis` and `Symbol` (the appended statement reads them): every occurrence must
 *   be a plain read (`Symbol.for`, `Symbol(`, `typeof Symbol`, `x.Symbol`); anything that
 *   could declare one goes to acorn.
 * - A `\u` escape spelling an ASCII identifier character could spell a name the checks
 *   look for under another text: the module goes to acorn.
 * What is inside strings, templates and comments is read as code here: that can only
 * add doubt (send a module to acorn), never hide a declaration or an assignment, except
 * behind text no real module has: a `//` line inside a template literal followed, on the
 * next line, by the very occurrence checked, or (for a pattern's doubt only, which a
 * JSDoc example raises) an unclosed `/**` opening a line of a template literal.
 *
 * The lexer is WebAssembly and must be initialized once (asynchronously): until
 * `lexerReady()` has resolved, or if it failed, every module takes the acorn path.
 */
import type * as Lexer from 'es-module-lexer';
import { ArrayPrototypePush } from '../../safe/intrinsics.js';

export interface FastPlan {
  locals: string[];
  exportsList: [string, number][];
  /** [export name, specifier, imported name ('*' for a namespace)], in acorn's order. */
  reexports: [string, string, string][];
  /** [export name, why]: 'default' of an anonymous function. */
  unreachable: [string, string][];
  stars: string[];
  /** Positions of `const` keywords to become `let  ` (same width). */
  constAt: number[];
  /** `export default IDENT;`: where the edit of the default expression goes. */
  defaultExpression?: { start: number; keywordEnd: number; semicolon: number; local: string };
}

let parse: typeof Lexer.parse | undefined;
let starting: Promise<void> | undefined;
/**
 * Starts the lexer's initialization once (only the loader thread asks: the main thread,
 * which imports rewrite.ts for its types and key, never compiles the WebAssembly) and
 * resolves when it can be used. Never rejects.
 */
export function lexerReady(): Promise<void> {
  // Imported here, not at the top: the module compiles its WebAssembly as it loads.
  starting ??= import('es-module-lexer').then(
    async (lexer) => {
      await lexer.init;
      parse = lexer.parse;
    },
    () => undefined,
  ).catch(() => undefined);
  return starting;
}

/** The plan, or undefined when acorn must decide. Never throws. */
export function planWithLexer(source: string, anonymousDefault = 'anonymous default'): FastPlan | undefined {
  if (parse === undefined) return undefined;
  try {
    return plan(source, parse, anonymousDefault);
  } catch {
    return undefined;
  }
}

const IDENT = /^[A-Za-z_$][\w$]*$/;
/** Words that cannot be the IDENT of `export default IDENT;` (a keyword there is not an identifier expression, or not valid). */
const RESERVED = new Set([
  'await', 'break', 'case', 'catch', 'class', 'const', 'continue', 'debugger', 'default', 'delete', 'do', 'else', 'enum',
  'export', 'extends', 'false', 'finally', 'for', 'function', 'if', 'implements', 'import', 'in', 'instanceof', 'interface',
  'let', 'new', 'null', 'package', 'private', 'protected', 'public', 'return', 'static', 'super', 'switch', 'this', 'throw',
  'true', 'try', 'typeof', 'var', 'void', 'while', 'with', 'yield', 'async', 'of', 'get', 'set',
]);
/** Words after which a line's expression cannot go on: a newline before one ends the statement. */
const STATEMENT_START = new Set([
  'const', 'let', 'var', 'function', 'class', 'export', 'import', 'if', 'for', 'while', 'do', 'return', 'throw', 'try',
  'switch', 'break', 'continue', 'debugger', 'with',
]);
/** Words after which a `/` starts a regular expression. */
const BEFORE_REGEX = new Set(['return', 'typeof', 'case', 'do', 'else', 'in', 'of', 'new', 'delete', 'void', 'throw', 'yield', 'await', 'instanceof']);

type Kind = 'const' | 'other';
interface Binding {
  specifier: string;
  imported: string;
}
/** A re-export with the position of its statement, for acorn's (program order) order. */
type Reexport = [at: number, entry: [string, string, string]];

function plan(source: string, parse: typeof Lexer.parse, anonymousDefault: string): FastPlan | undefined {
  inlineConstAt.clear();
  const [imports, exports] = parse(source);
  if (hasIdentifierEscape(source)) return undefined;
  if (!onlyReads(source, 'Symbol') || !onlyReads(source, 'globalThis')) return undefined;
  const stars: string[] = [];
  const reexportsAt: Reexport[] = [];
  const bindings = new Map<string, Binding>();
  const reexportStatements = new Set<number>();
  for (const entry of imports) {
    if (entry.d !== -1) continue; // dynamic import() and import.meta: not bindings
    const specifier = entry.n;
    if (specifier === undefined || source.slice(entry.s, entry.e).includes('\\')) return undefined;
    const quote = entry.s - 1;
    if (source.startsWith('import', entry.ss)) {
      if (!importClause(source, entry.ss + 6, quote, specifier, bindings)) return undefined;
      continue;
    }
    if (!source.startsWith('export', entry.ss)) return undefined;
    reexportStatements.add(entry.ss);
    const clause = reexportClause(source, entry.ss + 6, quote);
    if (clause === undefined) return undefined;
    if (clause === '*') ArrayPrototypePush(stars, specifier);
    else if (typeof clause === 'string') ArrayPrototypePush(reexportsAt, [entry.ss, [clause, specifier, '*']]);
    else for (const [exported, local] of clause) ArrayPrototypePush(reexportsAt, [entry.ss, [exported, specifier, local]]);
  }
  if (bindings.has('Symbol') || bindings.has('globalThis')) return undefined;

  const locals: string[] = [];
  const localIndex = new Map<string, number>();
  const exportsList: [string, number][] = [];
  const unreachable: [string, string][] = [];
  const constAt: number[] = [];
  const kinds = new Map<string, Kind>();
  /** Locals a clause exports (declared elsewhere): decided after every inline declaration is known. */
  const clauseLocals: string[] = [];
  let defaultExpression: FastPlan['defaultExpression'];
  let statementExports = 0;
  let lastStatement = -1;
  const exportLocal = (exported: string, local: string): void => {
    let index = localIndex.get(local);
    if (index === undefined) {
      index = locals.length;
      ArrayPrototypePush(locals, local);
      localIndex.set(local, index);
    }
    ArrayPrototypePush(exportsList, [exported, index]);
  };
  for (const entry of exports) {
    const name = entry.n;
    const local = entry.ln;
    if (entry.ss !== lastStatement) {
      lastStatement = entry.ss;
      statementExports = 0;
    }
    statementExports++;
    if (local === undefined) {
      if (reexportStatements.has(entry.ss)) continue; // taken from the statement above
      if (name !== 'default') return undefined;
      const after = skipForward(source, entry.e);
      if (/^(?:async[ \t]+)?function\s*\*?\s*\(/.test(source.slice(after, after + 40))) {
        ArrayPrototypePush(unreachable, ['default', anonymousDefault]);
        continue;
      }
      if (defaultExpression !== undefined) return undefined;
      const expression = defaultIdentifier(source, after);
      if (expression === undefined) return undefined;
      let unique = '$ltd';
      for (let i = 1; source.includes(unique); i++) unique = `$ltd${i}`;
      defaultExpression = { start: entry.ss, keywordEnd: entry.e, semicolon: expression, local: unique };
      exportLocal('default', unique);
      continue;
    }
    if (!IDENT.test(local) || !IDENT.test(name) || !source.startsWith('export', entry.ss)) return undefined;
    const inline = entry.ls > entry.ss && !source.startsWith('{', skipForward(source, entry.ss + 6));
    if (inline) {
      // The export is its own declaration: `export function|class|let|var|const NAME`, or `export default function|class NAME`.
      const kind = inlineKind(source, entry, statementExports);
      if (kind === undefined) return undefined;
      if (kinds.has(local)) return undefined;
      kinds.set(local, kind);
    } else if (entry.ls > entry.s) {
      return undefined; // neither `a as b` nor `a` of a clause
    } else {
      const binding = bindings.get(local);
      if (binding !== undefined) {
        ArrayPrototypePush(reexportsAt, [entry.ss, [name, binding.specifier, binding.imported]]);
        continue;
      }
      if (!localIndex.has(local) && !kinds.has(local)) ArrayPrototypePush(clauseLocals, local);
    }
    exportLocal(name, local);
  }

  const consts: string[] = [];
  for (const local of clauseLocals) {
    if (kinds.has(local)) continue; // also declared inline (export let a; export { a as b })
    const found = declarationOf(source, local, exports);
    if (found === undefined) return undefined;
    kinds.set(local, found.kind);
    if (found.kind === 'const') {
      if (!singleDeclarator(source, found.valueAt)) return undefined;
      ArrayPrototypePush(constAt, found.keywordAt);
      ArrayPrototypePush(consts, local);
    }
  }
  for (const local of locals) {
    if (kinds.get(local) === 'const' && !clauseLocals.includes(local)) {
      ArrayPrototypePush(consts, local);
      ArrayPrototypePush(constAt, inlineConstAt.get(local)!);
    }
  }
  inlineConstAt.clear();
  if (consts.length > 0) {
    if (destructuringAssignment(source)) return undefined;
    for (const local of consts) if (mayBeAssigned(source, local)) return undefined;
  }
  constAt.sort((a, b) => a - b);
  const reexports = reexportsAt.sort((a, b) => a[0] - b[0]).map((r) => r[1]);
  return { locals, exportsList, reexports, unreachable, stars, constAt, ...(defaultExpression ? { defaultExpression } : {}) };
}

/** The `const` keyword of each inline `export const NAME =`, by name, for the plan being made. */
const inlineConstAt = new Map<string, number>();

/** The declaration kind of an export inside its declaration; undefined when in doubt. */
function inlineKind(source: string, entry: Lexer.ExportSpecifier, statementExports: number): Kind | undefined {
  let at = skipForward(source, entry.ss + 6);
  if (entry.n === 'default') {
    if (!source.startsWith('default', at)) return undefined;
    at = skipForward(source, at + 7);
    if (!/^(?:function\b|async[ \t]+function\b|class\b)/.test(source.slice(at, at + 20))) return undefined;
    return 'other';
  }
  const word = /^(?:function|class|let|var|const|async[ \t]+function)\b/.exec(source.slice(at, at + 20))?.[0];
  if (word === undefined) return undefined;
  if (word !== 'const') return 'other';
  // `export const NAME = ...` with NAME right after the keyword, the statement's first export, `=` after it.
  if (statementExports !== 1 || skipForward(source, at + 5) !== entry.ls || source.slice(at + 5, entry.ls).includes('/')) return undefined;
  const next = skipForward(source, entry.le);
  if (!isPlainAssign(source, next)) return undefined;
  if (!singleDeclarator(source, next + 1)) return undefined;
  inlineConstAt.set(entry.ln!, at);
  return 'const';
}

/** `export default IDENT;`: the position of the `;`, or undefined for any other default expression. */
function defaultIdentifier(source: string, at: number): number | undefined {
  const word = /^[A-Za-z_$][\w$]*/.exec(source.slice(at, at + 200))?.[0];
  if (word === undefined || RESERVED.has(word)) return undefined;
  const end = at + word.length;
  if (end < source.length && isIdChar(source.charCodeAt(end))) return undefined;
  const semicolon = skipForward(source, end);
  return source.charCodeAt(semicolon) === 0x3b /* ; */ ? semicolon : undefined;
}

/**
 * `import <clause> from` between `from` (the position after the keyword) and the
 * specifier's quote, its bindings added to `into`. False when the clause is not plain.
 */
function importClause(source: string, from: number, quote: number, specifier: string, into: Map<string, Binding>): boolean {
  const tokens = clauseTokens(source.slice(from, quote));
  if (tokens === undefined) return false;
  if (tokens.length === 0) return true; // import 'x'
  if (tokens.pop() !== 'from') return false;
  let i = 0;
  const bind = (local: string, imported: string): boolean => {
    if (!IDENT.test(local) || RESERVED.has(local) && local !== 'async' && local !== 'of' && local !== 'get' && local !== 'set') return false;
    into.set(local, { specifier, imported });
    return true;
  };
  if (IDENT.test(tokens[i]!) && tokens[i] !== 'from' || tokens[i] === 'from' && tokens.length === 1) {
    if (!bind(tokens[i]!, 'default')) return false;
    i++;
    if (i === tokens.length) return true;
    if (tokens[i++] !== ',') return false;
  }
  if (tokens[i] === '*') {
    if (tokens[i + 1] !== 'as' || tokens.length !== i + 3) return false;
    return bind(tokens[i + 2]!, '*');
  }
  const list = braceList(tokens, i);
  if (list === undefined) return false;
  for (const [imported, local] of list) if (!bind(local, imported)) return false;
  return true;
}

/**
 * `export <clause> from` of a re-export statement: '*' (export * from), the name of
 * `export * as name from`, or the [exported, local] pairs of `export { ... } from`.
 */
function reexportClause(source: string, from: number, quote: number): '*' | string | [string, string][] | undefined {
  const tokens = clauseTokens(source.slice(from, quote));
  if (tokens === undefined || tokens.pop() !== 'from') return undefined;
  if (tokens[0] === '*') {
    if (tokens.length === 1) return '*';
    if (tokens.length === 3 && tokens[1] === 'as' && IDENT.test(tokens[2]!)) return tokens[2]!;
    return undefined;
  }
  const list = braceList(tokens, 0);
  return list?.map(([local, exported]) => [exported, local]);
}

/** `{ a, b as c, }` from token i to the end: [name before `as`, name after] pairs. */
function braceList(tokens: string[], i: number): [string, string][] | undefined {
  if (tokens[i++] !== '{' || tokens.at(-1) !== '}') return undefined;
  const out: [string, string][] = [];
  const end = tokens.length - 1;
  while (i < end) {
    const first = tokens[i++]!;
    if (!IDENT.test(first)) return undefined;
    let second = first;
    if (tokens[i] === 'as') {
      second = tokens[i + 1]!;
      if (second === undefined || !IDENT.test(second)) return undefined;
      i += 2;
    }
    ArrayPrototypePush(out, [first, second]);
    if (i < end && tokens[i++] !== ',') return undefined;
  }
  return out;
}

const CLAUSE_TOKEN = /\s*(?:([A-Za-z_$][\w$]*)|([{},*]))/y;
/** The tokens of an import/export clause; undefined for anything but names and `{},*` (comments, strings, escapes). */
function clauseTokens(text: string): string[] | undefined {
  const tokens: string[] = [];
  CLAUSE_TOKEN.lastIndex = 0;
  let at = 0;
  for (;;) {
    const match = CLAUSE_TOKEN.exec(text);
    if (match === null) break;
    ArrayPrototypePush(tokens, match[1] ?? match[2]!);
    at = CLAUSE_TOKEN.lastIndex;
  }
  return /^\s*$/.test(text.slice(at)) ? tokens : undefined;
}

interface Declaration {
  kind: Kind;
  keywordAt: number;
  /** After the `=` of a const's declarator. */
  valueAt: number;
}

/**
 * The one top-level declaration of `name` (exported by a clause); undefined when none,
 * several kinds, or the name may stand in a pattern or a declarator list.
 */
function declarationOf(source: string, name: string, exports: readonly Lexer.ExportSpecifier[]): Declaration | undefined {
  let found: Declaration | undefined;
  for (let at = source.indexOf(name); at !== -1; at = source.indexOf(name, at + name.length)) {
    const end = at + name.length;
    if ((at > 0 && isIdChar(source.charCodeAt(at - 1))) || (end < source.length && isIdChar(source.charCodeAt(end)))) continue;
    if (inExportClause(at, exports)) continue;
    const before = skipBackward(source, at);
    if (before === DOUBT) return undefined;
    const c = before < 0 ? 0 : source.charCodeAt(before);
    if (c === 0x2e /* . */ && !(before >= 2 && source.startsWith('...', before - 2))) continue; // a property
    const keyword = before < 0 ? undefined : keywordBefore(source, before);
    if (keyword !== undefined) {
      if (keyword.word === 'const') {
        if (found !== undefined) return undefined;
        const next = skipForward(source, end);
        if (!isPlainAssign(source, next)) return undefined;
        found = { kind: 'const', keywordAt: keyword.at, valueAt: next + 1 };
      } else {
        if (found?.kind === 'const') return undefined;
        found ??= { kind: 'other', keywordAt: keyword.at, valueAt: -1 };
      }
      continue;
    }
    // `{ name }`, `[name, ...]`, `{ a: name }`, `...name`, `, name =`, `let x, name;`: a
    // pattern or a declarator list may declare it, unless what follows makes it a value.
    const listed = before < 0 || c === 0x7b || c === 0x5b || c === 0x2c || c === 0x3a || (c === 0x2e && before >= 2);
    if (listed && !followedAsValue(source, end) && !inParentheses(source, at) && !inDocComment(source, at)) return undefined;
  }
  return found;
}

/** The declaring keyword ending at `last` (its last character), with its start; `function*` counts. */
function keywordBefore(source: string, last: number): { word: string; at: number } | undefined {
  let end = last;
  if (source.charCodeAt(end) === 0x2a /* * */) {
    end = skipBackward(source, end);
    if (end < 0) return undefined;
  }
  let start = end;
  while (start > 0 && isIdChar(source.charCodeAt(start - 1))) start--;
  const word = source.slice(start, end + 1);
  if (start > 0 && source.charCodeAt(start - 1) === 0x2e) return undefined; // x.let
  if (end !== last) return word === 'function' ? { word, at: start } : undefined;
  return word === 'const' || word === 'let' || word === 'var' || word === 'class' || word === 'function' ? { word, at: start } : undefined;
}

function inExportClause(at: number, exports: readonly Lexer.ExportSpecifier[]): boolean {
  for (const e of exports) if ((at >= e.s && at < e.e) || (at >= e.ls && at < e.le)) return true;
  return false;
}

/** `=` at `at`, not `==` nor `=>`. */
function isPlainAssign(source: string, at: number): boolean {
  if (source.charCodeAt(at) !== 0x3d) return false;
  const n = source.charCodeAt(at + 1);
  return n !== 0x3d && n !== 0x3e;
}

/**
 * Whether the const initializer starting at `at` ends its declaration without a second
 * declarator: scanned to the `;`, the `}` closing an enclosing block, or a line whose next
 * token starts a statement, through brackets, strings, templates and comments. A `,`
 * outside brackets, a `/` that may start a regular expression, or the end of the text
 * answers false.
 */
function singleDeclarator(source: string, at: number): boolean {
  let depth = 0;
  let prev = 0x3d; // the `=`
  let i = at;
  const n = source.length;
  while (i < n) {
    const c = source.charCodeAt(i);
    if (c === 0x2f /* / */) {
      const next = source.charCodeAt(i + 1);
      if (next === 0x2f) {
        const eol = source.indexOf('\n', i);
        i = eol === -1 ? n : eol;
        continue;
      }
      if (next === 0x2a) {
        const close = source.indexOf('*/', i + 2);
        if (close === -1) return false;
        i = close + 2;
        continue;
      }
      // After a value (a name, `)` or `]`): a division. After an operator or an opening
      // bracket: a regular expression. After `}` (a block or an object?): doubt.
      if ((prev === 0x29 || prev === 0x5d || isIdChar(prev)) && !prevWordBeforeRegex(source, i)) {
        prev = c;
        i++;
        continue;
      }
      if (prev === 0x7d || prev === 0x60 || prev === 0x27 || prev === 0x22) return false;
      const end = regexEnd(source, i);
      if (end === -1) return false;
      i = end;
      prev = 0x29; // a value
      continue;
    }
    if (c === 0x27 || c === 0x22) {
      const end = stringEnd(source, i, c);
      if (end === -1) return false;
      i = end;
      prev = c;
      continue;
    }
    if (c === 0x60) {
      const end = templateEnd(source, i);
      if (end === -1) return false;
      i = end;
      prev = c;
      continue;
    }
    if (c === 0x28 || c === 0x5b || c === 0x7b) depth++;
    else if (c === 0x29 || c === 0x5d || c === 0x7d) {
      if (depth === 0) return c === 0x7d;
      depth--;
    } else if (depth === 0) {
      if (c === 0x2c) return false;
      if (c === 0x3b) return true;
      if (c === 0x0a || c === 0x0d || c === 0x2028 || c === 0x2029) {
        const next = skipForward(source, i);
        if (next >= n) return true;
        const word = /^[A-Za-z]+/.exec(source.slice(next, next + 12))?.[0];
        if (word !== undefined && STATEMENT_START.has(word) && !isIdChar(source.charCodeAt(next + word.length))) return true;
      }
    }
    if (!isSpace(c)) prev = c;
    i++;
  }
  return false;
}

function prevWordBeforeRegex(source: string, slash: number): boolean {
  let end = slash;
  while (end > 0 && isSpace(source.charCodeAt(end - 1))) end--;
  let start = end;
  while (start > 0 && isIdChar(source.charCodeAt(start - 1))) start--;
  return start < end && BEFORE_REGEX.has(source.slice(start, end));
}

/** After the flags of the regular expression opened at `at`, or -1. */
function regexEnd(source: string, at: number): number {
  let inClass = false;
  for (let i = at + 1; i < source.length; i++) {
    const c = source.charCodeAt(i);
    if (c === 0x5c) i++;
    else if (c === 0x0a || c === 0x0d || c === 0x2028 || c === 0x2029) return -1;
    else if (c === 0x5b) inClass = true;
    else if (c === 0x5d) inClass = false;
    else if (c === 0x2f && !inClass) {
      let end = i + 1;
      while (end < source.length && isIdChar(source.charCodeAt(end))) end++;
      return end;
    }
  }
  return -1;
}

/** After the closing quote of the string opened at `at`, or -1. */
function stringEnd(source: string, at: number, quote: number): number {
  for (let i = at + 1; i < source.length; i++) {
    const c = source.charCodeAt(i);
    if (c === 0x5c) i++;
    else if (c === quote) return i + 1;
    else if (c === 0x0a || c === 0x0d) return -1;
  }
  return -1;
}

/** After the closing backquote of the template opened at `at` (substitutions scanned as code), or -1. */
function templateEnd(source: string, at: number): number {
  for (let i = at + 1; i < source.length; i++) {
    const c = source.charCodeAt(i);
    if (c === 0x5c) i++;
    else if (c === 0x60) return i + 1;
    else if (c === 0x24 && source.charCodeAt(i + 1) === 0x7b) {
      // A substitution: brackets, strings and templates inside it, to its closing brace.
      let depth = 0;
      let j = i + 2;
      for (; j < source.length; j++) {
        const d = source.charCodeAt(j);
        if (d === 0x27 || d === 0x22) {
          const end = stringEnd(source, j, d);
          if (end === -1) return -1;
          j = end - 1;
        } else if (d === 0x60) {
          const end = templateEnd(source, j);
          if (end === -1) return -1;
          j = end - 1;
        } else if (d === 0x2f) return -1; // a comment, a division or a regular expression: not worth telling apart here
        else if (d === 0x7b) depth++;
        else if (d === 0x7d) {
          if (depth === 0) break;
          depth--;
        }
      }
      if (j >= source.length) return -1;
      i = j;
    }
  }
  return -1;
}

/**
 * Whether `name` (a const) may be assigned anywhere: an occurrence followed (through
 * closing parentheses) by an assignment operator, `++`, `--`, `of` or `in`, or preceded
 * (through opening parentheses) by `++`/`--`. By name, ignoring scopes, as acorn's path.
 */
function mayBeAssigned(source: string, name: string): boolean {
  for (let at = source.indexOf(name); at !== -1; at = source.indexOf(name, at + name.length)) {
    const end = at + name.length;
    if ((at > 0 && isIdChar(source.charCodeAt(at - 1))) || (end < source.length && isIdChar(source.charCodeAt(end)))) continue;
    let before = skipBackward(source, at);
    if (before === DOUBT) return true;
    if (source.charCodeAt(before) === 0x2e && !(before >= 2 && source.startsWith('...', before - 2))) continue; // a property
    let after = skipForward(source, end);
    while (source.charCodeAt(after) === 0x29) after = skipForward(source, after + 1);
    if (assignsAt(source, after)) {
      // A declaration's own `=` (const NAME = ..., or an inner `let NAME = ...`) is not an assignment.
      if (!(source.charCodeAt(after) === 0x3d && before >= 0 && keywordBefore(source, before) !== undefined)) return true;
    }
    while (before >= 0 && source.charCodeAt(before) === 0x28) before = skipBackward(source, before);
    if (before === DOUBT) return true;
    if (before >= 1) {
      const c = source.charCodeAt(before);
      if ((c === 0x2b || c === 0x2d) && source.charCodeAt(before - 1) === c) return true;
    }
  }
  return false;
}

/** An assignment operator, `++`, `--`, or the word `of`/`in`, at `at`. */
function assignsAt(source: string, at: number): boolean {
  const c = source.charCodeAt(at);
  const d = source.charCodeAt(at + 1);
  switch (c) {
    case 0x3d: // =
      return d !== 0x3d && d !== 0x3e;
    case 0x2b: // + ++ +=
    case 0x2d:
      return d === c || d === 0x3d;
    case 0x2a: // *= **=
      return d === 0x3d || (d === 0x2a && source.charCodeAt(at + 2) === 0x3d);
    case 0x2f: // /=
    case 0x25: // %=
    case 0x5e: // ^=
      return d === 0x3d;
    case 0x26: // &= &&=
    case 0x7c: // |= ||=
      return d === 0x3d || (d === c && source.charCodeAt(at + 2) === 0x3d);
    case 0x3f: // ??=
      return d === 0x3f && source.charCodeAt(at + 2) === 0x3d;
    case 0x3c: // <<=
      return d === 0x3c && source.charCodeAt(at + 2) === 0x3d;
    case 0x3e: // >>= >>>=
      return d === 0x3e && (source.charCodeAt(at + 2) === 0x3d || (source.charCodeAt(at + 2) === 0x3e && source.charCodeAt(at + 3) === 0x3d));
    case 0x6f: // of
      return d === 0x66 && !isIdChar(source.charCodeAt(at + 2));
    case 0x69: // in
      return d === 0x6e && !isIdChar(source.charCodeAt(at + 2));
    default:
      return false;
  }
}

/**
 * Any destructuring assignment (`[a] = x`, `({ a } = x)`) or destructuring `for` head
 * (`for ([a] of x)`): it may assign any name, so no const is rewritten.
 */
function destructuringAssignment(source: string): boolean {
  const close = /[\]}]/g;
  for (let m = close.exec(source); m !== null; m = close.exec(source)) {
    let after = skipForward(source, m.index + 1);
    while (source.charCodeAt(after) === 0x29) after = skipForward(source, after + 1);
    if (isPlainAssign(source, after)) return true;
  }
  for (let at = source.indexOf('for'); at !== -1; at = source.indexOf('for', at + 3)) {
    if ((at > 0 && isIdChar(source.charCodeAt(at - 1))) || isIdChar(source.charCodeAt(at + 3))) continue;
    let next = skipForward(source, at + 3);
    if (source.startsWith('await', next)) next = skipForward(source, next + 5);
    if (source.charCodeAt(next) !== 0x28) continue;
    next = skipForward(source, next + 1);
    const c = source.charCodeAt(next);
    if (c === 0x5b || c === 0x7b || c === 0x28) return true;
  }
  return false;
}

/**
 * Whether no occurrence of `name` (Symbol, globalThis) can be a top-level declaration of
 * it: not after a declaring keyword, and not in a declarator list or a pattern (after
 * `,` `{` `[` `:` `...`) unless an operator, a call, a member access or a closing
 * parenthesis follows it (a binding is followed by `=`, `,`, `}`, `]`, `;` or, by ASI, a
 * next statement). A parameter or an inner declaration would not matter to acorn's path
 * (it looks at top-level declarations), but is not told apart here.
 */
function onlyReads(source: string, name: string): boolean {
  for (let at = source.indexOf(name); at !== -1; at = source.indexOf(name, at + name.length)) {
    const end = at + name.length;
    if ((at > 0 && isIdChar(source.charCodeAt(at - 1))) || (end < source.length && isIdChar(source.charCodeAt(end)))) continue;
    const before = skipBackward(source, at);
    const b = before < 0 ? 0 : source.charCodeAt(before);
    if (b === 0x2e && !(before >= 2 && source.startsWith('...', before - 2))) continue; // a property
    if (before >= 0 && keywordBefore(source, before) !== undefined) return false;
    const listed = before < 0 || b === 0x2c || b === 0x7b || b === 0x5b || b === 0x3a || b === 0x2e;
    if (!listed) continue;
    if (!followedAsValue(source, end) && !inParentheses(source, at) && !inDocComment(source, at)) return false;
  }
  return true;
}

/**
 * Whether the token after a name at `end` makes the name a value, never a binding: an
 * operator, a call, a member access, a closing parenthesis, a property's `:`. A binding
 * in a pattern or a declarator list is followed by `=`, `,`, `}`, `]`, `;` or, by ASI,
 * the next statement.
 */
function followedAsValue(source: string, end: number): boolean {
  const after = skipForward(source, end);
  const c = source.charCodeAt(after);
  const d = source.charCodeAt(after + 1);
  return (
    c === 0x2e || c === 0x28 || c === 0x29 || c === 0x5b || c === 0x3f || c === 0x26 || c === 0x7c || c === 0x3c || c === 0x3e ||
    c === 0x2b || c === 0x2d || c === 0x2a || c === 0x2f || c === 0x25 || c === 0x5e || c === 0x3a ||
    (c === 0x3d && (d === 0x3d || d === 0x3e)) || (c === 0x21 && d === 0x3d)
  );
}

/**
 * Whether the innermost bracket around `at` is a parenthesis: a parameter list, call
 * arguments or an expression, never a binding pattern (which admits no parentheses) nor a
 * declarator list. Found by a short backward scan; a quote, a backquote or a `/` on the
 * way (a string, a comment or a regular expression could hold a bracket) answers false.
 */
function inParentheses(source: string, at: number): boolean {
  let depth = 0;
  const stop = Math.max(0, at - 4000);
  for (let i = at - 1; i >= stop; i--) {
    const c = source.charCodeAt(i);
    if (c === 0x29 || c === 0x5d || c === 0x7d) depth++;
    else if (c === 0x28 || c === 0x5b || c === 0x7b) {
      if (depth === 0) return c === 0x28;
      depth--;
    } else if (c === 0x27 || c === 0x22 || c === 0x60 || c === 0x2f || (c === 0x3b && depth === 0)) return false;
    else if (c === 0x0a && source.lastIndexOf('//', i) > source.lastIndexOf('\n', i - 1)) return false; // a line comment's bracket
  }
  return false;
}

/**
 * Whether `at` lies in a `/**` comment that opens its line (a JSDoc block, whose examples
 * often read as code). Asked only to dismiss a doubt, never to skip a declaration or an
 * assignment.
 */
function inDocComment(source: string, at: number): boolean {
  const open = source.lastIndexOf('/**', at);
  if (open === -1 || source.lastIndexOf('*/', at) > open) return false;
  for (let i = open - 1; i >= 0; i--) {
    const c = source.charCodeAt(i);
    if (c === 0x0a) return true;
    if (!isSpace(c)) return false;
  }
  return true;
}

/** A `\u` escape that spells an ASCII identifier character (it could spell a name checked here). */
function hasIdentifierEscape(source: string): boolean {
  for (let at = source.indexOf('\\u'); at !== -1; at = source.indexOf('\\u', at + 2)) {
    const braced = source.charCodeAt(at + 2) === 0x7b;
    const hex = braced ? /^\{0*([0-9a-fA-F]{1,6})\}/.exec(source.slice(at + 2, at + 14))?.[1] : /^[0-9a-fA-F]{4}/.exec(source.slice(at + 2, at + 6))?.[0];
    if (hex === undefined) continue;
    if (isIdChar(Number.parseInt(hex, 16)) && Number.parseInt(hex, 16) < 0x80) return true;
  }
  return false;
}

const DOUBT = -2;

function isIdChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x24 || (c > 0x7f && !isSpace(c));
}

function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0xa0 || c === 0xfeff || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000;
}

/** The first position at or after `at` that is neither whitespace nor inside a comment (source.length at the end). */
function skipForward(source: string, at: number): number {
  const n = source.length;
  while (at < n) {
    const c = source.charCodeAt(at);
    if (isSpace(c)) {
      at++;
    } else if (c === 0x2f && source.charCodeAt(at + 1) === 0x2f) {
      const eol = source.indexOf('\n', at);
      at = eol === -1 ? n : eol;
    } else if (c === 0x2f && source.charCodeAt(at + 1) === 0x2a) {
      const close = source.indexOf('*/', at + 2);
      at = close === -1 ? n : close + 2;
    } else {
      break;
    }
  }
  return at;
}

/**
 * The last position before `at` that is neither whitespace nor inside a comment (-1 at the
 * start). Block comments are skipped back to their `/*`; a line comment can only be seen
 * from its start, so on reaching a line that has `//`, only a line that is nothing but a
 * comment is skipped: any other answers DOUBT.
 */
function skipBackward(source: string, at: number): number {
  let i = at - 1;
  while (i >= 0) {
    const c = source.charCodeAt(i);
    if (c === 0x0a || c === 0x0d || c === 0x2028 || c === 0x2029) {
      const lineStart = source.lastIndexOf('\n', i - 1) + 1;
      const line = source.slice(lineStart, i);
      const comment = line.indexOf('//');
      if (comment !== -1) {
        if (line.slice(0, comment).trim() !== '') return DOUBT;
        i = lineStart - 1;
        continue;
      }
      i--;
    } else if (isSpace(c)) {
      i--;
    } else if (c === 0x2f && i > 0 && source.charCodeAt(i - 1) === 0x2a) {
      const open = source.lastIndexOf('/*', i - 2);
      if (open === -1) return DOUBT;
      i = open - 1;
    } else {
      return i;
    }
  }
  return -1;
}
