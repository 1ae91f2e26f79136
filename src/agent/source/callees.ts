/**
 * The calls in a function, read from its source: for each one, the callee as written and
 * what a static reading says it is. A callee is a function of the same module (found by
 * the scopes the call sees: `hashPassword()`, `this.save()`, `helpers.slug()`), an export
 * of another module (`db.query()` where `db = require('./db')`), an export of this module
 * reached through `exports`, or nothing that can be named (a parameter, a global, a
 * method of some object), with the reason. A function of the module passed to a call
 * (`items.map(normalize)`) is listed too: the callee will call it.
 *
 * `this.service.find()` in a method is followed through what TypeScript says of the
 * class: its decorators' emitted `__metadata("design:paramtypes", [Service, ...])` give
 * the class of each constructor parameter, and the constructor's `this.service =
 * service` (what a parameter property compiles to) ties the field to one of them, so
 * the callee is `Service#find` in the module `Service` comes from.
 *
 * Calls are listed in source order (a call before the calls in its arguments), one per
 * call site. Naming what a callee is as a pattern, with the catalog of loaded modules,
 * is deeper's job (agent/deeper).
 */
import type { AnyNode, CallExpression, NewExpression, Node } from 'acorn';
import { base, recursive, simple, type RecursiveVisitors } from 'acorn-walk';
import { INTERNAL_MARK, type LocatedFunction, type ParsedSource } from './locate.js';
import { lineOf } from './parse.js';
import { scopesOf } from './scopes.js';
import { ArrayPrototypePush } from '../../safe/intrinsics.js';

export type CalleeRef =
  /** A function of this module. */
  | { kind: 'function'; fn: LocatedFunction }
  /**
   * An export of another module: `path` '' for the module's exports themselves. `copy`:
   * called through a value taken out of `require()` at load time (`const {query} =
   * require('./db')`), which a wrapper put on the export later never replaces.
   */
  | { kind: 'module'; specifier: string; path: string; copy?: boolean }
  /** An export of this module with no function of its own source behind it. */
  | { kind: 'own-export'; path: string }
  | { kind: 'unnamed'; note: string };

export interface Call {
  /** The callee as written: 'db.query', 'new UserRepo', 'normalize'. */
  call: string;
  /** 1-based line of the call, or of the function handed on. */
  line: number;
  ref: CalleeRef;
  /** Why the site is listed when it is not a call of the callee itself. */
  note?: string;
}

export interface ModuleCalls {
  /** The calls in `fn` (a function of this module), its nested functions included. */
  callsIn(fn: LocatedFunction): Call[];
}

/** acorn-walk's callback; its third argument (the node type to walk as) is missing from its types. */
type Walk = (node: AnyNode, st: undefined, type?: string) => void;

