/**
 * What the names in a function stand for: the scopes of a program, from each function's
 * parameters and locals out to the module's top level, and what each name was bound to
 * where it was declared.
 *
 * Only what a static reading can tell is recorded: a parameter, a function or class, an
 * object literal, a module's exports or one export of it (`require('x')`,
 * `require('x').a`, `const { a } = require('x')`, `import { a } from 'x'`), or "something
 * else". `var` is hoisted to its function; `let`, `const`, classes and function
 * declarations belong to their block. Nothing runs: the tree comes from acorn.
 */
import type { AnyNode, Function as FunctionNode, Node, Pattern, Program } from 'acorn';
import { base, recursive, type RecursiveVisitors } from 'acorn-walk';
import { ArrayPrototypePush } from '../../safe/intrinsics.js';

export type Binding =
  | { kind: 'param' }
  | { kind: 'function'; node: AnyNode }
  | { kind: 'object'; node: AnyNode }
  /**
   * A module's exports or one export of it: `require('x')`, `require('x').y`, `import`.
   * `imported`: an ES import (a live binding), not a value copied out of `require()`.
   */
  | { kind: 'module'; specifier: string; path: string; imported?: boolean }
  | { kind: 'other' };

export interface Scopes {
  /** What `name` is bound to where the code at offset `at` sees it; undefined for a global. */
  lookup(name: string, at: number): Binding | undefined;
}

interface Scope {
  start: number;
  end: number;
  names: Map<string, Binding>;
}

interface State {
  /** The innermost block scope (let, const, class, function declarations). */
  block: Scope;
  /** The innermost function scope (var). */
  fn: Scope;
}

/** acorn-walk's callback; its third argument (the node type to walk as) is missing from its types. */
type Walk = (node: AnyNode, st: State, type?: string) => void;

/** The scopes of a program, innermost first when several hold an offset. */
export function scopesOf(program: Program): Scopes {
  const scopes = collectScopes(program).sort((a, b) => a.end - a.start - (b.end - b.start));
  return {
    lookup(name, at) {
      for (const scope of scopes) {
        if (scope.start <= at && at < scope.end) {
          const binding = scope.names.get(name);
          if (binding !== undefined) return binding;
        }
      }
      return undefined;
    },
  };
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
    ArrayPrototypePush(scopes, scope);
    return scope;
  };
  const walkBase = base as RecursiveVisitors<State>;
  /** A construct that opens a block scope walks its children (acorn-walk's base) inside it. */
  const block =
    (type: 'BlockStatement' | 'ForStatement' | 'ForInStatement' | 'ForOfStatement' | 'SwitchStatement') =>
    (node: AnyNode, st: State, c: unknown): void =>
      (walkBase[type] as (node: AnyNode, st: State, c: unknown) => void)(node, { block: open(node), fn: st.fn }, c);

  const visitors: RecursiveVisitors<State> = {
    Function(node, st, walk) {
      const c = walk as Walk;
      if (node.type === 'FunctionDeclaration' && node.id) st.block.names.set(node.id.name, { kind: 'function', node: node as unknown as AnyNode });
      const scope = open(node);
      // A named function expression sees its own name.
      if (node.type === 'FunctionExpression' && node.id) scope.names.set(node.id.name, { kind: 'function', node: node as unknown as AnyNode });
      for (const param of node.params) bindPattern(param, scope.names, { kind: 'param' });
      const inside: State = { block: scope, fn: scope };
      // The body's block is the function's own scope, not one more inside it.
      if (node.body.type === 'BlockStatement') for (const statement of node.body.body) c(statement as AnyNode, inside, 'Statement');
      else c(node.body as AnyNode, inside, 'Expression');
    },
    ClassDeclaration(node, st, walk) {
      if (node.id) st.block.names.set(node.id.name, { kind: 'function', node });
      (walk as Walk)(node, st, 'Class');
    },
    VariableDeclaration(node, st, walk) {
      for (const declarator of node.declarations) {
        bindPattern(declarator.id, node.kind === 'var' ? st.fn.names : st.block.names, bindingOfInit(declarator.init));
      }
      walkBase.VariableDeclaration!(node, st, walk);
    },
    ImportDeclaration(node, st) {
      const specifier = String(node.source.value);
      for (const s of node.specifiers) {
        const path = s.type === 'ImportDefaultSpecifier' ? 'default' : s.type === 'ImportNamespaceSpecifier' ? '' : s.imported.type === 'Identifier' ? s.imported.name : String(s.imported.value);
        st.block.names.set(s.local.name, { kind: 'module', specifier, path, imported: true });
      }
    },
    BlockStatement: block('BlockStatement'),
    ForStatement: block('ForStatement'),
    ForInStatement: block('ForInStatement'),
    ForOfStatement: block('ForOfStatement'),
    SwitchStatement: block('SwitchStatement'),
    CatchClause(node, st, walk) {
      const inner = open(node);
      if (node.param) bindPattern(node.param, inner.names, { kind: 'param' });
      (walk as Walk)(node.body, { block: inner, fn: st.fn }, 'Statement');
    },
  };
  const top = open(program);
  recursive(program as AnyNode, { block: top, fn: top }, visitors, walkBase);
  return scopes;
}
