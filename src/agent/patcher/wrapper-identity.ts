/**
 * What makes a wrapper pass for its original, beyond its calls: `Function.prototype.toString`
 * shows the original's text, reflect-metadata is copied, and a process-wide map answers
 * "which original does this wrapper stand for" for every copy of livetrace loaded
 * (ESM and CJS builds share it through a global symbol).
 */
import { types } from 'node:util';
import { ArrayPrototypePush, ReflectApply } from '../../safe/intrinsics.js';
import { originalText } from './body-registry.js';

// Pristine (src/safe/intrinsics.ts): a replaced Reflect.apply must never run for our own calls.
const reflectApply = ReflectApply;
const { defineProperty, getOwnPropertyDescriptor, ownKeys } = Reflect;

/**
 * Wrapper → original, for every copy of livetrace in the process: toString and anyone
 * asking "is this one of ours" read it.
 */
const ORIGINALS_KEY = Symbol.for('livetrace.wrapper.originals.v1');
export const originals: WeakMap<Function, Function> = ((globalThis as Record<symbol, unknown>)[ORIGINALS_KEY] as WeakMap<Function, Function> | undefined) ??
  ((globalThis as Record<symbol, unknown>)[ORIGINALS_KEY] = new WeakMap<Function, Function>());
const TO_STRING_KEY = Symbol.for('livetrace.wrapper.toString.v1');
/**
 * The engine's own `Function.prototype.toString`: the one the first copy of livetrace
 * replaced is kept under TO_STRING_KEY, so a copy loaded after it (the ESM build a program
 * imports beside the preload's CommonJS one) installs nothing and reads texts natively.
 */
const nativeToString: (this: Function) => string = (() => {
  const installed = (globalThis as Record<symbol, unknown>)[TO_STRING_KEY] as { native?: (this: Function) => string } | undefined;
  // eslint-disable-next-line @typescript-eslint/unbound-method
  return installed?.native ?? Function.prototype.toString;
})();

/**
 * `Function.prototype.toString` of a wrapper gives the original's text, as it did before
 * the trace (a callable Proxy would give `function () { [native code] }`, a compiled
 * wrapper its own source; code that reads parameter names or checks for native code
 * from it would change behaviour). Installed once per process, at the first wrapper, as
 * Sentry and others do; the replacement has the native one's name, length and shape
 * (a method: no prototype, not constructible), and shows the native text itself. A
 * program that installs its own afterwards simply wins. The preload installs it before
 * the program's first line, so code that keeps `Function.prototype.toString` in a
 * variable (lodash's `isNative`) keeps this one.
 */
export function installToString(): void {
  const global = globalThis as Record<symbol, unknown>;
  if (global[TO_STRING_KEY] !== undefined) return;
  try {
    const native = nativeToString;
    const get = originals.get.bind(originals);
    const replacement = {
      toString(this: Function): string {
        // An instrumented function's text without what the rewrite inserted (body-site.ts).
        return originalText(reflectApply(native, get(this) ?? this, []) as string);
      },
    }.toString;
    const desc = getOwnPropertyDescriptor(Function.prototype, 'toString');
    if (desc === undefined || !('value' in desc) || desc.value !== native || desc.configurable !== true) return;
    originals.set(replacement, native);
    if (defineProperty(Function.prototype, 'toString', { ...desc, value: replacement })) {
      defineProperty(global, TO_STRING_KEY, { value: { native }, configurable: true, enumerable: false, writable: false });
    }
  } catch {
    // toString shows the wrapper's text; calls are unaffected.
  }
}

/**
 * reflect-metadata keeps decorator metadata in a WeakMap keyed by the decorated object
 * (NestJS reads `path`/`method` from `prototype.getHello`, DI reads `design:paramtypes`
 * from the class): a wrapper is a different key, so without a copy a traced controller
 * maps no routes (issue 12, item 12). When the process has reflect-metadata's API on
 * `Reflect` (read as data properties: nothing is run to find it), the original's own
 * metadata is defined on the wrapper too. Those three functions are the library's and
 * only read and store metadata; a failure leaves the wrapper without it.
 */
export function copyMetadata(original: Function, wrapper: Function): void {
  try {
    const keysOf = dataFunction(Reflect, 'getOwnMetadataKeys');
    const getOwn = dataFunction(Reflect, 'getOwnMetadata');
    const define = dataFunction(Reflect, 'defineMetadata');
    if (keysOf === undefined || getOwn === undefined || define === undefined) return;
    // Metadata of the function itself, and of its members: TypeScript's parameter
    // decorators store under (class, method name), read back through `instance.constructor`.
    const members: (PropertyKey | undefined)[] = [undefined];
    const proto = getOwnPropertyDescriptor(original, 'prototype');
    for (const holder of [original, proto !== undefined && 'value' in proto ? (proto.value as unknown) : undefined]) {
      if ((typeof holder !== 'object' && typeof holder !== 'function') || holder === null || types.isProxy(holder)) continue;
      for (const key of ownKeys(holder)) if (key !== 'prototype' && key !== 'length' && key !== 'name' && key !== 'constructor') ArrayPrototypePush(members, key);
    }
    for (const member of members) {
      const keys = reflectApply(keysOf, Reflect, member === undefined ? [original] : [original, member]) as unknown;
      if (!Array.isArray(keys)) continue;
      for (const key of keys) {
        const value = reflectApply(getOwn, Reflect, member === undefined ? [key, original] : [key, original, member]) as unknown;
        reflectApply(define, Reflect, member === undefined ? [key, value, wrapper] : [key, value, wrapper, member]);
      }
    }
  } catch {
    // The wrapper is still a faithful call-through; only its metadata is missing.
  }
}

function dataFunction(holder: object, key: string): Function | undefined {
  const desc = getOwnPropertyDescriptor(holder, key);
  return desc !== undefined && 'value' in desc && typeof desc.value === 'function' ? (desc.value as Function) : undefined;
}

/** The original a wrapper stands for (any copy of livetrace's), or undefined. */
export function originalOf(fn: Function): Function | undefined {
  return originals.get(fn);
}
