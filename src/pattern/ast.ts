/**
 * The typed syntax tree of one pattern. It is plain data (JSON-safe except for the
 * numbers NaN, Infinity and -0), so it can be printed, compared, sent and checked
 * without the text it came from. Every node has a `kind`.
 */
import { ArrayPrototypePush } from '../safe/intrinsics.js';

export const TYPE_NAMES = [
  'string',
  'number',
  'bigint',
  'boolean',
  'symbol',
  'function',
  'object',
  'array',
  'promise',
  'error',
] as const;
export type TypeName = (typeof TYPE_NAMES)[number];

export const ACTION_NAMES = ['stack', 'this', 'count', 'hist'] as const;
export type ActionName = (typeof ACTION_NAMES)[number];

/** Names a guard may use that describe what happened to the call; they make a conjunct post-call. */
export const OUTCOME_NAMES = ['ret', 'err', 'threw', 'ms'] as const;
export type OutcomeName = (typeof OUTCOME_NAMES)[number];

/** Names a guard may use that describe the call itself. */
export const CONTEXT_NAMES = ['args', 'this'] as const;
export type ContextName = (typeof CONTEXT_NAMES)[number];

/** Words that are values, operators or structure, so they can never be bound by a pattern. */
export const RESERVED_WORDS: ReadonlySet<string> = new Set<string>([
  '_',
  'nil',
  'null',
  'undefined',
  'true',
  'false',
  'NaN',
  'Infinity',
  'when',
  'in',
  ...CONTEXT_NAMES,
  ...OUTCOME_NAMES,
]);

/** A name as the lexer reads it, and as the printer may print it bare. */
export const IDENTIFIER = /^[\p{ID_Start}$_][\p{ID_Continue}$\u200C\u200D]*$/u;

export type Literal =
  | { kind: 'number'; value: number }
  /** Decimal digits with an optional leading '-', canonical (as `BigInt(value).toString()`). */
  | { kind: 'bigint'; value: string }
  | { kind: 'string'; value: string }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'null' }
  | { kind: 'undefined' }
  /** null or undefined. */
  | { kind: 'nil' };

export interface RegexLiteral {
  kind: 'regex';
  source: string;
  flags: string;
}

export interface ObjectEntry {
  key: string;
  pattern: ArgPattern;
}

export type ArgPattern =
  | { kind: 'any' }
  | { kind: 'bind'; name: string }
  | Literal
  | { kind: 'type'; name: TypeName }
  | RegexLiteral
  | { kind: 'object'; entries: ObjectEntry[] }
  | { kind: 'array'; elements: ArgPattern[]; rest: boolean }
  /** Two or more alternatives, none of them an alternative itself. */
  | { kind: 'alt'; alternatives: ArgPattern[] };

export type BinaryOperator = '+' | '-' | '*' | '/' | '%' | '==' | '!=' | '<' | '<=' | '>' | '>=' | 'in';

export type Expr =
  | Literal
  | { kind: 'name'; name: string }
  | { kind: 'context'; name: ContextName }
  | { kind: 'outcome'; name: OutcomeName }
  /** `a.b` and `a["b"]` are the same node: the key is an expression (a string literal for `.b`). */
  | { kind: 'member'; object: Expr; key: Expr }
  | { kind: 'unary'; operator: '!' | '-'; operand: Expr }
  | { kind: 'binary'; operator: BinaryOperator; left: Expr; right: Expr }
  | { kind: 'logical'; operator: '&&' | '||'; left: Expr; right: Expr }
  | { kind: 'match'; subject: Expr; regex: RegexLiteral };

export type Params =
  /** `(p1, ..., pn)`, with `rest` for a trailing `...`. */
  | { kind: 'args'; patterns: ArgPattern[]; rest: boolean }
  /** `/n`. */
  | { kind: 'arity'; arity: number };

export interface PatternAst {
  kind: 'pattern';
  module: string;
  function: string;
  params: Params | null;
  guard: Expr | null;
  actions: ActionName[];
}

