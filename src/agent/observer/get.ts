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
 * Modules are the CommonJS cache's (their `module.exports`) and the ES modules the agent
 * knows a file of (their namespace, observer/modules.ts).
 *
 * '~name' reads a module-internal top-level binding nobody exports ('src/cache:~store').
 * JavaScript cannot see another module's scope, but V8 can: every function of the module
 * closes over the module's top-level context, and the inspector lists that context among the
 * function's [[Scopes]]. So the module's exported functions (and the methods of its exported
 * objects and classes) are handed to the inspector worker, which reads the binding there
 * (inspector-worker.ts). A binding no function of the module uses is not kept by V8 after
 * the module ran, and cannot be read at all (the error lists the ones that can).
 *
 * `--instances` counts the live objects whose prototype is a class's `prototype`: the
 * inspector's queryObjects, after the full garbage collection it needs to count only live
 * objects (the result says so: a full GC pauses the process for its duration).
 */
import { LivetraceError } from '../../protocol/errors.js';
import type { GetResult } from '../../protocol/observer.js';
import { ACCESSOR, BLOCKED, MISSING, isObjectLike, lookup, ownKeys, readable } from '../../safe/property.js';
import { capture } from '../capture/capturer.js';
import { originalOf } from '../patcher/wrapper.js';
import { inspectorLink } from './inspector-link.js';
import { moduleExports } from './modules.js';
import { near } from './near.js';
import { ArrayPrototypePush } from '../../safe/intrinsics.js';

/** Instances shown by --instances (all are counted). */
const INSTANCES_SHOWN = 5;

interface ParsedPath {
  module: string;
  /** The first step names a module-internal binding ('~store' without its '~'). */
  internal: boolean;
  steps: string[];
}

function parsePath(path: string): ParsedPath {
  const colon = path.lastIndexOf(':');
  const module = colon < 0 ? '' : path.slice(0, colon).trim();
  const rest = colon < 0 ? '' : path.slice(colon + 1).trim();
  const internal = rest.startsWith('~');
  const steps = rest === '' ? [] : (internal ? rest.slice(1) : rest).split('.');
  if (module === '' || steps.length === 0 || steps.some((step) => step === '')) {
    throw new LivetraceError('LT_GET_NOT_FOUND', `'${path}' is not a path: give <module>:<export>[.<property>...] or <module>:~<binding>[...]`, {
      input: path,
    });
  }
  return { module, internal, steps };
}

function notFound(path: string, message: string, misses: string[]): LivetraceError {
  return new LivetraceError('LT_GET_NOT_FOUND', misses.length === 0 ? message : `${message}; did you mean ${misses.map((m) => `'${m}'`).join(', ')}?`, {
    input: path,
  });
}

function unsafe(path: string, walked: string, why: string): LivetraceError {
  return new LivetraceError('LT_GET_UNSAFE', `cannot read '${path}' safely: ${walked} ${why}`, { input: path });
}

/** A livetrace wrapper stands for its original (the preload wraps exported functions). */
function unwrapped(value: unknown): unknown {
  return typeof value === 'function' ? (originalOf(value) ?? value) : value;
}

/** One step of a walk, read by descriptor; refuses accessors and Proxies. */
function step(path: string, from: unknown, holderName: string, name: string): unknown {
  const value = unwrapped(from);
  if (!isObjectLike(value)) {
    throw notFound(path, `${holderName} is ${value === null ? 'null' : typeof value}, it has no property '${name}'`, []);
  }
  const holder = readable(value);
  if (holder === undefined) throw unsafe(path, holderName, 'is a Proxy (its traps are never run)');
  let next: unknown;
  try {
    next = lookup(holder, name);
  } catch (error) {
    // A namespace binding in its temporal dead zone, or a stack too short to read it.
    throw unsafe(path, `${holderName}.${name}`, `cannot be read (${error instanceof Error ? error.name : 'error'})`);
  }
  if (next === ACCESSOR) throw unsafe(path, `${holderName}.${name}`, 'is an accessor (its getter is never called)');
  if (next === BLOCKED) throw unsafe(path, `${holderName}.${name}`, 'lies behind a Proxy on the prototype chain');
  if (next === MISSING) {
    const keys = ownKeys(holder).filter((key): key is string => typeof key === 'string');
    throw notFound(path, `${holderName} has no property '${name}'`, near(name, keys));
  }
  return next;
}

