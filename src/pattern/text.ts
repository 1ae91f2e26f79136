/**
 * Pattern text to its checked tree, without the compiler: what the CLI needs to refuse a
 * bad pattern before it attaches. The compiler (match/compiler.ts) brings the glob
 * matching (micromatch, braces, picomatch), about 50 ms of a command's start-up, which a
 * `livetrace trace` spent before its attach began although the pattern is compiled in the
 * target. index.ts is the package's whole surface and re-exports this.
 */
import { LivetraceError } from '../protocol/errors.js';
import type { PatternAst } from './ast.js';
import { parsePattern as parseText } from './parser.js';

/** Keeps the promise that only coded errors leave this package, even if a bug throws something else. */
export function coded<T>(input: unknown, run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof LivetraceError) throw error;
    if (error instanceof RangeError) {
      throw new LivetraceError('LT_PATTERN_SYNTAX', 'pattern too large or too deeply nested', { input, cause: error });
    }
    throw new LivetraceError('LT_INTERNAL', `pattern could not be processed: ${String(error)}`, { input, cause: error });
  }
}

/** Parses pattern text into its checked tree. */
export function parsePattern(text: string): PatternAst {
  return coded(text, () => parseText(text));
}
