/**
 * The ESM preload's fast path: what rewriteModule (rewrite.ts) needs from a module,
 * found with es-module-lexer instead of a full acorn parse when that is certain.
 *
 * The rewrite needs each export's name and local variable, which locals are `const`
 * (and whether the module ever assigns them), and which exports are re-exports. The lexer
 * gives export names, local names and positions, and the import/re-export statements; it
 * gives no AST. So this path plans the rewrite only for modules whose every export it
 * can classify from the text with certainty, and answers undefined ("ask acorn") for
 * anything else: a default export of an expression, a named re-export (`export { a } from`,
 * `export * as ns from`), an exported import binding, a local whose declaration is not
 * found as `function`/`class`/`let`/`var`/`const NAME`, a `const` the module may assign
 * (any `NAME =`, `NAME +=`, `++NAME`..., or any destructuring assignment anywhere), a
 * `const` with several declarators or a destructuring pattern, a declaration of
 * `globalThis` or `Symbol`, a string-literal export name. Plans from either path are the
 * same for the same module (bench/parse-cost.mjs measures both; the unit tests compare
 * both paths' outputs). Measured: 0.1-0.2 ms of CPU per module, against 2.5-8.5 ms for
 * acorn's parse and walk (docs/transparency.md).
 *
 * The lexer is WebAssembly and must be initialized once (asynchronously): until
 * `lexerReady()` has resolved, or if it failed, every module takes the acorn path.
 */
import type * as Lexer from 'es-module-lexer';
import { ArrayPrototypePush } from '../../safe/intrinsics.js';

export interface FastPlan {
  locals: string[];
  exportsList: [string, number][];
  stars: string[];
  /** Positions of `const` keywords to become `let  ` (same width). */
  constAt: number[];
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

const IDENT = /^[A-Za-z_$][\w$]*$/;

function escape(name: string): string {
  return name.replace(/\$/g, '\\$');
}

/** The plan, or undefined when acorn must decide. Never throws. */
export function planWithLexer(source: string): FastPlan | undefined {
  if (parse === undefined) return undefined;
  try {
    return plan(source, parse);
  } catch {
    return undefined;
  }
}

function plan(source: string, parse: typeof Lexer.parse): FastPlan | undefined {
  const [imports, exports] = parse(source);
  if (/\b(?:const|let|var|class|function\s*\*?)\s*(?:globalThis|Symbol)\b/.test(source)) return undefined;
  const stars: string[] = [];
  const importTexts: string[] = [];
  for (const entry of imports) {
    if (entry.d !== -1) continue; // dynamic import() and import.meta: not bindings
    const text = source.slice(entry.ss, entry.se);
    if (text.startsWith('import')) {
      if (/\b(?:globalThis|Symbol)\b/.test(text)) return undefined;
      ArrayPrototypePush(importTexts, text);
      continue;
    }
    if (/^export\s*\*\s*from\s*['"]/.test(text) && entry.n !== undefined) ArrayPrototypePush(stars, entry.n);
    else return undefined;
  }
  const locals: string[] = [];
  const localIndex = new Map<string, number>();
  const exportsList: [string, number][] = [];
  const constAt: number[] = [];
  const destructuringAssignment = /[\]}]\s*=(?![=>])/.test(source);
  for (const entry of exports) {
    const local = entry.ln;
    if (local === undefined || !IDENT.test(local) || !IDENT.test(entry.n)) return undefined;
    if (entry.n === 'default') {
      const after = source.slice(entry.e).trimStart();
      if (!/^(?:function\b|async\s+function\b|class\b)/.test(after)) return undefined;
    }
    let index = localIndex.get(local);
    if (index === undefined) {
      const word = new RegExp(`(?<![\\w$.])${escape(local)}(?![\\w$])`);
      if (importTexts.some((text) => word.test(text))) return undefined;
      const kind = declarationOf(source, local);
      if (kind === undefined || inPattern(source, local, exports)) return undefined;
      if (kind.kind === 'const') {
        if (destructuringAssignment || maybeAssigned(source, local, kind.nameAt)) return undefined;
        ArrayPrototypePush(constAt, kind.keywordAt);
      }
      index = locals.length;
      ArrayPrototypePush(locals, local);
      localIndex.set(local, index);
    }
    ArrayPrototypePush(exportsList, [entry.n, index]);
  }
  return { locals, exportsList, stars, constAt };
}

interface Declaration {
  kind: 'const' | 'other';
  keywordAt: number;
  nameAt: number;
}

/** The one declaration of `name` in the text; undefined when none or several kinds (or any doubt). */
function declarationOf(source: string, name: string): Declaration | undefined {
  const re = new RegExp(`(?<![\\w$.])(const|let|var|class|function\\s*\\*?)(\\s+|\\s*\\*\\s*)${escape(name)}(?![\\w$])`, 'g');
  let found: Declaration | undefined;
  for (let match = re.exec(source); match !== null; match = re.exec(source)) {
    const keyword = match[1]!;
    const kind = keyword === 'const' ? 'const' : 'other';
    if (found !== undefined && (found.kind === 'const' || kind === 'const')) return undefined;
    if (kind === 'const') {
      // Only `const NAME = <...>` with one declarator: `const a = 1, b = 2` and patterns go to acorn.
      const rest = source.slice(match.index + match[0].length);
      if (!/^\s*=(?![=>])/.test(rest)) return undefined;
    }
    found ??= { kind, keywordAt: match.index, nameAt: match.index + match[0].length - name.length };
  }
  if (found?.kind === 'const' && !/^const\s/.test(source.slice(found.keywordAt))) return undefined;
  return found;
}

/**
 * Whether `name` may stand in a destructuring pattern (`const { name } = ...` declares it
 * without the text `const name`): any `{ name }`, `[name, ...]`, `{ a: name }` outside
 * the export clauses. Object literals and arrays with the name also answer true: acorn
 * then decides.
 */
function inPattern(source: string, name: string, exports: readonly { s: number; e: number; ls: number; le: number }[]): boolean {
  const re = new RegExp(`(?:[{\[,:]|\.\.\.)\s*${escape(name)}\s*(?=[,}\]=])`, 'g');
  for (let match = re.exec(source); match !== null; match = re.exec(source)) {
    const at = match.index + match[0].length - name.length - (match[0].length - match[0].trimEnd().length);
    if (!exports.some((e) => (at >= e.s && at < e.e) || (at >= e.ls && at < e.le))) return true;
  }
  return false;
}

/** Whether the module might assign `name` anywhere but at its declaration (by name, ignoring scopes, as acorn's path does). */
function maybeAssigned(source: string, name: string, declaredAt: number): boolean {
  const n = escape(name);
  const assignment = new RegExp(
    `(?<![\\w$.])${n}\\s*(?:=(?![=>])|[-+*/%&|^]=|\\*\\*=|<<=|>>>?=|&&=|\\|\\|=|\\?\\?=|\\+\\+|--)|(?:\\+\\+|--)\\s*${n}(?![\\w$])|\\bfor\\s*\\(\\s*${n}\\s+(?:of|in)\\b`,
    'g',
  );
  for (let match = assignment.exec(source); match !== null; match = assignment.exec(source)) {
    if (match.index !== declaredAt) return true;
  }
  return false;
}
