/**
 * "One level deeper": what a function calls, as patterns ready to trace.
 *
 * `deeper('src/users.js:findUser')` finds the function (an export, or an internal
 * function with `~`), reads its source, and lists every call in it (its callbacks
 * included) with the callee named the way a pattern names it:
 *
 *   db.query(sql)              src/db.js:query          (db = require('./db'))
 *   query(sql)                 src/db.js:query          (const { query } = require('./db'),
 *                                                          or import { query } from './db.js')
 *   hashPassword(pw)           src/users.js:~hashPassword  (not exported: a probe)
 *   normalize(user)            src/users.js:normalize   (exported: a wrapper)
 *   this.save(user)            src/users.js:UserRepo#save  (in a method of UserRepo)
 *   new UserRepo()             src/users.js:UserRepo
 *   fs.readFileSync(p)         node:fs:readFileSync
 *   items.map(normalize)       src/users.js:normalize   (a function passed on is called too)
 *
 * Names are looked up in the scopes the function closes over, from its own parameters
 * and locals out to the module's top level. A callee that can't be named statically
 * (a parameter, a method of some object, a global) is listed without a pattern and says
 * why. For each callee that is named, the engine that would trace it is given: the
 * registry's engine for an export of a loaded module, 'probe' for an internal function.
 *
 * Nothing runs: the source is parsed, and exported functions are matched to their
 * source text with the intrinsic Function.prototype.toString.
 */
import type { Callee, DeeperResult } from '../../protocol/messages.js';
import { isBuiltin, createRequire } from 'node:module';
import type { AnyNode, Function as FunctionNode, Node, Pattern, Program } from 'acorn';
import { LivetraceError } from '../../protocol/errors.js';
import type { Engine } from '../../protocol/events.js';
import { isBareGlob } from '../../pattern/lexer.js';
import { compilePatterns } from '../../pattern/index.js';
import type { Matcher } from '../../pattern/match/matcher.js';
import { unwrap } from '../patcher/patcher.js';
import { internalFunctions, parseModuleFile } from '../engines/probes/internal-source.js';
import { functionWithText, INTERNAL_MARK, type LocatedFunction, type ParsedSource } from '../source/locate.js';
import { ProbeTarget } from '../engines/probes/target.js';
import type { FunctionEntry, LoadedModule } from '../catalog/entries.js';
import { loadedModules } from '../catalog/modules.js';
import { moduleRefForFile } from '../catalog/naming.js';
import { nearMisses } from '../catalog/near-misses.js';

export type { Callee, DeeperResult };


/** Functions deeper() looks into at most for one pattern. */
const MAX_FUNCTIONS = 20;
const fnToString = Function.prototype.toString;

/** What each function matching `pattern` calls. Throws LT_PATTERN_* for a bad or unmatched pattern, LT_PROBE_UNAVAILABLE for a source it can't read. */
export function deeper(pattern: string): DeeperResult[] {
  const matchers = compilePatterns([pattern]);
  const modules = loadedModules(matchers.map((m) => m.moduleGlob));
  const found: { module: LoadedModule; entry: FunctionEntry }[] = [];
  for (const module of modules) {
    for (const matcher of matchers) {
      if (!safely(() => matcher.matchModule(module.ref))) continue;
      for (const entry of entriesFor(module, matcher)) {
        if (safely(() => matcher.matchFunction(entry.path))) found.push({ module, entry });
      }
    }
  }
  if (found.length === 0) {
    const near = matchers.flatMap((m) => nearMisses(m.moduleGlob, m.functionGlob));
    throw new LivetraceError('LT_PATTERN_NO_MATCH', `no loaded function matches '${pattern}'`, {
      input: pattern,
      ...(near.length > 0 ? { hint: `Did you mean: ${[...new Set(near)].slice(0, 5).join(', ')}?` } : {}),
    });
  }
  const results: DeeperResult[] = [];
  const analyses = new Map<string, ModuleAnalysis>();
  for (const { module, entry } of found.slice(0, MAX_FUNCTIONS)) {
    const file = module.file;
    if (file === undefined) continue;
    let analysis = analyses.get(file);
    if (analysis === undefined) analyses.set(file, (analysis = analyze(module, file)));
    const fn = analysis.functionOf(entry);
    if (fn === undefined) continue;
    results.push({
      fn: `${module.ref.id}:${entry.path}`,
      module: module.ref.id,
      file,
      line: fn.line,
      callees: analysis.callees(fn),
    });
  }
  if (results.length === 0) {
    throw new LivetraceError('LT_PROBE_UNAVAILABLE', `the source of '${pattern}' could not be found`, {
      input: pattern,
      hint: 'deeper reads the function in its module file; builtins, native and bound functions have none.',
    });
  }
  return results;
}

