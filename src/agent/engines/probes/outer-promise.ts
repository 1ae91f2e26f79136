/**
 * The promise an async function call is about to return, seen from inside the call.
 *
 * A probe on an async function runs at the function's first instruction, before the
 * caller has its promise; yet that promise already exists: V8 creates it as the call
 * begins, with no parent promise. While some async function is probed, a V8 promise hook
 * remembers the latest parentless promise created; the probe takes it at its entry.
 * Its settlement then gives the call's outcome and settle time, through the same watch
 * the wrappers use (promise-watch.ts), without pausing anything.
 *
 * The hook runs for every promise the process creates, so it is installed only while an
 * async probe is armed (counted by retain/release), and holds one promise at most.
 */
import { promiseHooks } from 'node:v8';

let users = 0;
let stop: (() => void) | undefined;
let latest: Promise<unknown> | undefined;

function onInit(promise: Promise<unknown>, parent: Promise<unknown> | undefined): void {
  if (parent === undefined) latest = promise;
}

export function retainOuterPromises(): void {
  if (users++ === 0) stop = promiseHooks.onInit(onInit) as () => void;
}

export function releaseOuterPromises(): void {
  if (users === 0) return;
  if (--users === 0) {
    stop?.();
    stop = undefined;
    latest = undefined;
  }
}

/** The latest parentless promise, forgotten once taken. */
export function takeOuterPromise(): Promise<unknown> | undefined {
  const promise = latest;
  latest = undefined;
  return promise;
}
