/**
 * How many frames are on the stack: the probe trampoline pairs a synchronous function's
 * return with its entry by the depth of its frame (both are measured from inside a
 * breakpoint condition evaluated on top of that frame, through the same calls).
 *
 * V8 counts frames only while formatting a stack, so for one capture we install our own
 * `Error.prepareStackTrace` (which counts the call sites) and an unlimited frame limit,
 * then restore exactly the property descriptors that were there, as the stack capture
 * does: no user code runs in between, and a user's prepareStackTrace is never called.
 * Returns -1 when that is not possible: the properties were frozen, or the program
 * replaced the global `Error` (Node asks `globalThis.Error` for prepareStackTrace).
 */
import { ErrorCaptureStackTrace, ErrorConstructor, ObjectDefineProperty, ObjectGetOwnPropertyDescriptor } from '../../../safe/intrinsics.js';

function countSites(_error: unknown, sites: unknown[]): number {
  return sites.length;
}

function set(key: string, value: unknown): void {
  ObjectDefineProperty(ErrorConstructor, key, { value, writable: true, enumerable: false, configurable: true });
}

function put(key: string, descriptor: PropertyDescriptor | undefined): void {
  if (descriptor === undefined) delete (ErrorConstructor as unknown as Record<string, unknown>)[key];
  else ObjectDefineProperty(ErrorConstructor, key, descriptor);
}

export function frameDepth(): number {
  const prepare = ObjectGetOwnPropertyDescriptor(ErrorConstructor, 'prepareStackTrace');
  const limit = ObjectGetOwnPropertyDescriptor(ErrorConstructor, 'stackTraceLimit');
  if (prepare?.configurable === false || limit?.configurable === false) return -1;
  if ((globalThis as { Error?: unknown }).Error !== ErrorConstructor) return -1;
  const holder: { stack?: unknown } = {};
  try {
    set('prepareStackTrace', countSites);
    set('stackTraceLimit', Infinity);
    ErrorCaptureStackTrace(holder);
    const depth = holder.stack;
    return typeof depth === 'number' ? depth : -1;
  } catch {
    return -1;
  } finally {
    try {
      put('prepareStackTrace', prepare);
      put('stackTraceLimit', limit);
    } catch {
      // Configurable a moment ago, and no user code ran since.
    }
  }
}
