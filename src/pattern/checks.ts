/**
 * The checked tree: every pattern tree, parsed or handed over as data, passes through
 * `checkPattern` before it is compiled. It rebuilds the tree from scratch, keeping only
 * known fields of known node kinds, so the compiler works on a fresh object nobody else
 * holds, and it enforces what the grammar alone cannot:
 *
 * - shape: kinds, field types, canonical bigints, identifiers, arity range, depth;
 * - names: a guard may only use names every successful argument match binds;
 * - regular expressions: flags from 'dimsuv' (g and y would make matching stateful),
 *   a source the printer can write back, and that RegExp accepts;
 * - globs: non-empty and accepted by micromatch;
 * - actions and types: known, actions once each.
 *
 * Errors carry the column of the offending node when the tree came from text.
 */
import { LivetraceError, type ErrorCode } from '../protocol/errors.js';
import {
  ACTION_NAMES,
  CONTEXT_NAMES,
  IDENTIFIER,
  MAX_ARITY,
  MAX_DEPTH,
  OUTCOME_NAMES,
  RESERVED_WORDS,
  TYPE_NAMES,
  definitelyBound,
  namesIn,
  type ActionName,
  type ArgPattern,
  type BinaryOperator,
  type Expr,
  type Literal,
  type Params,
  type PatternAst,
  type RegexLiteral,
} from './ast.js';
import { patternError } from './diagnostic.js';
import { globProblem } from './glob-check.js';
import { isLexableRegexSource } from './lex/scan.js';
import { linearProblem } from './match/regex.js';
import { ArrayPrototypePush } from '../safe/intrinsics.js';

/** Where a node (or 'module' / 'function' for the globs) starts in the text; undefined for trees given as data. */
export type Locate = (node: object | 'module' | 'function') => number | undefined;

/** How the JSON form spells the numbers JSON cannot hold (see patternToJson). */
const JSON_NUMBERS: Readonly<Record<string, number>> = {
  NaN: Number.NaN,
  Infinity: Number.POSITIVE_INFINITY,
  '-Infinity': Number.NEGATIVE_INFINITY,
  '-0': -0,
};

/**
 * A pattern tree as JSON. The numbers JSON cannot hold (NaN, Infinity, -Infinity, -0)
 * are written as those strings; checkPattern reads them back.
 */
export function patternToJson(value: PatternAst | PatternAst[], indent?: number): string {
  return JSON.stringify(
    value,
    function replace(this: unknown, key: string, field: unknown) {
      if (key === 'value' && typeof field === 'number' && (!Number.isFinite(field) || Object.is(field, -0))) {
        return Object.is(field, -0) ? '-0' : String(field);
      }
      return field;
    },
    indent,
  );
}

const BINARY_OPERATORS: ReadonlySet<string> = new Set<BinaryOperator>(['+', '-', '*', '/', '%', '==', '!=', '<', '<=', '>', '>=', 'in']);
const REGEX_FLAGS = /^(?!.*(.).*\1)[dimsuv]*$/;

/** Why `new RegExp(source, flags)` would not do for a pattern, or undefined. */
export function regexProblem(source: string, flags: string): string | undefined {
  if (!REGEX_FLAGS.test(flags)) {
    return `invalid regular expression flags '${flags}': use each of d, i, m, s, u, v at most once (g and y are not allowed: they make matching stateful)`;
  }
  if (!isLexableRegexSource(source)) return `the regular expression source ${JSON.stringify(source)} cannot be written as /.../`;
  try {
    new RegExp(source, flags);
  } catch (error) {
    return error instanceof Error ? error.message : 'the regular expression does not compile';
  }
  return linearProblem(source, flags);
}

class Checker {
  constructor(
    private readonly input: string | undefined,
    private readonly locate: Locate,
  ) {}

  fail(code: ErrorCode, message: string, node?: object | 'module' | 'function'): never {
    const offset = node === undefined ? undefined : this.locate(node);
    if (this.input === undefined) throw new LivetraceError(code, message);
    throw patternError(code, message, this.input, offset);
  }

  malformed(path: string, expected: string): never {
    this.fail('LT_PATTERN_SYNTAX', `malformed pattern tree at ${path}: expected ${expected}`);
  }

