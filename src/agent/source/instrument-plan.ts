/**
 * The text inserted into one function (instrument.ts's essay shows its shape): positions in
 * the original source, each with an order that keeps nested insertions at one position
 * well nested.
 */
import { ArrayPrototypePush } from '../../safe/intrinsics.js';
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
  const guard = shape?.guard === true ? `${s}!==void 0&&` : '';
  const enter = `let ${t},${v};if(${guard}${s}.hooks!==null)${t}=${s}.enter(${self},${args},${newTarget},${info.self ?? 'void 0'});try{`;
  // A rethrow is where V8 reports an uncaught throw, so Node's crash banner would print this
  // line's inserted text as the excerpt: the marker (as on the wrappers' rethrow lines)
  // makes it print none. The error's own stack is untouched.
  const tail = `}catch(${e}){if(${t}!==void 0)${s}.x(${t},${e});throw ${e}/*node-do-not-add-exception-line*/}finally{if(${t}!==void 0)${s}.f(${t}${info.arrow || info.derived || info.async ? '' : ',this'})}`;
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
      if (argument === null) continue; // `return;` ends in finally, as undefined
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
