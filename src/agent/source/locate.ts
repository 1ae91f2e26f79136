/**
 * Finding functions in JavaScript source by name, for probes and `deeper`.
 *
 * A probe needs a place in a script where a function starts; the user names that
 * function the way they would say it aloud: `hashPassword`, `UserRepo#save`, "the
 * `handle` inside `makeRouter`". This module parses the source with acorn and gives every
 * function in it such a name (its *lexical path*), with the `~` that marks an internal
 * name in patterns (docs/patterns.md, "Internal functions"):
 *
 *   function hashPassword() {}            ~hashPassword
 *   const slug = (s) => ...               ~slug
 *   class UserRepo { save() {} }          ~UserRepo#save   (static: ~UserRepo.create,
 *                                                            constructor: ~UserRepo)
 *   function makeRouter() {               ~makeRouter
 *     function handle() {}                ~makeRouter.handle
 *     return { find() {} } }              ~makeRouter.find
 *   const api = { users: { find() {} } }  ~api.users.find
 *   Foo.prototype.bar = function () {}    ~Foo#bar
 *   exports.f = function () {}            ~f
 *   app.get('/', (req, res) => {})        ~@12             (anonymous: its 1-based line)
 *
 * Two functions with the same path (two `helper`s in different scopes of one module
 * that happen to get the same name, or two anonymous callbacks on one line) are listed
 * distinctly by appending their line, then their column (both 1-based, as in stack
 * traces): `~helper@3`, `~helper@9`, `~@12c5`. Parsing never runs the code; a source acorn cannot parse (TypeScript, JSX,
 * syntax newer than acorn) has no internal functions.
 */
import type { AnyNode, Class, Function as FunctionNode, Node, Pattern, Program } from 'acorn';
import { base, recursive, type RecursiveVisitors } from 'acorn-walk';
import { LivetraceError } from '../../protocol/errors.js';
import { lineOf, parseSource, readModuleSource } from './parse.js';
import { ArrayPrototypePush } from '../../safe/intrinsics.js';

/** The mark that starts an internal function's path in a pattern. */
export const INTERNAL_MARK = '~';

export type LocatedKind = 'function' | 'async' | 'generator' | 'method' | 'static' | 'class';

export interface LocatedFunction {
  /** '~hashPassword', '~UserRepo#save', '~makeRouter.handle', '~@12', '~helper@30'. */
  readonly path: string;
  readonly kind: LocatedKind;
  readonly arrow: boolean;
  readonly async: boolean;
  readonly generator: boolean;
  /** UTF-16 offsets of the function's source text. */
  readonly start: number;
  readonly end: number;
  /** Offset where its own code begins (its first parameter, else its body). */
  readonly codeStart: number;
  /** 1-based line and 0-based column of `start`. */
  readonly line: number;
  readonly column: number;
  /** False where `this` can't be read at entry: arrows (no own `this`) and derived constructors (before super()). */
  readonly receiver: boolean;
  /**
   * An expression that, evaluated at the function's first instruction, gives its
   * argument list: `arguments`, or for an arrow (which has none) its parameters rebuilt,
   * `[a, {id: id}, ...rest]`.
   */
  readonly argsExpression: string;
  readonly node: FunctionNode;
}

export interface ParsedSource {
  readonly program: Program;
  readonly functions: readonly LocatedFunction[];
}

/** Parses `source` (as a module, else as a CommonJS script) and names its functions. Throws LT_PROBE_UNAVAILABLE. */
export function locateFunctions(source: string, name = 'the source'): ParsedSource {
  const program = parseSource(source, name);
  return { program, functions: nameFunctions(program) };
}

/** Reads and parses a module file; throws LT_PROBE_UNAVAILABLE when it can't be read or parsed. */
export function parseModuleFile(file: string): { source: string; parsed: ParsedSource } {
  const source = readModuleSource(file);
  if (source === undefined) {
    throw new LivetraceError('LT_PROBE_UNAVAILABLE', `cannot read ${file}`, { input: file });
  }
  return { source, parsed: locateFunctions(source, file) };
}

