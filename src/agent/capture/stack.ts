/**
 * The caller's stack for the `stack` action: structured frames, source-mapped, with
 * livetrace's own frames removed.
 *
 * V8 hands structured call sites only to `Error.prepareStackTrace`, so for the length of
 * one synchronous capture we install ours (returning the call sites untouched) and a
 * frame limit, then put back exactly the property descriptors that were there. No user
 * code can run in between, and a user-installed prepareStackTrace is never called: Node
 * consults `globalThis.Error.prepareStackTrace`, which we also point at the intrinsic
 * Error for that moment if the program replaced the global. If either property cannot be
 * redefined (frozen by the program), we return no frames rather than risk it.
 *
 * Positions are mapped with source-map-support's `mapSourcePosition` (which reads and
 * caches a file's source map on first use) without installing anything globally. Our own frames
 * are those whose file lies in this package's dist/ or src/ directory, found from where
 * this very module was loaded, which works for the ESM build, the CJS build and the
 * TypeScript sources alike.
 */
import { fileURLToPath } from 'node:url';
import { mapSourcePosition } from 'source-map-support';
import type { StackFrame } from '../../protocol/events.js';
import {
  ArrayIsArray,
  ErrorCaptureStackTrace,
  ErrorConstructor,
  GlobalObject,
  MapPrototypeClear,
  MapPrototypeGet,
  MapPrototypeGetSize,
  MapPrototypeSet,
  ObjectDefineProperty,
  ObjectGetOwnPropertyDescriptor,
  ObjectHasOwn,
  ObjectSetPrototypeOf,
  StringPrototypeStartsWith,
} from '../../safe/intrinsics.js';

/** The sourceURL of probe conditions (probes/trampoline.ts), whose frames are never shown. */
export const PROBE_SOURCE_URL = 'livetrace-probe';

/** The sourceURL of the patcher's per-site wrappers (compiled from a fixed text), never shown. */
export const WRAPPER_SOURCE_URL = 'livetrace-wrapper';

/** Frames returned at most. */
export const MAX_STACK_FRAMES = 20;
// Extra frames requested so that dropping our own still leaves MAX_STACK_FRAMES.
const OWN_FRAME_SLACK = 12;

type CallSite = NodeJS.CallSite;

function returnCallSites(_error: unknown, sites: CallSite[]): CallSite[] {
  return sites;
}

/**
 * The raw V8 call sites above `skipUntil` (exclusive), at most `limit`; [] if they
 * cannot be had without risk.
 */
function callSites(skipUntil: Function, limit: number): CallSite[] {
  const prepare = ObjectGetOwnPropertyDescriptor(ErrorConstructor, 'prepareStackTrace');
  const stackLimit = ObjectGetOwnPropertyDescriptor(ErrorConstructor, 'stackTraceLimit');
  const globalError = ObjectGetOwnPropertyDescriptor(GlobalObject, 'Error');
  const swapGlobal = !(globalError !== undefined && ObjectHasOwn(globalError, 'value') && globalError.value === ErrorConstructor);
  if (prepare?.configurable === false || stackLimit?.configurable === false) return [];
  if (swapGlobal && globalError?.configurable === false) return [];
  const holder: { stack?: unknown } = {};
  try {
    define(ErrorConstructor, 'prepareStackTrace', returnCallSites);
    define(ErrorConstructor, 'stackTraceLimit', limit);
    if (swapGlobal) define(GlobalObject, 'Error', ErrorConstructor);
    ErrorCaptureStackTrace(holder, skipUntil);
    // Reading `stack` is what runs prepareStackTrace (V8 formats lazily).
    const sites = holder.stack;
    return ArrayIsArray(sites) ? (sites as CallSite[]) : [];
  } catch {
    return [];
  } finally {
    restore(ErrorConstructor, 'prepareStackTrace', prepare);
    restore(ErrorConstructor, 'stackTraceLimit', stackLimit);
    if (swapGlobal) restore(GlobalObject, 'Error', globalError);
  }
}

