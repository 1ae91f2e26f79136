/**
 * Whether a module or function glob compiles, for the pattern checks (checks.ts), and
 * the rewriting both the check and the matcher (glob.ts) apply to a glob first.
 *
 * The checks run in the CLI, which refuses a bad pattern before it attaches, and there
 * micromatch (with braces and picomatch, eleven modules) was 20-27 ms of every
 * `livetrace trace`'s start-up, for globs that are most often plain names (`lib:hot`,
 * `src/users:findUser`, `UserRepo#save`). A glob made only of characters micromatch reads
 * as themselves compiles whatever they are, so it is accepted without compiling. Any
 * other glob is compiled: with glob.ts's compile when that module is loaded (the agent
 * and the library load it as they start, through the compiler, and hand it over here:
 * one micromatch, loaded before the program runs), else with micromatch required now (the
 * CLI, a process of livetrace's own).
 */
import { createRequire } from 'node:module';
import { livetraceRoot } from '../protocol/install.js';

/** Marks a function found in the module's source rather than its exports ('~hashPassword'). */
export const INTERNAL = '~';
/** micromatch refuses longer globs. */
const MAX_GLOB_LENGTH = 65536;
/** Characters with no meaning to micromatch: a glob of only these is a literal and always compiles. */
const PLAIN = /^[A-Za-z0-9_$./~#-]+$/;

type Compile = (glob: string) => RegExp;
let compile: Compile | undefined;

/** glob.ts gives its compile (cached, hardened) when it loads. */
export function useGlobCompiler(glob: Compile): void {
  compile = glob;
}

function compiler(): Compile {
  if (compile === undefined) {
    const micromatch = createRequire(`${livetraceRoot() ?? process.cwd()}/package.json`)('micromatch') as { makeRe(glob: string, options: object): RegExp };
    compile = (glob) => micromatch.makeRe(glob, { dot: true });
  }
  return compile;
}

export function moduleForm(glob: string): string {
  return glob.startsWith('./') ? glob.slice(2) : glob;
}

/** 'UserRepo#save' -> 'UserRepo/#/save', 'db.users.find' -> 'db/users/find', '~f' -> '~/f'. */
export function functionForm(text: string): string {
  const segments = text.replaceAll('.', '/').replaceAll('#', '/#/');
  // The internal mark is a segment of its own, so that '~**' reaches every internal function.
  return segments.startsWith(INTERNAL) ? `${INTERNAL}/${segments.slice(INTERNAL.length)}` : segments;
}

/** Why `glob` cannot be used as a module or function glob, or undefined when it can. */
export function globProblem(glob: string, kind: 'module' | 'function'): string | undefined {
  if (glob.length === 0) return 'a glob cannot be empty';
  if (glob.length > MAX_GLOB_LENGTH) return `a glob is limited to ${MAX_GLOB_LENGTH} characters`;
  if (glob === '**' || PLAIN.test(glob)) return undefined;
  try {
    compiler()(kind === 'module' ? moduleForm(glob) : functionForm(glob));
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : 'the glob does not compile';
  }
}