// ---------------------------------------------------------------------------------------
// Naming

interface Hint {
  /** The node the name belongs to (a direct child of the node that gave it). */
  readonly node: AnyNode;
  readonly path: string;
  readonly kind?: LocatedKind;
}

interface State {
  /** Path of the nearest enclosing named thing ('' at the top). */
  readonly prefix: string;
  readonly hint?: Hint;
  /** Set inside a class, for its constructor's receiver rule. */
  readonly derived?: boolean;
}

/** acorn-walk's callback; its third argument (the node type to walk as) is missing from its types. */
type Walk = (node: AnyNode, st: State, type?: string) => void;

interface Raw {
  path: string;
  kind: LocatedKind;
  node: FunctionNode;
  receiver: boolean;
}

function join(prefix: string, sep: '.' | '#', name: string): string {
  return prefix === '' ? name : `${prefix}${sep}${name}`;
}

function anonymous(prefix: string, node: Node): string {
  return join(prefix, '.', `@${lineOf(node)}`);
}

function isNameable(node: AnyNode | null | undefined): boolean {
  if (node === null || node === undefined) return false;
  return (
    node.type === 'FunctionExpression' || node.type === 'ArrowFunctionExpression' || node.type === 'ClassExpression' || node.type === 'ObjectExpression'
  );
}

/** The name of a non-computed key ('find', 'my key', '#secret'), or undefined. */
function keyName(key: AnyNode, computed: boolean): string | undefined {
  if (computed) return undefined;
  if (key.type === 'Identifier') return key.name;
  if (key.type === 'PrivateIdentifier') return `#${key.name}`;
  if (key.type === 'Literal' && (typeof key.value === 'string' || typeof key.value === 'number')) return String(key.value);
  return undefined;
}

/**
 * The path an assignment gives its right side: 'x', 'a.b', 'Foo#bar' for
 * Foo.prototype.bar, 'f' for exports.f and module.exports.f, 'default' for
 * module.exports itself, '#x' for this.x (a member of the enclosing class or
 * constructor function). Undefined for anything computed.
 */
function assignedPath(target: AnyNode, prefix: string): string | undefined {
  const parts: string[] = [];
  let node: AnyNode = target;
  while (node.type === 'MemberExpression') {
    const name = keyName(node.property, node.computed);
    if (name === undefined) return undefined;
    parts.unshift(name);
    node = node.object;
  }
  if (node.type === 'ThisExpression') return parts.length === 1 ? join(prefix, '#', parts[0]!) : undefined;
  if (node.type !== 'Identifier') return undefined;
  parts.unshift(node.name);
  if (parts[0] === 'module' && parts[1] === 'exports') parts.splice(0, 2);
  else if (parts[0] === 'exports') parts.splice(0, 1);
  if (parts.length === 0) return join(prefix, '.', 'default');
  let path = '';
  for (let i = 0; i < parts.length; i++) {
    if (parts[i] === 'prototype' && i > 0 && i < parts.length - 1) {
      path += `#${parts[++i]!}`;
      continue;
    }
    path += i === 0 ? parts[i]! : `.${parts[i]!}`;
  }
  return join(prefix, '.', path);
}

function hintFor(st: State, node: AnyNode | null | undefined, path: string, kind?: LocatedKind): State {
  if (node === null || node === undefined || !isNameable(node)) return { prefix: st.prefix };
  return { prefix: st.prefix, hint: kind === undefined ? { node, path } : { node, path, kind } };
}

