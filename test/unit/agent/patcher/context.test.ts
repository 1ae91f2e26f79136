/**
 * The call-tree context with probe frames (context.ts): a probe opens its frame at a
 * call's entry and closes it at the return, or marks it stale after a throw; a wrapper
 * pushes and pops. What parentOf answers is what a session records as `parent`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  checkpoint,
  closeFrame,
  matchedOf,
  openFrame,
  parentOf,
  popFrame,
  pushCall,
  pushFrame,
  releaseAsyncContext,
  retainAsyncContext,
} from '../../../../src/agent/patcher/context.js';

const session = { name: 'session' };
let nextId = 1;
const matched = () => [{ sessionKey: session }, { id: nextId++ }] as const;
const idOf = (m: readonly unknown[]) => (m[1] as { id: number }).id;

afterEach(() => {
  checkpoint();
  releaseAsyncContext();
});

describe('probe frames in the call-tree context', () => {
  it('a probe call encloses the calls made before its return, and is put back at the return', () => {
    const outer = matched();
    const frame = openFrame(outer);
    expect(parentOf(session)).toEqual({ id: idOf(outer), depth: 1 });
    const inner = pushFrame(matched());
    expect(parentOf(session)?.depth).toBe(2);
    popFrame(inner);
    expect(parentOf(session)?.id).toBe(idOf(outer));
    closeFrame(frame, true);
    expect(parentOf(session)).toBeUndefined();
  });

  it('a probe call that threw encloses nothing once its throw is noticed', () => {
    const caller = pushFrame(matched());
    const thrown = openFrame(matched());
    // The throw unwinds to the caller, whose code runs on: the throw is noticed later.
    closeFrame(thrown, false);
    expect(parentOf(session)?.id).toBe(idOf(caller.matched!));
    popFrame(caller);
    expect(parentOf(session)).toBeUndefined();
  });

  it('a return closes the probe calls that threw inside it (never seen to return)', () => {
    const outer = openFrame(matched());
    openFrame(matched());
    closeFrame(outer, true);
    expect(parentOf(session)).toBeUndefined();
  });

  it('carries a probe frame across await, and a frame a throw left behind does not leak into other executions', async () => {
    retainAsyncContext();
    const frame = openFrame(matched());
    const seen = (async () => {
      await null;
      return parentOf(session)?.id;
    })();
    closeFrame(frame, true);
    expect(await seen).toBe(idOf(frame.matched!));

    // A throw leaves the frame as the synchronous context until it is noticed; a
    // continuation of another execution that runs before then must not see it.
    let other: number | undefined = -1;
    const unrelated = Promise.resolve().then(() => (other = parentOf(session)?.id));
    openFrame(matched());
    await unrelated;
    expect(other).toBeUndefined();
  });
});

describe('frames of one hook (no [hook, token] list) beside frames of several', () => {
  it('are found as parents, by session, whichever kind encloses which', () => {
    const other = { name: 'other' };
    const [hook, token] = matched();
    const one = pushCall(hook, token);
    expect(one.matched).toBeUndefined();
    expect(matchedOf(one)).toEqual([hook, token]);
    expect(parentOf(session)).toEqual({ id: token.id, depth: 1 });
    // A call two sessions took, then one only the other session took.
    const both = [{ sessionKey: other }, { id: nextId++ }, { sessionKey: session }, { id: nextId++ }] as const;
    const two = pushFrame(both);
    expect(matchedOf(two)).toBe(both);
    expect(parentOf(session)).toEqual({ id: both[3].id, depth: 2 });
    const otherOnly = pushCall({ sessionKey: other }, { id: nextId++ });
    expect(parentOf(session)).toEqual({ id: both[3].id, depth: 2 });
    expect(parentOf(other)?.depth).toBe(2);
    popFrame(otherOnly);
    popFrame(two);
    expect(parentOf(session)).toEqual({ id: token.id, depth: 1 });
    popFrame(one);
    expect(parentOf(session)).toBeUndefined();
  });
});
