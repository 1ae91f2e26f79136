/**
 * The parameter names of a function, read from its own source text.
 *
 * Redaction by key hides `{ password }`, but `login('tj', 'foobar')` passes the password
 * positionally: only the function's declaration says the second argument is `password`.
 * So the names are read from the source of the ORIGINAL function (never a wrapper of
 * ours), got with the built-in Function.prototype.toString taken at load. That call runs
 * no user code: it returns the text V8 kept, or `function () { [native code] }` for a
 * native, bound or Proxy function (which have no names to find, and get none).
 *
 * The text is what V8 stores for the function alone, so it is parsed in the wrapping
 * that makes it an expression: `(function f(a) {})`, `(a => a)` and `(class A {})` as
 * they are, a method `login(user, pass) {}` inside `({ ... })`, a `static`-less static
 * method or an accessor likewise, and a class's parameters are its constructor's.
 * Probes never hold the function: their names come from the module's parsed source
 * (declareParameters, called where probes are located).
 *
 * Parsing is once per function (a WeakMap keeps the answer, a miss included) and
 * bounded: a source over MAX_SOURCE_LENGTH characters is not parsed, and its arguments
 * are redacted by key and value rules only.
 *
 * Only the head is parsed. The names are all in the parameter list, but parsing the whole
 * text cost a session's start most of its time (a cold parser over a body of up to
 * MAX_SOURCE_LENGTH characters, for each function hooked). So acorn's tokenizer reads the
 * text from its start until the parameter list's closing parenthesis (the tokenizer, not a
 * search for `)`: a default value may hold strings, template literals, regular
 * expressions or comments with parentheses in them), and the head alone, with an empty
 * body, goes through the same wrappings as the whole text did. A bare-identifier arrow
 * (`a => a`) ends at its `=>`. The text of a class is still parsed whole: its parameters
 * are its constructor's, found among its members. Anything the head cannot settle (a
 * tokenizer error, a shape not foreseen) falls back to parsing the whole text, so an
 * answer is never worse than the whole parse gives. It can be better: a body acorn
 * rejects out of its context (`this.#secret` of the enclosing class, `import.meta`,
 * `super` in an arrow) made the whole parse fail and no name was read; the head has them.
 */
import { parse, tokenizer, tokTypes, type Node, type Options, type Pattern } from 'acorn';
import {
  ArrayPrototypePush,
  ArrayPushBuiltin,
  FunctionPrototypeToString,
  isProxy,
  RegExpPrototypeExec,
  StringPrototypeCharCodeAt,
  StringPrototypeSlice,
} from '../../safe/intrinsics.js';
import { originalText } from '../patcher/body-registry.js';

/** What one positional parameter binds. */
export interface ParameterInfo {
  /** A plain identifier (`password`, `password = ''`): its name. */
  readonly name?: string;
  /**
   * An object pattern with literal keys only (`{ user, pass: p }`): for each key, every
   * name bound under it.
   */
  readonly props?: readonly { readonly key: string; readonly names: readonly string[] }[];
  /** Every name this parameter binds, nested ones included. */
  readonly names: readonly string[];
}

export interface FunctionParameters {
  readonly params: readonly ParameterInfo[];
  /** Names bound by a rest parameter (`...secrets`), which takes every argument from `params.length` on. */
  readonly rest: readonly string[] | undefined;
}

/** Longer sources are not parsed: a function this large is rarely traced for its arguments. */
export const MAX_SOURCE_LENGTH = 100_000;

const known = new WeakMap<Function, FunctionParameters | null>();

/** Names for a function the engine does not hold as such (a probe's placeholder). */
export function declareParameters(fn: Function, params: readonly Pattern[]): void {
  known.set(fn, describe(params));
}

/** The parameters of `fn`, or undefined when its source can't be read or parsed. Never throws. */
export function parametersOf(fn: Function): FunctionParameters | undefined {
  const cached = known.get(fn);
  if (cached !== undefined) return cached ?? undefined;
  // acorn is a library: it calls Array.prototype.push and friends as the program left
  // them. A program that replaced them would see livetrace's parsing, so then parameter
  // names are not read (keys and secret-shaped values are still redacted; docs/security.md).
  // Compared with the genuine built-in, not the one found at load: an attach may load
  // livetrace after the program replaced it.
  if (Array.prototype.push !== ArrayPushBuiltin) return undefined;
  let found: FunctionParameters | null = null;
  try {
    if (!isProxy(fn)) {
      // As written: an instrumented generator's text has a hidden last parameter (instrument-plan.ts).
      const source = originalText(FunctionPrototypeToString(fn as () => void));
      if (source.length <= MAX_SOURCE_LENGTH) found = readParameters(source) ?? null;
    }
  } catch {
    found = null;
  }
  known.set(fn, found);
  return found ?? undefined;
}

const WRAPPINGS: readonly (readonly [string, string])[] = [
  ['(', '\n)'],
  ['({', '\n})'],
  ['(class {', '\n})'],
];

const ACORN_OPTIONS: Options = { ecmaVersion: 'latest', sourceType: 'script' };

