/**
 * The walk that finds every function of a module and decides, per function, whether its
 * body can be instrumented without a change the program could notice (instrument.ts lists
 * what is left to pinning and why) and how the body names its running closure
 * (`decideSelf`). Everything the plan (instrument-plan.ts) needs is collected here, in one
 * pass over acorn's tree.
 */
import type { Node } from 'acorn';
import { ArrayPrototypePush, SafeMap, SafeSet } from '../../safe/intrinsics.js';

export interface AnyNode extends Node {
  [key: string]: unknown;
}

export interface FunctionInfo {
  node: AnyNode;
  /** Start of the function's own toString text. */
  anchor: number;
  name: string;
  derived: boolean;
  arrow: boolean;
  /** `return` statements of this function's own body. */
  returns: AnyNode[];
  /** An async function or async generator; for an async function (not a generator) its own `await` expressions, in source order. */
  async: boolean;
  awaits: AnyNode[];
  /**
   * A generator or async generator: only its parameter list is rewritten (a hidden
   * trailing parameter, instrument-plan.ts), its body stays exactly as written.
   */
  generator: boolean;
  /** `arguments` is named in the body (or in an arrow inside it): a sloppy generator with simple parameters is then left alone. */
  usesArguments: boolean;
  safe: boolean;
  /** How many functions enclose it. */
  depth: number;
  /** Top-level function declarations in the body, vars and params, for the conflict check. */
  varNames: Set<string>;
  paramNames: string[];
  /** Every name declared inside (params, var/let/const/function/class, catch), nested blocks included. */
  declared: Set<string>;
  /** Strict-mode code (a 'use strict' prologue around it, or a class body). */
  strict: boolean;
  /** Evaluated at most once: no enclosing function or loop. */
  once: boolean;
  /** The expression that yields the running closure inside the body, once decided. */
  self?: string;
  /** A method (object or class): no name binding of its own, never sloppy `arguments.callee`. */
  method: boolean;
  /**
   * The body runs code of the program's own between a `return`'s value and the function's
   * exit: a `finally` of its own, a `for...of` (a `return` inside closes the iterator: its
   * `return()` may still throw), a `using` declaration. Such a body reports its ending from
   * a `finally` of ours after all of them; any other reports it at the `return` itself
   * (instrument-plan.ts).
   */
  unwinds: boolean;
  /** A class constructor: its class's name, when it has one. */
  ctorClassName?: string;
}

