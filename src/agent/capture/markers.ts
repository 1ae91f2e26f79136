/**
 * The payload-free parts of captured values, shared by every event: frozen, so a consumer
 * cannot change one event by editing another. And the rough JSON sizes charged to the
 * byte budget.
 */
import type { DepthValue, MarkerValue, SpecialNumberValue, Value } from '../../protocol/value.js';
import { ObjectFreeze } from '../../safe/intrinsics.js';

export const UNDEFINED: Value = ObjectFreeze({ $: 'undefined' });
export const NAN: SpecialNumberValue = ObjectFreeze({ $: 'number', value: 'NaN' });
export const INFINITY: SpecialNumberValue = ObjectFreeze({ $: 'number', value: 'Infinity' });
export const NEGATIVE_INFINITY: SpecialNumberValue = ObjectFreeze({ $: 'number', value: '-Infinity' });
export const NEGATIVE_ZERO: SpecialNumberValue = ObjectFreeze({ $: 'number', value: '-0' });
const marker = (kind: MarkerValue['$']): MarkerValue => ObjectFreeze({ $: kind });
export const PROXY = marker('proxy');
export const CIRCULAR = marker('circular');
export const REDACTED = marker('redacted');
export const UNREADABLE = marker('unreadable');
export const PROMISE = marker('promise');
export const GLOBAL = marker('global');
export const WEAKMAP = marker('weakmap');
export const WEAKSET = marker('weakset');
export const GETTER: Value = ObjectFreeze({ $: 'getter' });
const GETTER_SETTER: Value = ObjectFreeze({ $: 'getter', set: true });
const SETTER: Value = ObjectFreeze({ $: 'setter' });
export const DEPTH_OBJECT: DepthValue = ObjectFreeze({ $: 'depth', class: 'Object' });
export const DEPTH_ARRAY: DepthValue = ObjectFreeze({ $: 'depth', class: 'Array' });
export const DEPTH_NULL_PROTOTYPE: DepthValue = ObjectFreeze({ $: 'depth', class: null });

// Rough JSON sizes charged to the byte budget: `{"$":"undefined"}` and the like.
export const MARKER_BYTES = 16;
export const NUMBER_BYTES = 8;
export const BOOLEAN_BYTES = 5;
export const TAG_BYTES = 24;
export const KEY_OVERHEAD = 4;

/** The marker for an accessor property, whose functions are never called. */
export function accessor(descriptor: PropertyDescriptor): Value {
  // An accessor descriptor always has own `get` and `set`: reading them calls nothing.
  if (descriptor.get === undefined) return SETTER;
  return descriptor.set === undefined ? GETTER : GETTER_SETTER;
}
