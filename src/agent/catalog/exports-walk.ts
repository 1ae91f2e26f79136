/**
 * The functions reachable from a module's exports object, found without running user
 * code and within bounds.
 *
 * Every read follows src/safe/property.ts: own property descriptors only, an accessor is
 * listed (as not patchable) without being called, and a Proxy is never looked into. The
 * walk is bounded: nested plain objects two levels down, a class's statics and prototype
 * methods, nothing else. Each function found gets the patch target of the engine that
 * asked (the exports engine, or the preload engine pinning exports as they load).
 */
import type { Engine } from '../../protocol/events.js';
import type { FunctionKind } from '../../protocol/messages.js';
import { ArrayPrototypePush, ObjectPrototype, RegExpPrototypeExec, SafeSet } from '../../safe/intrinsics.js';
import { ACCESSOR, MISSING, functionKind, functionName, ownData, ownKeys, prototypeOf, readable, type Readable } from '../../safe/property.js';
import { siteOfWrapper } from '../patcher/site.js';
import { propertyTarget, whyUnpatchable } from '../engines/exports/target.js';
import type { FunctionEntry } from './entries.js';

/** How a function is listed: its kind, with async generators as 'async' and plain ones as 'function'. */
function kindOf(fn: Readable | undefined): FunctionKind {
  const kind = fn === undefined ? undefined : functionKind(fn);
  if (kind === 'async' || kind === 'asyncgenerator') return 'async';
  return kind ?? 'function';
}

function isPlainObject(value: unknown): value is Readable {
  const checked = typeof value === 'object' ? readable(value) : undefined;
  if (checked === undefined) return false;
  const proto = prototypeOf(checked);
  return proto === ObjectPrototype || proto === null;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** Functions reachable from a module's exports, bounded and without running user code. */
export function enumerateExports(
  exportsValue: unknown,
  engine: Engine,
  options: { defaultHolder?: object; defaultKey?: string; afterChange?: () => void } = {},
): FunctionEntry[] {
  const entries: FunctionEntry[] = [];
  const seen = new SafeSet<object>();
  const { afterChange } = options;

  const addFunction = (holder: object, key: string, path: string, fn: Function): void => {
    // A preload dispatcher pinned here also reaches callers holding it: list it as such.
    const pinned = siteOfWrapper(fn);
    const place = pinned?.pinned === true ? pinned.places.find((p) => p.holder === holder && p.key === key) : undefined;
    const target = place ?? propertyTarget(holder, key, engine, afterChange);
    const why = target.unpatchable();
    const actual = readable(pinned?.original ?? fn);
    const kind = kindOf(actual);
    ArrayPrototypePush(entries, why === undefined ? { path, kind, target } : { path, kind, unpatchable: why });
    // A Proxy function's keys and descriptors come from its traps (user code): not looked into.
    if (actual === undefined) return;
    const name = functionName(actual);
    members(actual, path === 'default' && RegExpPrototypeExec(IDENTIFIER, name) !== null ? name : path);
  };

  const members = (fn: Readable, name: string): void => {
    if (seen.has(fn)) return;
    seen.add(fn);
    for (const key of ownKeys(fn)) {
      if (typeof key !== 'string' || key === 'length' || key === 'name' || key === 'prototype' || key === 'arguments' || key === 'caller') continue;
      if (typeof ownData(fn, key) === 'function') addMember(fn, key, `${name}.${key}`, 'static');
    }
    const proto = readable(ownData(fn, 'prototype'));
    if (proto === undefined || typeof proto !== 'object') return;
    for (const key of ownKeys(proto)) {
      if (typeof key !== 'string' || key === 'constructor') continue;
      const value = ownData(proto, key);
      if (value === ACCESSOR) ArrayPrototypePush(entries, { path: `${name}#${key}`, kind: 'method', unpatchable: whyUnpatchable(proto, key)! });
      else if (typeof value === 'function') addMember(proto, key, `${name}#${key}`, 'method');
    }
  };

  const addMember = (holder: object, key: string, path: string, kind: FunctionKind): void => {
    const target = propertyTarget(holder, key, engine, afterChange);
    const why = target.unpatchable();
    ArrayPrototypePush(entries, why === undefined ? { path, kind, target } : { path, kind, unpatchable: why });
  };

  const visit = (holder: Readable, prefix: string, level: number): void => {
    if (seen.has(holder)) return;
    seen.add(holder);
    for (const key of ownKeys(holder)) {
      if (typeof key !== 'string' || key === '__esModule') continue;
      const value = ownData(holder, key);
      if (value === MISSING) continue;
      const path = prefix + key;
      if (value === ACCESSOR) {
        if (level === 0) ArrayPrototypePush(entries, { path, kind: 'function', unpatchable: whyUnpatchable(holder, key)! });
        continue;
      }
      if (typeof value === 'function') addFunction(holder, key, path, value);
      else if (level < 2 && isPlainObject(value)) visit(value, `${path}.`, level + 1);
    }
  };

  if (typeof exportsValue === 'function') {
    if (options.defaultHolder !== undefined && options.defaultKey !== undefined) {
      addFunction(options.defaultHolder, options.defaultKey, 'default', exportsValue);
    }
  } else if (typeof exportsValue === 'object') {
    const holder = readable(exportsValue);
    if (holder !== undefined) visit(holder, '', 0);
  }
  return entries;
}
