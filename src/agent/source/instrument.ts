/**
 * Body instrumentation of a CommonJS module's source (the preload's answer to "a traced
 * function stays the very same object", docs/transparency.md "Body instrumentation").
 *
 * A wrapper is a second function object: a library's own references to what it exports
 * (lodash's `_.iteratee(null) === _.identity`) keep the original, and a callable Proxy as
 * a prototype reads as a function. The only way to trace a function without a second
 * object is for its body to call the tracer. So, for the modules a user selected, the
 * source is rewritten as it is compiled (`Module.prototype._compile`), and each plain
 * synchronous function gets, on its body's first line only:
 *
 *   {  ->  {<open k>let $t,$v;if($s.hooks!==null)$t=$s.enter(this,arguments,new.target);try{<close>
 *
 * every `return X` of that function (not of a nested one) becomes
 * `return <open>($v=(<close>X<open>),$t===void 0?$v:$s.r($t,$v))<close>`, and the body's last `}` is preceded by
 * `<open>}catch($e){if($t!==void 0)$s.x($t,$e);throw $e}finally{if($t!==void 0)$s.f($t,this)}<close>`.
 * `$s` is a module-level variable holding the function's site (one per source function,
 * shared by all its closures: patcher/body-site.ts), set by one statement put before the
 * module's first statement (after a directive prologue, so 'use strict' stays first).
 * Idle, a call costs that one `hooks` check.
 *
 * Every line of the module keeps its number; columns move only on a function's first body
 * line and after a rewritten `return` on its line. `<open>`/`<close>` are comments carrying a
 * per-process random tag, so `Function.prototype.toString` can cut exactly the inserted
 * text out again (no user text can contain the tag), and `<open k>` carries the site id,
 * which is how an instrumented function is recognised from its text.
 *
 * What is left to pinning (left exactly as written), because its semantics would change
 * or could not be kept exactly:
 * - generators and async functions (their body runs after the call returned), getters and
 *   setters;
 * - functions that use a direct `eval` or declare their own `arguments`;
 * - functions whose top-level function declarations would conflict once inside the `try`
 *   block (a name declared twice, also by `var` or as a parameter): in a block a function
 *   declaration is lexical (Annex B keeps a sloppy-mode function-scope copy);
 * - arrows whose parameters are not all plain identifiers (an arrow has no `arguments`:
 *   the call's arguments are its parameters' values);
 * - methods with a computed key written with a comment before the key.
 * A derived class's constructor hands no `this` (it does not exist before `super()`).
 */
import { parse, type Node } from 'acorn';
import { ArrayPrototypePush, ArrayPushBuiltin, SafeMap, SafeSet } from '../../safe/intrinsics.js';

/** One instrumented function, as the rewrite found it. */
export interface BodySiteInfo {
  /** Index within the module (the `$s` variable's suffix). */
  index: number;
  /** The function's name as written ('' for an anonymous one). */
  name: string;
  /** 1-based line of the function's start. */
  line: number;
  /**
   * Where the site's open marker sits in the function's own `toString` text (of the
   * rewritten source): how the marker of the function itself is told from nested ones'.
   */
  offset: number;
  /** Evaluated once (one closure): the body hands no closure to `enter`. */
  once: boolean;
}

export interface Instrumented {
  code: string;
  sites: BodySiteInfo[];
}

/** The tags of one process: `tag` marks the inserted text, identifiers use it as a suffix. */
export interface InstrumentNames {
  /** Letters and digits only. */
  tag: string;
}

/** Comment that opens an inserted segment; `id` only on a body's first segment. */
export function openMarker(tag: string, id?: number): string {
  return `/*${tag}<${id ?? ''}*/`;
}

export function closeMarker(tag: string): string {
  return `/*${tag}>*/`;
}