  record(value: unknown, path: string): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.malformed(path, 'an object');
    return value as Record<string, unknown>;
  }

  array(value: unknown, path: string): unknown[] {
    if (!Array.isArray(value)) this.malformed(path, 'an array');
    return value;
  }

  string(value: unknown, path: string): string {
    if (typeof value !== 'string') this.malformed(path, 'a string');
    return value;
  }

  boolean(value: unknown, path: string): boolean {
    if (typeof value !== 'boolean') this.malformed(path, 'true or false');
    return value;
  }

  depth(level: number, path: string, node: unknown): void {
    if (level <= MAX_DEPTH) return;
    const where = this.input === undefined ? ` at ${path}` : '';
    this.fail('LT_PATTERN_SYNTAX', `pattern nests deeper than ${MAX_DEPTH} levels${where}`, typeof node === 'object' && node !== null ? node : undefined);
  }

  pattern(value: unknown): PatternAst {
    const node = this.record(value, 'pattern');
    if (node.kind !== 'pattern') this.malformed('pattern.kind', "'pattern'");
    const module = this.glob(node.module, 'module');
    const fn = this.glob(node.function, 'function');
    const params = this.params(node.params);
    const bound = new Set<string>();
    const maybe: string[] = [];
    if (params?.kind === 'args') {
      for (const pattern of params.patterns) {
        definitelyBound(pattern, bound);
        namesIn(pattern, maybe);
      }
    }
    const guard = node.guard === null || node.guard === undefined ? null : this.expr(node.guard, 'guard', 0, bound, maybe);
    const actions = this.actions(node.actions);
    return { kind: 'pattern', module, function: fn, params, guard, actions };
  }

  glob(value: unknown, kind: 'module' | 'function'): string {
    const glob = this.string(value, kind);
    const problem = globProblem(glob, kind);
    if (problem !== undefined) this.fail('LT_PATTERN_SYNTAX', `invalid ${kind} glob: ${problem}`, kind);
    return glob;
  }

  params(value: unknown): Params | null {
    if (value === null || value === undefined) return null;
    const node = this.record(value, 'params');
    if (node.kind === 'arity') {
      const arity = node.arity;
      if (typeof arity !== 'number' || !Number.isInteger(arity) || arity < 0 || arity > MAX_ARITY) {
        this.malformed('params.arity', `a whole number from 0 to ${MAX_ARITY}`);
      }
      return { kind: 'arity', arity };
    }
    if (node.kind !== 'args') this.malformed('params.kind', "'args' or 'arity'");
    const patterns = this.array(node.patterns, 'params.patterns');
    if (patterns.length > MAX_ARITY) this.malformed('params.patterns', `at most ${MAX_ARITY} patterns`);
    return {
      kind: 'args',
      patterns: patterns.map((pattern, index) => this.argPattern(pattern, `params.patterns[${index}]`, 1)),
      rest: this.boolean(node.rest, 'params.rest'),
    };
  }

  literal(node: Record<string, unknown>, path: string): Literal | undefined {
    switch (node.kind) {
      case 'number': {
        const value = typeof node.value === 'string' && Object.hasOwn(JSON_NUMBERS, node.value) ? JSON_NUMBERS[node.value] : node.value;
        if (typeof value !== 'number') this.malformed(`${path}.value`, "a number (or 'NaN', 'Infinity', '-Infinity', '-0' in JSON)");
        return { kind: 'number', value };
      }
      case 'bigint': {
        const value = this.string(node.value, `${path}.value`);
        if (!/^-?(?:0|[1-9][0-9]*)$/.test(value) || value === '-0') this.malformed(`${path}.value`, 'decimal digits of a bigint');
        return { kind: 'bigint', value };
      }
      case 'string':
        return { kind: 'string', value: this.string(node.value, `${path}.value`) };
      case 'boolean':
        return { kind: 'boolean', value: this.boolean(node.value, `${path}.value`) };
      case 'null':
      case 'undefined':
      case 'nil':
        return { kind: node.kind };
      default:
        return undefined;
    }
  }

  regex(node: Record<string, unknown>, path: string): RegexLiteral {
    const source = this.string(node.source, `${path}.source`);
    const flags = this.string(node.flags, `${path}.flags`);
    const problem = regexProblem(source, flags);
    if (problem !== undefined) this.fail('LT_PATTERN_BAD_REGEX', `bad regular expression /${source}/${flags}: ${problem}`, node);
    return { kind: 'regex', source, flags };
  }

  argPattern(value: unknown, path: string, level: number): ArgPattern {
    this.depth(level, path, value);
    const node = this.record(value, path);
    const literal = this.literal(node, path);
    if (literal !== undefined) return literal;
    switch (node.kind) {
      case 'any':
        return { kind: 'any' };
      case 'bind': {
        const name = this.string(node.name, `${path}.name`);
        if (!IDENTIFIER.test(name) || RESERVED_WORDS.has(name)) this.malformed(`${path}.name`, 'a name that is not reserved');
        return { kind: 'bind', name };
      }
      case 'type': {
        const name = this.string(node.name, `${path}.name`);
        if (!(TYPE_NAMES as readonly string[]).includes(name)) {
          this.fail('LT_PATTERN_UNKNOWN_TYPE', `unknown type ':${name}'; types are ${TYPE_NAMES.map((t) => `:${t}`).join(' ')}`, node);
        }
        return { kind: 'type', name: name as (typeof TYPE_NAMES)[number] };
      }
      case 'regex':
        return this.regex(node, path);
      case 'object': {
        const entries = this.array(node.entries, `${path}.entries`).map((entry, index) => {
          const record = this.record(entry, `${path}.entries[${index}]`);
          return {
            key: this.string(record.key, `${path}.entries[${index}].key`),
            pattern: this.argPattern(record.pattern, `${path}.entries[${index}].pattern`, level + 1),
          };
        });
        return { kind: 'object', entries };
      }
      case 'array':
        return {
          kind: 'array',
          elements: this.array(node.elements, `${path}.elements`).map((element, index) =>
            this.argPattern(element, `${path}.elements[${index}]`, level + 1),
          ),
          rest: this.boolean(node.rest, `${path}.rest`),
        };
      case 'alt': {
        const alternatives = this.array(node.alternatives, `${path}.alternatives`).map((alternative, index) =>
          this.argPattern(alternative, `${path}.alternatives[${index}]`, level + 1),
        );
        if (alternatives.length < 2 || alternatives.some((alternative) => alternative.kind === 'alt')) {
          this.malformed(`${path}.alternatives`, 'two or more alternatives, none of them an alternative');
        }
        return { kind: 'alt', alternatives };
      }
      default:
        return this.malformed(`${path}.kind`, 'an argument pattern kind');
    }
  }

  expr(value: unknown, path: string, level: number, bound: ReadonlySet<string>, maybe: readonly string[]): Expr {
    this.depth(level, path, value);
    const node = this.record(value, path);
    const literal = this.literal(node, path);
    if (literal !== undefined) return literal;
    const child = (field: string): Expr => this.expr(node[field], `${path}.${field}`, level + 1, bound, maybe);
    switch (node.kind) {
      case 'name': {
        const name = this.string(node.name, `${path}.name`);
        if (!IDENTIFIER.test(name) || RESERVED_WORDS.has(name)) this.malformed(`${path}.name`, 'a name that is not reserved');
        if (!bound.has(name)) {
          const message = maybe.includes(name)
            ? `'${name}' is bound in only some alternatives, so the guard cannot rely on it`
            : `'${name}' is not bound by the argument patterns`;
          this.fail('LT_PATTERN_UNBOUND_NAME', message, node);
        }
        return { kind: 'name', name };
      }
      case 'context':
        if (!(CONTEXT_NAMES as readonly unknown[]).includes(node.name)) this.malformed(`${path}.name`, "'args' or 'this'");
        return { kind: 'context', name: node.name as (typeof CONTEXT_NAMES)[number] };
      case 'outcome':
        if (!(OUTCOME_NAMES as readonly unknown[]).includes(node.name)) this.malformed(`${path}.name`, "'ret', 'err', 'threw' or 'ms'");
        return { kind: 'outcome', name: node.name as (typeof OUTCOME_NAMES)[number] };
      case 'member':
        return { kind: 'member', object: child('object'), key: child('key') };
      case 'unary':
        if (node.operator !== '!' && node.operator !== '-') this.malformed(`${path}.operator`, "'!' or '-'");
        return { kind: 'unary', operator: node.operator, operand: child('operand') };
      case 'binary':
        if (typeof node.operator !== 'string' || !BINARY_OPERATORS.has(node.operator)) this.malformed(`${path}.operator`, 'a binary operator');
        return { kind: 'binary', operator: node.operator as BinaryOperator, left: child('left'), right: child('right') };
      case 'logical':
        if (node.operator !== '&&' && node.operator !== '||') this.malformed(`${path}.operator`, "'&&' or '||'");
        return { kind: 'logical', operator: node.operator, left: child('left'), right: child('right') };
      case 'match': {
        const subject = child('subject');
        const regexNode = this.record(node.regex, `${path}.regex`);
        if (regexNode.kind !== 'regex') this.malformed(`${path}.regex.kind`, "'regex'");
        return { kind: 'match', subject, regex: this.regex(regexNode, `${path}.regex`) };
      }
      default:
        return this.malformed(`${path}.kind`, 'an expression kind');
    }
  }

  actions(value: unknown): ActionName[] {
    if (value === undefined) return [];
    const actions: ActionName[] = [];
    for (const [index, action] of this.array(value, 'actions').entries()) {
      const name = this.string(action, `actions[${index}]`);
      if (!(ACTION_NAMES as readonly string[]).includes(name)) {
        this.fail('LT_PATTERN_UNKNOWN_ACTION', `unknown action '${name}'; actions are ${ACTION_NAMES.join(', ')}`);
      }
      if (actions.includes(name as ActionName)) this.malformed(`actions[${index}]`, 'each action once');
      ArrayPrototypePush(actions, name as ActionName);
    }
    return actions;
  }
}

/**
 * Checks a pattern tree and returns a fresh copy of it. `input` is the pattern text the
 * tree came from, if any (errors then carry it and a column found through `locate`).
 * Throws only LivetraceErrors with LT_PATTERN_* codes.
 */
export function checkPattern(value: unknown, input?: string, locate: Locate = () => undefined): PatternAst {
  try {
    return new Checker(input, locate).pattern(value);
  } catch (error) {
    if (error instanceof LivetraceError) throw error;
    // A tree handed over as data can be anything (getters that throw, cycles): it is malformed.
    throw new LivetraceError('LT_PATTERN_SYNTAX', 'malformed pattern tree', { input, cause: error });
  }
}
