/**
 * The text inserted into one function (instrument.ts's essay shows its shape): positions in
 * the original source, each with an order that keeps nested insertions at one position
 * well nested.
 */
import { ArrayPrototypePush, SafeSet } from '../../safe/intrinsics.js';
import type { AnyNode, FunctionInfo } from './instrument-collect.js';
import { closeMarker, openMarker } from './instrument-markers.js';

export interface Insertion {
  at: number;
  text: string;
  /** Order among insertions at the same position (lower first). */
  order: number;
}

export interface Plan {
  insertions: Insertion[];
  /** The body's first segment, which carries the site id. */
  marker: Insertion;
}

/**
 * What differs in an ES module (source/instrument-esm.ts): `guard`, the function may run
 * before the module's preamble has set its site (a hoisted declaration called from an
 * import cycle), so the idle check tolerates an unset one; `resume`, the name of the
 * module's hoisted helper an `await` resumes through, which needs no site to exist.
 */
export interface PlanShape {
  guard: boolean;
  resume: string;
}

export function planFunction(info: FunctionInfo, tag: string, id: number, index: number, source: string, shape?: PlanShape): Plan | undefined {
  if (info.generator) return planGenerator(info, tag, id, index, source, shape?.guard === true);
  const s = `$${tag}s${index}`;
  const t = `$${tag}t`;
  const e = `$${tag}e`;
  const v = `$${tag}v`;
  // What the ending hooks get as the call's `this` (a constructed call's result when the
  // body returns no object); none where there is no `this` to hand, or none to report.
  const selfArg = info.arrow || info.derived || info.async ? '' : ',this';
  // How the call's ending is seen. A body that runs nothing of the program's between a
  // `return`'s value and its exit (`unwinds`, instrument-collect.ts) reports it right there:
  // `R` (returned), `X` (threw, from a `catch` of ours), `f` where it falls off its end or
  // returns nothing. Any other gets a `finally` of ours, after every one of its own: `r`
  // and `x` record, `f` reports the last. The `finally` is not free: V8 routes every
  // return through it (the completion kept, then dispatched on), which measured 1.5-2 ns a
  // call on the idle path (docs/benchmarks.md, branch body7), so only the bodies that need it get it.
  const direct = !info.unwinds;
  // `return X` keeps X once and calls the site only on a traced call: idle, a return is an
  // assignment and a test (a call per return cost 30-50 ns in V8's unoptimized tiers).
  const returnOpen = `(${v}=(`;
  const returnClose = direct ? `),${t}===void 0?${v}:${s}.R(${t},${v}${selfArg}))` : `),${t}===void 0?${v}:${s}.r(${t},${v}))`;
  const open = openMarker(tag);
  const close = closeMarker(tag);
  const node = info.node;
  const body = node.body as AnyNode;
  const self = info.arrow || info.derived ? 'void 0' : 'this';
  const newTarget = info.arrow ? 'void 0' : 'new.target';
  const guard = shape?.guard === true ? `${s}!==void 0&&` : '';
  // `enter` is handed the first parameters' values, not `arguments`: a function that names
  // `arguments` anywhere has V8's optimized code allocate the object on every call once
  // the hooked branch has type feedback (after any session, even idle again: 4-7x a bare
  // call), and a rejected or dropped call would pay for it too. Only where nothing can
  // tell the values apart from `arguments[i]` at the body's first line: plain identifiers
  // (no default, pattern or rest), no name twice (sloppy mode's last one wins). `enter`
  // answers the site itself when it needs every argument (the call goes to the hooks, or
  // its pre-test is at a later position); `full` is then applied to `arguments` by the
  // pristine `Reflect.apply` the site holds, which V8 compiles as a forwarding call (no
  // object made on the idle path) and which reads the arguments without running anything
  // of the program's (a spread would run the array iterator, which the program may replace).
  const named = namedValues(info);
  // A sloppy-mode plain function with simple parameters has a mapped `arguments`, which V8
  // forwards without making it only if nothing with a side effect ran first: `own` reads
  // the call's arguments from the function's legacy `arguments` property instead (body-site.ts).
  const legacy = !info.strict && !info.arrow && !info.method && !info.async && !info.generator && info.ctorClassName === undefined && named.length > 0;
  const all = info.arrow ? `${s}.full(${info.paramNames.join(',')})` : legacy ? `${s}.own()` : `${s}.apply(${s}.full,${s},arguments)`;
  const enter = `let ${t},${v};if(${guard}${s}.hooks!==null)if((${t}=${s}.enter(${self},${newTarget},${info.self ?? 'void 0'},${named.length}${named.length > 0 ? `,${named.join(',')}` : ''}))===${s})${t}=${all};try{`;
  // A rethrow is where V8 reports an uncaught throw, so Node's crash banner would print this
  // line's inserted text as the excerpt: the marker (as on the wrappers' rethrow lines)
  // makes it print none. The error's own stack is untouched.
  const ending = `if(${t}!==void 0)${s}.f(${t}${selfArg})`;
  const tail = direct
    ? `;${ending}}catch(${e}){if(${t}!==void 0)${s}.X(${t},${e});throw ${e}/*node-do-not-add-exception-line*/}`
    : `}catch(${e}){if(${t}!==void 0)${s}.x(${t},${e});throw ${e}/*node-do-not-add-exception-line*/}finally{${ending}}`;
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
    // After a directive written without its semicolon (`"use strict"` then a new line), the
    // inserted `let` would continue its line: the segment then starts with the `;` that
    // ASI would have put there.
    let semicolon = '';
    for (const statement of statements) {
      if (statement.type !== 'ExpressionStatement' || typeof statement.directive !== 'string') break;
      at = statement.end;
      semicolon = source.charCodeAt(at - 1) === 0x3b ? '' : ';';
    }
    if (statements.length === 0) {
      // An empty body: the opening and the closing meet at one position; one insertion keeps their order.
      marker = { at, text: `${openMarker(tag, id)}${semicolon}${enter}${tail}${close}`, order: opening };
      return { insertions: [marker], marker };
    }
    marker = { at, text: `${openMarker(tag, id)}${semicolon}${enter}${close}`, order: opening };
    ArrayPrototypePush(insertions, marker);
    for (const ret of info.returns) {
      const argument = ret.argument as AnyNode | null;
      if (argument === null) {
        // `return;` ends in the `finally`, as undefined; without one, it reports first, in a
        // block of its own (a `return;` may be the one statement of an `if` or a label).
        if (direct) ArrayPrototypePush(insertions, { at: ret.start, text: `${open}{${ending};${close}`, order: opening + 0.1 }, { at: ret.end, text: `${open}}${close}`, order: closing });
        continue;
      }
      ArrayPrototypePush(insertions, { at: argument.start, text: `${open}${returnOpen}${close}`, order: opening });
      ArrayPrototypePush(insertions, { at: argument.end, text: `${open}${returnClose}${close}`, order: closing });
    }
    ArrayPrototypePush(insertions, { at: body.end - 1, text: `${open}${tail}${close}`, order: closing });
  }
  if (info.async) {
    // `await X` -> `$s.w($t,await($v=(X),$t===void 0?$v:$s.a($t,$v)))`: `a` runs after X,
    // just before the await suspends (the first time is where the caller gets its promise
    // back: the call's synchronous end), `w` just after it resumes. The segment starts with
    // an identifier, not a paren: an await that starts a statement after a line with no
    // semicolon must still end that line by ASI (`f()\n(...)` would call f's result). Idle,
    // an await gains an assignment, a test and a call that returns its value. At one
    // position, an enclosing await's segment opens before (and closes after) an inner one's,
    // after (and before) the function's own `return` segments and before (after) any nested
    // function's.
    for (const node of info.awaits) {
      const argument = node.argument as AnyNode;
      const size = 0.25 / (1 + node.end - node.start);
      const resume = shape === undefined ? `${s}.w(${t},` : `${shape.resume}(${s},${t},`;
      ArrayPrototypePush(insertions, { at: node.start, text: `${open}${resume}${close}`, order: opening + 0.25 + size });
      ArrayPrototypePush(insertions, { at: argument.start, text: `${open}(${v}=(${close}`, order: opening + 0.25 + size });
      ArrayPrototypePush(insertions, { at: argument.end, text: `${open}),${t}===void 0?${v}:${s}.a(${t},${v})))${close}`, order: closing - 0.25 - size });
    }
  }
  return { insertions, marker };
}