/** What a native, bound or built-in function's text ends with: no source, no names (and no parse). */
const NATIVE_BODY = '{ [native code] }';

/**
 * The parameters of a function's source text, read from its head (the essay above); the
 * same answer as the whole parse ({@link wholeParameters}), or a better one where that
 * fails on the body. Exported for the tests that hold the two together.
 */
export function readParameters(source: string): FunctionParameters | undefined {
  // The whole parse fails on this body (`[native code]` is no statement): so must the head.
  if (StringPrototypeSlice(source, -NATIVE_BODY.length) === NATIVE_BODY) return undefined;
  const plain = plainParameters(source);
  if (plain !== undefined) return plain;
  let head: string | undefined;
  try {
    head = headOf(source);
  } catch {
    head = undefined;
  }
  if (head !== undefined) {
    const params = parseWholeSource(head);
    if (params !== undefined) return describe(params);
  }
  return wholeParameters(source);
}

/** The reference answer: the parameters as the whole text parses (exported for the tests). */
export function wholeParameters(source: string): FunctionParameters | undefined {
  const params = parseWholeSource(source);
  return params === undefined ? undefined : describe(params);
}

/**
 * Most functions have plain parameters: names, commas, maybe a rest name, no comment,
 * default or pattern. Their head is read without acorn at all: on a session's first
 * start, acorn's parser runs cold (a first parse of even `function hot(i, tag) {}` took
 * 5-12 ms), and a head this plain has one reading. Shapes, each up to its body: a
 * function (`async`, `*` and name optional), an arrow with parentheses or one bare
 * name, and a method (`async`, `*`, `get` or `set` before an identifier name). Anything
 * else (a comment, a default, a computed, quoted or private key, a newline where a
 * line break matters) goes to acorn.
 */
