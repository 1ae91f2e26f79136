/**
 * Prints a syntax tree back as canonical pattern text: one spelling per tree, so that
 * `parsePattern(printPattern(ast))` gives back `ast`. Parentheses are written only where
 * precedence needs them; strings use double quotes with every character that could
 * break a line, a terminal or a re-read escaped; globs are quoted when a bare glob
 * could not hold them.
 */
import { IDENTIFIER, type ArgPattern, type Expr, type Literal, type PatternAst, type RegexLiteral } from './ast.js';
import { isBareGlob } from './lex/chars.js';
import type { GlobKind } from './lex/tokens.js';
import { quoteString } from './quote.js';
import { ArrayPrototypePush } from '../safe/intrinsics.js';

export { quoteString };

export function printPattern(ast: PatternAst): string {
  let text = `${printGlob(ast.module, 'module')}:${printGlob(ast.function, 'function')}`;
  if (ast.params?.kind === 'arity') text += `/${ast.params.arity}`;
  else if (ast.params?.kind === 'args') text += `(${printList(ast.params.patterns, ast.params.rest)})`;
  if (ast.guard !== null) text += ` when ${printExpr(ast.guard)}`;
  if (ast.actions.length > 0) text += ` -> ${ast.actions.join(', ')}`;
  return text;
}

export function printGlob(glob: string, kind: GlobKind): string {
  return isBareGlob(glob, kind) ? glob : quoteString(glob);
}

function printList(patterns: ArgPattern[], rest: boolean): string {
  const parts = patterns.map(printArgPattern);
  if (rest) ArrayPrototypePush(parts, '...');
  return parts.join(', ');
}

export function printArgPattern(pattern: ArgPattern): string {
  switch (pattern.kind) {
    case 'any':
      return '_';
    case 'bind':
      return pattern.name;
    case 'type':
      return `:${pattern.name}`;
    case 'regex':
      return printRegex(pattern);
    case 'object':
      return `{${pattern.entries.map((entry) => `${printKey(entry.key)}: ${printArgPattern(entry.pattern)}`).join(', ')}}`;
    case 'array':
      return `[${printList(pattern.elements, pattern.rest)}]`;
    case 'alt':
      return pattern.alternatives.map(printArgPattern).join(' | ');
    default:
      return printLiteral(pattern);
  }
}

function printKey(key: string): string {
  return IDENTIFIER.test(key) ? key : quoteString(key);
}

export function printLiteral(literal: Literal): string {
  switch (literal.kind) {
    case 'number':
      return printNumber(literal.value);
    case 'bigint':
      return `${literal.value}n`;
    case 'string':
      return quoteString(literal.value);
    case 'boolean':
      return String(literal.value);
    default:
      return literal.kind;
  }
}

function printNumber(value: number): string {
  if (Object.is(value, -0)) return '-0';
  // String() spells every other number (NaN, Infinity, 1e+21) the way the lexer reads it.
  return String(value);
}

export function printRegex(regex: RegexLiteral): string {
  return `/${regex.source}/${regex.flags}`;
}

/** Binding strength, as in JavaScript: a child weaker than its context gets parentheses. */
function precedence(expr: Expr): number {
  switch (expr.kind) {
    case 'logical':
      return expr.operator === '||' ? 1 : 2;
    case 'binary':
      switch (expr.operator) {
        case '==':
        case '!=':
          return 3;
        case '<':
        case '<=':
        case '>':
        case '>=':
        case 'in':
          return 4;
        case '+':
        case '-':
          return 5;
        default:
          return 6;
      }
    case 'match':
      return 4;
    case 'unary':
      return 7;
    case 'member':
      return 8;
    default:
      return 9;
  }
}

const UNARY = 7;
const MEMBER = 8;

export function printExpr(expr: Expr, context = 0): string {
  const text = printBare(expr);
  return precedence(expr) < context ? `(${text})` : text;
}

function isNumeric(expr: Expr): boolean {
  return expr.kind === 'number' || expr.kind === 'bigint';
}

function printBare(expr: Expr): string {
  switch (expr.kind) {
    case 'name':
    case 'context':
    case 'outcome':
      return expr.name;
    case 'member': {
      // '-1.x' and '1 .x' would read differently: a numeric object is always parenthesized.
      const object = isNumeric(expr.object) ? `(${printExpr(expr.object)})` : printExpr(expr.object, MEMBER);
      const { key } = expr;
      return key.kind === 'string' && IDENTIFIER.test(key.value) ? `${object}.${key.value}` : `${object}[${printExpr(key)}]`;
    }
    case 'unary': {
      // '-(1)' is negation of a literal; '-1' would read back as the literal -1.
      const operand = expr.operator === '-' && isNumeric(expr.operand) ? `(${printExpr(expr.operand)})` : printExpr(expr.operand, UNARY);
      return `${expr.operator}${operand}`;
    }
    case 'binary':
    case 'logical': {
      const own = precedence(expr);
      return `${printExpr(expr.left, own)} ${expr.operator} ${printExpr(expr.right, own + 1)}`;
    }
    case 'match':
      return `${printExpr(expr.subject, precedence(expr))} ~ ${printRegex(expr.regex)}`;
    default:
      return printLiteral(expr);
  }
}

