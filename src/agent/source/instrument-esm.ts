/**
 * Body instrumentation of a selected ES module (docs/transparency.md "Body instrumentation
 * of ES modules"): the CommonJS rewrite's function bodies (instrument.ts) in a module that
 * also gets the ESM preload's own rewrite (rewrite.ts), planned from one acorn parse, in
 * Node's loader thread (engines/preload/hooks.ts).
 *
 * What differs from a CommonJS module, and how each is met:
 * - Where it runs. The loader thread has no access to the main thread's body-site registry
 *   (patcher/body-registry.ts). It gets the registry's tag in `initialize`'s data, allocates
 *   site ids alone (negative ones: the main thread's CommonJS hook counts up from zero),
 *   and writes each site's id, name, line, marker offset and flags into the module's
 *   preamble, which creates the sites in the main thread's registry (`define`) when the
 *   module's first statement runs:
 *     var $R=globalThis[Symbol.for(key)],$S=$R?.define?.(import.meta.url,[[id,name,line,
 *       offset,once,async],...])||[],$I={hooks:null},$s0=$S[0]||$I,...;
 *   A thread where livetrace is not running (or an older copy's registry) gets idle sites.
 * - Import cycles. Another module of a cycle may call this module's hoisted function
 *   declarations before its body, and so its preamble, ran: `$s0` is still undefined. A
 *   function that can run then (a top-level function declaration and every function
 *   written inside one) checks `$s!==void 0&&$s.hooks!==null` (one more test per call);
 *   others run only after the preamble and keep the one read. An `await` resumes through
 *   the module's hoisted helper `$W(s,t,v)`, which exists from instantiation and reads the
 *   site only for a traced call (whose `enter` found it set).
 * - Strict code. Module code is strict: there is no `arguments.callee`, so a function
 *   with several closures is instrumented only when its own name (or its class's) names
 *   it (instrument-collect.ts decideSelf); the others stay to the wrapper path.
 * - Two rewrites. The ESM rewrite's edits (an exported `const` to `let  `, an anonymous
 *   default export bound to a variable, the registration appended at the end) are planned
 *   from the same tree (rewrite.ts planRewrite) and applied in the same pass. None falls
 *   inside a function's text, so the marker offsets the body rewrite records hold.
 * - The compile check. A rewritten module that does not compile would end the program
 *   with a SyntaxError where the original ran, so it must compile before the loader gets
 *   it; otherwise the module takes the preload's plain rewrite, as if it were not
 *   selected. `vm.SourceTextModule` would compile it as a module, but only behind
 *   --experimental-vm-modules; `new vm.Script` of the text is wrong (import, export,
 *   import.meta and top-level await are syntax errors in a script, so every module would
 *   fail); a second acorn parse of the output would double the largest cost and checks
 *   acorn's grammar, not V8's. So V8 compiles, as a script, the module's text with the
 *   body rewrite as a module-free equivalent: inside `(async function(){'use strict';...})`
 *   (strict like a module, top-level await allowed), with its import declarations and
 *   `export` keywords removed, a default export of an expression or anonymous declaration
 *   parenthesized, and `import.meta` replaced by an identifier. The original parsed as a
 *   module, so what could fail to compile is what the body rewrite inserted, and that is
 *   all there. V8 pre-parses the functions: a fraction of the acorn parse already paid.
 *   Nothing runs. The ESM rewrite's own edits are not part of it: they are what every
 *   module under the preload already gets, without a check.
 */
import { parse, type Program } from 'acorn';
import { Script } from 'node:vm';
import { ArrayPrototypePush, ArrayPushBuiltin, SafeMap } from '../../safe/intrinsics.js';
import { collect, type AnyNode, type FunctionInfo } from './instrument-collect.js';
import { BODY_REGISTRY_KEY } from './instrument-markers.js';
import { planFunction, type Insertion } from './instrument-plan.js';
import { lineAt, lineStartsOf, preambleAt } from './instrument.js';
import { planRewrite } from './rewrite.js';

export interface EsmInstrumented {
  code: string;
  /** How many functions are instrumented: their ids are `firstId` down to `firstId - sites + 1`. */
  sites: number;
}

/** A zero-width insertion (`end === at`) or a replacement of [at, end). */
interface Piece {
  at: number;
  end: number;
  text: string;
  order: number;
}

/** After every insertion at the same position (an edit of the ESM rewrite or of the compile check). */
const LAST = Number.POSITIVE_INFINITY;

/**
 * The module's source with its functions' bodies instrumented and the ESM preload's rewrite
 * applied, or undefined when it does not parse, has nothing to instrument, or would not
 * compile (the caller then takes the plain rewrite). `firstId` is negative: the module's
 * sites get `firstId`, `firstId - 1`, ... Never throws.
 */
export function instrumentEsmModule(source: string, tag: string, firstId: number): EsmInstrumented | undefined {
  try {
    return instrument(source, tag, firstId);
  } catch {
    return undefined;
  }
}

