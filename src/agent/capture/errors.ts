/**
 * Errors: name, message, class, cause, errors and own fields, and the stack when reading
 * it runs no user code.
 *
 * V8 formats `stack` lazily, on first read, through Node's callback, which calls
 * `globalThis.Error.prepareStackTrace` when set and otherwise reads `name`, `message`
 * (and `code`) through the prototype chain. So the stack is read only when formatting it
 * cannot call a user `Error.prepareStackTrace` or a getter (stackReadable).
 */
import type { ErrorValue, StringValue, Value } from '../../protocol/value.js';
import {
  ErrorConstructor,
  ErrorPrototype,
  FunctionPrototypeCall,
  GlobalObject,
  ObjectKeys,
  V8StackGetter,
  initialPrepareStackTrace,
} from '../../safe/intrinsics.js';
import {
  ACCESSOR,
  BLOCKED,
  MAX_CHAIN,
  MISSING,
  functionName,
  isData,
  lookup,
  ownData,
  ownDescriptor,
  prototypeOf,
  readable,
  type Readable,
} from '../../safe/property.js';
import type { Budget } from './budget.js';
import { GETTER, TAG_BYTES, accessor } from './markers.js';
import { fields, keysOf } from './objects.js';
import type { ProtoInfo } from './prototypes.js';

// The real global object and the intrinsic Error are never Proxies.
const globalObject = GlobalObject as Readable;
const errorConstructor = ErrorConstructor as unknown as Readable;

export function error(b: Budget, value: Readable, info: ProtoInfo, level: number): ErrorValue {
  b.budget -= TAG_BYTES;
  const className = info.className;
  const nameFound = lookup(value, 'name');
  const name: StringValue = typeof nameFound === 'string' ? b.cut(nameFound, b.stringLimit, nameFound.length) : b.name(className === '' ? 'Error' : className);
  const messageFound = lookup(value, 'message');
  const message: Value =
    messageFound === ACCESSOR ? GETTER : messageFound === MISSING || messageFound === BLOCKED ? '' : b.walk(messageFound, level + 1);
  const out: ErrorValue = { $: 'error', name, message };
  if (className !== '' && className !== nameFound) out.class = b.name(className);
  if (stackReadable(value, nameFound, messageFound)) {
    const stack = ownStack(value);
    if (typeof stack === 'string') out.stack = b.text(stack, b.stringLimit * 4);
  }
  const cause = ownDescriptor(value, 'cause');
  if (cause !== undefined) out.cause = isData(cause) ? b.walk(cause.value, level + 1) : accessor(cause);
  const errors = ownDescriptor(value, 'errors');
  if (errors !== undefined) out.errors = isData(errors) ? b.walk(errors.value, level + 1) : accessor(errors);
  const props = fields(b, value, keysOf(value), level, true);
  if (b.lastMore > 0) out.more = b.lastMore;
  if (ObjectKeys(props).length > 0) out.props = props;
  return out;
}

/**
 * The own `stack`: a data property (Node 20), or V8's own lazy accessor (Node 22 and
 * later), whose getter is a native function of V8's; any other getter is the program's
 * and is never called. Undefined when there is none or it can't be read.
 */
function ownStack(error: Readable): unknown {
  const descriptor = ownDescriptor(error, 'stack');
  if (descriptor === undefined) return undefined;
  if (isData(descriptor)) return descriptor.value;
  const get = descriptor.get;
  if (get === undefined || get !== V8StackGetter) return undefined;
  try {
    return FunctionPrototypeCall(get, error);
  } catch {
    return undefined;
  }
}

/**
 * Whether reading `error.stack` is free of user code: the global Error must be the
 * intrinsic one, its prepareStackTrace absent or Node's own default (as found at agent
 * load), the chain free of Proxies, and `name`, `message` and `code` data properties.
 */
function stackReadable(error: Readable, name: unknown, message: unknown): boolean {
  if (name === ACCESSOR || name === BLOCKED || message === ACCESSOR || message === BLOCKED) return false;
  if (ownData(globalObject, 'Error') !== ErrorConstructor) return false;
  const prepare = ownDescriptor(errorConstructor, 'prepareStackTrace');
  if (prepare !== undefined) {
    if (!isData(prepare)) return false;
    const fn: unknown = prepare.value;
    if (fn !== undefined && (fn !== initialPrepareStackTrace || !isNodeDefaultPrepare(fn))) return false;
  }
  const code = lookup(error, 'code');
  if (code === ACCESSOR || code === BLOCKED) return false;
  // An error of another realm is formatted with that realm's Error: not checked here.
  let ours = false;
  let p: Readable | null | typeof BLOCKED = prototypeOf(error);
  for (let steps = 0; p !== null; steps++) {
    if (steps >= MAX_CHAIN || p === BLOCKED) return false;
    if (p === (ErrorPrototype as object)) ours = true;
    p = prototypeOf(p);
  }
  return ours;
}

/** Node 20.20 installs a default `Error.prepareStackTrace` named ErrorPrepareStackTrace. */
function isNodeDefaultPrepare(fn: unknown): boolean {
  const checked = typeof fn === 'function' ? readable(fn) : undefined;
  return checked !== undefined && functionName(checked) === 'ErrorPrepareStackTrace';
}
