/**
 * The preload engine's CommonJS half: idle dispatchers on exports, installed as each
 * module finishes loading, before the `require` that loaded it returns.
 *
 * `const { f } = require('./m')` copies the function out of the exports object; replacing
 * `exports.f` later (the exports engine) can't reach that copy. So at load time each
 * top-level exported function (and a function assigned to `module.exports`) is replaced
 * by a dispatch wrapper *pinned* at its site: with no hooks it is a plain pass-through,
 * and it stays for good, so a session started any time later hooks the very wrapper the
 * destructured copy holds.
 *
 * What is pinned, and what is left alone (and why):
 * - Plain and async functions only. Classes and constructor functions (a `prototype`
 *   anyone has touched) are left alone: their instances would point at the original as
 *   `constructor` while importers hold the wrapper (`err.constructor === MyError` would
 *   turn false), their statics would be stale copies on the wrapper, and instances are
 *   traced through their prototype methods anyway.
 * - Functions with own properties beyond name/length/prototype are left alone for the
 *   same reason (a copied `fn.count` would go stale), and so are Proxies (looking into
 *   one runs its traps).
 * - Accessors are never read (it would run user code); read-only exports can't be replaced.
 * - The app's files only; node_modules when LIVETRACE_PRELOAD_PACKAGES=1; never JSON,
 *   native addons, or livetrace itself.
 *
 * The hook is a wrapper around `Module.prototype.load`, installed once per process (on a
 * global symbol, so a second copy of livetrace does not wrap it again). It calls the
 * original first and never throws: a failure to pin leaves the module as it loaded.
 */
import { createRequire } from 'node:module';
import { types } from 'node:util';
import { reportLoaded } from '../../catalog/module-watch.js';
import { pinSite, siteFor, siteOfWrapper } from '../../patcher/site.js';
import { enumerateExports } from '../../catalog/exports-walk.js';
import { markPreloaded } from '../exports/modules.js';
import { isOwnFile } from '../../capture/stack.js';

interface CjsModule {
  filename: string;
  exports: unknown;
}

interface ModulePrototype {
  load(this: CjsModule, filename: string): unknown;
}

const INSTALLED = Symbol.for('livetrace.preload.cjs.v1');
const { getOwnPropertyNames, getOwnPropertySymbols, getOwnPropertyDescriptor, getPrototypeOf } = Object;
const isProxy = types.isProxy;
const SHAPE_KEYS = new Set(['length', 'name', 'prototype', 'arguments', 'caller']);

/** Wraps `Module.prototype.load` so every eligible module's exports get idle dispatchers. */
export function installCjsPreload(options: { packages: boolean }): void {
  const global = globalThis as Record<symbol, unknown>;
  if (global[INSTALLED] !== undefined) return;
  global[INSTALLED] = true;
  markPreloaded({ packages: options.packages });
  const Module = createRequire(process.cwd() + '/noop.js')('module') as { prototype: ModulePrototype };
  const load = Module.prototype.load;
  Module.prototype.load = function (this: CjsModule, ...args: [string]): unknown {
    const result = Reflect.apply(load, this, args);
    afterLoad(this, options.packages);
    return result;
  };
}

function afterLoad(module: CjsModule, packages: boolean): void {
  try {
    const filename = module.filename;
    if (typeof filename !== 'string' || !eligible(filename, packages)) return;
    pinExports(module);
    reportLoaded([{ filename }]);
  } catch {
    // The module loaded; it just has no dispatchers.
  }
}

function eligible(filename: string, packages: boolean): boolean {
  if (/\.(json|node)$/i.test(filename)) return false;
  if (!packages && /[/\\]node_modules[/\\]/.test(filename)) return false;
  return !isOwnFile(filename);
}

/** Pins every top-level exported plain function of the module. Returns how many. */
export function pinExports(module: CjsModule): number {
  const exportsValue = module.exports;
  let pinned = 0;
  for (const entry of enumerateExports(exportsValue, 'preload', { defaultHolder: module, defaultKey: 'exports' })) {
    const target = entry.target;
    if (target === undefined || (target.holder !== exportsValue && target.holder !== module)) continue;
    if (entry.kind === 'class') continue;
    const fn = target.read();
    if (typeof fn !== 'function' || isProxy(fn) || siteOfWrapper(fn) !== undefined || !plainCallable(fn)) continue;
    const site = siteFor(target);
    if (typeof site !== 'string' && pinSite(site)) pinned++;
  }
  return pinned;
}

/** No state of its own, and not a constructor: no own properties but its shape, and an untouched (or no) prototype. */
function plainCallable(fn: Function): boolean {
  if (getOwnPropertyNames(fn).some((key) => !SHAPE_KEYS.has(key)) || getOwnPropertySymbols(fn).length > 0) return false;
  const prototype = getOwnPropertyDescriptor(fn, 'prototype');
  if (prototype === undefined) return true; // arrows, methods, async functions
  const value: unknown = prototype.value;
  if (typeof value !== 'object' || value === null || getPrototypeOf(value) !== Object.prototype) return false;
  const keys = Reflect.ownKeys(value);
  return keys.length === 1 && keys[0] === 'constructor' && getOwnPropertyDescriptor(value, 'constructor')?.value === fn;
}