function instrument(source: string, tag: string, firstId: number): EsmInstrumented | undefined {
  if (source.includes(tag)) return undefined;
  // The preamble reads globalThis and Symbol: a module declaring either is left to the plain rewrite.
  if (/\b(?:var|let|const|function|class)\s+(?:globalThis|Symbol)\b/.test(source)) return undefined;
  // acorn calls Array.prototype.push as the program left it (parse.ts).
  if (Array.prototype.push !== ArrayPushBuiltin) return undefined;
  let program: AnyNode;
  try {
    program = parse(source, { ecmaVersion: 'latest', sourceType: 'module', allowHashBang: true, preserveParens: true }) as unknown as AnyNode;
  } catch {
    return undefined;
  }
  const rewrite = planRewrite(program as unknown as Program, source);
  if (rewrite === undefined) return undefined;

  const functions: FunctionInfo[] = [];
  collect(program, source, functions);
  const n = `$${tag}`;
  const resume = `${n}W`;
  const insertions: Insertion[] = [];
  const rows: [id: number, name: string, line: number, offset: number, once: boolean, async: boolean][] = [];
  const markers: [row: number, marker: Insertion, anchor: number][] = [];
  const lineStarts = lineStartsOf(source);
  let hoisted = false;
  let anyAsync = false;
  for (const info of functions) {
    // Functions come outer first: a top-level one decides for everything written inside it.
    if (info.depth === 0) hoisted = info.node.type === 'FunctionDeclaration';
    if (!info.safe) continue;
    const index = rows.length;
    const id = firstId - index;
    const plan = planFunction(info, tag, id, index, source, { guard: hoisted, resume });
    if (plan === undefined) continue;
    for (const insertion of plan.insertions) ArrayPrototypePush(insertions, insertion);
    ArrayPrototypePush(rows, [id, info.name, lineAt(lineStarts, info.node.start), 0, info.self === 'void 0', info.async]);
    ArrayPrototypePush(markers, [index, plan.marker, info.anchor]);
    if (info.async) anyAsync = true;
  }
  if (rows.length === 0) return undefined;

  // Where each marker lands in its function's own text: the preamble and the ESM rewrite's
  // edits are all outside functions, so the body insertions alone decide it.
  const sorted = [...insertions].sort((a, b) => a.at - b.at || a.order - b.order);
  const indexOf = new SafeMap<Insertion, number>();
  const before: number[] = [0];
  for (let i = 0; i < sorted.length; i++) {
    indexOf.set(sorted[i]!, i);
    ArrayPrototypePush(before, before[i]! + sorted[i]!.text.length);
  }
  for (const [row, marker, anchor] of markers) {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]!.at <= anchor) lo = mid + 1;
      else hi = mid;
    }
    rows[row]![3] = marker.at + before[indexOf.get(marker) ?? 0]! - (anchor + before[lo]!);
  }

  const preamble = (url: string): string => {
    let text = `var ${n}R=globalThis[Symbol.for(${JSON.stringify(BODY_REGISTRY_KEY)})],${n}S=${n}R?.define?.(${url},${JSON.stringify(rows)})||[],${n}I={hooks:null}`;
    for (let i = 0; i < rows.length; i++) text += `,${n}s${i}=${n}S[${i}]||${n}I`;
    text += ';';
    if (anyAsync) text += `function ${resume}(s,t,v){return t===void 0?v:s.w(t,v)}`;
    return text;
  };
  const at = preambleAt(program, source);
  const body: Piece[] = sorted.map((insertion) => ({ at: insertion.at, end: insertion.at, text: insertion.text, order: insertion.order }));

  const check = assemble(source, [...body, { at, end: at, text: preamble('""'), order: -1e9 }, ...scriptEdits(program, source)]);
  if (check === undefined || !compilesAsScript(check)) return undefined;

  const edits: Piece[] = rewrite.edits.map((edit) => ({ at: edit.start, end: edit.end, text: edit.text, order: LAST }));
  const code = assemble(source, [...body, { at, end: at, text: preamble('import.meta.url'), order: -1e9 }, ...edits]);
  if (code === undefined) return undefined;
  return { code: code + rewrite.suffix, sites: rows.length };
}

/** Applies pieces; undefined if two of them overlap. */
function assemble(source: string, pieces: Piece[]): string | undefined {
  pieces.sort((a, b) => a.at - b.at || a.order - b.order);
  const parts: string[] = [];
  let last = 0;
  for (const piece of pieces) {
    if (piece.at < last) return undefined;
    ArrayPrototypePush(parts, source.slice(last, piece.at), piece.text);
    last = piece.end;
  }
  ArrayPrototypePush(parts, source.slice(last));
  return parts.join('');
}

/** The edits that make the module's text compile as the body of a strict async function (the essay's compile check). */
function scriptEdits(program: AnyNode, source: string): Piece[] {
  const edits: Piece[] = [];
  const edit = (at: number, end: number, text: string): void => {
    ArrayPrototypePush(edits, { at, end, text, order: LAST });
  };
  if (source.startsWith('#!')) {
    const end = source.indexOf('\n');
    edit(0, end === -1 ? source.length : end, '');
  }
  for (const node of program.body as AnyNode[]) {
    if (node.type === 'ImportDeclaration' || node.type === 'ExportAllDeclaration') {
      edit(node.start, node.end, ';');
    } else if (node.type === 'ExportNamedDeclaration') {
      const declaration = node.declaration as AnyNode | null;
      if (declaration === null) edit(node.start, node.end, ';');
      else edit(node.start, declaration.start, '');
    } else if (node.type === 'ExportDefaultDeclaration') {
      const declaration = node.declaration as AnyNode;
      const named = (declaration.type === 'FunctionDeclaration' || declaration.type === 'ClassDeclaration') && declaration.id !== null;
      if (named) {
        edit(node.start, declaration.start, '');
      } else {
        // An expression, or an anonymous function or class: the same text as an expression.
        edit(node.start, declaration.start, '(');
        edit(declaration.end, declaration.end, ');');
      }
    }
  }
  // In strings, comments and regular expressions too: an identifier there changes nothing that compiles.
  for (const match of source.matchAll(/\bimport\s*\.\s*meta\b/g)) edit(match.index, match.index + match[0].length, '$ltMeta');
  return edits;
}

function compilesAsScript(text: string): boolean {
  try {
    new Script(`(async function(){'use strict';${text}\n})`);
    return true;
  } catch {
    return false;
  }
}