/** Cuts every inserted segment out of a function's text (for Function.prototype.toString). */
export function stripInserted(text: string, tag: string): string {
  const open = `/*${tag}<`;
  if (!text.includes(open)) return text;
  const close = closeMarker(tag);
  let out = '';
  let at = 0;
  for (;;) {
    const start = text.indexOf(open, at);
    if (start === -1) break;
    const end = text.indexOf(close, start);
    if (end === -1) {
      // An expression-bodied arrow's text ends at its inserted `}`, before the closing marker.
      out += text.slice(at, start);
      at = text.length;
      break;
    }
    out += text.slice(at, start);
    at = end + close.length;
  }
  return out + text.slice(at);
}

/**
 * The site ids marked in a function's text, each with where its marker sits; the caller
 * keeps the one whose recorded offset matches (nested functions have markers too).
 */
export function markedSites(text: string, tag: string): [id: number, offset: number][] {
  const open = `/*${tag}<`;
  const out: [number, number][] = [];
  let at = text.indexOf(open);
  while (at !== -1) {
    const from = at + open.length;
    const end = text.indexOf('*/', from);
    if (end === -1) break;
    if (end > from) {
      const id = Number(text.slice(from, end));
      if (Number.isSafeInteger(id)) ArrayPrototypePush(out, [id, at]);
    }
    at = text.indexOf(open, end);
  }
  return out;
}

interface AnyNode extends Node {
  [key: string]: unknown;
}

interface Insertion {
  at: number;
  text: string;
  /** Order among insertions at the same position (lower first). */
  order: number;
}

interface FunctionInfo {
  node: AnyNode;
  /** Start of the function's own toString text. */
  anchor: number;
  name: string;
  derived: boolean;
  arrow: boolean;
  /** `return` statements of this function's own body. */
  returns: AnyNode[];
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
  /** A class constructor: its class's name, when it has one. */
  ctorClassName?: string;
}

const FUNCTION_TYPES = new SafeSet(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression']);

/**
 * Instruments `source` (a CommonJS module body). `firstId` is the site id of the module's
 * first function: ids are process-wide, the module's functions get `firstId + index`.
 * `registryExpression` is the JavaScript expression that yields the module's site array.
 * Returns undefined when the module can't be parsed or has nothing to instrument.
 */
export function instrumentSource(source: string, names: InstrumentNames, firstId: number, registryExpression: string): Instrumented | undefined {
  const { tag } = names;
  if (source.includes(tag)) return undefined;
  // The registry is reached through globalThis and Symbol: a module that declares either
  // itself would make the preamble read its own.
  if (/\b(?:var|let|const|function|class)\s+(?:globalThis|Symbol)\b/.test(source)) return undefined;
  // acorn calls Array.prototype.push as the program left it: never run a replaced one (parse.ts).
  if (Array.prototype.push !== ArrayPushBuiltin) return undefined;
  let program: AnyNode;
  try {
    program = parse(source, { ecmaVersion: 'latest', sourceType: 'script', allowReturnOutsideFunction: true, allowHashBang: true, preserveParens: true }) as unknown as AnyNode;
  } catch {
    return undefined;
  }
  const functions: FunctionInfo[] = [];
  collect(program, source, functions);
  const insertions: Insertion[] = [];
  const sites: BodySiteInfo[] = [];
  const markers: [BodySiteInfo, Insertion, number][] = [];
  const lineStarts = lineStartsOf(source);
  for (const info of functions) {
    if (!info.safe) continue;
    const index = sites.length;
    const plan = planFunction(info, names, firstId + index, index, source);
    if (plan === undefined) continue;
    for (const insertion of plan.insertions) ArrayPrototypePush(insertions, insertion);
    const site: BodySiteInfo = { index, name: info.name, line: lineAt(lineStarts, info.node.start), offset: 0, once: info.self === 'void 0' };
    ArrayPrototypePush(sites, site);
    ArrayPrototypePush(markers, [site, plan.marker, info.anchor]);
  }
  if (sites.length === 0) return undefined;
  const s = `$${tag}`;
  let preamble = `var ${s}S=${registryExpression}`;
  for (const site of sites) preamble += `,${s}s${site.index}=${s}S[${site.index}]`;
  preamble += ';';
  ArrayPrototypePush(insertions, { at: preambleAt(program, source), text: preamble, order: -1e9 });
  // Stable: at one position, closings of inner functions before outer ones, then openings
  // of outer functions before inner ones (planFunction's orders).
  insertions.sort((a, b) => a.at - b.at || a.order - b.order);
  const parts: string[] = [];
  let length = 0;
  let last = 0;
  const outputAt = new SafeMap<Insertion, number>();
  // Inserted length before each insertion (sorted): for an anchor, every insertion at or
  // before its position lands before its character.
  const insertedBefore: number[] = [];
  let inserted = 0;
  for (const insertion of insertions) {
    const piece = source.slice(last, insertion.at);
    ArrayPrototypePush(parts, piece, insertion.text);
    length += piece.length;
    outputAt.set(insertion, length);
    length += insertion.text.length;
    ArrayPrototypePush(insertedBefore, inserted);
    inserted += insertion.text.length;
    last = insertion.at;
  }
  ArrayPrototypePush(parts, source.slice(last));
  const code = parts.join('');
  for (const [site, marker, anchor] of markers) {
    // The first insertion past the anchor: what comes before it is all before the anchor.
    let lo = 0;
    let hi = insertions.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (insertions[mid]!.at <= anchor) lo = mid + 1;
      else hi = mid;
    }
    const anchorOut = anchor + (lo < insertions.length ? insertedBefore[lo]! : inserted);
    site.offset = (outputAt.get(marker) ?? 0) - anchorOut;
  }
  return { code, sites };
}