function safely(test: () => boolean): boolean {
  try {
    return test();
  } catch {
    return false;
  }
}

function entriesFor(module: LoadedModule, matcher: Matcher): FunctionEntry[] {
  return matcher.functionGlob.startsWith(INTERNAL_MARK) ? internalFunctions(module) : module.entries();
}

// ---------------------------------------------------------------------------------------
// Scopes

type Binding =
  | { kind: 'param' }
  | { kind: 'function'; node: AnyNode }
  | { kind: 'object'; node: AnyNode }
  /** A module's exports or one export of it: `require('x')`, `require('x').y`, `import`. */
  | { kind: 'module'; specifier: string; path: string }
  | { kind: 'other' };

interface Scope {
  start: number;
  end: number;
  names: Map<string, Binding>;
}

function bindingOfInit(init: AnyNode | null | undefined): Binding {
  if (init === null || init === undefined) return { kind: 'other' };
  if (init.type === 'FunctionExpression' || init.type === 'ArrowFunctionExpression' || init.type === 'ClassExpression') return { kind: 'function', node: init };
  if (init.type === 'ObjectExpression') return { kind: 'object', node: init };
  const required = requiredPath(init);
  return required ?? { kind: 'other' };
}

/** `require('x')` -> module x's exports; `require('x').a.b` -> its export 'a.b'. */
function requiredPath(node: AnyNode): Binding | undefined {
  const parts: string[] = [];
  let current: AnyNode = node;
  while (current.type === 'MemberExpression' && !current.computed && current.property.type === 'Identifier') {
    parts.unshift(current.property.name);
    current = current.object;
  }
  if (
    current.type === 'CallExpression' &&
    current.callee.type === 'Identifier' &&
    current.callee.name === 'require' &&
    current.arguments.length === 1 &&
    current.arguments[0]!.type === 'Literal' &&
    typeof current.arguments[0]!.value === 'string'
  ) {
    return { kind: 'module', specifier: current.arguments[0]!.value, path: parts.join('.') };
  }
  return undefined;
}

/** Adds the names a pattern binds; `{a, b: c} = require('x')` binds a and c to x's exports a and b. */
function bindPattern(pattern: Pattern, names: Map<string, Binding>, source: Binding): void {
  switch (pattern.type) {
    case 'Identifier':
      names.set(pattern.name, source);
      return;
    case 'AssignmentPattern':
      bindPattern(pattern.left, names, source);
      return;
    case 'RestElement':
      bindPattern(pattern.argument, names, { kind: 'other' });
      return;
    case 'ArrayPattern':
      for (const element of pattern.elements) if (element) bindPattern(element, names, { kind: 'other' });
      return;
    case 'ObjectPattern':
      for (const property of pattern.properties) {
        if (property.type === 'RestElement') {
          bindPattern(property.argument, names, { kind: 'other' });
          continue;
        }
        const key = !property.computed && property.key.type === 'Identifier' ? property.key.name : undefined;
        const inner: Binding =
          source.kind === 'module' && key !== undefined ? { kind: 'module', specifier: source.specifier, path: source.path === '' ? key : `${source.path}.${key}` } : source.kind === 'param' ? source : { kind: 'other' };
        bindPattern(property.value, names, inner);
      }
      return;
    case 'MemberExpression':
      return;
  }
}

