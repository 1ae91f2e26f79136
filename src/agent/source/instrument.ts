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
 *   {  ->  {<open k>let $t,$v;if($s.hooks!==null)if(($t=$s.enter(this,new.target,<closure>,2,a,b))===$s)
 *             $t=$s.apply($s.full,$s,arguments);try{<close>
 *
 * (`enter` takes the first parameters' values, up to four, when the list is simple:
 * instrument-plan.ts says why no `arguments` is handed on the way to a rejected call),
 * every `return X` of that function (not of a nested one) becomes
 * `return <open>($v=(<close>X<open>),$t===void 0?$v:$s.R($t,$v,this))<close>`, every `return;`
 * `<open>{if($t!==void 0)$s.f($t,this);<close>return;<open>}<close>`, and the body's last `}` is preceded by
 * `<open>;if($t!==void 0)$s.f($t,this)}catch($e){if($t!==void 0)$s.X($t,$e);throw $e}<close>`:
 * the ending is reported where it happens. A body with a `finally`, a `for...of` or a
 * `using` of its own runs the program's code after a `return`'s value: its returns call
 * `$s.r` (record only), and its tail is
 * `<open>}catch($e){if($t!==void 0)$s.x($t,$e);throw $e}finally{if($t!==void 0)$s.f($t,this)}<close>`,
 * which reports the last completion (instrument-plan.ts says why not always).
 * `$s` is a module-level variable holding the function's site (one per source function,
 * shared by all its closures: patcher/body-site.ts), set by one statement put before the
 * module's first statement (after a directive prologue, so 'use strict' stays first).
 * Idle, a call costs that one `hooks` check.
 *
 * An async function gets the same, and each of its own `await X` becomes
 * `<open>$s.w($t,<close>await <open>($v=(<close>X<open>),$t===void 0?$v:$s.a($t,$v)))<close>`:
 * `a` is called just before the await suspends (the first time is the call's synchronous
 * end: the caller gets its promise there, which is where a wrapper sees the call return),
 * `w` as it resumes (the call is the enclosing one again for the call tree). Its result is
 * what its promise settles with (the body's `finally`: a throw, a returned value, or the
 * outcome of a returned native promise it adopts), reported as the wrapper path's
 * promise-watch reports it. The body never touches the promise itself, so what is handled
 * or unhandled is the program's alone.
 *
 * Every line of the module keeps its number; columns move only on a function's first body
 * line and after a rewritten `return` on its line. `<open>`/`<close>` are comments carrying a
 * per-process random tag, so `Function.prototype.toString` can cut exactly the inserted
 * text out again (no user text can contain the tag), and `<open k>` carries the site id,
 * which is how an instrumented function is recognised from its text.
 *
 * A generator or async generator keeps its body as written (it runs at the first `next()`,
 * perhaps never, while the call a wrapper reports is at the call): its parameter list gets
 * one hidden last parameter, `...{[$s.hooks===null?"length":$s.g(this,arguments)]:$p}`,
 * whose key is computed as the call binds its parameters (instrument-plan.ts planGenerator).
 *
 * What is left to pinning (left exactly as written), because its semantics would change
 * or could not be kept exactly:
 * - generators where the hidden parameter could be seen: after a rest parameter, with a
 *   'use strict' of their own (a SyntaxError with a non-simple list), sloppy-mode ones
 *   with a simple list that name `arguments` (mapped today, unmapped after) or repeat a
 *   parameter name (instrument-collect.ts), and ones with no name for their running
 *   closure other than `arguments.callee`;
 * - async functions with a `for await` or `await using` (they suspend where no expression
 *   of ours can run first);
 * - getters and setters;
 * - functions that use a direct `eval` or declare their own `arguments`;
 * - functions whose top-level function declarations would conflict once inside the `try`
 *   block (a name declared twice, also by `var` or as a parameter): in a block a function
 *   declaration is lexical (Annex B keeps a sloppy-mode function-scope copy);
 * - arrows whose parameters are not all plain identifiers (an arrow has no `arguments`:
 *   the call's arguments are its parameters' values);
 * - methods with a computed key written with a comment before the key.
 * A derived class's constructor hands no `this` (it does not exist before `super()`).
 */
import { parse } from 'acorn';
import { ArrayPrototypePush, ArrayPushBuiltin, SafeMap } from '../../safe/intrinsics.js';
import { collect, type AnyNode, type FunctionInfo } from './instrument-collect.js';
import { planFunction, type Insertion } from './instrument-plan.js';

export { closeMarker, markedSites, openMarker, stripInserted } from './instrument-markers.js';

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
  /** An async function: its call ends at its first `await`, its result is what it settles with. An async generator too. */
  async: boolean;
  /** A generator or async generator: its hidden parameter calls `g` at the call (instrument-plan.ts). */
  generator: boolean;
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
    const plan = planFunction(info, tag, firstId + index, index, source);
    if (plan === undefined) continue;
    for (const insertion of plan.insertions) ArrayPrototypePush(insertions, insertion);
    const site: BodySiteInfo = { index, name: info.name, line: lineAt(lineStarts, info.node.start), offset: 0, once: info.self === 'void 0', async: info.async, generator: info.generator };
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
export function lineAt(lineStarts: number[], pos: number): number {
  let lo = 0;
  let hi = lineStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (lineStarts[mid]! <= pos) lo = mid;
    else hi = mid - 1;
  }
  return lo + 1;
}

export function lineStartsOf(source: string): number[] {
  const starts = [0];
  for (let i = source.indexOf('\n'); i !== -1; i = source.indexOf('\n', i + 1)) ArrayPrototypePush(starts, i + 1);
  return starts;
}

/** Before the first statement that is not a directive (so 'use strict' stays first). */
export function preambleAt(program: AnyNode, source: string): number {
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