/** How many leading parameter values `enter` may take as `arguments[0..]` (body-site.ts `BodySite.enter`). */
export const NAMED_VALUES = 4;

/**
 * The leading parameters whose values at the body's first line are `arguments[i]`: a
 * simple list (an arrow's every parameter is its argument) without a repeated name. A
 * body's own function declaration of a parameter's name is left to pinning
 * (instrument-collect.ts), and nothing else of the body has run yet.
 */
function namedValues(info: FunctionInfo): string[] {
  const params = info.node.params as AnyNode[];
  const names: string[] = [];
  const seen = new SafeSet<string>();
  for (let i = 0; i < params.length; i++) {
    const param = params[i]!;
    if (param.type !== 'Identifier' || seen.has(param.name as string)) return [];
    seen.add(param.name as string);
    if (i < NAMED_VALUES) names[i] = param.name as string;
  }
  return names;
}

/**
 * A generator's body runs at its first `next()` (perhaps never), but the call a wrapper
 * reports happens at the call: the one code of a generator that runs then is its parameter
 * list, bound before the generator object exists. So its body is left exactly as written
 * and one hidden parameter is added last:
 *
 *   (a, b)  ->  (a, b,...{[$s.hooks===null?"length":$s.g(this,arguments,<closure>)]:$p})
 *
 * A rest parameter takes the arguments past the declared ones into a fresh array, and the
 * pattern reads that array's own `length` (no getter, no prototype walk: nothing of the
 * program's runs); `g` reports the call and hands back "length". A rest parameter does not
 * count in `length`. What it changes otherwise (a non-simple parameter list) is why
 * instrument-collect.ts takes only the generators where that cannot be seen.
 */