/** Every scope of the program with the names declared in it (var hoisted to its function). */
function collectScopes(program: Program): Scope[] {
  const scopes: Scope[] = [];
  const open = (node: Node): Scope => {
    const scope: Scope = { start: node.start, end: node.end, names: new Map() };
    scopes.push(scope);
    return scope;
  };
  const visit = (node: AnyNode | null | undefined, block: Scope, fnScope: Scope): void => {
    if (node === null || node === undefined || typeof node !== 'object' || typeof (node as { type?: unknown }).type !== 'string') return;
    switch (node.type) {
      case 'FunctionDeclaration':
        if (node.id) block.names.set(node.id.name, { kind: 'function', node });
        visitFunction(node);
        return;
      case 'FunctionExpression':
      case 'ArrowFunctionExpression':
        visitFunction(node);
        return;
      case 'ClassDeclaration':
        if (node.id) block.names.set(node.id.name, { kind: 'function', node });
        break;
      case 'VariableDeclaration':
        for (const declarator of node.declarations) {
          bindPattern(declarator.id, node.kind === 'var' ? fnScope.names : block.names, bindingOfInit(declarator.init));
        }
        break;
      case 'ImportDeclaration': {
        const specifier = String(node.source.value);
        for (const s of node.specifiers) {
          const path = s.type === 'ImportDefaultSpecifier' ? 'default' : s.type === 'ImportNamespaceSpecifier' ? '' : s.imported.type === 'Identifier' ? s.imported.name : String(s.imported.value);
          block.names.set(s.local.name, { kind: 'module', specifier, path });
        }
        return;
      }
      case 'BlockStatement':
      case 'ForStatement':
      case 'ForInStatement':
      case 'ForOfStatement':
      case 'SwitchStatement': {
        const inner = open(node);
        for (const child of children(node)) visit(child, inner, fnScope);
        return;
      }
      case 'CatchClause': {
        const inner = open(node);
        if (node.param) bindPattern(node.param, inner.names, { kind: 'param' });
        visit(node.body, inner, fnScope);
        return;
      }
    }
    for (const child of children(node)) visit(child, block, fnScope);
  };
  const visitFunction = (node: FunctionNode): void => {
    const scope = open(node);
    // A named function expression sees its own name.
    if (node.type === 'FunctionExpression' && node.id) scope.names.set(node.id.name, { kind: 'function', node: node as AnyNode });
    for (const param of node.params) bindPattern(param, scope.names, { kind: 'param' });
    if (node.body.type === 'BlockStatement') for (const statement of node.body.body) visit(statement as AnyNode, scope, scope);
    else visit(node.body as AnyNode, scope, scope);
  };
  const top = open(program);
  for (const statement of program.body) visit(statement as AnyNode, top, top);
  return scopes;
}