/** 1-based line of a position, by binary search over the line starts. */
function lineAt(lineStarts: number[], pos: number): number {
  let lo = 0;
  let hi = lineStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (lineStarts[mid]! <= pos) lo = mid;
    else hi = mid - 1;
  }
  return lo + 1;
}

function lineStartsOf(source: string): number[] {
  const starts = [0];
  for (let i = source.indexOf('\n'); i !== -1; i = source.indexOf('\n', i + 1)) ArrayPrototypePush(starts, i + 1);
  return starts;
}

/** Before the first statement that is not a directive (so 'use strict' stays first). */
function preambleAt(program: AnyNode, source: string): number {
  const body = program.body as AnyNode[];
  for (const statement of body) {
    if (statement.type === 'ExpressionStatement' && typeof statement.directive === 'string') continue;
    return statement.start;
  }
  // Only directives (or nothing): after the last one, or at the start past a hashbang.
  const lastDirective = body[body.length - 1];
  if (lastDirective !== undefined) return lastDirective.end;
  return source.startsWith('#!') ? source.length : 0;
}

interface Plan {
  insertions: Insertion[];
  /** The body's first segment, which carries the site id. */
  marker: Insertion;
}

function planFunction(info: FunctionInfo, names: InstrumentNames, id: number, index: number, source: string): Plan | undefined {
  const { tag } = names;
  const s = `$${tag}s${index}`;
  const t = `$${tag}t`;
  const e = `$${tag}e`;
  const v = `$${tag}v`;
  // `return X` keeps X once and calls the site only on a traced call: idle, a return is an
  // assignment and a test (a call per return cost 30-50 ns in V8's unoptimized tiers).
  const returnOpen = `(${v}=(`;
  const returnClose = `),${t}===void 0?${v}:${s}.r(${t},${v}))`;
  const open = openMarker(tag);
  const close = closeMarker(tag);
  const node = info.node;
  const body = node.body as AnyNode;
  const self = info.arrow || info.derived ? 'void 0' : 'this';
  const args = info.arrow ? `[${info.paramNames.join(',')}]` : 'arguments';
  const newTarget = info.arrow ? 'void 0' : 'new.target';
  const enter = `let ${t},${v};if(${s}.hooks!==null)${t}=${s}.enter(${self},${args},${newTarget},${info.self ?? 'void 0'});try{`;
  // A rethrow is where V8 reports an uncaught throw, so Node's crash banner would print this
  // line's inserted text as the excerpt: the marker (as on the wrappers' rethrow lines)
  // makes it print none. The error's own stack is untouched.
  const tail = `}catch(${e}){if(${t}!==void 0)${s}.x(${t},${e});throw ${e}/*node-do-not-add-exception-line*/}finally{if(${t}!==void 0)${s}.f(${t}${info.arrow || info.derived ? '' : ',this'})}`;
  // Openings: outer functions first at one position; closings: inner ones first.
  const opening = 1000 + info.depth;
  const closing = -info.depth;
  const insertions: Insertion[] = [];
  let marker: Insertion;
  if (body.type !== 'BlockStatement') {
    // An expression-bodied arrow becomes a block with one `return`.
    marker = { at: body.start, text: `${openMarker(tag, id)}{${enter}return ${returnOpen}${close}`, order: opening };
    ArrayPrototypePush(insertions, marker, { at: body.end, text: `${open}${returnClose}${tail}}${close}`, order: closing });
  } else {
    if (source.charCodeAt(body.end - 1) !== 0x7d) return undefined;
    const statements = body.body as AnyNode[];
    let at = body.start + 1;
    for (const statement of statements) {
      if (statement.type === 'ExpressionStatement' && typeof statement.directive === 'string') at = statement.end;
      else break;
    }
    if (statements.length === 0) {
      // An empty body: the opening and the closing meet at one position; one insertion keeps their order.
      marker = { at, text: `${openMarker(tag, id)}${enter}${tail}${close}`, order: opening };
      return { insertions: [marker], marker };
    }
    marker = { at, text: `${openMarker(tag, id)}${enter}${close}`, order: opening };
    ArrayPrototypePush(insertions, marker);
    for (const ret of info.returns) {
      const argument = ret.argument as AnyNode | null;
      if (argument === null) continue; // `return;` ends in finally, as undefined
      ArrayPrototypePush(insertions, { at: argument.start, text: `${open}${returnOpen}${close}`, order: opening });
      ArrayPrototypePush(insertions, { at: argument.end, text: `${open}${returnClose}${close}`, order: closing });
    }
    ArrayPrototypePush(insertions, { at: body.end - 1, text: `${open}${tail}${close}`, order: closing });
  }
  return { insertions, marker };
}

/** Walks the program, collecting every function with what planFunction needs. */
function collect(program: AnyNode, source: string, out: FunctionInfo[]): void {
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
    }
    if (node.type === 'Program') innerStrict = hasUseStrict(node.body as AnyNode[]);
    if (node.type === 'ClassBody') innerStrict = true;
    const nextClass = node.type === 'ClassDeclaration' || node.type === 'ClassExpression' ? node : classNode;
    const nextLoops = LOOPS.has(node.type) ? loops + 1 : loops;
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
  const simple = (node.params as AnyNode[]).every((p) => p.type === 'Identifier');
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
  let safe = node.generator !== true && node.async !== true;
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
  const info: FunctionInfo = { node, anchor, name, derived, arrow, returns: [], safe, depth, varNames: new SafeSet(), paramNames, declared: new SafeSet(), strict, once, method };
  if (ctorClassName !== undefined) info.ctorClassName = ctorClassName;
  return info;
}

/** After the walk: a top-level function declaration must not collide once it sits in a block. */
function finish(info: FunctionInfo): void {
  if (!info.safe) return;
  // Its own `arguments` (a destructured binding too): the inserted `arguments` would read it.
  if (info.declared.has('arguments')) {
    info.safe = false;
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