const FUNCTION_TYPES = new SafeSet(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression']);


/** Walks the program, collecting every function with what planFunction needs. */
export function collect(program: AnyNode, source: string, out: FunctionInfo[]): void {
  const stack: FunctionInfo[] = [];
  // Module-wide: how many times each name is bound, and which names are assigned, so a
  // function declaration's name is known to always mean that function.
  const bindings = new SafeMap<string, number>();
  const assigned = new SafeSet<string>();
  const bind = (name: string): void => {
    bindings.set(name, (bindings.get(name) ?? 0) + 1);
    stack[stack.length - 1]?.declared.add(name);
  };
  const LOOPS = new SafeSet(['ForStatement', 'ForInStatement', 'ForOfStatement', 'WhileStatement', 'DoWhileStatement']);
  const visit = (node: AnyNode, parent: AnyNode | undefined, classNode: AnyNode | undefined, strict: boolean, loops: number): void => {
    let info: FunctionInfo | undefined;
    let innerStrict = strict;
    if ((node.type === 'ForOfStatement' && node.await === true) || (node.type === 'VariableDeclaration' && node.kind === 'await using')) {
      // Suspends where no expression of ours can sit before it (instrument.ts).
      // A generator's body is not rewritten (its awaits neither): nothing to keep it from.
      const owner = stack[stack.length - 1];
      if (owner !== undefined && !owner.generator) owner.safe = false;
    }
    if ((node.type === 'TryStatement' && node.finalizer !== null && node.finalizer !== undefined) || node.type === 'ForOfStatement' || (node.type === 'VariableDeclaration' && (node.kind === 'using' || node.kind === 'await using'))) {
      const owner = stack[stack.length - 1];
      if (owner !== undefined) owner.unwinds = true;
    }
    if (FUNCTION_TYPES.has(node.type)) {
      if (node.type === 'FunctionDeclaration' && node.id !== null) bind((node.id as AnyNode).name as string);
      const body = node.body as AnyNode;
      innerStrict = strict || (body.type === 'BlockStatement' && hasUseStrict(body.body as AnyNode[]));
      info = describe(node, parent, classNode, source, stack.length, innerStrict, stack.length === 0 && loops === 0);
      ArrayPrototypePush(out, info);
      ArrayPrototypePush(stack, info);
      for (const name of info.paramNames) bind(name);
    } else if (node.type === 'ReturnStatement') {
      const owner = stack[stack.length - 1];
      if (owner !== undefined) ArrayPrototypePush(owner.returns, node);
    } else if (node.type === 'AwaitExpression') {
      const owner = stack[stack.length - 1];
      if (owner !== undefined && !owner.generator) ArrayPrototypePush(owner.awaits, node);
    } else if (node.type === 'CallExpression' && (node.callee as AnyNode).type === 'Identifier' && (node.callee as AnyNode).name === 'eval') {
      // A direct eval sees (and may declare into) every enclosing function's scope.
      for (const f of stack) f.safe = false;
    } else if (node.type === 'VariableDeclaration') {
      const owner = stack[stack.length - 1];
      for (const declarator of node.declarations as AnyNode[]) {
        for (const name of boundNames(declarator.id as AnyNode)) {
          bind(name);
          if (node.kind === 'var') owner?.varNames.add(name);
        }
      }
    } else if ((node.type === 'ClassDeclaration' || node.type === 'ClassExpression') && node.id !== null && node.id !== undefined) {
      if (node.type === 'ClassDeclaration') bind((node.id as AnyNode).name as string);
    } else if (node.type === 'CatchClause' && node.param !== null) {
      for (const name of boundNames(node.param as AnyNode)) bind(name);
    } else if (node.type === 'AssignmentExpression' || node.type === 'UpdateExpression' || ((node.type === 'ForInStatement' || node.type === 'ForOfStatement') && (node.left as AnyNode).type !== 'VariableDeclaration')) {
      const target = (node.type === 'AssignmentExpression' || node.type === 'ForInStatement' || node.type === 'ForOfStatement' ? node.left : node.argument) as AnyNode;
      for (const name of target.type === 'Identifier' ? [target.name as string] : boundNames(target)) assigned.add(name);
    } else if (node.type === 'Identifier' && node.name === 'arguments' && parent !== undefined && declares(parent, node)) {
      const owner = stack[stack.length - 1];
      if (owner !== undefined) owner.safe = false;
    } else if (node.type === 'Identifier' && node.name === 'arguments') {
      // Whose `arguments` it is: the nearest enclosing function that is not an arrow. Any
      // mention counts (a property key too): it only ever leaves a function to pinning.
      for (let i = stack.length - 1; i >= 0; i--) {
        if (stack[i]!.arrow) continue;
        stack[i]!.usesArguments = true;
        break;
      }
    }
    // Module code is strict throughout: no `arguments.callee` (decideSelf).
    if (node.type === 'Program') innerStrict = node.sourceType === 'module' || hasUseStrict(node.body as AnyNode[]);
    if (node.type === 'ClassBody') innerStrict = true;
    const nextClass = node.type === 'ClassDeclaration' || node.type === 'ClassExpression' ? node : classNode;
    // An instance field's initializer runs once per `new`, like a loop's body: a function
    // written there has a closure per instance.
    const nextLoops = LOOPS.has(node.type) || (node.type === 'PropertyDefinition' && node.static !== true) ? loops + 1 : loops;
    for (const key in node) {
      if (key === 'type' || key === 'start' || key === 'end' || key === 'loc' || key === 'range') continue;
      const value = node[key];
      if (Array.isArray(value)) {
        for (const child of value) if (isNode(child)) visit(child, node, nextClass, innerStrict, nextLoops);
      } else if (isNode(value)) {
        visit(value, node, nextClass, innerStrict, nextLoops);
      }
    }
    if (info !== undefined) {
      stack.pop();
      finish(info);
    }
  };
  visit(program, undefined, undefined, false, 0);
  for (const info of out) if (info.safe) decideSelf(info, bindings, assigned);
}

function hasUseStrict(statements: AnyNode[]): boolean {
  for (const statement of statements) {
    if (statement.type !== 'ExpressionStatement' || typeof statement.directive !== 'string') return false;
    if (statement.directive === 'use strict') return true;
  }
  return false;
}

/**
 * How the body names the running closure on the traced path, so that a session hooking one
 * closure of a source function (lodash makes dozens of exports from one `function () {}`
 * inside `overRest`) is not told of calls of the others: the function's own name where it
 * can only mean the function, else `arguments.callee` (sloppy mode, simple parameters),
 * else nothing when the function is evaluated once (one closure); otherwise it is left to
 * pinning.
 */
function decideSelf(info: FunctionInfo, bindings: Map<string, number>, assigned: Set<string>): void {
  const node = info.node;
  const id = node.id as AnyNode | null | undefined;
  // A generator's parameter list is made non-simple, which makes its `arguments` unmapped,
  // whose `callee` throws: only its own name or a single closure can name it.
  const simple = !info.generator && (node.params as AnyNode[]).every((p) => p.type === 'Identifier');
  if (info.ctorClassName !== undefined) {
    // A class's own name inside its body is an immutable binding of the class.
    if (!info.declared.has(info.ctorClassName)) info.self = info.ctorClassName;
  } else if (node.type === 'FunctionExpression' && id !== null && id !== undefined && !info.method) {
    // A named function expression's name is an immutable binding of itself.
    if (!info.declared.has(id.name as string)) info.self = id.name as string;
  } else if (node.type === 'FunctionDeclaration' && id !== null && id !== undefined) {
    const name = id.name as string;
    if (bindings.get(name) === 1 && !assigned.has(name) && !info.declared.has(name)) info.self = name;
  }
  if (info.self === undefined && !info.strict && !info.arrow && !info.method && simple) info.self = 'arguments.callee';
  if (info.self === undefined && info.once) info.self = 'void 0';
  if (info.self === undefined) info.safe = false;
}

function isNode(value: unknown): value is AnyNode {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}

/** `node` (an Identifier) is declared by `parent`, roughly: a binding position. */
function declares(parent: AnyNode, node: AnyNode): boolean {
  switch (parent.type) {
    case 'VariableDeclarator':
      return parent.id === node;
    case 'FunctionDeclaration':
    case 'FunctionExpression':
    case 'ArrowFunctionExpression':
      return (parent.params as AnyNode[]).includes(node) || parent.id === node;
    case 'ClassDeclaration':
    case 'CatchClause':
      return parent.id === node || parent.param === node;
    case 'AssignmentPattern':
      return parent.left === node;
    case 'RestElement':
    case 'ArrayPattern':
      return true;
    default:
      return false;
  }
}

function boundNames(pattern: AnyNode | null): string[] {
  if (pattern === null) return [];
  switch (pattern.type) {
    case 'Identifier':
      return [pattern.name as string];
    case 'AssignmentPattern':
      return boundNames(pattern.left as AnyNode);
    case 'RestElement':
      return boundNames(pattern.argument as AnyNode);
    case 'ArrayPattern':
      return (pattern.elements as (AnyNode | null)[]).flatMap((e) => boundNames(e));
    case 'ObjectPattern':
      return (pattern.properties as AnyNode[]).flatMap((p) => boundNames((p.type === 'RestElement' ? p : p.value) as AnyNode));
    default:
      return [];
  }
}

function describe(node: AnyNode, parent: AnyNode | undefined, classNode: AnyNode | undefined, source: string, depth: number, strict: boolean, once: boolean): FunctionInfo {
  const arrow = node.type === 'ArrowFunctionExpression';
  const params = node.params as AnyNode[];
  const paramNames = params.flatMap((p) => boundNames(p));
  const generator = node.generator === true;
  let safe = !generator || generatorParamsFit(node, strict);
  let anchor = node.start;
  let name = node.id !== null && node.id !== undefined ? ((node.id as AnyNode).name as string) : '';
  let derived = false;
  let method = false;
  let ctorClassName: string | undefined;
  if (arrow && !params.every((p) => p.type === 'Identifier')) safe = false;
  if (parent !== undefined && (parent.type === 'MethodDefinition' || (parent.type === 'Property' && (parent.method === true || parent.kind !== 'init'))) && parent.value === node) {
    if (parent.kind === 'get' || parent.kind === 'set') safe = false;
    method = true;
    const key = parent.key as AnyNode;
    if (key.type === 'Identifier' && parent.computed !== true) name = key.name as string;
    if (parent.kind === 'constructor') {
      // The constructor's text is its class's.
      anchor = classNode?.start ?? node.start;
      derived = classNode !== undefined && classNode.superClass !== null && classNode.superClass !== undefined;
      name = classNode?.id !== null && classNode?.id !== undefined ? ((classNode.id as AnyNode).name as string) : name;
      if (classNode?.id !== null && classNode?.id !== undefined) ctorClassName = name;
    } else if (parent.computed === true) {
      let at = key.start - 1;
      while (at >= 0 && /\s/.test(source[at]!)) at--;
      if (source[at] !== '[') safe = false;
      anchor = at;
      // A parenthesized key keeps its parens inside the brackets: that `[` is the one.
    } else {
      anchor = key.start;
    }
    if (generator) {
      // A generator method's text starts at its `*` (after any `static` or `async`).
      let at = anchor - 1;
      while (at >= 0 && /\s/.test(source[at]!)) at--;
      if (source[at] === '*') anchor = at;
      else safe = false;
    }
    if (node.async === true && parent.kind !== 'constructor') {
      // An async method's text starts at its `async` (after any `static`).
      let at = anchor - 1;
      while (at >= 0 && /\s/.test(source[at]!)) at--;
      if (source.slice(at - 4, at + 1) === 'async') anchor = at - 4;
      else safe = false;
    }
  } else if (parent !== undefined && parent.type === 'Property' && parent.value === node && (parent.key as AnyNode).type === 'Identifier') {
    if (name === '') name = (parent.key as AnyNode).name as string;
  } else if (parent !== undefined && parent.type === 'VariableDeclarator' && name === '' && (parent.id as AnyNode).type === 'Identifier') {
    name = (parent.id as AnyNode).name as string;
  } else if (parent !== undefined && parent.type === 'AssignmentExpression' && name === '' && parent.right === node) {
    // `exports.f = function () {}`, `X.prototype.m = function () {}`: the member's name.
    const left = parent.left as AnyNode;
    const property = left.type === 'MemberExpression' && left.computed !== true ? (left.property as AnyNode) : undefined;
    if (property?.type === 'Identifier') name = property.name as string;
  }
  if (paramNames.includes('arguments')) safe = false;
  const info: FunctionInfo = { node, anchor, name, derived, arrow, returns: [], async: node.async === true, awaits: [], generator, usesArguments: false, safe, depth, varNames: new SafeSet(), paramNames, declared: new SafeSet(), strict, once, method, unwinds: false };
  if (ctorClassName !== undefined) info.ctorClassName = ctorClassName;
  return info;
}

/**
 * A generator's parameter list can take the hidden trailing parameter (instrument-plan.ts)
 * with nothing else changed: not after a rest parameter (a rest must be last), not with a
 * body `'use strict'` of its own (a SyntaxError with a non-simple list), and, where the
 * list is simple today in sloppy-mode code, not with duplicate names (a SyntaxError once
 * non-simple). The last case's `arguments` (mapped today, unmapped after) is checked after
 * the walk (`finish`).
 */
function generatorParamsFit(node: AnyNode, strict: boolean): boolean {
  const params = node.params as AnyNode[];
  if (params.some((p) => p.type === 'RestElement')) return false;
  const body = node.body as AnyNode;
  if (hasUseStrict(body.body as AnyNode[])) return false;
  if (!strict && params.every((p) => p.type === 'Identifier')) {
    const names = new SafeSet<string>();
    for (const p of params) {
      if (names.has(p.name as string)) return false;
      names.add(p.name as string);
    }
  }
  return true;
}

/** After the walk: a top-level function declaration must not collide once it sits in a block. */
function finish(info: FunctionInfo): void {
  if (!info.safe) return;
  // Its own `arguments` (a destructured binding too): the inserted `arguments` would read it.
  if (info.declared.has('arguments')) {
    info.safe = false;
    return;
  }
  if (info.generator) {
    // A sloppy-mode function with simple parameters has a mapped `arguments` (it follows
    // writes to the parameters, and they follow writes to it); the hidden parameter makes
    // it unmapped: only a body that never names `arguments` can't tell.
    if (!info.strict && (info.node.params as AnyNode[]).every((p) => p.type === 'Identifier') && info.usesArguments) info.safe = false;
    // Its body is not put in a block: its declarations stay where they are.
    return;
  }
  const body = info.node.body as AnyNode;
  if (body.type !== 'BlockStatement') return;
  const seen = new SafeSet<string>();
  for (const statement of body.body as AnyNode[]) {
    if (statement.type !== 'FunctionDeclaration') continue;
    const name = (statement.id as AnyNode).name as string;
    if (seen.has(name) || info.varNames.has(name) || info.paramNames.includes(name)) {
      info.safe = false;
      return;
    }
    seen.add(name);
  }
}