function planGenerator(info: FunctionInfo, tag: string, id: number, index: number, source: string, guard: boolean): Plan | undefined {
  const close = paramsClose(info.node, source);
  if (close === undefined) return undefined;
  const s = `$${tag}s${index}`;
  const closure = info.self === undefined || info.self === 'void 0' ? '' : `,${info.self}`;
  const marker: Insertion = {
    at: close.at,
    text: `${openMarker(tag, id)}${close.comma}...{[${guard ? `${s}===void 0||` : ''}${s}.hooks===null?"length":${s}.g(this,arguments${closure})]:$${tag}p}${closeMarker(tag)}`,
    order: 1000 + info.depth,
  };
  return { insertions: [marker], marker };
}

/**
 * Where the parameter list's `)` is, and whether a parameter inserted before it needs a
 * comma (none after a trailing comma or in an empty list). Undefined (left to pinning) when
 * a comment sits between the `)` and the body, or anything but blanks, comments and one
 * comma between the last parameter and the `)`.
 */
function paramsClose(node: AnyNode, source: string): { at: number; comma: string } | undefined {
  let at = (node.body as AnyNode).start - 1;
  while (at >= 0 && /\s/.test(source[at]!)) at--;
  if (source[at] !== ')') return undefined;
  const params = node.params as AnyNode[];
  if (params.length === 0) return { at, comma: '' };
  let comma = ',';
  let i = params[params.length - 1]!.end;
  while (i < at) {
    const c = source[i]!;
    if (/\s/.test(c)) i++;
    else if (c === ',' && comma === ',') {
      comma = '';
      i++;
    } else if (source.startsWith('//', i)) {
      const end = source.indexOf('\n', i);
      if (end === -1 || end > at) return undefined;
      i = end + 1;
    } else if (source.startsWith('/*', i)) {
      const end = source.indexOf('*/', i + 2);
      if (end === -1 || end + 2 > at) return undefined;
      i = end + 2;
    } else return undefined;
  }
  return { at, comma };
}