/** The child nodes of a node, in source order. */
function children(node: AnyNode): AnyNode[] {
  const out: AnyNode[] = [];
  for (const key of Object.keys(node)) {
    if (key === 'loc' || key === 'start' || key === 'end' || key === 'type') continue;
    const value = (node as unknown as Record<string, unknown>)[key];
    if (Array.isArray(value)) {
      for (const item of value) if (item !== null && typeof item === 'object' && typeof (item as { type?: unknown }).type === 'string') out.push(item as AnyNode);
    } else if (value !== null && typeof value === 'object' && typeof (value as { type?: unknown }).type === 'string') {
      out.push(value as AnyNode);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// A module's functions and their callees

interface ModuleAnalysis {
  functionOf(entry: FunctionEntry): LocatedFunction | undefined;
  callees(fn: LocatedFunction): Callee[];
}

interface Named {
  pattern: string | null;
  engine: Engine | null;
  note?: string;
}

function analyze(module: LoadedModule, file: string): ModuleAnalysis {
  const { source, parsed } = parseModuleFile(file);
  const scopes = collectScopes(parsed.program).sort((a, b) => a.end - a.start - (b.end - b.start));
  const byNode = new Map<AnyNode, LocatedFunction>(parsed.functions.map((f) => [f.node as AnyNode, f]));
  const byPath = new Map(parsed.functions.map((f) => [f.path, f]));
  const exported = exportsOf(module, parsed, source);
  const modules = new ModuleIndex();
  const requireHere = createRequire(file);

  const lookup = (name: string, at: number): Binding | undefined => {
    for (const scope of scopes) {
      if (scope.start <= at && at < scope.end) {
        const binding = scope.names.get(name);
        if (binding !== undefined) return binding;
      }
    }
    return undefined;
  };

  const ownPattern = (fn: LocatedFunction): Named => {
    const path = exported.get(fn);
    if (path !== undefined) return { pattern: patternOf(module.ref.id, module, path.path), engine: path.engine };
    if (fn.kind === 'generator') return { pattern: patternOf(module.ref.id, module, fn.path), engine: null, note: 'a generator: not probed' };
    return { pattern: patternOf(module.ref.id, module, fn.path), engine: 'probe' };
  };

  const moduleExport = (specifier: string, path: string): Named => {
    const target = modules.find(specifier, requireHere);
    const exportPath = path === '' ? 'default' : path;
    if (target === undefined) return { pattern: null, engine: null, note: `cannot resolve '${specifier}'` };
    const pattern = `${target.glob}:${quoteGlob(exportPath, 'function')}`;
    if (target.module === undefined) return { pattern, engine: null, note: 'module not loaded' };
    const entry = modules.entries(target.module).find((e) => e.path === exportPath);
    if (entry === undefined) return { pattern, engine: null, note: 'not a function export of the loaded module' };
    if (entry.target === undefined) return { pattern, engine: null, note: entry.unpatchable ?? 'not patchable' };
    return { pattern, engine: entry.target.engine };
  };

  const memberOf = (fnPath: string, sep: '.' | '#', name: string): LocatedFunction | undefined => byPath.get(`${fnPath}${sep}${name}`);

  /** The class (or constructor function) a method or constructor belongs to: '~UserRepo' for '~UserRepo#save'. */
  const ownerOf = (fn: LocatedFunction): string | undefined => {
    const hash = fn.path.lastIndexOf('#');
    if (hash > 0) return fn.path.slice(0, hash);
    return fn.kind === 'class' ? fn.path : undefined;
  };

  const name = (callee: AnyNode, at: number, inside: LocatedFunction): Named & { call: string } => {
    if (callee.type === 'Identifier') {
      const call = callee.name;
      const binding = lookup(callee.name, at);
      if (binding === undefined) return { call, pattern: null, engine: null, note: 'a global' };
      switch (binding.kind) {
        case 'param':
          return { call, pattern: null, engine: null, note: 'a parameter' };
        case 'function': {
          const fn = byNode.get(binding.node);
          if (fn !== undefined) return { call, ...ownPattern(fn) };
          const ctor = binding.node.type === 'ClassDeclaration' || binding.node.type === 'ClassExpression' ? classConstructor(binding.node, byNode) : undefined;
          return ctor !== undefined ? { call, ...ownPattern(ctor) } : { call, pattern: null, engine: null, note: 'a class without a constructor' };
        }
        case 'module':
          return { call, ...moduleExport(binding.specifier, binding.path) };
        default:
          return { call, pattern: null, engine: null, note: 'a variable' };
      }
    }
    if (callee.type === 'MemberExpression') {
      const chain = memberChain(callee);
      if (chain === undefined) return { call: sourceText(source, callee), pattern: null, engine: null, note: 'a computed callee' };
      const [head, ...rest] = chain;
      const call = chain.join('.');
      if (head === 'this') {
        const owner = ownerOf(inside);
        const method = owner !== undefined && rest.length === 1 ? (memberOf(owner, '#', rest[0]!) ?? memberOf(owner, '.', rest[0]!)) : undefined;
        return method !== undefined ? { call, ...ownPattern(method) } : { call, pattern: null, engine: null, note: 'a method of this' };
      }
      if ((head === 'module' && rest[0] === 'exports') || head === 'exports') {
        const path = (head === 'exports' ? rest : rest.slice(1)).join('.');
        const fn = byPath.get(INTERNAL_MARK + path);
        return fn !== undefined ? { call, ...ownPattern(fn) } : { call, pattern: patternOf(module.ref.id, module, path), engine: null };
      }
      const binding = lookup(head!, at);
      if (binding === undefined) return { call, pattern: null, engine: null, note: 'a global' };
      if (binding.kind === 'module') return { call, ...moduleExport(binding.specifier, [binding.path, ...rest].filter(Boolean).join('.')) };
      if (binding.kind === 'function' || binding.kind === 'object') {
        const holder = byNode.get(binding.node)?.path ?? (INTERNAL_MARK + head!);
        const fn = rest.length === 1 ? (memberOf(holder, '.', rest[0]!) ?? memberOf(holder, '#', rest[0]!)) : byPath.get(`${holder}.${rest.join('.')}`);
        if (fn !== undefined) return { call, ...ownPattern(fn) };
      }
      return { call, pattern: null, engine: null, note: binding.kind === 'param' ? 'a method of a parameter' : 'a method of a variable' };
    }
    return { call: sourceText(source, callee), pattern: null, engine: null, note: 'a computed callee' };
  };

  return {
    functionOf(entry) {
      if (entry.target instanceof ProbeTarget) return byPath.get(entry.path);
      const value = entry.target?.read();
      if (typeof value !== 'function') return undefined;
      let text: string;
      try {
        text = fnToString.call(unwrap(value));
      } catch {
        return undefined;
      }
      return functionWithText(parsed, source, text);
    },
    callees(fn) {
      const list = new Map<string, Callee>();
      const add = (named: Named & { call: string }, at: number, note?: string): void => {
        const key = named.pattern ?? `?${named.call}`;
        const existing = list.get(key);
        if (existing !== undefined) {
          existing.count++;
          return;
        }
        const callee: Callee = { pattern: named.pattern, call: named.call, line: lineAt(source, at), count: 1, engine: named.engine };
        const why = named.note ?? note;
        if (why !== undefined) callee.note = why;
        list.set(key, callee);
      };
      walk(fn.node as AnyNode, (node) => {
        if (node.type !== 'CallExpression' && node.type !== 'NewExpression') return;
        const callee = node.callee as AnyNode;
        if (callee.type === 'Super' || (callee.type === 'Identifier' && callee.name === 'require' && lookup('require', node.start) === undefined)) return;
        const named = name(callee, node.start, fn);
        add(node.type === 'NewExpression' ? { ...named, call: `new ${named.call}` } : named, node.start);
        // A function of this module handed to another is called by it.
        for (const argument of node.arguments) {
          if (argument.type !== 'Identifier') continue;
          const binding = lookup(argument.name, argument.start);
          if (binding?.kind === 'function' && byNode.has(binding.node)) add({ call: argument.name, ...ownPattern(byNode.get(binding.node)!) }, argument.start, 'passed as a callback');
        }
      });
      return [...list.values()].sort((a, b) => a.line - b.line);
    },
  };
}

function classConstructor(node: AnyNode, byNode: Map<AnyNode, LocatedFunction>): LocatedFunction | undefined {
  if (node.type !== 'ClassDeclaration' && node.type !== 'ClassExpression') return undefined;
  for (const element of node.body.body) {
    if (element.type === 'MethodDefinition' && element.kind === 'constructor') return byNode.get(element.value as AnyNode);
  }
  return undefined;
}

function memberChain(node: AnyNode): string[] | undefined {
  const parts: string[] = [];
  let current: AnyNode = node;
  while (current.type === 'MemberExpression') {
    if (current.computed || current.property.type !== 'Identifier') return undefined;
    parts.unshift(current.property.name);
    current = current.object;
  }
  if (current.type === 'ThisExpression') parts.unshift('this');
  else if (current.type === 'Identifier') parts.unshift(current.name);
  else return undefined;
  return parts;
}

function walk(node: AnyNode, visit: (node: AnyNode) => void): void {
  visit(node);
  for (const child of children(node)) walk(child, visit);
}

function lineAt(source: string, offset: number): number {
  let line = 1;
  for (let i = source.indexOf('\n'); i !== -1 && i < offset; i = source.indexOf('\n', i + 1)) line++;
  return line;
}

function sourceText(source: string, node: Node): string {
  const text = source.slice(node.start, node.end).replace(/\s+/g, ' ');
  return text.length > 60 ? `${text.slice(0, 59)}…` : text;
}

function quoteGlob(glob: string, kind: 'module' | 'function'): string {
  return isBareGlob(glob, kind) ? glob : JSON.stringify(glob);
}

/** The pattern naming `path` in a loaded module: its id (or package name for a package's entry) and the path. */
function patternOf(id: string, module: LoadedModule, path: string): string {
  const glob = module.ref.kind === 'package' && module.ref.packageEntry === true && module.ref.packageName !== undefined ? module.ref.packageName : id;
  return `${quoteGlob(glob, 'module')}:${quoteGlob(path, 'function')}`;
}

/** The module's exported functions, by the function their source text is: what a wrapper would trace. */
function exportsOf(module: LoadedModule, parsed: ParsedSource, source: string): Map<LocatedFunction, { path: string; engine: Engine | null }> {
  const out = new Map<LocatedFunction, { path: string; engine: Engine | null }>();
  for (const entry of module.entries()) {
    const value = entry.target?.read();
    if (typeof value !== 'function') continue;
    let text: string;
    try {
      text = fnToString.call(unwrap(value));
    } catch {
      continue;
    }
    const fn = functionWithText(parsed, source, text) ?? constructorOfClassText(parsed, source, text);
    if (fn !== undefined && !out.has(fn)) out.set(fn, { path: entry.path, engine: entry.target?.engine ?? null });
  }
  return out;
}

/** An exported class is its constructor, for `new C()`: the outermost constructor inside the class's text. */
function constructorOfClassText(parsed: ParsedSource, source: string, text: string): LocatedFunction | undefined {
  if (!text.startsWith('class')) return undefined;
  const start = source.indexOf(text);
  if (start === -1) return undefined;
  const end = start + text.length;
  let best: LocatedFunction | undefined;
  for (const fn of parsed.functions) {
    if (fn.kind !== 'class' || fn.start < start || fn.end > end) continue;
    if (best === undefined || fn.path.length < best.path.length) best = fn;
  }
  return best;
}

/** Loaded modules by how the code names them, resolved once per deeper() call. */
class ModuleIndex {
  private all: LoadedModule[] | undefined;
  private readonly listed = new Map<LoadedModule, FunctionEntry[]>();

  entries(module: LoadedModule): FunctionEntry[] {
    let entries = this.listed.get(module);
    if (entries === undefined) this.listed.set(module, (entries = module.entries()));
    return entries;
  }

  /** The module a specifier names from a file, and the module glob that names it. */
  find(specifier: string, requireHere: NodeRequire): { glob: string; module: LoadedModule | undefined } | undefined {
    if (isBuiltin(specifier)) {
      const id = specifier.startsWith('node:') ? specifier : `node:${specifier}`;
      const builtin = loadedModules([id]).find((m) => m.ref.id === id);
      return { glob: id, module: builtin };
    }
    let file: string;
    try {
      file = requireHere.resolve(specifier);
    } catch {
      return undefined;
    }
    const ref = moduleRefForFile(file);
    this.all ??= loadedModules();
    const module = this.all.find((m) => m.ref.id === ref.id);
    const glob = ref.kind === 'package' && ref.packageEntry === true && ref.packageName !== undefined ? ref.packageName : ref.id;
    return { glob: quoteGlob(glob, 'module'), module };
  }
}
