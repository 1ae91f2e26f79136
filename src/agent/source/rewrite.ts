/**
 * Makes an ES module's exports rebindable from outside, by rewriting its source as it
 * loads (the preload engine's ESM half; it runs in the loader hooks thread).
 *
 * An ES module's exports are live bindings: `import { f }` reads the exporting module's
 * own variable `f` at each use. So the only place to patch `f` for every importer (named
 * imports, namespace imports, re-exports) is that variable itself. The rewrite appends one
 * statement at the end of the module, which hands the main thread a getter and a setter
 * over its exported variables once the module has finished evaluating:
 *
 *   ;globalThis[Symbol.for('livetrace.preload.esm.v1')]?.register(import.meta.url, {
 *     locals: ['f', ...], get: (i) => { switch (i) { case 0: return f; ... } },
 *     set: (i, v) => { switch (i) { case 0: f = v; return; ... } }, ... })
 *
 * How it stays safe:
 * - Nothing changes above the appended line, so line numbers, stack traces and source
 *   maps are untouched, and no module is added to the graph (no extra imports), so
 *   evaluation order, import cycles, hoisted functions seen from a cycle, temporal dead
 *   zones and top-level await behave exactly as without the rewrite. (Wrapper-module
 *   approaches such as import-in-the-middle copy each export into a second module's
 *   variable, which breaks all of these; see docs/reach.md.)
 * - Two in-place edits, each only where a binding could not otherwise be rebound:
 *   `const` becomes `let  ` (same width, so columns do not move) when the module never
 *   assigns the name (so the TypeError such an assignment would throw can't be lost), and
 *   an anonymous `export default <expression>` becomes `let $ltd={default:<expression>}.default`
 *   with an `export { $ltd as default }` appended: the `{default: ...}` keeps the
 *   function's inferred name 'default', the `let` keeps the temporal dead zone. Only that
 *   line's columns shift.
 * - An anonymous `export default function () {}` is hoisted; it has no name to assign,
 *   and giving it one would change its `name`: it is reported as not rebindable.
 * - If the source does not parse, or declares `globalThis` or `Symbol` at top level, it
 *   is left exactly as it was (the module simply is not reachable by this engine).
 * - If livetrace is not running in the thread that evaluates the module, `?.` makes the
 *   appended statement a no-op.
 */
import { tokenizer, type AnyNode, type Pattern, type Program, type VariableDeclaration } from 'acorn';
import { simple } from 'acorn-walk';
import { parseModule } from './parse.js';
import { ArrayPrototypePush } from '../../safe/intrinsics.js';
import { planWithLexer } from './rewrite-fast.js';

/** The global key the main thread's registrar lives under. */
export const REGISTRAR_KEY = 'livetrace.preload.esm.v1';

/** What a rewritten module hands the main thread when it has finished evaluating. */
export interface BindingRecord {
  /** Local variables behind exports, by index. */
  locals: string[];
  /** Per local: why it can't be reassigned, or null when `set` can. */
  fixed: (string | null)[];
  /** [export name, local index]: several names may share a local. */
  exports: [string, number][];
  /** [export name, why]: exports with no local to reach ('default' of an anonymous function). */
  unreachable: [string, string][];
  /** [export name, specifier, imported name ('*' for a namespace)]. */
  reexports: [string, string, string][];
  /** Specifiers of `export * from`. */
  stars: string[];
  /** Reads local `index` (throws ReferenceError in its temporal dead zone). */
  get(index: number): unknown;
  /** Assigns local `index` (only when `fixed[index]` is null). */
  set(index: number, value: unknown): void;
  /** import.meta.resolve in the module. */
  resolve(specifier: string): string;
}

type Declared = 'function' | 'class' | 'let' | 'var' | 'const' | 'import';

interface ImportBinding {
  specifier: string;
  imported: string;
}

export interface Edit {
  start: number;
  end: number;
  text: string;
}