function nameFunctions(program: Program): LocatedFunction[] {
  const raw: Raw[] = [];
  const plain = (st: State): State => ({ prefix: st.prefix });

  const visitClass = (node: Class, st: State, c: Walk): void => {
    const own = st.hint?.node === node ? st.hint.path : node.id ? join(st.prefix, '.', node.id.name) : anonymous(st.prefix, node);
    if (node.superClass) c(node.superClass, plain(st), 'Expression');
    const inside: State = { prefix: own, derived: node.superClass !== null && node.superClass !== undefined };
    for (const element of node.body.body) {
      if (element.type === 'StaticBlock') {
        c(element, inside);
        continue;
      }
      if (element.computed) c(element.key, plain(st), 'Expression');
      const name = keyName(element.key, element.computed);
      if (element.type === 'MethodDefinition') {
        if (element.kind === 'constructor') {
          c(element.value, { ...inside, hint: { node: element.value, path: own, kind: 'class' } });
        } else if (element.kind === 'method' && name !== undefined) {
          const path = join(own, element.static ? '.' : '#', name);
          c(element.value, { prefix: own, hint: { node: element.value, path, kind: element.static ? 'static' : 'method' } });
        } else {
          c(element.value, { prefix: own });
        }
      } else if (element.value) {
        const path = name === undefined ? undefined : join(own, element.static ? '.' : '#', name);
        c(element.value, path === undefined ? { prefix: own } : hintFor({ prefix: own }, element.value, path), 'Expression');
      }
    }
  };

  const visitors: RecursiveVisitors<State> = {
    Function(node, st, walk) {
      const c = walk as Walk;
      const hinted = st.hint?.node === node ? st.hint : undefined;
      const path = hinted?.path ?? (node.id ? join(st.prefix, '.', node.id.name) : anonymous(st.prefix, node));
      const arrow = node.type === 'ArrowFunctionExpression';
      let kind: LocatedKind = hinted?.kind ?? 'function';
      if (node.generator) kind = 'generator';
      else if (node.async && kind === 'function') kind = 'async';
      const derivedConstructor = kind === 'class' && st.derived === true;
      ArrayPrototypePush(raw, { path, kind, node, receiver: !arrow && !derivedConstructor });
      const inside: State = { prefix: path };
      for (const param of node.params) c(param, inside, 'Pattern');
      c(node.body, inside, node.expression ? 'Expression' : 'Statement');
    },
    Class: (node, st, walk) => visitClass(node, st, walk as Walk),
    VariableDeclarator(node, st, walk) {
      const c = walk as Walk;
      c(node.id, plain(st), 'Pattern');
      if (!node.init) return;
      c(node.init, node.id.type === 'Identifier' ? hintFor(st, node.init, join(st.prefix, '.', node.id.name)) : plain(st), 'Expression');
    },
    AssignmentExpression(node, st, walk) {
      const c = walk as Walk;
      c(node.left, plain(st), 'Pattern');
      const path = node.operator === '=' ? assignedPath(node.left, st.prefix) : undefined;
      c(node.right, path === undefined ? plain(st) : hintFor(st, node.right, path), 'Expression');
    },
    ObjectExpression(node, st, walk) {
      const c = walk as Walk;
      const own = st.hint?.node === node ? st.hint.path : st.prefix;
      for (const property of node.properties) {
        if (property.type === 'SpreadElement') {
          c(property.argument, { prefix: own }, 'Expression');
          continue;
        }
        if (property.computed) c(property.key, { prefix: own }, 'Expression');
        const name = property.kind === 'init' ? keyName(property.key, property.computed) : undefined;
        const value = property.value as AnyNode;
        c(value, name === undefined ? { prefix: own } : hintFor({ prefix: own }, value, join(own, '.', name)), 'Expression');
      }
    },
    ExportDefaultDeclaration(node, st, walk) {
      const c = walk as Walk;
      const declaration = node.declaration as AnyNode;
      const named = (declaration.type === 'FunctionDeclaration' || declaration.type === 'ClassDeclaration') && declaration.id;
      const path = named ? join(st.prefix, '.', declaration.id!.name) : join(st.prefix, '.', 'default');
      const callable = declaration.type === 'FunctionDeclaration' || declaration.type === 'ClassDeclaration' || isNameable(declaration);
      c(declaration, callable ? { prefix: st.prefix, hint: { node: declaration, path } } : plain(st));
    },
  };
  // Other nodes pass their state on unchanged: a hint names only the node it was made for.
  recursive(program as AnyNode, { prefix: '' }, visitors, base as RecursiveVisitors<State>);
  return distinct(raw);
}

