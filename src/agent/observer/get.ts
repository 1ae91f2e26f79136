/**
 * `livetrace get`: the live value at an export path, Erlang's sys:get_state for Node.
 *
 * A path is a module, a colon, an exported name and property names: 'src/cache:store',
 * 'src/cache:store.entries'. Every step is read as the capturer reads (src/safe/property.ts):
 * by descriptor, never `obj[key]`. The point of the command is to look at a process that
 * is serving, so a step that would run the application's code is refused rather than
 * taken: an accessor on the path (its getter is never called) or a Proxy (its traps are
 * never opened) ends the walk with LT_GET_UNSAFE. The value at the end is rendered by the
 * capturer with its bounds and redaction, so a getter or Proxy *inside* it shows as a
 * marker, as it would in a trace.
 *
 * Modules are the CommonJS cache's (their `module.exports`); an ES module's bindings need
 * its namespace, which this pass does not reach (the error says so).
 */
import { LivetraceError } from '../../protocol/errors.js';
import type { GetResult } from '../../protocol/observer.js';
import { ACCESSOR, BLOCKED, MISSING, isObjectLike, lookup, ownKeys, readable } from '../../safe/property.js';
import { capture } from '../capture/capturer.js';
import { isOwnFile } from '../capture/stack.js';
import { loadedModules } from '../catalog/modules.js';
import { appRequire, moduleRefForFile } from '../catalog/naming.js';
import { ArrayPrototypePush } from '../../safe/intrinsics.js';

interface ParsedPath {
  module: string;
  steps: string[];
}

function parsePath(path: string): ParsedPath {
  const colon = path.lastIndexOf(':');
  const module = colon < 0 ? '' : path.slice(0, colon).trim();
  const rest = colon < 0 ? '' : path.slice(colon + 1).trim();
  const steps = rest === '' ? [] : rest.split('.');
  if (module === '' || steps.length === 0 || steps.some((step) => step === '')) {
    throw new LivetraceError('LT_GET_NOT_FOUND', `'${path}' is not a path: give <module>:<export>[.<property>...]`, { input: path });
  }
  if (steps[0]!.startsWith('~')) {
    throw new LivetraceError('LT_GET_NOT_FOUND', `module-internal bindings ('${steps[0]}') are not readable by get yet`, {
      input: path,
      hint: 'Read an exported value, or a property of one.',
    });
  }
  return { module, steps };
}

/** 'src/cache' names 'src/cache.js', 'src/cache.cjs', 'src/cache/index.js' and itself. */
function namesModule(asked: string, id: string): boolean {
  const bare = asked.replace(/^\.\//, '');
  if (id === bare) return true;
  const stem = id.replace(/\.(c|m)?(j|t)s$/, '');
  return stem === bare || stem === `${bare}/index`;
}

function findExports(path: string, asked: string): { id: string; exports: unknown } {
  const cache = appRequire().cache;
  const ids: string[] = [];
  for (const file of Object.keys(cache)) {
    const module = cache[file];
    if (module === undefined || isOwnFile(file)) continue;
    const id = moduleRefForFile(file).id;
    if (namesModule(asked, id)) return { id, exports: module.exports };
    ArrayPrototypePush(ids, id);
  }
  const esm = loadedModules().find((module) => module.ref.kind !== 'builtin' && namesModule(asked, module.ref.id));
  if (esm !== undefined) {
    throw new LivetraceError('LT_GET_NOT_FOUND', `${esm.ref.id} is an ES module: get reads CommonJS exports only for now`, { input: path });
  }
  throw notFound(path, `no loaded CommonJS module is named '${asked}'`, near(asked, ids));
}

function notFound(path: string, message: string, misses: string[]): LivetraceError {
  return new LivetraceError('LT_GET_NOT_FOUND', misses.length === 0 ? message : `${message}; did you mean ${misses.map((m) => `'${m}'`).join(', ')}?`, {
    input: path,
  });
}

function unsafe(path: string, walked: string, why: string): LivetraceError {
  return new LivetraceError('LT_GET_UNSAFE', `cannot read '${path}' safely: ${walked} ${why}`, { input: path });
}

export function getValue(path: string): GetResult {
  const parsed = parsePath(path);
  const found = findExports(path, parsed.module);
  let value: unknown = found.exports;
  let walked = `${found.id}:`;
  let holderName = `${found.id} exports`;
  for (let i = 0; i < parsed.steps.length; i++) {
    const step = parsed.steps[i]!;
    if (!isObjectLike(value)) {
      throw notFound(path, `${holderName} is ${value === null ? 'null' : typeof value}, it has no property '${step}'`, []);
    }
    const holder = readable(value);
    if (holder === undefined) throw unsafe(path, holderName, 'is a Proxy (its traps are never run)');
    let next: unknown;
    try {
      next = lookup(holder, step);
    } catch (error) {
      // A namespace binding in its temporal dead zone, or a stack too short to read it.
      throw unsafe(path, `${holderName}.${step}`, `cannot be read (${error instanceof Error ? error.name : 'error'})`);
    }
    if (next === ACCESSOR) throw unsafe(path, `${holderName}.${step}`, 'is an accessor (its getter is never called)');
    if (next === BLOCKED) throw unsafe(path, `${holderName}.${step}`, 'lies behind a Proxy on the prototype chain');
    if (next === MISSING) {
      const keys = ownKeys(holder).filter((key): key is string => typeof key === 'string');
      throw notFound(path, `${holderName} has no property '${step}'`, near(step, keys));
    }
    walked += i === 0 ? step : `.${step}`;
    holderName = walked;
    value = next;
  }
  const captured = capture(value);
  return { path: walked, module: found.id, value: captured.value, truncated: captured.truncated };
}

/** Up to five names close to `want`: containing it, contained in it, or within two edits. */
function near(want: string, names: string[]): string[] {
  const lower = want.toLowerCase();
  const scored: { name: string; distance: number }[] = [];
  for (const name of names) {
    const have = name.toLowerCase();
    const distance = have.includes(lower) || lower.includes(have) ? 0 : editDistance(lower.slice(0, 60), have.slice(0, 60));
    if (distance <= 2) ArrayPrototypePush(scored, { name, distance });
  }
  return scored.sort((a, b) => a.distance - b.distance || a.name.localeCompare(b.name)).slice(0, 5).map((s) => s.name);
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
