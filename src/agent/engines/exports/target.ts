/**
 * The exports engine's patch target: a data property of an object (an export, a static,
 * a prototype method), replaced in place by redefining it.
 *
 * Whatever reads the property afterwards sees the wrapper; a caller that copied the
 * function out before (a destructured `require`) keeps the original, which is why the
 * catalog warns about it (modules.ts). The preload engine pins exports through the same
 * kind of target, under its own engine name.
 *
 * Reads follow src/safe/property.ts: a Proxy holder and an accessor are unpatchable, and
 * neither is ever read through.
 */
import type { Engine } from '../../../protocol/events.js';
import { ReflectDefineProperty } from '../../../safe/intrinsics.js';
import { isData, ownData, ownDescriptor, readable, ACCESSOR, MISSING } from '../../../safe/property.js';
import type { PatchTarget } from '../../patcher/site.js';
import { SELF_USED_REASON, usedByLivetrace } from '../../patcher/self-used.js';

/** A data property of an object: an export, a static, a prototype method. */
export function propertyTarget(holder: object, key: string, engine: Engine = 'exports', afterChange?: () => void): PatchTarget {
  return {
    holder,
    key,
    engine,
    read() {
      const checked = readable(holder);
      if (checked === undefined) return undefined;
      const value = ownData(checked, key);
      return value === ACCESSOR || value === MISSING ? undefined : value;
    },
    write(value) {
      try {
        const checked = readable(holder);
        const desc = checked === undefined ? undefined : ownDescriptor(checked, key);
        if (desc === undefined || !isData(desc)) return false;
        if (desc.configurable) return ReflectDefineProperty(holder, key, { ...desc, value });
        if (desc.writable) return ReflectDefineProperty(holder, key, { value });
        return false;
      } catch {
        return false;
      }
    },
    unpatchable() {
      return whyUnpatchable(holder, key);
    },
    ...(afterChange === undefined ? {} : { afterChange }),
  };
}

/** Why the property cannot be replaced by a wrapper; undefined when it can. */
export function whyUnpatchable(holder: object, key: string): string | undefined {
  const checked = readable(holder);
  if (checked === undefined) return 'its object is a Proxy; looking into it would run user code';
  const desc = ownDescriptor(checked, key);
  if (desc === undefined) return 'no such property';
  if (!isData(desc)) return 'an accessor (getter): reading it would run user code; trace the module that defines it';
  if (!desc.writable && !desc.configurable) return 'read-only (non-writable, non-configurable): frozen or sealed exports';
  if (usedByLivetrace(desc.value)) return SELF_USED_REASON;
  return undefined;
}
