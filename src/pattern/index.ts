/**
 * The pattern language: text -> checked tree -> matcher. Everything here throws only
 * LivetraceErrors with LT_PATTERN_* codes (LT_INTERNAL would mean a bug in livetrace).
 */
import { LivetraceError } from '../protocol/errors.js';
import type { PatternAst } from './ast.js';
import { compileChecked, type CompiledMatcher } from './match/compiler.js';
import { parsePattern as parseText } from './parser.js';
import { coded } from './text.js';
import { printPattern } from './printer.js';
import { checkPattern } from './checks.js';

export type * from './ast.js';
export type { Actions, Bindings, Matcher, ModuleRef, Outcome } from './match/matcher.js';
export type { CompiledMatcher } from './match/compiler.js';
export { splitGuard, isTooBroad, TYPE_NAMES, ACTION_NAMES, OUTCOME_NAMES } from './ast.js';
export { printPattern, printExpr, printArgPattern } from './printer.js';
export { explainPattern } from './explanation.js';
export { tokenize } from './lexer.js';
export type { Token } from './lex/tokens.js';
export { checkPattern, patternToJson } from './checks.js';
export { parsePattern } from './text.js';

/** Compiles pattern text, or a pattern tree (which is checked first), into a matcher. */
export function compilePattern(pattern: string | PatternAst): CompiledMatcher {
  return coded(pattern, () => {
    if (typeof pattern === 'string') return compileChecked(parseText(pattern), pattern);
    const ast = checkPattern(pattern);
    return compileChecked(ast, printPattern(ast));
  });
}

/** Compiles several patterns; the first invalid one throws (its error carries that pattern as input). */
export function compilePatterns(texts: string[]): CompiledMatcher[] {
  if (texts.length === 0) throw new LivetraceError('LT_PATTERN_EMPTY', 'no pattern given', { input: '' });
  return texts.map((text) => compilePattern(text));
}