// Descriptors are given a null prototype: defineProperty reads `get`, `set`, `value`...
// through the chain, where a program could have put accessors on Object.prototype.
function define(target: object, key: string, value: unknown): void {
  ObjectDefineProperty(target, key, { __proto__: null, value, writable: true, enumerable: false, configurable: true } as PropertyDescriptor);
}

function restore(target: object, key: string, descriptor: PropertyDescriptor | undefined): void {
  try {
    if (descriptor === undefined) delete (target as Record<string, unknown>)[key];
    else ObjectDefineProperty(target, key, ObjectSetPrototypeOf(descriptor, null) as PropertyDescriptor);
  } catch {
    // Only reachable if the program froze the property in between, which it cannot do
    // while we hold the thread.
  }
}

// Parsing a file URL costs microseconds, and the same few module URLs recur in every stack.
const PATH_CACHE_LIMIT = 2048;
const pathCache = new Map<string, string>();

/** A V8 file name as a path: ESM modules report file:// URLs. */
function toPath(file: string): string {
  if (!StringPrototypeStartsWith(file, 'file://')) return file;
  let path = MapPrototypeGet(pathCache, file) as string | undefined;
  if (path === undefined) {
    try {
      path = fileURLToPath(file);
    } catch {
      path = file;
    }
    if (MapPrototypeGetSize(pathCache) >= PATH_CACHE_LIMIT) MapPrototypeClear(pathCache);
    MapPrototypeSet(pathCache, file, path);
  }
  return path;
}

// Where this module itself lives: .../<root>/dist/esm/agent/capture/stack.js, dist/cjs/..., or
// src/agent/capture/stack.ts when run from source. Everything under <root>/dist and <root>/src is
// livetrace.
function ownPrefixes(): string[] {
  const here = callSites(ownPrefixes, 1)[0];
  const file = here === undefined ? undefined : (here.getFileName() ?? undefined);
  if (file === undefined) return [];
  const path = toPath(file);
  const match = /^(.*)[\\/](?:dist[\\/](?:esm|cjs)|src)[\\/]agent[\\/]capture[\\/]stack\.(?:[cm]?js|ts)$/.exec(path);
  if (match === null) {
    // A bundle or an unknown layout: at least this module's own directory's parent.
    const cut = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
    const dir = path.slice(0, cut);
    const parentCut = Math.max(dir.lastIndexOf('/'), dir.lastIndexOf('\\'));
    return [path.slice(0, parentCut + 1)];
  }
  const root = match[1]!;
  const sep = path[root.length]!;
  return [`${root}${sep}dist${sep}`, `${root}${sep}src${sep}`];
}

const OWN_PREFIXES: readonly string[] = ownPrefixes();

/** True for a file of livetrace itself (its dist/ or src/), whose frames and modules are never traced. */
export function isOwnFile(file: string | null | undefined): boolean {
  if (file === null || file === undefined) return false;
  const path = toPath(file);
  for (let i = 0; i < OWN_PREFIXES.length; i++) {
    if (StringPrototypeStartsWith(path, OWN_PREFIXES[i]!)) return true;
  }
  return false;
}

function functionName(site: CallSite, original: string | null | undefined): string {
  const name = original || site.getFunctionName();
  let label: string;
  if (site.isConstructor()) label = `new ${name ?? '<anonymous>'}`;
  else if (!site.isToplevel()) {
    // V8 reads the type name from data properties only, and calls no trap of a Proxy.
    // 'Object' (exports, plain objects) and 'Module' (namespaces) only add noise.
    const raw = site.getTypeName();
    const type = raw === 'Object' || raw === 'Module' || raw === '' ? null : raw;
    if (name === null || name === '') label = type === null ? '<anonymous>' : `${type}.<anonymous>`;
    else label = type !== null && !StringPrototypeStartsWith(name, type) ? `${type}.${name}` : name;
  } else label = name === null || name === '' ? '<anonymous>' : name;
  return site.isAsync() ? `async ${label}` : label;
}