/** Indexes a parsed module once for the calls of any of its functions. */
export function moduleCalls(source: string, parsed: ParsedSource): ModuleCalls {
  const scopes = scopesOf(parsed.program);
  const byNode = new Map<AnyNode, LocatedFunction>(parsed.functions.map((f) => [f.node as AnyNode, f]));
  const byPath = new Map(parsed.functions.map((f) => [f.path, f]));
  const { lookup } = scopes;
  const injected = injectedFields(parsed.program as AnyNode, byPath);

  const memberOf = (fnPath: string, sep: '.' | '#', name: string): LocatedFunction | undefined => byPath.get(`${fnPath}${sep}${name}`);
  const local = (fn: LocatedFunction | undefined, note: string): CalleeRef => (fn !== undefined ? { kind: 'function', fn } : { kind: 'unnamed', note });

  /** The class (or constructor function) a method or constructor belongs to: '~UserRepo' for '~UserRepo#save'. */
  const ownerOf = (fn: LocatedFunction): string | undefined => {
    const hash = fn.path.lastIndexOf('#');
    if (hash > 0) return fn.path.slice(0, hash);
    return fn.kind === 'class' ? fn.path : undefined;
  };

  const refOf = (callee: AnyNode, at: number, inside: LocatedFunction): { call: string; ref: CalleeRef } => {
    if (callee.type === 'Identifier') {
      const call = callee.name;
      const binding = lookup(callee.name, at);
      if (binding === undefined) return { call, ref: { kind: 'unnamed', note: 'a global' } };
      switch (binding.kind) {
        case 'param':
          return { call, ref: { kind: 'unnamed', note: 'a parameter' } };
        case 'function': {
          const fn = byNode.get(binding.node) ?? classConstructor(binding.node, byNode);
          return { call, ref: local(fn, 'a class without a constructor') };
        }
        case 'module':
          return { call, ref: { kind: 'module', specifier: binding.specifier, path: binding.path, ...(binding.imported === true ? {} : { copy: true }) } };
        default:
          return { call, ref: { kind: 'unnamed', note: 'a variable' } };
      }
    }
    const chain = callee.type === 'MemberExpression' ? memberChain(callee) : undefined;
    if (chain === undefined) return { call: sourceText(source, callee), ref: { kind: 'unnamed', note: 'a computed callee' } };
    const [head, ...rest] = chain;
    const call = chain.join('.');
    if (head === 'this' && rest.length === 2) {
      const owner = ownerOf(inside);
      const type = owner === undefined ? undefined : injected.get(owner)?.get(rest[0]!);
      const ref = type === undefined ? undefined : typeMethod(type, rest[1]!);
      if (ref !== undefined) return { call, ref };
    }
    if (head === 'this') {
      const owner = ownerOf(inside);
      const method = owner !== undefined && rest.length === 1 ? (memberOf(owner, '#', rest[0]!) ?? memberOf(owner, '.', rest[0]!)) : undefined;
      return { call, ref: local(method, 'a method of this') };
    }
    if ((head === 'module' && rest[0] === 'exports') || head === 'exports') {
      const path = (head === 'exports' ? rest : rest.slice(1)).join('.');
      const fn = byPath.get(INTERNAL_MARK + path);
      return { call, ref: fn !== undefined ? { kind: 'function', fn } : { kind: 'own-export', path } };
    }
    const binding = lookup(head!, at);
    if (binding === undefined) return { call, ref: { kind: 'unnamed', note: 'a global' } };
    if (binding.kind === 'module') return { call, ref: { kind: 'module', specifier: binding.specifier, path: [binding.path, ...rest].filter(Boolean).join('.') } };
    if (binding.kind === 'function' || binding.kind === 'object') {
      const holder = byNode.get(binding.node)?.path ?? INTERNAL_MARK + head!;
      const fn = rest.length === 1 ? (memberOf(holder, '.', rest[0]!) ?? memberOf(holder, '#', rest[0]!)) : byPath.get(`${holder}.${rest.join('.')}`);
      if (fn !== undefined) return { call, ref: { kind: 'function', fn } };
    }
    return { call, ref: { kind: 'unnamed', note: binding.kind === 'param' ? 'a method of a parameter' : 'a method of a variable' } };
  };

  /** `method` of the class a design:paramtypes entry names: an import's or require()'s export, or a class of this module. */
  const typeMethod = (type: AnyNode, method: string): CalleeRef | undefined => {
    const chain = memberChain(type);
    if (chain === undefined || chain[0] === 'this') return undefined;
    const [name, ...path] = chain;
    const binding = lookup(name!, type.start);
    if (binding?.kind === 'module') return { kind: 'module', specifier: binding.specifier, path: `${[binding.path, ...path].filter(Boolean).join('.')}#${method}` };
    if (binding?.kind === 'function' && path.length === 0) {
      const cls = byNode.get(binding.node);
      const fn = cls === undefined ? undefined : memberOf(cls.path, '#', method);
      if (fn !== undefined) return { kind: 'function', fn };
    }
    return undefined;
  };

  return {
    callsIn(fn) {
      const calls: Call[] = [];
      const visit = (node: CallExpression | NewExpression): void => {
        const callee = node.callee as AnyNode;
        if (callee.type === 'Super' || (callee.type === 'Identifier' && callee.name === 'require' && lookup('require', node.start) === undefined)) return;
        const { call, ref } = refOf(callee, node.start, fn);
        ArrayPrototypePush(calls, { call: node.type === 'NewExpression' ? `new ${call}` : call, line: lineOf(node), ref });
        // A function of this module handed to another is called by it.
        for (const argument of node.arguments) {
          if (argument.type !== 'Identifier') continue;
          const binding = lookup(argument.name, argument.start);
          const passed = binding?.kind === 'function' ? byNode.get(binding.node) : undefined;
          if (passed !== undefined) ArrayPrototypePush(calls, { call: argument.name, line: lineOf(argument), ref: { kind: 'function', fn: passed }, note: 'passed as a callback' });
        }
      };
      const walkBase = base as RecursiveVisitors<undefined>;
      // Each call is seen before the calls inside it, as the code reads.
      const visitors: RecursiveVisitors<undefined> = {
        CallExpression(node, st, c) {
          visit(node);
          walkBase.CallExpression!(node, st, c);
        },
        NewExpression(node, st, c) {
          visit(node);
          walkBase.NewExpression!(node, st, c);
        },
      };
      recursive(fn.node as AnyNode, undefined, visitors, walkBase);
      return calls;
    },
  };
}

