/**
 * Reading and parsing a module's JavaScript, for everything in source/: acorn with the
 * newest syntax it knows, a hashbang allowed. Parsing never runs the code.
 */
import { readFileSync, statSync } from 'node:fs';
import { parse, type Node, type Program } from 'acorn';
import { LivetraceError } from '../../protocol/errors.js';
import { ArrayPushBuiltin } from '../../safe/intrinsics.js';

/**
 * acorn calls `Array.prototype.push` as the program left it: in a program that replaced it,
 * parsing would run the program's function from inside livetrace, so nothing is parsed there.
 */
function pushReplaced(): boolean {
  return Array.prototype.push !== ArrayPushBuiltin;
}

/** Files over this size (bundles) are not read. */
const MAX_SOURCE_BYTES = 4 * 1024 * 1024;

const COMMON = { ecmaVersion: 'latest', allowHashBang: true } as const;

/** The source of a module file as V8 gets it (without a byte order mark), or undefined. */
export function readModuleSource(file: string): string | undefined {
  try {
    const stat = statSync(file);
    if (!stat.isFile() || stat.size > MAX_SOURCE_BYTES) return undefined;
    const text = readFileSync(file, 'utf8');
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  } catch {
    return undefined;
  }
}

/** Parses `source` as a module, else as a CommonJS script, with line numbers. Throws LT_PROBE_UNAVAILABLE. */
export function parseSource(source: string, name: string): Program {
  const common = { ...COMMON, locations: true } as const;
  if (pushReplaced()) {
    throw new LivetraceError('LT_PROBE_UNAVAILABLE', `cannot parse ${name}: the program replaced Array.prototype.push`, {
      input: name,
      hint: 'Parsing a module calls Array.prototype.push; livetrace does not run a replaced built-in, so probes and deeper are off in this process.',
    });
  }
  try {
    return parse(source, { ...common, sourceType: 'module' });
  } catch {
    // A CommonJS module is a function body: `return` at the top is allowed, and sloppy-mode syntax.
  }
  try {
    return parse(source, { ...common, sourceType: 'script', allowReturnOutsideFunction: true });
  } catch (error) {
    throw new LivetraceError('LT_PROBE_UNAVAILABLE', `cannot parse ${name}: ${(error as Error).message}`, {
      input: name,
      hint: 'Probes and deeper read plain JavaScript; a module compiled on the fly by a loader (TypeScript, JSX) is not supported.',
    });
  }
}

/** Parses an ES module's source; undefined when it does not parse. */
export function parseModule(source: string): Program | undefined {
  if (pushReplaced()) return undefined;
  try {
    return parse(source, { ...COMMON, sourceType: 'module' });
  } catch {
    return undefined;
  }
}

/** The 1-based line a node starts on, as acorn counted it while parsing (0 without locations). */
export function lineOf(node: Node): number {
  return node.loc?.start.line ?? 0;
}