const ASSIGNED_CONST = 'a const the module itself assigns to: rebinding it would hide the TypeError that assignment throws';
const ANONYMOUS_DEFAULT =
  'an anonymous `export default function`: it has no name to rebind; name it (export default function name() {...}) or use a probe';

/**
 * The rewritten source, or undefined to leave the module as it is. Planned by the lexer
 * when it is certain (rewrite-fast.ts), else by acorn; both give the same text.
 */
export function rewriteModule(source: string): string | undefined {
  const fast = planWithLexer(source, ANONYMOUS_DEFAULT);
  if (fast === undefined) return rewriteModuleWithAcorn(source);
  const edits: Edit[] = fast.constAt.map((at) => ({ start: at, end: at + 5, text: 'let  ' }));
  const d = fast.defaultExpression;
  if (d !== undefined) {
    ArrayPrototypePush(edits, { start: d.start, end: d.keywordEnd, text: `let ${d.local}={default:` });
    ArrayPrototypePush(edits, { start: d.semicolon, end: d.semicolon, text: '}.default' });
  }
  const fixed = fast.locals.map(() => null);
  return (
    applyEdits(source, edits) +
    registration(fast.locals, fixed, fast.exportsList, fast.unreachable, fast.reexports, fast.stars, d?.local)
  );
}

/** rewriteModule by a full acorn parse (every module the lexer path does not take). */
export function rewriteModuleWithAcorn(source: string): string | undefined {
  const program = parseModule(source);
  if (program === undefined) return undefined;
  const plan = planRewrite(program, source);
  return plan === undefined ? undefined : applyEdits(source, plan.edits) + plan.suffix;
}

/** The rewrite as edits of the source and the text appended after it. */
export interface RewritePlan {
  /** Replacements of [start, end) of the source, none overlapping, none inside a function. */
  edits: Edit[];
  suffix: string;
}

/**
 * Plans the rewrite from a program acorn has parsed (with or without `preserveParens`):
 * the body instrumentation of a selected module (instrument-esm.ts) plans both rewrites
 * from its one parse. Undefined to leave the module as it is.
 */