/** The name a call's callee ends with: `__decorate`, `tslib_1.__decorate`, `(0, tslib_1.__decorate)`. */
function calleeName(node: AnyNode): string | undefined {
  if (node.type === 'Identifier') return node.name;
  if (node.type === 'MemberExpression' && !node.computed && node.property.type === 'Identifier') return node.property.name;
  if (node.type === 'SequenceExpression') return calleeName(node.expressions[node.expressions.length - 1] as AnyNode);
  return undefined;
}

/**
 * For each class of the module (by its internal path, '~AppController') that TypeScript
 * decorated with `design:paramtypes` metadata: its fields set from constructor
 * parameters, each with the expression naming the parameter's class.
 */
function injectedFields(program: AnyNode, byPath: Map<string, LocatedFunction>): Map<string, Map<string, AnyNode>> {
  const out = new Map<string, Map<string, AnyNode>>();
  simple(program, {
    CallExpression(node) {
      if (calleeName(node.callee as AnyNode) !== '__decorate' || node.arguments.length < 2) return;
      const [decorators, target] = node.arguments as AnyNode[];
      if (decorators?.type !== 'ArrayExpression' || target?.type !== 'Identifier') return;
      let types: AnyNode[] | undefined;
      for (const element of decorators.elements) {
        if (element?.type !== 'CallExpression' || calleeName(element.callee as AnyNode) !== '__metadata') continue;
        const [key, value] = element.arguments as AnyNode[];
        if (key?.type === 'Literal' && key.value === 'design:paramtypes' && value?.type === 'ArrayExpression') {
          types = value.elements.filter((e): e is NonNullable<typeof e> => e !== null) as AnyNode[];
        }
      }
      const cls = byPath.get(INTERNAL_MARK + target.name);
      if (types === undefined || cls === undefined) return;
      // A class is located by its constructor when it has one (its `~Name` is the constructor).
      const ctor = (cls.node as AnyNode).type === 'FunctionExpression' ? (cls.node as AnyNode) : classConstructorNode(cls.node as AnyNode);
      if (ctor === undefined || ctor.type !== 'FunctionExpression') return;
      const params = ctor.params.map((p) => (p.type === 'Identifier' ? p.name : undefined));
      const fields = new Map<string, AnyNode>();
      for (const statement of ctor.body.body) {
        // this.appService = appService (a parameter property, compiled)
        if (statement.type !== 'ExpressionStatement' || statement.expression.type !== 'AssignmentExpression') continue;
        const { left, right } = statement.expression;
        if (left.type !== 'MemberExpression' || left.object.type !== 'ThisExpression' || left.computed || left.property.type !== 'Identifier') continue;
        if (right.type !== 'Identifier') continue;
        const index = params.indexOf(right.name);
        const type = index < 0 ? undefined : types[index];
        if (type !== undefined) fields.set(left.property.name, type);
      }
      if (fields.size > 0) out.set(cls.path, fields);
    },
  });
  return out;
}

function classConstructorNode(node: AnyNode): AnyNode | undefined {
  if (node.type !== 'ClassDeclaration' && node.type !== 'ClassExpression') return undefined;
  for (const element of node.body.body) {
    if (element.type === 'MethodDefinition' && element.kind === 'constructor') return element.value as AnyNode;
  }
  return undefined;
}

/** The constructor of a class, which `new C()` calls. */
function classConstructor(node: AnyNode, byNode: Map<AnyNode, LocatedFunction>): LocatedFunction | undefined {
  if (node.type !== 'ClassDeclaration' && node.type !== 'ClassExpression') return undefined;
  for (const element of node.body.body) {
    if (element.type === 'MethodDefinition' && element.kind === 'constructor') return byNode.get(element.value as AnyNode);
  }
  return undefined;
}

/** `a.b.c` -> ['a', 'b', 'c'], `this.x` -> ['this', 'x']; undefined when any part is computed. */
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

/** A callee's source on one line, cut to 60 characters. */
function sourceText(source: string, node: Node): string {
  const text = source.slice(node.start, node.end).replace(/\s+/g, ' ');
  return text.length > 60 ? `${text.slice(0, 59)}…` : text;
}