/** A position as source-map-support returns it: `name` is the original identifier there. */
interface SourcePosition {
  source: string;
  line: number;
  /** 0-based */
  column: number;
  name?: string | null;
}

/**
 * The original position of a frame through its file's source map (read and cached by
 * source-map-support on first use), or its generated position when there is none; null
 * for a frame without a position.
 */
function originalPosition(site: CallSite): SourcePosition | null {
  if (site.isNative()) return null;
  const source = site.getFileName() ?? site.getScriptNameOrSourceURL();
  const line = site.getLineNumber();
  const column = site.getColumnNumber();
  if (!source || line === null || column === null) return null;
  const generated: SourcePosition = { source, line, column: column - 1 };
  try {
    return mapSourcePosition(generated) as SourcePosition;
  } catch {
    return generated;
  }
}

/**
 * The current stack below `skipUntil` (or below the caller of captureStack), innermost
 * first, at most 20 frames, livetrace's own frames removed, positions source-mapped when
 * a source map is found. Never throws; [] when the stack cannot be read safely.
 */
/** livetrace's body-site module, in either build (its frames come before an instrumented function's own). */
const BODY_SITE_FILE = /[\\/]patcher[\\/]body-site\.(?:js|ts)$/;

export function captureStack(skipUntil?: Function): StackFrame[] {
  try {
    let sites = callSites(skipUntil ?? captureStack, MAX_STACK_FRAMES + OWN_FRAME_SLACK);
    // V8 returns nothing when skipUntil is not on the stack: take the whole stack then.
    if (sites.length === 0 && skipUntil !== undefined) sites = callSites(captureStack, MAX_STACK_FRAMES + OWN_FRAME_SLACK);
    const kept: CallSite[] = [];
    // Set by a body site's frame (patcher/body-site.ts): the next program frame is the
    // instrumented function itself, at the text its rewrite inserted (a column past what
    // the line shows). The stack starts at its caller, as it does under a wrapper.
    let instrumented = false;
    for (let i = 0; i < sites.length && kept.length < MAX_STACK_FRAMES; i++) {
      const site = sites[i]!;
      if (site.getScriptNameOrSourceURL() === PROBE_SOURCE_URL) {
        // A probe's breakpoint condition, then the probed function it runs in: the
        // stack starts at that function's caller, as it does under a wrapper.
        i++;
        continue;
      }
      if (site.getScriptNameOrSourceURL() === WRAPPER_SOURCE_URL) continue;
      const file = site.getFileName();
      if (isOwnFile(file)) {
        if (file !== undefined && file !== null && BODY_SITE_FILE.test(file)) instrumented = true;
      } else if (instrumented) instrumented = false;
      else kept[kept.length] = site;
    }
    const frames: StackFrame[] = [];
    // Outermost first: a frame's original function name is the identifier at its
    // caller's call position (source-map-support's rule). Our own frames are skipped
    // here too, so a traced function is named by the user's call, not our wrapper's.
    let caller: SourcePosition | null = null;
    for (let i = kept.length - 1; i >= 0; i--) {
      const site = kept[i]!;
      const position = originalPosition(site);
      frames[i] =
        position === null
          ? { fn: functionName(site, null), file: site.isNative() ? '<native>' : site.isEval() ? '<eval>' : '<anonymous>', line: 0, column: 0 }
          : { fn: functionName(site, caller?.name), file: toPath(position.source), line: position.line, column: position.column + 1 };
      caller = position;
    }
    return frames;
  } catch {
    return [];
  }
}

/** For tests and diagnostics: the directory prefixes whose frames are dropped. */
export function ownFramePrefixes(): readonly string[] {
  return OWN_PREFIXES;
}