const PLAIN_HEAD =
  /^(?:(?:async[ \t]+)?function\b[ \t\n\r]*(?:\*[ \t\n\r]*)?(?:[A-Za-z_$][\w$]*[ \t\n\r]*)?\(([\w$ \t\n\r,.]*)\)[ \t\n\r]*\{|(?:async[ \t]*)?\(([\w$ \t\n\r,.]*)\)[ \t]*=>|(?:async[ \t]+)?([A-Za-z_$][\w$]*)[ \t]*=>|(?:async[ \t]+(?:\*[ \t\n\r]*)?|\*[ \t\n\r]*|(?:get|set)[ \t\n\r]+)?[A-Za-z_$][\w$]*[ \t\n\r]*\(([\w$ \t\n\r,.]*)\)[ \t\n\r]*\{)/;

/** Exported for the tests. */
export function plainParameters(source: string): FunctionParameters | undefined {
  const match = RegExpPrototypeExec(PLAIN_HEAD, source) as (string | undefined)[] | null;
  if (match === null) return undefined;
  const single = match[3];
  if (single !== undefined) return { params: [{ name: single, names: [single] }], rest: undefined };
  return plainList(match[1] ?? match[2] ?? match[4] ?? '');
}

const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
const isNameStart = (c: number): boolean => (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || c === 0x24;
const isNamePart = (c: number): boolean => isNameStart(c) || (c >= 0x30 && c <= 0x39);

/** `a, b`, `a, b,`, `a, ...rest`, or nothing; undefined for anything else (`a..b`, `,`). */
function plainList(list: string): FunctionParameters | undefined {
  const params: ParameterInfo[] = [];
  const end = list.length;
  const at = (i: number): number => StringPrototypeCharCodeAt(list, i);
  let i = 0;
  for (;;) {
    while (i < end && isSpace(at(i))) i++;
    if (i === end) return { params, rest: undefined };
    const rest = at(i) === 0x2e;
    if (rest) {
      if (at(i + 1) !== 0x2e || at(i + 2) !== 0x2e) return undefined;
      i += 3;
      while (i < end && isSpace(at(i))) i++;
    }
    const start = i;
    if (i === end || !isNameStart(at(i))) return undefined;
    while (i < end && isNamePart(at(i))) i++;
    const name = StringPrototypeSlice(list, start, i);
    while (i < end && isSpace(at(i))) i++;
    if (rest) return i === end ? { params, rest: [name] } : undefined;
    ArrayPrototypePush(params, { name, names: [name] });
    if (i === end) return { params, rest: undefined };
    if (at(i) !== 0x2c) return undefined;
    i++;
  }
}

/**
 * The text from the start through the parameter list, with an empty body in place of the
 * real one: `function f(a, b = ')') {}`, `get x() {}`, `(a) =>{}`, `a =>{}`. Undefined
 * for a class (its constructor is among its members) and for any head not recognised.
 * Throws what the tokenizer throws. Exported for the tests.
 */
export function headOf(source: string): string | undefined {
  const tokens = tokenizer(source, ACORN_OPTIONS);
  let depth = 0;
  let inParams = false;
  let first = true;
  let afterClass = false;
  for (;;) {
    const token = tokens.getToken();
    const type = token.type;
    if (type === tokTypes.eof) return undefined;
    if (afterClass) {
      // `class A {` / `class extends B {`: a class. `class(a) {}`: a method named class.
      if (type !== tokTypes.parenL) return undefined;
      afterClass = false;
    }
    if (first) {
      first = false;
      if (type === tokTypes._class) {
        afterClass = true;
        continue;
      }
    }
    if (type === tokTypes.parenL || type === tokTypes.bracketL || type === tokTypes.braceL || type === tokTypes.dollarBraceL) {
      if (depth === 0) {
        // Before the parameters only a computed key (`[k](a) {}`) opens a bracket.
        if (type === tokTypes.parenL) inParams = true;
        else if (type !== tokTypes.bracketL) return undefined;
      }
      depth++;
      continue;
    }
    if (type === tokTypes.parenR || type === tokTypes.bracketR || type === tokTypes.braceR) {
      depth--;
      if (depth < 0) return undefined;
      if (depth === 0 && inParams) {
        if (type !== tokTypes.parenR) return undefined;
        const next = tokens.getToken();
        if (next.type === tokTypes.braceL) return `${StringPrototypeSlice(source, 0, token.end)} {}`;
        if (next.type === tokTypes.arrow) return `${StringPrototypeSlice(source, 0, next.end)}{}`;
        return undefined;
      }
      continue;
    }
    // `a => a`, `async a => a`: the one parameter is all there is before the arrow.
    if (type === tokTypes.arrow && depth === 0) return `${StringPrototypeSlice(source, 0, token.end)}{}`;
  }
}

/** The parameters as the whole text parses in the first wrapping it parses in: the reference answer. */
export function parseWholeSource(source: string): readonly Pattern[] | undefined {
  for (const [open, close] of WRAPPINGS) {
    let program: Node;
    try {
      program = parse(`${open}${source}${close}`, ACORN_OPTIONS);
    } catch {
      continue;
    }
    // A text that parses as something other than a function in one wrapping may be a
    // method in the next: `async *function(){}` is `async * function(){}` in parentheses.
    const params = paramsOfProgram(program);
    if (params !== undefined) return params;
  }
  return undefined;
}

interface AnyNode extends Node {
  [key: string]: unknown;
}

function paramsOfProgram(program: Node): readonly Pattern[] | undefined {
  const body = (program as AnyNode).body as AnyNode[];
  const statement = body[0];
  if (body.length !== 1 || statement?.type !== 'ExpressionStatement') return undefined;
  const expression = statement.expression as AnyNode;
  switch (expression.type) {
    case 'FunctionExpression':
    case 'ArrowFunctionExpression':
      return expression.params as Pattern[];
    case 'ObjectExpression': {
      const props = expression.properties as AnyNode[];
      const value = props.length === 1 ? (props[0]!.value as AnyNode | undefined) : undefined;
      return value?.type === 'FunctionExpression' ? (value.params as Pattern[]) : undefined;
    }
    case 'ClassExpression': {
      const members = (expression.body as AnyNode).body as AnyNode[];
      // A class's own source: its constructor. A method wrapped in a class: that method.
      const constructor = members.find((m) => m.kind === 'constructor');
      const method = constructor ?? (members.length === 1 ? members[0] : undefined);
      const value = method?.value as AnyNode | undefined;
      return value?.type === 'FunctionExpression' ? (value.params as Pattern[]) : expression.id === null ? undefined : [];
    }
    default:
      return undefined;
  }
}

function describe(params: readonly Pattern[]): FunctionParameters {
  const out: ParameterInfo[] = [];
  let rest: string[] | undefined;
  for (const param of params) {
    if (param.type === 'RestElement') {
      rest = boundNames(param.argument);
      break;
    }
    ArrayPrototypePush(out, describeOne(param));
  }
  return { params: out, rest };
}

function describeOne(param: Pattern): ParameterInfo {
  const target = param.type === 'AssignmentPattern' ? param.left : param;
  if (target.type === 'Identifier') return { name: target.name, names: [target.name] };
  const names = boundNames(target);
  if (target.type !== 'ObjectPattern') return { names };
  const props: { key: string; names: string[] }[] = [];
  for (const prop of target.properties) {
    if (prop.type === 'RestElement' || prop.computed) return { names };
    const key = prop.key.type === 'Identifier' ? prop.key.name : prop.key.type === 'Literal' ? String(prop.key.value) : undefined;
    if (key === undefined) return { names };
    ArrayPrototypePush(props, { key, names: boundNames(prop.value) });
  }
  return { props, names };
}

function boundNames(pattern: Pattern, out: string[] = []): string[] {
  switch (pattern.type) {
    case 'Identifier':
      ArrayPrototypePush(out, pattern.name);
      break;
    case 'AssignmentPattern':
      boundNames(pattern.left, out);
      break;
    case 'RestElement':
      boundNames(pattern.argument, out);
      break;
    case 'ArrayPattern':
      for (const element of pattern.elements) if (element !== null) boundNames(element, out);
      break;
    case 'ObjectPattern':
      for (const prop of pattern.properties) boundNames(prop.type === 'RestElement' ? prop.argument : prop.value, out);
      break;
    default:
      // A member expression is only a target in assignments, never in parameters.
      break;
  }
  return out;
}