export function planRewrite(program: Program, source: string): RewritePlan | undefined {

  const declared = new Map<string, Declared>();
  const constDeclarations = new Map<string, VariableDeclaration>();
  const imports = new Map<string, ImportBinding>();
  for (const node of program.body) {
    const declaration = node.type === 'ExportNamedDeclaration' || node.type === 'ExportDefaultDeclaration' ? node.declaration : node;
    if (declaration === null || declaration === undefined) continue;
    if (declaration.type === 'FunctionDeclaration' && declaration.id) declared.set(declaration.id.name, 'function');
    else if (declaration.type === 'ClassDeclaration' && declaration.id) declared.set(declaration.id.name, 'class');
    else if (declaration.type === 'VariableDeclaration') {
      for (const d of declaration.declarations) {
        for (const name of patternNames(d.id)) {
          declared.set(name, declaration.kind === 'const' ? 'const' : declaration.kind === 'var' ? 'var' : 'let');
          if (declaration.kind === 'const') constDeclarations.set(name, declaration);
        }
      }
    } else if (declaration.type === 'ImportDeclaration') {
      const specifier = String(declaration.source.value);
      for (const s of declaration.specifiers) {
        declared.set(s.local.name, 'import');
        const imported =
          s.type === 'ImportDefaultSpecifier' ? 'default' : s.type === 'ImportNamespaceSpecifier' ? '*' : nameOf(s.imported);
        imports.set(s.local.name, { specifier, imported });
      }
    }
  }
  // The appended statement names these globals; a module that shadows them is left alone.
  if (declared.has('globalThis') || declared.has('Symbol')) return undefined;

  const locals: string[] = [];
  const localIndex = new Map<string, number>();
  const exportsList: [string, number][] = [];
  const unreachable: [string, string][] = [];
  const reexports: [string, string, string][] = [];
  const stars: string[] = [];
  const edits: Edit[] = [];
  let defaultLocal: string | undefined;

  const exportLocal = (exported: string, local: string): void => {
    const binding = imports.get(local);
    if (binding !== undefined) {
      ArrayPrototypePush(reexports, [exported, binding.specifier, binding.imported]);
      return;
    }
    let index = localIndex.get(local);
    if (index === undefined) {
      index = locals.length;
      ArrayPrototypePush(locals, local);
      localIndex.set(local, index);
    }
    ArrayPrototypePush(exportsList, [exported, index]);
  };

  for (const node of program.body) {
    if (node.type === 'ExportNamedDeclaration') {
      if (node.source) {
        const specifier = String(node.source.value);
        for (const s of node.specifiers) ArrayPrototypePush(reexports, [nameOf(s.exported), specifier, nameOf(s.local)]);
      } else if (node.declaration) {
        const d = node.declaration;
        if (d.type === 'VariableDeclaration') {
          for (const v of d.declarations) for (const name of patternNames(v.id)) exportLocal(name, name);
        } else if (d.id) {
          exportLocal(d.id.name, d.id.name);
        }
      } else {
        for (const s of node.specifiers) exportLocal(nameOf(s.exported), nameOf(s.local));
      }
    } else if (node.type === 'ExportAllDeclaration') {
      const specifier = String(node.source.value);
      if (node.exported) ArrayPrototypePush(reexports, [nameOf(node.exported), specifier, '*']);
      else ArrayPrototypePush(stars, specifier);
    } else if (node.type === 'ExportDefaultDeclaration') {
      const d = node.declaration;
      if ((d.type === 'FunctionDeclaration' || d.type === 'ClassDeclaration') && d.id) {
        exportLocal('default', d.id.name);
      } else if (d.type === 'FunctionDeclaration') {
        ArrayPrototypePush(unreachable, ['default', ANONYMOUS_DEFAULT]);
      } else {
        defaultLocal = uniqueName(source, '$ltd');
        const keywordEnd = defaultKeywordEnd(source, node.start, d.start);
        if (keywordEnd === undefined) return undefined;
        ArrayPrototypePush(edits, { start: node.start, end: keywordEnd, text: `let ${defaultLocal}={default:` });
        // A class declaration ends its statement; as an expression it must be ended by hand,
        // or a next line starting with ( or [ would continue it.
        const semicolon = source.charCodeAt(node.end - 1) === 0x3b; /* ; */
        const end = semicolon ? node.end - 1 : node.end;
        ArrayPrototypePush(edits, { start: end, end, text: semicolon ? '}.default' : '}.default;' });
        exportLocal('default', defaultLocal);
      }
    }
  }

  // The walk over the whole program is only needed when a const would be rewritten.
  const assigned = locals.some((local) => declared.get(local) === 'const') ? assignedNames(program) : new Set<string>();
  const fixed: (string | null)[] = locals.map((local) => {
    if (declared.get(local) !== 'const') return null;
    if (assigned.has(local)) return ASSIGNED_CONST;
    return null;
  });
  // Rewrite each const declaration holding a rebindable export, once, when none of its names is assigned.
  const rewritten = new Set<VariableDeclaration>();
  locals.forEach((local, i) => {
    const declaration = constDeclarations.get(local);
    if (declaration === undefined || rewritten.has(declaration)) return;
    const names = declaration.declarations.flatMap((d) => patternNames(d.id));
    if (names.some((n) => assigned.has(n))) {
      fixed[i] = ASSIGNED_CONST;
      return;
    }
    rewritten.add(declaration);
    ArrayPrototypePush(edits, { start: declaration.start, end: declaration.start + 5, text: 'let  ' });
  });

  return { edits, suffix: registration(locals, fixed, exportsList, unreachable, reexports, stars, defaultLocal) };
}

function nameOf(node: AnyNode): string {
  if (node.type === 'Identifier') return node.name;
  if (node.type === 'Literal') return String(node.value);
  return '';
}

