/**
 * Tab completion for `livetrace shell`: what can follow the text before the cursor.
 *
 * Completing must never change the target, and what the user has typed so far is not yet
 * an expression anyone asked to run. So only three shapes of line end are completed, each
 * read without running the program's code for effect:
 * - inside `$('` (or `$livetrace('`): the livetrace names of the loaded modules, from the
 *   require cache and the ES modules the agent knows (no inspector);
 * - `path.partial`, where path is an identifier or `$('module')` followed by `.name` or a
 *   literal `[index]`: the property names of path's value, own and inherited. Path is
 *   evaluated by the observer's inspector worker with throwOnSideEffect, so V8 refuses
 *   anything that could write state (a call, an assignment, a getter or Proxy trap that
 *   is not provably pure) and the completion is empty then; the names come from the
 *   inspector's own property listing, which calls no getter. `$('m')` is resolved here
 *   (it reads the module cache, which V8 would count as a side effect) and handed to the
 *   worker as the request's pending value;
 * - a bare partial identifier: the global object's properties, the global lexical
 *   bindings (a `let` of an earlier evaluation), the shell's `$` helpers and keywords.
 * Anything else (a call's result, an operator's) completes to nothing.
 */
import { LivetraceError } from '../../protocol/errors.js';
import type { Completion } from '../../protocol/observer.js';
import { log } from '../log.js';
import { inspectorLink } from './inspector-link.js';
import { moduleExports, moduleNames } from './modules.js';

/** How long V8 may spend evaluating the path. */
const PATH_TIMEOUT_MS = 250;
const MAX_NAMES = 1000;

const IDENT = '[A-Za-z_$][\\w$]*';
const STRING = `'[^'\\\\]*'|"[^"\\\\]*"`;
const SEGMENT = `\\.${IDENT}|\\[\\s*(?:\\d+|${STRING})\\s*\\]`;
const MODULE = `\\$(?:livetrace)?\\(\\s*(${STRING})\\s*\\)`;
/** `$('src/us` at the end of the line. */
const MODULE_NAME_END = /\$(?:livetrace)?\(\s*(['"])([^'"\\]*)$/;
/** `root(.seg|[i])*.partial` at the end, not preceded by a character that would make it part of something longer. */
const PATH_END = new RegExp(`(?:^|[^\\w$.\\])'"])(${MODULE}|${IDENT})((?:${SEGMENT})*)\\.(${IDENT}|)$`);
const WORD_END = /(?:^|[^\w$.])([A-Za-z_$][\w$]*)$/;

const KEYWORDS = [
  'async', 'await', 'break', 'case', 'catch', 'class', 'const', 'continue', 'debugger', 'default', 'delete', 'do', 'else',
  'false', 'finally', 'for', 'function', 'if', 'in', 'instanceof', 'let', 'new', 'null', 'of', 'return', 'static', 'switch',
  'this', 'throw', 'true', 'try', 'typeof', 'undefined', 'var', 'void', 'while', 'yield',
];

export async function complete(line: string): Promise<Completion> {
  const moduleName = MODULE_NAME_END.exec(line);
  if (moduleName !== null) {
    const prefix = moduleName[2]!;
    return finish(prefix, moduleNames());
  }
  const path = PATH_END.exec(line);
  if (path !== null) {
    const [, root, moduleLiteral, segments, prefix] = path as unknown as [string, string, string | undefined, string, string];
    if (moduleLiteral !== undefined) {
      let exports: unknown;
      try {
        exports = (await moduleExports(moduleLiteral.slice(1, -1), moduleLiteral)).exports;
      } catch {
        return finish(prefix, []);
      }
      return finish(prefix, await propertyNames(segments, exports));
    }
    return finish(prefix, await propertyNames(`${root}${segments}`));
  }
  const word = WORD_END.exec(line);
  // An empty line, or after an operator: every global is a candidate, as in Node's REPL.
  const prefix = word?.[1] ?? (/(?:^|[\s(,;=+\-*/%!&|?:{[])$/.test(line) ? '' : null);
  if (prefix === null) return { prefix: '', names: [] };
  const globals = await propertyNames('');
  return finish(prefix, [...globals, ...KEYWORDS, '$livetrace', ...(globals.includes('$') ? [] : ['$'])]);
}

/** The names of path's value (global, or `pending`'s own path) from the inspector worker. */
async function propertyNames(path: string, pending?: unknown): Promise<string[]> {
  try {
    const link = await inspectorLink();
    const onPending = pending !== undefined;
    if (onPending && (typeof pending !== 'object' || pending === null) && typeof pending !== 'function') return [];
    const { reply } = await link.request(
      { op: 'complete', path, onPending, timeoutMs: PATH_TIMEOUT_MS },
      {
        ...(onPending ? { values: pending } : {}),
        deadlineMs: PATH_TIMEOUT_MS + 2000,
        onDeadline: () => new LivetraceError('LT_INSPECTOR_UNAVAILABLE', 'the completion did not come in time'),
      },
    );
    return reply.names ?? [];
  } catch (error) {
    // No completion is the whole failure: the shell goes on.
    log.debug({ err: error }, 'no completion');
    return [];
  }
}

function finish(prefix: string, names: string[]): Completion {
  const out = [...new Set(names.filter((name) => name.startsWith(prefix) && !/^\d+$/.test(name)))].sort();
  return { prefix, names: out.slice(0, MAX_NAMES) };
}
