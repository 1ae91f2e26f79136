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
 * - Every function held by a top-level export, by `module.exports`, or by a static of a
 *   function-valued `module.exports`. One function is one wrapper wherever it is held
 *   (site.ts): aliases stay equal, and `module.exports.default = module.exports` holds.
 *   A function with state of its own (statics, a class) is pinned as a Proxy of itself
 *   (wrapper.ts), so its statics are the original's very properties.
 * - Prototype methods are not pinned: instances reach them through the prototype, so a
 *   trace patches them there when asked, and nobody copies them at load.
 * - User Proxies are left alone (looking into one runs its traps).
 * - Accessors are never read (it would run user code); read-only exports can't be replaced.
 * - The app's files only; node_modules when LIVETRACE_PRELOAD_PACKAGES=1; never JSON,
 *   native addons, or livetrace itself.
 *
 * Modules the user selected (instrument.ts: LIVETRACE_INSTRUMENT, `run` patterns) are
 * instrumented before `_compile` compiles them: their functions' own bodies call the
 * tracer, and the pinning that follows finds them instrumented and wraps none of them
 * (patcher/site.ts), so they stay the very same objects. What instrumentation leaves
 * alone (getters, generators with a rest parameter, ...) is pinned as here.
 *
 * The hooks wrap `Module.prototype._compile` (pinning) and `load` (telling sessions), installed once per process (on a
 * global symbol, so a second copy of livetrace does not wrap it again). It calls the
 * original first and never throws: a failure to pin leaves the module as it loaded.
 */
import { createRequire } from 'node:module';
import { types } from 'node:util';
import { reportLoaded } from '../../catalog/module-watch.js';
import { pinSite, siteFor, siteOfWrapper } from '../../patcher/site.js';
import { enumerateExports } from '../../catalog/exports-walk.js';
import { heldElsewhere, markPreloaded, noteHeldElsewhere } from '../exports/modules.js';
import { propertyTarget } from '../exports/target.js';
import { isOwnFile } from '../../capture/stack.js';
import { instrumentModule } from './instrument.js';

interface CjsModule {
  filename: string;
  exports: unknown;
}

interface ModulePrototype {
  load(this: CjsModule, filename: string): unknown;
  _compile(this: CjsModule, ...args: unknown[]): unknown;
}

const INSTALLED = Symbol.for('livetrace.preload.cjs.v1');
const isProxy = types.isProxy;
const getOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;

/** Wraps `Module.prototype.load` so every eligible module's exports get idle dispatchers. */
export function installCjsPreload(options: { packages: boolean; instrument?: (filename: string) => boolean }): void {
  const global = globalThis as Record<symbol, unknown>;
  if (global[INSTALLED] !== undefined) return;
  global[INSTALLED] = true;
  markPreloaded({ packages: options.packages });
  const Module = createRequire(process.cwd() + '/noop.js')('module') as { prototype: ModulePrototype };
  // Pinning happens as `_compile` returns (the module's body has run), not after `load`:
  // `load` snapshots `module.exports` for the ESM loader before it returns, and an
  // `import()` of the module later would get the unpinned original (issue 12, item 4).
  const compile = Module.prototype._compile;
  const instrument = options.instrument;
  Module.prototype._compile = function (this: CjsModule, ...args: unknown[]): unknown {
    // A selected module's functions call the tracer from their own bodies (instrument.ts);
    // pinning then finds them instrumented and leaves them as they are (patcher/site.ts).
    if (instrument !== undefined && typeof args[0] === 'string' && typeof args[1] === 'string' && wanted(args[1]) && instrument(args[1])) {
      const code = instrumentModule(args[0], args[1]);
      if (code !== undefined) args[0] = code;
    }
    const result = Reflect.apply(compile, this, args);
    afterCompile(this, options.packages);
    return result;
  };
  const load = Module.prototype.load;
  Module.prototype.load = function (this: CjsModule, ...args: [string]): unknown {
    const result = Reflect.apply(load, this, args);
    afterLoad(this, options.packages);
    return result;
  };
}

function wanted(filename: unknown): filename is string {
  return typeof filename === 'string' && !/\.(json|node)$/i.test(filename) && !isOwnFile(filename);
}

function afterCompile(module: CjsModule, packages: boolean): void {
  try {
    const filename = module.filename;
    if (!wanted(filename)) return;
    if (eligible(filename, packages)) pinExports(module);
    else noteHeldElsewhere(module.exports, filename);
  } catch {
    // The module loaded; it just has no dispatchers.
  }
}

function afterLoad(module: CjsModule, packages: boolean): void {
  try {
    const filename = module.filename;
    if (wanted(filename) && eligible(filename, packages)) reportLoaded([{ filename }]);
  } catch {
    // Sessions hear of the module from their own load watcher.
  }
}

function eligible(filename: string, packages: boolean): boolean {
  return packages || !/[/\\]node_modules[/\\]/.test(filename);
}

/** Pins every top-level exported plain function of the module. Returns how many. */
export function pinExports(module: CjsModule): number {
  const exportsValue = module.exports;
  let pinned = 0;
  for (const entry of enumerateExports(exportsValue, 'preload', { defaultHolder: module, defaultKey: 'exports' })) {
    const target = entry.target;
    // Top-level exports, `module.exports` itself, and the statics of a function-valued
    // `module.exports` (lodash's `_.map`, `App.default = App`): what importers copy.
    if (target === undefined || (target.holder !== exportsValue && target.holder !== module)) continue;
    const fn = target.read();
    if (typeof fn !== 'function' || isProxy(fn) || siteOfWrapper(fn) !== undefined || heldElsewhere(fn) !== undefined) continue;
    const site = siteFor(target);
    if (typeof site === 'string' || !pinSite(site)) continue;
    pinned++;
    pinConstructor(site.original);
  }
  return pinned;
}

/**
 * `instance.constructor` is one more place that holds a pinned class: pointing it at the
 * same wrapper keeps `new App().constructor === require('./app')` as untraced.
 */
function pinConstructor(fn: Function): void {
  const prototype = getOwnPropertyDescriptor(fn, 'prototype');
  const value: unknown = prototype !== undefined && 'value' in prototype ? prototype.value : undefined;
  if (typeof value !== 'object' || value === null || isProxy(value)) return;
  const constructor = getOwnPropertyDescriptor(value, 'constructor');
  if (constructor === undefined || !('value' in constructor) || constructor.value !== fn) return;
  const site = siteFor(propertyTarget(value, 'constructor', 'preload'));
  if (typeof site !== 'string') pinSite(site);
}