/** Names bound by a declaration pattern. */
function patternNames(pattern: Pattern): string[] {
  switch (pattern.type) {
    case 'Identifier':
      return [pattern.name];
    case 'ObjectPattern':
      return pattern.properties.flatMap((p) => (p.type === 'RestElement' ? patternNames(p.argument) : patternNames(p.value)));
    case 'ArrayPattern':
      return pattern.elements.flatMap((e) => (e === null ? [] : patternNames(e)));
    case 'RestElement':
      return patternNames(pattern.argument);
    case 'AssignmentPattern':
      return patternNames(pattern.left);
    default:
      // `(a) = 1` in a tree parsed with `preserveParens` (instrument-esm.ts's parse).
      const node = pattern as unknown as { type: string; expression: Pattern };
      if (node.type === 'ParenthesizedExpression') return patternNames(node.expression);
      return [];
  }
}

/**
 * Every name the module assigns anywhere (by name, ignoring scopes: a shadowing inner
 * variable makes us keep the outer const as it is, which is the safe side).
 */
function assignedNames(program: Program): Set<string> {
  const names = new Set<string>();
  const addTarget = (target: AnyNode): void => {
    if (target.type === 'Identifier' || target.type === 'ObjectPattern' || target.type === 'ArrayPattern' ||
      target.type === 'RestElement' || target.type === 'AssignmentPattern' || target.type === 'ParenthesizedExpression') {
      for (const name of patternNames(target as Pattern)) names.add(name);
    }
  };
  simple(program, {
    AssignmentExpression(node) {
      addTarget(node.left);
    },
    UpdateExpression(node) {
      addTarget(node.argument);
    },
    ForInStatement(node) {
      if (node.left.type !== 'VariableDeclaration') addTarget(node.left);
    },
    ForOfStatement(node) {
      if (node.left.type !== 'VariableDeclaration') addTarget(node.left);
    },
  });
  return names;
}

/** End of the `default` keyword of `export default`, found by tokens (comments may sit between). */
function defaultKeywordEnd(source: string, start: number, declarationStart: number): number | undefined {
  let seen = 0;
  for (const token of tokenizer(source.slice(start, declarationStart), { ecmaVersion: 'latest', sourceType: 'module' })) {
    seen++;
    if (seen === 2) return token.type.keyword === 'default' ? start + token.end : undefined;
  }
  return undefined;
}

function uniqueName(source: string, base: string): string {
  let name = base;
  for (let i = 1; source.includes(name); i++) name = `${base}${i}`;
  return name;
}

function applyEdits(source: string, edits: Edit[]): string {
  if (edits.length === 0) return source;
  const sorted = [...edits].sort((a, b) => a.start - b.start || a.end - b.end);
  let out = '';
  let at = 0;
  for (const edit of sorted) {
    out += source.slice(at, edit.start) + edit.text;
    at = edit.end;
  }
  return out + source.slice(at);
}

function registration(
  locals: string[],
  fixed: (string | null)[],
  exportsList: [string, number][],
  unreachable: [string, string][],
  reexports: [string, string, string][],
  stars: string[],
  defaultLocal: string | undefined,
): string {
  const json = JSON.stringify;
  const getCases = locals.map((local, i) => `case ${i}:return ${local};`).join('');
  const setCases = locals.map((local, i) => (fixed[i] === null ? `case ${i}:${local}=v;return;` : '')).join('');
  const record =
    `{locals:${json(locals)},fixed:${json(fixed)},exports:${json(exportsList)},unreachable:${json(unreachable)},` +
    `reexports:${json(reexports)},stars:${json(stars)},` +
    `get:(i)=>{switch(i){${getCases}}},set:(i,v)=>{switch(i){${setCases}}},resolve:(s)=>import.meta.resolve(s)}`;
  const exportDefault = defaultLocal === undefined ? '' : `export{${defaultLocal} as default};`;
  return `\n;${exportDefault}globalThis[Symbol.for(${json(REGISTRAR_KEY)})]?.register(import.meta.url,${record});\n`;
}