/** Gives every function a unique path: duplicates get their line, then their column. */
function distinct(raw: Raw[]): LocatedFunction[] {
  const count = new Map<string, number>();
  for (const r of raw) count.set(r.path, (count.get(r.path) ?? 0) + 1);
  const withLine = raw.map((r) => (count.get(r.path)! > 1 && !/@\d+$/.test(r.path) ? `${r.path}@${lineOf(r.node)}` : r.path));
  const again = new Map<string, number>();
  for (const path of withLine) again.set(path, (again.get(path) ?? 0) + 1);
  return raw.map((r, i) => {
    const base = withLine[i]!;
    const path = again.get(base)! > 1 ? `${base}c${(r.node.loc?.start.column ?? 0) + 1}` : base;
    return located(r, INTERNAL_MARK + path);
  });
}

function located(r: Raw, path: string): LocatedFunction {
  const node = r.node;
  const arrow = node.type === 'ArrowFunctionExpression';
  const first = node.params[0];
  return {
    path,
    kind: r.kind,
    arrow,
    async: node.async,
    generator: node.generator,
    start: node.start,
    end: node.end,
    codeStart: first !== undefined ? first.start : node.body.start,
    line: node.loc?.start.line ?? 0,
    column: node.loc?.start.column ?? 0,
    receiver: r.receiver,
    argsExpression: arrow ? `[${node.params.map(rebuild).join(', ')}]` : 'arguments',
    node,
  };
}

/**
 * The expression that gives back what a parameter received, from the names it bound:
 * `{id, tags: [first]}` is read back as `{"id": id, "tags": [first]}`. A computed key
 * can't be named again, so its part is left out.
 */
function rebuild(pattern: Pattern): string {
  switch (pattern.type) {
    case 'Identifier':
      return pattern.name;
    case 'AssignmentPattern':
      return rebuild(pattern.left);
    case 'RestElement':
      return `...${rebuild(pattern.argument)}`;
    case 'ArrayPattern':
      return `[${pattern.elements.map((element) => (element === null ? '' : rebuild(element))).join(', ')}]`;
    case 'ObjectPattern': {
      const parts: string[] = [];
      for (const property of pattern.properties) {
        if (property.type === 'RestElement') {
          ArrayPrototypePush(parts, `...${rebuild(property.argument)}`);
          continue;
        }
        const name = keyName(property.key, property.computed);
        if (name !== undefined) ArrayPrototypePush(parts, `${JSON.stringify(name)}: ${rebuild(property.value)}`);
      }
      return `{${parts.join(', ')}}`;
    }
    case 'MemberExpression':
      // Only in assignment targets, never in parameters.
      return 'undefined';
  }
}

/**
 * The function whose source text is `text`, as `Function.prototype.toString` gives it.
 * That text ends where the function ends; for a method it begins before the function
 * node (at its key, after `static`), so only the end and the length are compared.
 */
export function functionWithText(parsed: ParsedSource, source: string, text: string): LocatedFunction | undefined {
  for (const fn of parsed.functions) {
    const start = fn.end - text.length;
    if (start >= 0 && start <= fn.start && source.startsWith(text, start)) return fn;
  }
  return undefined;
}

/** An exported class is its constructor, for `new C()`: the outermost constructor inside the class's text. */
export function classWithText(parsed: ParsedSource, source: string, text: string): LocatedFunction | undefined {
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