/** The largest `/n` and the most argument patterns a pattern may have (JS calls cap near 65535). */
export const MAX_ARITY = 65535;
/** How deeply nodes may nest; a generous bound that keeps every recursive walk far from the stack limit. */
export const MAX_DEPTH = 200;

/** The direct sub-expressions of an expression. */
export function subExpressions(expr: Expr): Expr[] {
  switch (expr.kind) {
    case 'member':
      return [expr.object, expr.key];
    case 'unary':
      return [expr.operand];
    case 'binary':
    case 'logical':
      return [expr.left, expr.right];
    case 'match':
      return [expr.subject];
    default:
      return [];
  }
}

/** The direct sub-patterns of an argument pattern. */
export function subPatterns(pattern: ArgPattern): ArgPattern[] {
  switch (pattern.kind) {
    case 'object':
      return pattern.entries.map((entry) => entry.pattern);
    case 'array':
      return pattern.elements;
    case 'alt':
      return pattern.alternatives;
    default:
      return [];
  }
}

export function mentionsOutcome(expr: Expr): boolean {
  return expr.kind === 'outcome' || subExpressions(expr).some(mentionsOutcome);
}

/**
 * Splits a guard into the part checked before the call and the part checked after it:
 * the top-level `&&` conjuncts that mention ret, err, threw or ms go after, the others
 * before, each side keeping the written order. A disjunction is one conjunct, so an
 * outcome name anywhere under `||` moves the whole disjunction after the call.
 */
export function splitGuard(guard: Expr | null): { pre: Expr | null; post: Expr | null } {
  if (guard === null) return { pre: null, post: null };
  const conjuncts: Expr[] = [];
  const pending: Expr[] = [guard];
  while (pending.length > 0) {
    const expr = pending.pop() as Expr;
    if (expr.kind === 'logical' && expr.operator === '&&') ArrayPrototypePush(pending, expr.right, expr.left);
    else ArrayPrototypePush(conjuncts, expr);
  }
  const join = (parts: Expr[]): Expr | null =>
    parts.reduce<Expr | null>((left, right) => (left === null ? right : { kind: 'logical', operator: '&&', left, right }), null);
  return {
    pre: join(conjuncts.filter((expr) => !mentionsOutcome(expr))),
    post: join(conjuncts.filter(mentionsOutcome)),
  };
}

/** Every name an argument pattern binds, in first-seen order. */
export function namesIn(pattern: ArgPattern, into: string[] = []): string[] {
  if (pattern.kind === 'bind' && !into.includes(pattern.name)) ArrayPrototypePush(into, pattern.name);
  for (const sub of subPatterns(pattern)) namesIn(sub, into);
  return into;
}

/**
 * The names bound whenever the pattern matches: everything outside alternatives, and
 * of an alternative only what every branch binds.
 */
export function definitelyBound(pattern: ArgPattern, into: Set<string> = new Set()): Set<string> {
  if (pattern.kind === 'bind') into.add(pattern.name);
  if (pattern.kind !== 'alt') {
    for (const sub of subPatterns(pattern)) definitelyBound(sub, into);
    return into;
  }
  const [first, ...others] = pattern.alternatives.map((alternative) => definitelyBound(alternative));
  for (const name of first ?? []) if (others.every((set) => set.has(name))) into.add(name);
  return into;
}

/** True when a pattern can only be met by every call: a broad module and function glob and no filter. */
export function isTooBroad(ast: PatternAst): boolean {
  const broad = (glob: string): boolean => glob === '*' || glob === '**';
  // `(_, ...)` filters nothing either: a missing argument counts as undefined, which `_` accepts.
  const unfiltered =
    ast.params === null ||
    (ast.params.kind === 'args' && ast.params.rest && ast.params.patterns.every((pattern) => pattern.kind === 'any'));
  return broad(ast.module) && broad(ast.function) && unfiltered && ast.guard === null;
}