export async function getValue(path: string, options: { instances?: boolean } = {}): Promise<GetResult> {
  const parsed = parsePath(path);
  const found = await moduleExports(parsed.module, path);
  let value: unknown;
  let walked: string;
  let first = 0;
  if (parsed.internal) {
    const name = parsed.steps[0]!;
    value = await internalBinding(path, found.id, found.exports, name);
    walked = `${found.id}:~${name}`;
    first = 1;
  } else {
    value = found.exports;
    walked = `${found.id}:`;
  }
  let holderName = parsed.internal ? walked : `${found.id} exports`;
  for (let i = first; i < parsed.steps.length; i++) {
    const name = parsed.steps[i]!;
    value = step(path, value, holderName, name);
    walked += i === 0 ? name : `.${name}`;
    holderName = walked;
  }
  if (options.instances === true) return instancesOf(path, walked, found.id, value);
  const captured = capture(value);
  return { path: walked, module: found.id, value: captured.value, truncated: captured.truncated };
}

/**
 * The functions that close over a module's top-level scope, as far as its exports show them:
 * exported functions, and the functions among the own data properties of exported objects,
 * classes and their prototypes (three levels down). Read by descriptor, like every other step.
 */
function closuresOf(exports: unknown): Function[] {
  const out: Function[] = [];
  const seen = new Set<unknown>();
  const visit = (found: unknown, depth: number): void => {
    const value = unwrapped(found);
    if (!isObjectLike(value) || seen.has(value) || out.length >= 200) return;
    seen.add(value);
    if (typeof value === 'function') ArrayPrototypePush(out, unwrapped(value) as Function);
    // exports -> a class -> its prototype -> the methods.
    if (depth > 2) return;
    const holder = readable(value);
    if (holder === undefined) return;
    for (const key of ownKeys(holder)) {
      let next: unknown;
      try {
        next = lookup(holder, key);
      } catch {
        continue;
      }
      if (next === ACCESSOR || next === BLOCKED || next === MISSING) continue;
      visit(next, depth + 1);
    }
  };
  visit(exports, 0);
  return out;
}

async function internalBinding(path: string, id: string, exports: unknown, name: string): Promise<unknown> {
  const closures = closuresOf(exports);
  if (closures.length === 0) {
    throw notFound(path, `${id} exports no function, so no closure shows its internal bindings`, []);
  }
  const link = await inspectorLink();
  const { reply, delivered } = await link.request(
    { op: 'binding', name },
    {
      values: closures,
      keepRaw: true,
      deadlineMs: 10_000,
      onDeadline: () => new LivetraceError('LT_INSPECTOR_UNAVAILABLE', `reading ${id}:~${name} did not finish in time`, { input: path }),
    },
  );
  if (reply.found !== true || delivered === undefined) {
    throw notFound(
      path,
      `${id} has no top-level binding '${name}' that its functions use (V8 keeps only those after the module ran)`,
      near(name, reply.names ?? []),
    );
  }
  return delivered.raw;
}

async function instancesOf(path: string, walked: string, module: string, value: unknown): Promise<GetResult> {
  if (typeof value !== 'function') throw notFound(path, `${walked} is ${value === null ? 'null' : typeof value}, not a class`, []);
  value = unwrapped(value);
  const prototype = step(path, value, walked, 'prototype');
  if (!isObjectLike(prototype)) throw notFound(path, `${walked} has no prototype object`, []);
  const link = await inspectorLink();
  const { delivered } = await link.request(
    { op: 'instances', limit: INSTANCES_SHOWN },
    {
      values: prototype,
      keepRaw: true,
      deadlineMs: 30_000,
      onDeadline: () => new LivetraceError('LT_INSPECTOR_UNAVAILABLE', `counting the instances of ${walked} did not finish in time`, { input: path }),
    },
  );
  const all = delivered?.raw;
  if (!Array.isArray(all)) throw new LivetraceError('LT_INSPECTOR_UNAVAILABLE', `the instances of ${walked} could not be read`, { input: path });
  const shown = capture(all.slice(0, INSTANCES_SHOWN));
  return {
    path: walked,
    module,
    value: shown.value,
    truncated: shown.truncated || all.length > INSTANCES_SHOWN,
    instances: { count: all.length, fullGc: true },
  };
}
